"""The mediation app against real PostgreSQL and a real Kafka-protocol broker, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from anju_mediation.testing import MediationClient, running_mediation


@pytest_asyncio.fixture
async def mediation(database_url: str, kafka_bootstrap: str) -> AsyncIterator[MediationClient]:
    async with running_mediation(database_url, kafka_bootstrap) as client:
        yield client
