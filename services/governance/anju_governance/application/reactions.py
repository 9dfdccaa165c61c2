"""What governance does by itself: supervision when a deadline comes, and work items from other
services' news.

- **Supervision** (督办): the scheduler fires an item's receipt, near and overdue deadlines; each
  handler decides from the stream whether the colour still applies and was not raised yet for
  that deadline, so a deadline fired twice (a restart, a second replica, a re-arm) raises it
  once. A red notice names the community's director and the owner's liaisons.
- **A referred opinion**: the station's ``OpinionReferred`` to governance becomes a work item
  without an owner, at the opinion's place, linked back to it, its deadline
  ``ANJU_GOVERNANCE_OPINION_ITEM_DAYS`` after the referral.
- **An escalated dispute**: mediation's ``DisputeEscalated`` to the community tier becomes a work
  item without an owner, at the dispute's place (mirrored from ``DisputeRegistered``), with the
  tier's SLA end as its deadline. Its id is made of the dispute and the escalation, so an
  escalation delivered twice opens one item even past the policy's inbox.
- **A withdrawn escalation**: mediation's ``DisputeEscalationsWithdrawn`` naming the community
  tier (a ledger's fact dated before that automatic escalation: the dispute never got there)
  withdraws the item the escalation opened — the dispute's latest to the community before the
  withdrawal in the dispute's stream, as the mirror keeps them. Withdrawn once however often it
  is delivered; an item the people already closed stays closed.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

from anju_contracts.governance import (
    SOURCE,
    NoticeRecipient,
    NoticeRecipientRole,
    Priority,
    SourceLink,
    SourceRecord,
    SupervisionColour,
    WorkItemSource,
    WorkItemWithdrawn,
)
from anju_contracts.mediation import (
    CATALOG as MEDIATION,
    DisputeEscalated,
    DisputeEscalationsWithdrawn,
    DisputeRegistered,
    Tier,
)
from anju_contracts.registry import AreaPath, OrganisationChanged, OrganisationRegistered
from anju_contracts.station import CATALOG as STATION, OpinionDestination, OpinionReferred
from anju_governance.application.aggregates import (
    DEADLINE_NEAR,
    OVERDUE,
    RECEIPT_DUE,
    SERVICE_ACTOR,
)
from anju_governance.application.config import GovernanceConfig
from anju_governance.application.mirror import keep_dispute, keep_liaisons
from anju_governance.domain import items
from eventkit.commands import area_of, counted
from eventkit.errors import AreaNotFound
from eventkit.known import registry_policy
from eventkit.messages import Delivered
from eventkit.policy import Policy
from eventkit.scheduler import Deadline, DeadlineHandler
from eventkit.store import Context, Session, StoreSession

REGISTRY_POLICY_NAME = "governance_registry"
MEDIATION_POLICY_NAME = "governance_mediation"
STATION_POLICY_NAME = "governance_station"
"""Key the policies' inbox rows, dead letters and consumer group offsets: never rename them."""

ITEM_IDS = uuid.UUID("6f1d2c3b-7a55-4e0b-9a44-0c3e7d1b2a90")
"""The namespace of work-item ids made from another service's record and event."""

COLOURS = {
    RECEIPT_DUE: SupervisionColour.BLUE,
    DEADLINE_NEAR: SupervisionColour.YELLOW,
    OVERDUE: SupervisionColour.RED,
}


def item_id_for(record_id: UUID, event_id: UUID) -> UUID:
    """The work item a record of another service became, on the event that made it one."""
    return uuid.uuid5(ITEM_IDS, f"{record_id}:{event_id}")


async def _notify(
    cfg: GovernanceConfig, session: StoreSession, item: items.WorkItem
) -> list[NoticeRecipient]:
    recipients = [
        NoticeRecipient(role=NoticeRecipientRole.DIRECTOR, community_id=item.path.community_id)
    ]
    if item.owner is not None:
        recipients += [
            NoticeRecipient(
                role=NoticeRecipientRole.LIAISON,
                organisation_id=item.owner,
                name=liaison.name,
                title=liaison.role,
            )
            for liaison in await cfg.mirror.liaisons(session, item.owner)
        ] or [NoticeRecipient(role=NoticeRecipientRole.LIAISON, organisation_id=item.owner)]
    return recipients


def deadline_handlers(cfg: GovernanceConfig) -> dict[str, DeadlineHandler]:
    async def supervise(session: Session, deadline: Deadline) -> None:
        colour = COLOURS[deadline.kind]
        item, stream = await cfg.items.load(session, UUID(deadline.key))
        due_by = datetime.fromisoformat(str(deadline.payload["due_by"]))
        notify = await _notify(cfg, session, item) if colour == SupervisionColour.RED else []
        events = items.supervise(item, colour, due_by=due_by, notify=notify, now=cfg.clock())
        if events:
            with counted(SOURCE, f"raise_{colour}_supervision"):
                await session.append(
                    stream.id,
                    stream.version,
                    events,
                    context=Context(actor=SERVICE_ACTOR),
                    area=area_of(item.path),
                )

    return dict.fromkeys(COLOURS, supervise)


async def open_from(
    session: StoreSession,
    cfg: GovernanceConfig,
    delivered: Delivered,
    record_id: UUID,
    opening: items.Opening,
    *,
    action: str,
) -> None:
    """Open the item ``delivered`` makes of ``record_id``, unless it was opened already."""
    item_id = item_id_for(record_id, delivered.envelope.id)
    stream = await session.load(cfg.items.stream(item_id))
    if stream.exists:
        return
    # opened when the other service's fact happened (a referral or an escalation brought in
    # from a paper ledger): a director can date its assignment and closing from then on
    at = min(delivered.envelope.occurred_at, cfg.clock())
    events = items.open_item(
        item_id,
        opening,
        by=SOURCE,
        since=at,
        now=at,
        receipt=cfg.rules.receipt,
    )
    context = Context(
        actor=SERVICE_ACTOR,
        correlation_id=delivered.envelope.correlation_id or str(uuid.uuid4()),
        causation_id=str(delivered.envelope.id),
        occurred_at=at,
    )
    with counted(SOURCE, action):
        await session.append(stream.id, 0, events, context=context, area=area_of(opening.path))
        assert cfg.items.follow is not None
        await cfg.items.follow(session, item_id, events)
        if opening.source.record == SourceRecord.DISPUTE:
            sequence = delivered.envelope.sequence
            await cfg.mirror.keep_dispute_item(session, record_id, item_id, sequence)


async def withdraw_for(
    session: StoreSession, cfg: GovernanceConfig, delivered: Delivered, dispute_id: UUID
) -> None:
    """Withdraw the item the dispute's withdrawn escalation to the community opened, if any: the
    latest before the withdrawal in the dispute's stream (delivered again after an escalation by
    hand that followed it, it still finds the item it withdrew)."""
    envelope = delivered.envelope
    item_id = await cfg.mirror.latest_dispute_item(session, dispute_id, envelope.sequence)
    if item_id is None:
        return  # escalated before governance listened, or its item could not be opened
    stream = await session.load(cfg.items.stream(item_id))
    item = items.fold(stream.payloads)
    assert item is not None
    # when mediation recorded the withdrawal: the ledger's fact behind it predates the item
    at = envelope.recorded_at or envelope.occurred_at
    events = items.withdraw_escalated(
        item, dispute_id=dispute_id, by=SOURCE, at=at, now=cfg.clock()
    )
    if not events:
        return
    withdrawn = events[0]
    assert isinstance(withdrawn, WorkItemWithdrawn)
    context = Context(
        actor=SERVICE_ACTOR,
        correlation_id=envelope.correlation_id or str(uuid.uuid4()),
        causation_id=str(envelope.id),
        occurred_at=withdrawn.withdrawn_at,
    )
    with counted(SOURCE, "withdraw_dispute_item"):
        await session.append(
            stream.id, stream.version, events, context=context, area=area_of(item.path)
        )
        assert cfg.items.follow is not None
        await cfg.items.follow(session, item_id, events)


async def _dispute_place(
    cfg: GovernanceConfig, session: Session, delivered: Delivered, dispute_id: UUID
) -> tuple[AreaPath, str, bool]:
    """Where the dispute is: as mirrored from its registration, else the envelope's area."""
    place = await cfg.mirror.dispute(session, dispute_id)
    if place is not None:
        return place.path, place.category, place.sensitive
    area = delivered.envelope.area
    location = None if area is None else await cfg.known.location(session, UUID(area))
    if location is None:
        raise AreaNotFound("the escalated dispute's place is not known", area_id=str(area))
    path = AreaPath(community_id=location.path.community_id, grid_id=location.path.grid_id)
    return path, "other", False


def mediation_policy(cfg: GovernanceConfig) -> Policy:
    async def handle(session: Session, delivered: Delivered) -> None:
        event = delivered.event
        if isinstance(event, DisputeRegistered):
            await keep_dispute(session, event)
        elif isinstance(event, DisputeEscalated) and event.to_tier == Tier.COMMUNITY:
            path, category, sensitive = await _dispute_place(
                cfg, session, delivered, event.dispute_id
            )
            deadline = event.sla_due_by or event.escalated_at + cfg.rules.dispute_days
            opening = items.Opening(
                title=f"社区级纠纷（{category}）",
                source=SourceLink(
                    source=WorkItemSource.MEDIATION,
                    record=SourceRecord.DISPUTE,
                    id=event.dispute_id,
                ),
                path=path,
                sensitive=sensitive,
                deadline=deadline,
                priority=Priority.HIGH,
            )
            await open_from(
                session, cfg, delivered, event.dispute_id, opening, action="open_dispute_item"
            )
        elif isinstance(event, DisputeEscalationsWithdrawn) and Tier.COMMUNITY in event.withdrawn:
            await withdraw_for(session, cfg, delivered, event.dispute_id)

    return Policy(name=MEDIATION_POLICY_NAME, catalogs=[MEDIATION], handle=handle)


def station_policy(cfg: GovernanceConfig) -> Policy:
    async def handle(session: Session, delivered: Delivered) -> None:
        event = delivered.event
        if not isinstance(event, OpinionReferred) or event.to != OpinionDestination.GOVERNANCE:
            return
        opening = items.Opening(
            title=f"居民意见：{event.text[:40]}",
            description=event.text,
            source=SourceLink(
                source=WorkItemSource.STATION, record=SourceRecord.OPINION, id=event.opinion_id
            ),
            path=AreaPath(community_id=event.path.community_id, grid_id=event.path.grid_id),
            deadline=event.referred_at + cfg.rules.opinion_days,
        )
        await open_from(
            session, cfg, delivered, event.opinion_id, opening, action="open_opinion_item"
        )

    return Policy(name=STATION_POLICY_NAME, catalogs=[STATION], handle=handle)


def _registry_reaction(cfg: GovernanceConfig) -> Callable[[Session, Delivered], Awaitable[None]]:
    async def react(session: Session, delivered: Delivered) -> None:
        if isinstance(delivered.event, OrganisationRegistered | OrganisationChanged):
            await keep_liaisons(session, delivered.event)

    return react


def policies(cfg: GovernanceConfig) -> list[Policy]:
    """The registry's mirror (with the liaisons of organisations) first, then mediation's and
    the station's."""
    return [
        registry_policy(REGISTRY_POLICY_NAME, then=_registry_reaction(cfg)),
        mediation_policy(cfg),
        station_policy(cfg),
    ]
