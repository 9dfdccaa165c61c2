"""The governance app against real PostgreSQL and a real Kafka-protocol broker, over HTTP, with the
registry's news fed to its registry policy as the broker would deliver it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from anju_governance.testing import GovernanceClient, running_governance


@pytest_asyncio.fixture
async def service(database_url: str, kafka_bootstrap: str) -> AsyncIterator[GovernanceClient]:
    async with running_governance(database_url, kafka_bootstrap) as client:
        yield client
