"""A dispute and a petition from last month's paper ledger, brought in today through mediation's
HTTP API with their real days, after mediation's scheduler had already breached and escalated
the dispute and marked the petition's deadline missed on today's clock: the query service
(through mediation's real relay and the broker) counts the dispute resolved at the building in
last month, on time, and the petition on time — "on time" judged from the ledger's days."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest_asyncio

from anju_mediation.testing import MediationClient, running_mediation
from anju_query.testing import running_query
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import databases

WAIT_S = 60.0
TODAY = datetime(2024, 5, 15, 9, 30, tzinfo=UTC)


@dataclass
class Stack:
    mediation: MediationClient
    query: httpx.AsyncClient


@pytest_asyncio.fixture
async def stack(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[Stack]:
    clock = ManualClock(TODAY)
    async with (
        databases(pg_server_url, "mediation", "read") as (mediation_db, read_db),
        running_mediation(mediation_db, kafka_bootstrap, clock=clock) as mediation,
        running_query(
            read_db,
            mediation.settings.kafka,
            mediation.secret,
            clock=clock,
            consistency_wait_s=WAIT_S,
        ) as query,
    ):
        yield Stack(mediation, query)


def dated(at: datetime, **body: Any) -> dict[str, Any]:
    return {**body, "occurred_at": at.isoformat()}


async def test_the_ledgers_dispute_and_petition_count_on_time_in_their_month(stack: Stack) -> None:
    mediation, query = stack.mediation, stack.query
    community = mediation.community_id
    mediator = mediation.auth("mediator", sub="m-1", areas=[community])
    agent = mediation.auth("petition_agent", sub="agent-1", areas=[community])
    director = mediation.auth("director", sub="director-1", areas=[community])

    registered_at = datetime(2024, 4, 2, 10, 0, tzinfo=UTC)
    dispute = await mediation.ok(
        "/disputes", dated(registered_at, **mediation.dispute_body()), mediator
    )
    filed_at = datetime(2024, 4, 1, 9, 0, tzinfo=UTC)
    body = {"resident_id": mediation.residents[0], "subject": "供暖不足", "department": "住建局"}
    petition = await mediation.ok("/petitions", dated(filed_at, **body), agent)
    await mediation.ok(f"/petitions/{petition}/forwarding", dated(filed_at), agent)

    # Today's scheduler: every SLA of the April dispute ran out, the petition's deadline too.
    await mediation.scheduler(days_ahead=0).fire_due()
    assert (await mediation.dispute(dispute))["tier"] == "external"

    # The ledger: resolved two days after it was registered; the petition accepted in time.
    resolved_at = registered_at + timedelta(days=2)
    resolved = await mediation.accepted(
        f"/disputes/{dispute}/resolution", dated(resolved_at, outcome="达成协议"), mediator
    )
    accepted = await mediation.accepted(
        f"/petitions/{petition}/acceptance", dated(filed_at + timedelta(days=10)), agent
    )

    board = await query.get(
        "/disputes",
        params={"area_id": community, "consistency_token": resolved["consistency_token"]},
        headers=director,
    )
    assert board.status_code == 200, board.text
    assert board.headers["x-consistency"] == "fresh"
    (item,) = board.json()["items"]
    assert (item["status"], item["tier"], item["escalations"]) == ("resolved", "building", 0)
    assert item["resolved_on_time"] is True

    april = await query.get(
        "/dashboard", params={"from": "2024-04-01", "to": "2024-04-30"}, headers=director
    )
    assert april.status_code == 200, april.text
    figures = april.json()["figures"]
    for name in ("disputes_resolved", "disputes_registered"):
        by_tier = {tier: n for tier, n in figures[name]["by"].items() if n}
        assert by_tier == {"building": 1}, name
    may = await query.get(
        "/dashboard", params={"from": "2024-05-01", "to": "2024-05-31"}, headers=director
    )
    assert may.json()["figures"]["disputes_resolved"]["value"] == 0

    petitions = await query.get(
        "/petitions",
        params={"timeliness": "on_time", "consistency_token": accepted["consistency_token"]},
        headers=director,
    )
    assert petitions.status_code == 200, petitions.text
    (on_time,) = petitions.json()["items"]
    assert on_time["id"] == petition
    assert (on_time["missed"], on_time["late"]) == (False, False)
