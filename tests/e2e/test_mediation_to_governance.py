"""Across services: a dispute mediation could not settle in the grid goes up to the community
tier, and governance puts it on the work list — through mediation's real relay, the real broker
and governance's real policy runner — once; the director gives it an owner, the property
company's liaison signs for it and sees it, and nobody else's liaison does. (Delivered twice, the
escalation still makes one item: ``services/governance/tests/integration``.)

Both apps run their real lifespans on databases of their own, governance on mediation's topic
prefix of the session's broker.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest_asyncio

from anju_contracts.registry import OrganisationKind
from anju_governance.testing import GovernanceClient, running_governance
from anju_mediation.testing import MediationClient, running_mediation
from eventkit.testing.infra import databases

# The first escalation also waits for governance's policy to join its consumer group.
WAIT_S = 30.0


@pytest_asyncio.fixture
async def stack(
    database_url: str, pg_server_url: str, kafka_bootstrap: str
) -> AsyncIterator[tuple[MediationClient, GovernanceClient]]:
    async with (
        databases(pg_server_url, "governance") as (governance_db,),
        running_mediation(database_url, kafka_bootstrap) as mediation,
        running_governance(
            governance_db,
            kafka_bootstrap,
            topic_prefix=mediation.settings.kafka.topic_prefix,
            feed_tree=False,
        ) as governance,
    ):
        yield mediation, governance


async def test_a_community_tier_dispute_becomes_one_work_item_in_governance(
    stack: tuple[MediationClient, GovernanceClient],
) -> None:
    mediation, governance = stack
    dispute_id = await mediation.register()
    for tier in ("grid", "community"):
        await mediation.ok(
            f"/disputes/{dispute_id}/escalations", {"to_tier": tier, "reason": "调解未果"}
        )

    director = governance.auth("director", sub="director-1", areas=[mediation.community_id])
    found: list[dict[str, object]] = []
    for _ in range(int(WAIT_S / 0.2)):
        async with governance.runtime.pool.acquire() as conn:
            streams = await conn.fetch(
                "SELECT DISTINCT stream_id FROM events WHERE stream_id LIKE 'item-%'"
            )
        if streams:
            item_id = streams[0]["stream_id"].removeprefix("item-")
            found = [await governance.item(item_id, director)]
            break
        await asyncio.sleep(0.2)
    assert found, "governance did not open an item for the escalated dispute"
    item = found[0]
    assert item["source"] == {"source": "mediation", "record": "dispute", "id": dispute_id}
    assert item["community_id"] == mediation.community_id
    assert item["status"] == "unassigned"

    # the director gives it to the property company; its liaison signs for it
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
    assert (await governance.item(item_id, director))["status"] == "received"
    assert (await governance.get(f"/items/{item_id}", governance.liaison(other))).status_code == 404
