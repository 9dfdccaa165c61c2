"""A work item whose escalation mediation withdrew, against real PostgreSQL and the real broker.

A dispute from last year's paper ledger: registered at its building, its SLAs long past, so the
scheduler escalated it on the clock to the grid and the community within seconds — and the
community escalation opened a work item. Then the ledger's resolution came in, dated before those
escalations: mediation withdrew them and resolved the dispute at the building. The item is
withdrawn — once, however often the withdrawal is delivered (past the policy's inbox too, after
a later escalation by hand opened a new item, which stands) — and supervised no more. An item the
people closed before the withdrawal came in stays closed. Items opened before the service kept
which escalation opened which item are found in its store.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta
from typing import Any

from anju_contracts import Envelope, Event
from anju_contracts.mediation import (
    CATALOG as MEDIATION,
    Category,
    Channel,
    DisputeEscalated,
    DisputeEscalationsWithdrawn,
    DisputeRegistered,
    DisputeResolved,
    Party,
    PartyRole,
    Sensitivity,
    Tier,
)
from anju_contracts.registry import AreaKind, AreaPath, Location, OrganisationKind
from anju_governance.application import mirror
from anju_governance.application.reactions import item_id_for
from anju_governance.testing import GovernanceClient
from eventkit.messages import Delivered
from eventkit.policy import handle_once

WAIT_S = 30.0
WITHDRAWN = "governance.WorkItemWithdrawn"


class LedgerDispute:
    """Mediation's events of one dispute, as its relay would publish them."""

    def __init__(self, service: GovernanceClient, registered_at: datetime) -> None:
        self.service = service
        self.id = uuid.uuid4()
        self.registered_at = registered_at
        self.subject = f"dispute-{self.id}"

    def envelope(self, event: Event, at: datetime) -> Envelope:
        """Dated ``at`` (business time), recorded now."""
        envelope = self.service.mediation.envelope(
            event, subject=self.subject, area=self.service.feed.grid_id, at=at
        )
        return envelope.model_copy(update={"recorded_at": self.service.clock.now})

    def registered(self) -> Envelope:
        grid = uuid.UUID(self.service.feed.grid_id)
        path = AreaPath(community_id=uuid.UUID(self.service.feed.community_id), grid_id=grid)
        at = self.registered_at
        event = DisputeRegistered(
            dispute_id=self.id,
            channel=Channel.WALK_IN,
            category=Category.WATER_LEAK,
            description="楼上漏水",
            location=Location(area_id=grid, kind=AreaKind.GRID, path=path),
            parties=[Party(party_id=uuid.uuid4(), role=PartyRole.APPLICANT, name="王秀英")],
            sensitivity=Sensitivity.STANDARD,
            tier=Tier.BUILDING,
            registered_at=at,
            sla_due_by=at + timedelta(days=3),
        )
        return self.envelope(event, at)

    def escalated(
        self, from_tier: Tier, to_tier: Tier, at: datetime, *, automatic: bool = True
    ) -> Envelope:
        event = DisputeEscalated(
            dispute_id=self.id,
            from_tier=from_tier,
            to_tier=to_tier,
            reason="SLA breached" if automatic else "网格调解未果",
            automatic=automatic,
            escalated_at=at,
            sla_due_by=at + timedelta(days=15),
        )
        return self.envelope(event, at)

    def withdrawn(self, tier: Tier, entered_at: datetime, *tiers: Tier, at: datetime) -> Envelope:
        """The automatic escalations to ``tiers`` withdrawn by a fact dated ``at``."""
        event = DisputeEscalationsWithdrawn(
            dispute_id=self.id,
            tier=tier,
            tier_entered_at=entered_at,
            sla_due_by=entered_at + timedelta(days=3),
            withdrawn=list(tiers),
            superseded_at=at,
        )
        return self.envelope(event, at)

    def resolved(self, at: datetime) -> Envelope:
        event = DisputeResolved(
            dispute_id=self.id,
            tier=Tier.BUILDING,
            outcome="楼上已修好水管",
            resolved_at=at,
            reopen_until=at + timedelta(days=30),
            on_time=True,
        )
        return self.envelope(event, at)


def decoded(envelope: Envelope) -> Delivered:
    event = MEDIATION.decode(envelope.type, envelope.version, envelope.data)
    return Delivered(envelope, event, "mediation.events", 0, envelope.sequence)


async def handled(service: GovernanceClient, *envelopes: Envelope) -> None:
    """Each envelope through the mediation policy with its inbox, as its runner would."""
    policy = service.runtime.policies[1]
    for envelope in envelopes:
        await handle_once(service.runtime.store, policy, decoded(envelope))


async def pending_deadlines(service: GovernanceClient, item_id: uuid.UUID) -> int:
    async with service.runtime.pool.acquire() as conn:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM deadlines WHERE key = $1 AND fired_at IS NULL", str(item_id)
        )
    return count


def of_type(item: dict[str, Any], event_type: str) -> list[dict[str, Any]]:
    return [h for h in item["history"] if h["type"] == event_type]


async def test_a_ledger_dispute_cascaded_to_the_community_and_withdrawn_withdraws_its_item(
    service: GovernanceClient,
) -> None:
    now = service.clock.now
    dispute = LedgerDispute(service, now - timedelta(days=365))
    registered_at = dispute.registered_at
    registered = dispute.registered()
    # the scheduler, on the clock, a moment after the ledger's registration came in
    to_grid = dispute.escalated(Tier.BUILDING, Tier.GRID, registered_at + timedelta(days=3))
    to_community = dispute.escalated(Tier.GRID, Tier.COMMUNITY, registered_at + timedelta(days=10))
    # the ledger's resolution on day two: both escalations withdrawn, resolved at the building
    resolved_on = registered_at + timedelta(days=2)
    withdrawal = dispute.withdrawn(
        Tier.BUILDING, registered_at, Tier.GRID, Tier.COMMUNITY, at=resolved_on
    )
    resolved = dispute.resolved(resolved_on)
    await service.mediation.publish(
        registered, to_grid, to_community, withdrawal, resolved, withdrawal
    )
    for _ in range(int(WAIT_S / 0.1)):  # until the duplicate has been handled too
        if await service.mediation.consumed() >= 6:
            break
        await asyncio.sleep(0.1)
    assert await service.mediation.consumed() == 6

    item_id = item_id_for(dispute.id, to_community.id)
    item = await service.item(str(item_id), service.director())
    assert (item["status"], item["colour"]) == ("withdrawn", None)
    (withdrawn,) = of_type(item, WITHDRAWN)  # once, though delivered twice
    assert withdrawn["data"]["reason"] == "the escalation that opened it was withdrawn"
    assert withdrawn["data"]["dispute_id"] == str(dispute.id)
    assert (withdrawn["actor"], withdrawn["data"]["withdrawn_by"]) == ("governance", "governance")
    # as mediation recorded the withdrawal (the resolution's day predates the item itself)
    assert withdrawn["recorded_at"] == withdrawn["data"]["withdrawn_at"]
    assert datetime.fromisoformat(withdrawn["recorded_at"]) == now
    assert item["history"][0]["type"] == "governance.WorkItemOpened"
    # no blue, yellow or red will be raised for it any more
    assert await pending_deadlines(service, item_id) == 0
    assigned = await service.post(
        f"/items/{item_id}/assignment",
        {"owner_organisation_id": str(uuid.uuid4())},
        service.director(),
    )
    assert assigned.status_code in (404, 409, 422), assigned.text


async def test_a_withdrawal_delivered_again_past_the_inbox_leaves_a_later_item_alone(
    service: GovernanceClient,
) -> None:
    now = service.clock.now
    dispute = LedgerDispute(service, now - timedelta(days=60))
    registered_at = dispute.registered_at
    to_grid = dispute.escalated(Tier.BUILDING, Tier.GRID, registered_at + timedelta(days=3))
    automatic = dispute.escalated(Tier.GRID, Tier.COMMUNITY, registered_at + timedelta(days=10))
    # the grid's ledger: escalated to the community by hand on day eight, before the scheduler
    by_hand_on = registered_at + timedelta(days=8)
    withdrawal = dispute.withdrawn(Tier.GRID, to_grid.occurred_at, Tier.COMMUNITY, at=by_hand_on)
    by_hand = dispute.escalated(Tier.GRID, Tier.COMMUNITY, by_hand_on, automatic=False)
    await handled(
        service, dispute.registered(), to_grid, automatic, withdrawal, by_hand, withdrawal
    )
    # the withdrawal once more, as if its inbox row had been lost
    async with service.runtime.store.session() as session:
        await service.runtime.policies[1].handle(session, decoded(withdrawal))

    director = service.director()
    first = await service.item(str(item_id_for(dispute.id, automatic.id)), director)
    assert first["status"] == "withdrawn"
    assert len(of_type(first, WITHDRAWN)) == 1
    second = await service.item(str(item_id_for(dispute.id, by_hand.id)), director)
    assert (second["status"], of_type(second, WITHDRAWN)) == ("unassigned", [])


async def test_an_item_closed_before_the_withdrawal_came_in_stays_closed(
    service: GovernanceClient,
) -> None:
    now = service.clock.now
    dispute = LedgerDispute(service, now - timedelta(days=12))
    registered_at = dispute.registered_at
    to_grid = dispute.escalated(Tier.BUILDING, Tier.GRID, registered_at + timedelta(days=3))
    to_community = dispute.escalated(Tier.GRID, Tier.COMMUNITY, now - timedelta(hours=1))
    await handled(service, dispute.registered(), to_grid, to_community)

    item_id = item_id_for(dispute.id, to_community.id)
    director, other = service.director(), service.director(sub="director-2")
    owner = await service.feed.organisation(OrganisationKind.PROPERTY_COMPANY, "安居物业")
    liaison = service.liaison(owner)
    for url, body, headers in [
        ("assignment", {"owner_organisation_id": owner}, director),
        ("receipt", {}, liaison),
        ("completion", {"summary": "已协调维修"}, liaison),
        ("verification", {}, other),
        ("closing", {}, other),
    ]:
        response = await service.post(f"/items/{item_id}/{url}", body, headers)
        assert response.status_code == 201, (url, response.text)

    withdrawal = dispute.withdrawn(
        Tier.BUILDING, registered_at, Tier.GRID, Tier.COMMUNITY, at=registered_at
    )
    await handled(service, withdrawal)
    item = await service.item(str(item_id), director)
    assert item["status"] == "closed"
    assert of_type(item, WITHDRAWN) == []
    assert item["history"][-1]["type"] == "governance.WorkItemClosed"


async def test_an_item_opened_before_the_service_kept_its_escalations_is_withdrawn_too(
    service: GovernanceClient,
) -> None:
    now = service.clock.now
    dispute = LedgerDispute(service, now - timedelta(days=30))
    registered_at = dispute.registered_at
    to_community = dispute.escalated(
        Tier.BUILDING, Tier.COMMUNITY, registered_at + timedelta(days=3)
    )
    await handled(service, dispute.registered(), to_community)
    # as a store from before: the items' escalations are learnt from it on the next start
    async with service.runtime.pool.acquire() as conn:
        await conn.execute("DROP TABLE governance_dispute_items")
        await conn.execute(mirror.DDL)
    withdrawal = dispute.withdrawn(Tier.BUILDING, registered_at, Tier.COMMUNITY, at=registered_at)
    await handled(service, withdrawal)
    item = await service.item(str(item_id_for(dispute.id, to_community.id)), service.director())
    assert item["status"] == "withdrawn"
