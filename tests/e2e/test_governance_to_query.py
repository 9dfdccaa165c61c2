"""Across services: a dispute mediation could not settle goes up to the community tier, becomes a
work item in governance, and arrives on the query service's work-list board — through
mediation's and governance's real relays, the real broker, governance's real policy runner and
the query's real projection runner. The director sees it unassigned, then owned by the property
company once assigned and signed for; the property company's liaison sees it on the board and in
full, another organisation's liaison does not.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest_asyncio

from anju_contracts.registry import OrganisationKind
from anju_governance.testing import GovernanceClient, running_governance
from anju_mediation.testing import MediationClient, running_mediation
from anju_query.testing import running_query
from eventkit.testing.infra import databases

WAIT_S = 30.0


@dataclass
class Stack:
    mediation: MediationClient
    governance: GovernanceClient
    query: httpx.AsyncClient


@pytest_asyncio.fixture
async def stack(
    database_url: str, pg_server_url: str, kafka_bootstrap: str
) -> AsyncIterator[Stack]:
    async with (
        databases(pg_server_url, "governance", "read") as (governance_db, read_db),
        running_mediation(database_url, kafka_bootstrap) as mediation,
        running_governance(
            governance_db,
            kafka_bootstrap,
            topic_prefix=mediation.settings.kafka.topic_prefix,
            feed_tree=False,
        ) as governance,
        running_query(
            read_db,
            governance.settings.kafka,
            governance.secret,
            clock=governance.clock,
            consistency_wait_s=WAIT_S,
        ) as query,
    ):
        yield Stack(mediation, governance, query)


async def _board(stack: Stack, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = await stack.query.get("/governance/work-items", headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


async def test_an_escalated_dispute_reaches_the_work_list_board(stack: Stack) -> None:
    mediation, governance = stack.mediation, stack.governance
    dispute_id = await mediation.register()
    for tier in ("grid", "community"):
        await mediation.ok(
            f"/disputes/{dispute_id}/escalations", {"to_tier": tier, "reason": "调解未果"}
        )
    director = governance.auth("director", sub="director-1", areas=[mediation.community_id])
    board: list[dict[str, Any]] = []
    for _ in range(int(WAIT_S / 0.2)):
        board = await _board(stack, director)
        if board:
            break
        await asyncio.sleep(0.2)
    assert len(board) == 1, "the escalated dispute did not reach the query's board"
    [item] = board
    assert item["source"] == {"source": "mediation", "record": "dispute", "id": dispute_id}
    assert (item["status"], item["owner"], item["community_id"]) == (
        "unassigned",
        None,
        mediation.community_id,
    )

    governance.feed.community_id = mediation.community_id
    owner = await governance.feed.organisation(OrganisationKind.PROPERTY_COMPANY, "安居物业")
    other = await governance.feed.organisation(OrganisationKind.PAIRED_UNIT, "结对单位")
    item_id = str(item["id"])
    assigned = await governance.post(
        f"/items/{item_id}/assignment", {"owner_organisation_id": owner}, director
    )
    assert assigned.status_code == 201, assigned.text
    receipt = await governance.post(f"/items/{item_id}/receipt", {}, governance.liaison(owner))
    assert receipt.status_code == 201, receipt.text
    written = receipt.json()["consistency_token"]

    mine = governance.liaison(owner)
    response = await stack.query.get(
        f"/governance/work-items/{item_id}", params={"consistency_token": written}, headers=mine
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-consistency"] == "fresh"
    detail = response.json()
    assert (detail["status"], detail["owner"]["id"]) == ("received", owner)
    assert [h["what"] for h in detail["history"]] == [
        "WorkItemOpened",
        "WorkItemAssigned",
        "WorkItemReceived",
    ]
    assert [i["id"] for i in await _board(stack, mine)] == [item_id]
    theirs = governance.liaison(other, sub="liaison-2")
    assert await _board(stack, theirs) == []
    hidden = await stack.query.get(f"/governance/work-items/{item_id}", headers=theirs)
    assert hidden.status_code == 404
