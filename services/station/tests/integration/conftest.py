"""The station app against real PostgreSQL and a real Kafka-protocol broker, over HTTP, with the
registry's news fed to its registry policy as the broker would deliver it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from anju_station.testing import StationClient, running_station


@pytest_asyncio.fixture
async def service(database_url: str, kafka_bootstrap: str) -> AsyncIterator[StationClient]:
    async with running_station(database_url, kafka_bootstrap) as client:
        yield client
