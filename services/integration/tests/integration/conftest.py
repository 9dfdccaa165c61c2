"""The integration app against real PostgreSQL and a real Kafka-protocol broker, over HTTP, with the
registry's news fed to its registry policy as the broker would deliver it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from anju_integration.testing import IntegrationClient, running_integration


@pytest_asyncio.fixture
async def service(database_url: str, kafka_bootstrap: str) -> AsyncIterator[IntegrationClient]:
    async with running_integration(database_url, kafka_bootstrap) as client:
        yield client
