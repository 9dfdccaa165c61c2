"""The registry app against real PostgreSQL and a real Kafka-protocol broker, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from anju_registry.testing import RegistryClient, running_registry


@pytest_asyncio.fixture
async def registry(database_url: str, kafka_bootstrap: str) -> AsyncIterator[RegistryClient]:
    async with running_registry(database_url, kafka_bootstrap) as client:
        yield client
