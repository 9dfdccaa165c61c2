"""The volunteering app against real PostgreSQL and a real Kafka-protocol broker, over HTTP."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest_asyncio

from anju_volunteering.testing import VolunteeringClient, running_volunteering


@pytest_asyncio.fixture
async def volunteering(
    database_url: str, kafka_bootstrap: str
) -> AsyncIterator[VolunteeringClient]:
    async with running_volunteering(database_url, kafka_bootstrap) as client:
        yield client
