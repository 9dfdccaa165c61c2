"""The desk's busy season: 3,000 receptions logged through the station's HTTP API, every one of
them counted by the query service, which follows the station's topic through the real relay and
broker; and the resident's profile lists their visits."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial

import httpx
import pytest_asyncio

from anju_query.testing import running_query
from anju_registry.testing import Clock, RegistryClient, running_registry
from anju_station.testing import StationClient, running_station
from eventkit.commands import ConsistencyToken
from eventkit.testing.infra import databases
from eventkit.testing.service import once_learnt

RECEPTIONS = 3_000
CLERKS = 8
WAIT_S = 60.0


@dataclass
class Stack:
    registry: RegistryClient
    station: StationClient
    query: httpx.AsyncClient


@pytest_asyncio.fixture
async def stack(
    database_url: str, pg_server_url: str, kafka_bootstrap: str
) -> AsyncIterator[Stack]:
    # Real time: the store stamps events with it, and the counts are per day of that stamp.
    clock = Clock(datetime.now(UTC))
    async with (
        databases(pg_server_url, "station", "read") as (station_db, read_db),
        running_registry(database_url, kafka_bootstrap, clock=clock) as registry,
        running_station(
            station_db,
            kafka_bootstrap,
            topic_prefix=registry.settings.kafka.topic_prefix,
            clock=clock,
            feed_tree=False,
        ) as station,
        running_query(
            read_db, registry.settings.kafka, station.secret, clock=clock, consistency_wait_s=WAIT_S
        ) as query,
    ):
        yield Stack(registry, station, query)


async def test_three_thousand_receptions_all_reach_the_query(stack: Stack) -> None:
    registry, station = stack.registry, stack.station
    registered = await registry.post("/residents", registry.resident_body())
    assert registered.status_code == 201, registered.text
    resident = registered.json()["id"]
    token = ConsistencyToken.decode(registered.json()["consistency_token"])
    community = registry.community_id
    clerk = station.auth("desk_staff", sub="desk-1", areas=[community])
    director = station.auth("director", sub="director-1", areas=[community])
    # the station has learnt the resident from the registry's topic (the area, see below)
    assert await station.runtime.learnt("station_registry", token, timeout_s=WAIT_S)

    queue: asyncio.Queue[int] = asyncio.Queue()
    for n in range(RECEPTIONS):
        queue.put_nowait(n)
    last: dict[str, str] = {}

    async def clerk_at_work(desk: int) -> None:
        while not queue.empty():
            n = queue.get_nowait()
            body = {
                "area_id": community,
                "purposes": ["consultation" if n % 3 else "convenience_service"],
                "referred_by": "grid_worker" if n % 5 == 0 else "self",
            }
            if n % 10 == 0:
                body["resident_id"] = resident
            # the station learns the area and the resident a moment after
            response = await once_learnt(
                partial(station.post, "/receptions", body, clerk), attempts=50, pause_s=0.2
            )
            assert response.status_code == 201, response.text
            last[str(desk)] = response.json()["consistency_token"]

    await asyncio.gather(*[clerk_at_work(d) for d in range(CLERKS)])

    # every clerk's last write is in the read model; the counts hold every reception
    for written in last.values():
        response = await stack.query.get(
            "/station/receptions",
            params={"area_id": community, "consistency_token": written},
            headers=director,
        )
        assert response.status_code == 200, response.text
        assert response.headers["x-consistency"] == "fresh"
    counts = response.json()
    assert counts["total"] == RECEPTIONS
    assert counts["by_purpose"]["convenience_service"] == len(range(0, RECEPTIONS, 3))
    assert counts["by_referral"]["grid_worker"] == len(range(0, RECEPTIONS, 5))
    profile = await stack.query.get(f"/residents/{resident}", headers=director)
    assert profile.status_code == 200, profile.text
    assert len(profile.json()["station"]["receptions"]) == 100  # the latest hundred of 300
