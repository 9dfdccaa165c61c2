"""Follow-up visits from last month's paper ledger, brought in today through the registry's HTTP
API with their real days, after the registry's scheduler had already marked the plan overdue on
today's clock: the query service (through the registry's real relay and the broker) counts a
visit made by the plan's due day as on time and one made after it as late, in last month."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest_asyncio

from anju_query.testing import running_query
from anju_registry.testing import RegistryClient, running_registry
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import databases

WAIT_S = 60.0
TODAY = datetime(2024, 5, 15, 9, 30, tzinfo=UTC)


@dataclass
class Stack:
    registry: RegistryClient
    query: httpx.AsyncClient


@pytest_asyncio.fixture
async def stack(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[Stack]:
    clock = ManualClock(TODAY)
    async with (
        databases(pg_server_url, "registry", "read") as (registry_db, read_db),
        running_registry(registry_db, kafka_bootstrap, clock=clock) as registry,
        running_query(
            read_db,
            registry.settings.kafka,
            registry.secret,
            clock=clock,
            consistency_wait_s=WAIT_S,
        ) as query,
    ):
        yield Stack(registry, query)


def dated(at: datetime, body: dict[str, Any]) -> dict[str, Any]:
    return {**body, "occurred_at": at.isoformat()}


async def test_the_ledgers_visits_count_on_time_or_late_by_their_days(stack: Stack) -> None:
    registry, query = stack.registry, stack.query
    worker = registry.auth("grid_worker", sub="gw-1", areas=[registry.grid_id])
    director = registry.auth("director", sub="director-1", areas=[registry.community_id])
    april = datetime(2024, 4, 1, 9, 0, tzinfo=UTC)
    resident = (
        await registry.accepted("/residents", dated(april, registry.resident_body()), worker)
    )["id"]
    base = f"/residents/{resident}"
    flagged_at = april + timedelta(days=1)  # a red flag: a visit due within 7 days
    await registry.accepted(
        f"{base}/flags", dated(flagged_at, {"flag": "elderly_alone", "tier": "red"}), worker
    )
    # Today's scheduler finds the plan five weeks overdue.
    assert await registry.scheduler(days_ahead=0).fire_due() == 1

    in_time = flagged_at + timedelta(days=6)  # by the plan's due day
    await registry.accepted(f"{base}/visits", dated(in_time, {"findings": "安好"}), worker)
    too_late = in_time + timedelta(days=12)  # the next plan was due 7 days after the first visit
    last = await registry.accepted(f"{base}/visits", dated(too_late, {"findings": "安好"}), worker)

    figures = await query.get(
        "/dashboard",
        params={
            "from": "2024-04-01",
            "to": "2024-04-30",
            "consistency_token": last["consistency_token"],
        },
        headers=director,
    )
    assert figures.status_code == 200, figures.text
    assert figures.headers["x-consistency"] == "fresh"
    counted = figures.json()["figures"]
    assert counted["follow_up_visits_on_time"]["value"] == 1
    assert counted["follow_up_visits_late"]["value"] == 1
