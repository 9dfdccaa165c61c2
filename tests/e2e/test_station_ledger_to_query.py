"""A reception from last month's paper ledger, logged today through the station's HTTP API with
its real date, is counted by the query service in last month's period (through the station's real
relay and the broker), not in this month's."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import httpx
import pytest_asyncio

from anju_query.testing import running_query
from anju_station.testing import StationClient, running_station
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import databases

WAIT_S = 60.0
TODAY = datetime(2024, 5, 15, 9, 30, tzinfo=UTC)


@dataclass
class Stack:
    station: StationClient
    query: httpx.AsyncClient


@pytest_asyncio.fixture
async def stack(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[Stack]:
    clock = ManualClock(TODAY)
    async with (
        databases(pg_server_url, "station", "read") as (station_db, read_db),
        running_station(station_db, kafka_bootstrap, clock=clock) as station,
        running_query(
            read_db, station.settings.kafka, station.secret, clock=clock, consistency_wait_s=WAIT_S
        ) as query,
    ):
        yield Stack(station, query)


async def test_a_reception_from_the_ledger_counts_in_its_own_month(stack: Stack) -> None:
    station = stack.station
    community = station.feed.community_id
    clerk = station.auth("desk_staff", sub="desk-1", areas=[community])
    director = station.auth("director", sub="director-1", areas=[community])
    from_ledger = TODAY - timedelta(days=30)  # 15 April
    assert from_ledger.month == 4
    body = {"area_id": community, "purposes": ["consultation"]}
    dated = await station.post(
        "/receptions", dict(body, occurred_at=from_ledger.isoformat()), clerk
    )
    assert dated.status_code == 201, dated.text
    today = await station.post("/receptions", body, clerk)
    assert today.status_code == 201, today.text

    counts = {}
    for written in (dated, today):
        response = await stack.query.get(
            "/station/receptions",
            params={
                "area_id": community,
                "from": "2024-04-01",
                "to": "2024-05-31",
                "period": "month",
                "consistency_token": written.json()["consistency_token"],
            },
            headers=director,
        )
        assert response.status_code == 200, response.text
        assert response.headers["x-consistency"] == "fresh"
        counts = response.json()
    assert counts["total"] == 2
    per_month = {p["start"]: p["total"] for p in counts["periods"]}
    assert per_month == {"2024-04-01": 1, "2024-05-01": 1}

    april = await stack.query.get(
        "/station/receptions",
        params={"area_id": community, "from": "2024-04-01", "to": "2024-04-30"},
        headers=director,
    )
    assert april.status_code == 200, april.text
    assert april.json()["total"] == 1
