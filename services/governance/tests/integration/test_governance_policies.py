"""Governance learning from mediation over the real broker: a dispute escalated to the
community tier becomes one work item without an owner, at the dispute's place, even when
mediation's relay delivers the escalation twice — and even if the policy's inbox row were lost.
Escalations to other tiers open nothing. An opinion the station refers to governance becomes
one item linked to it; one referred to mediation, none."""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime, timedelta

from anju_contracts import Envelope
from anju_contracts.mediation import (
    Category,
    Channel,
    DisputeEscalated,
    DisputeRegistered,
    Party,
    PartyRole,
    Sensitivity,
    Tier,
)
from anju_contracts.registry import AreaKind, AreaPath, Location
from anju_contracts.station import OpinionDestination, OpinionReferred
from anju_governance.application.reactions import item_id_for
from anju_governance.testing import GovernanceClient
from eventkit.messages import Delivered
from eventkit.policy import handle_once

WAIT_S = 30.0


def dispute(service: GovernanceClient) -> tuple[uuid.UUID, list[Envelope]]:
    """A dispute registered in the tree's first grid, escalated to the grid, then the community."""
    dispute_id = uuid.uuid4()
    now: datetime = service.clock.now
    grid = uuid.UUID(service.feed.grid_id)
    path = AreaPath(community_id=uuid.UUID(service.feed.community_id), grid_id=grid)
    subject = f"dispute-{dispute_id}"
    registered = DisputeRegistered(
        dispute_id=dispute_id,
        channel=Channel.WALK_IN,
        category=Category.WATER_LEAK,
        description="楼上漏水",
        location=Location(area_id=grid, kind=AreaKind.GRID, path=path),
        parties=[Party(party_id=uuid.uuid4(), role=PartyRole.APPLICANT, name="王秀英")],
        sensitivity=Sensitivity.STANDARD,
        tier=Tier.BUILDING,
        registered_at=now,
        sla_due_by=now + timedelta(days=3),
    )
    to_grid = DisputeEscalated(
        dispute_id=dispute_id,
        from_tier=Tier.BUILDING,
        to_tier=Tier.GRID,
        reason="楼栋调解未果",
        escalated_at=now,
        sla_due_by=now + timedelta(days=7),
    )
    to_community = DisputeEscalated(
        dispute_id=dispute_id,
        from_tier=Tier.GRID,
        to_tier=Tier.COMMUNITY,
        reason="网格调解未果",
        escalated_at=now,
        sla_due_by=now + timedelta(days=15),
    )
    feed = service.mediation
    area = service.feed.grid_id
    return dispute_id, [
        feed.envelope(e, subject=subject, area=area, at=now)
        for e in (registered, to_grid, to_community)
    ]


async def items_in_store(service: GovernanceClient) -> int:
    async with service.runtime.pool.acquire() as conn:
        count: int = await conn.fetchval(
            "SELECT count(DISTINCT stream_id) FROM events WHERE stream_id LIKE 'item-%'"
        )
    return count


async def test_an_escalation_delivered_twice_becomes_one_item(service: GovernanceClient) -> None:
    dispute_id, (registered, to_grid, to_community) = dispute(service)
    await service.mediation.publish(registered, to_grid, to_community, to_community)

    director = service.director()
    item_id = item_id_for(dispute_id, to_community.id)
    for _ in range(int(WAIT_S / 0.1)):  # until the duplicate has been handled too
        if await service.mediation.consumed() >= 4:
            break
        await asyncio.sleep(0.1)
    assert await service.mediation.consumed() == 4
    assert await items_in_store(service) == 1

    item = await service.item(str(item_id), director)
    assert item["source"] == {"source": "mediation", "record": "dispute", "id": str(dispute_id)}
    assert (item["status"], item["owner_organisation_id"]) == ("unassigned", None)
    assert (item["community_id"], item["grid_id"]) == (
        service.feed.community_id,
        service.feed.grid_id,
    )
    assert item["deadline"].startswith((service.clock.now + timedelta(days=15)).date().isoformat())
    opened = item["history"][0]
    assert opened["actor"] == "governance"
    assert "楼上漏水" not in str(item)  # the dispute's account stays with mediation


async def test_the_item_id_keeps_an_escalation_once_even_without_the_inbox(
    service: GovernanceClient,
) -> None:
    dispute_id, envelopes = dispute(service)
    policy = service.runtime.policies[1]
    for offset, envelope in enumerate([*envelopes, envelopes[-1]]):
        delivered = Delivered(envelope, envelope_event(envelope), "mediation.events", 0, offset)
        await handle_once(service.runtime.store, policy, delivered)
    # the escalation again, as if its inbox row had been lost
    async with service.runtime.store.session() as session:
        last = envelopes[-1]
        await policy.handle(
            session, Delivered(last, envelope_event(last), "mediation.events", 0, 9)
        )
    assert await items_in_store(service) == 1
    item = await service.item(str(item_id_for(dispute_id, envelopes[-1].id)), service.director())
    assert item["status"] == "unassigned"


def envelope_event(envelope: Envelope) -> DisputeRegistered | DisputeEscalated:
    if envelope.type == DisputeRegistered.event_type:
        return DisputeRegistered.model_validate(envelope.data)
    return DisputeEscalated.model_validate(envelope.data)


def referred(service: GovernanceClient, to: OpinionDestination) -> tuple[uuid.UUID, Envelope]:
    """An opinion raised at a gathering in the tree's first grid, referred ``to``."""
    opinion_id = uuid.uuid4()
    path = AreaPath(
        community_id=uuid.UUID(service.feed.community_id), grid_id=uuid.UUID(service.feed.grid_id)
    )
    event = OpinionReferred(
        opinion_id=opinion_id,
        gathering_id=uuid.uuid4(),
        to=to,
        text="小区东门路灯坏了三个月",
        path=path,
        referred_by="desk-li",
        referred_at=service.clock.now,
    )
    envelope = service.mediation.envelope(
        event, subject=f"opinion-{opinion_id}", area=service.feed.grid_id, at=service.clock.now
    )
    return opinion_id, envelope.model_copy(update={"source": "station"})


async def test_an_opinion_referred_to_governance_becomes_one_item_linked_to_it(
    service: GovernanceClient,
) -> None:
    policy = service.runtime.policies[2]
    opinion_id, envelope = referred(service, OpinionDestination.GOVERNANCE)
    _, elsewhere = referred(service, OpinionDestination.MEDIATION)
    for offset, e in enumerate([envelope, envelope, elsewhere]):
        event = OpinionReferred.model_validate(e.data)
        await handle_once(
            service.runtime.store, policy, Delivered(e, event, "station.events", 0, offset)
        )
    assert await items_in_store(service) == 1
    item = await service.item(str(item_id_for(opinion_id, envelope.id)), service.director())
    assert item["source"] == {"source": "station", "record": "opinion", "id": str(opinion_id)}
    assert (item["status"], item["grid_id"]) == ("unassigned", service.feed.grid_id)
    assert item["title"].startswith("居民意见")
