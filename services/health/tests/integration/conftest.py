"""The health app against real PostgreSQL and a real Kafka-protocol broker, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from anju_health.testing import HealthClient, running_health


@pytest_asyncio.fixture
async def health(database_url: str, kafka_bootstrap: str) -> AsyncIterator[HealthClient]:
    async with running_health(database_url, kafka_bootstrap) as client:
        yield client
