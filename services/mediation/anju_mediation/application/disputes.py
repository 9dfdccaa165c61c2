"""Handlers for disputes: register, escalate, the work on them, and how they end."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

import structlog
from pydantic import BaseModel

from anju_contracts import Event
from anju_contracts.mediation import (
    SOURCE,
    Category,
    Location,
    MediatorRole,
    Party,
    Sensitivity,
    SessionPlace,
    Tier,
)
from anju_contracts.registry import ErasureBasis
from anju_mediation.application.aggregates import (
    DISPUTE_RETENTION_DUE,
    DISPUTES,
    SERVICE_ACTOR,
    SIGNALS,
    dispute_of_key,
    follow_sla,
)
from anju_mediation.application.commands import (
    AnswerReferral,
    AssignMediator,
    Close,
    Escalate,
    FailMediation,
    FollowUpAgreement,
    HoldSession,
    ReachAgreement,
    ReassignMediator,
    RecordReturnVisit,
    Refer,
    RegisterDispute,
    Reopen,
    Resolve,
    ScheduleSession,
    UnassignMediator,
    when,
)
from anju_mediation.domain import disputes
from anju_mediation.domain.disputes import Dispute, Slas, Status
from anju_mediation.domain.retention import Retention
from eventkit.commands import Accepted, Caller, area_of, counted
from eventkit.errors import Unavailable
from eventkit.keys import KeyStore
from eventkit.known import Known, visible_location, visible_residents
from eventkit.personal import record_subject
from eventkit.scheduler import Deadline, DeadlineHandler
from eventkit.store import Context, Session, Store, StoreSession

log = structlog.get_logger("anju_mediation.disputes")

Decide = Callable[[Dispute], list[Event]]


async def register_dispute(
    store: Store, cmd: RegisterDispute, caller: Caller, *, known: Known, now: datetime, slas: Slas
) -> Accepted:
    async with DISPUTES.create(store, caller, "register_dispute") as w:
        location = await visible_location(known, w.session, cmd.area_id, caller)
        parties = [Party.model_validate(p.model_dump()) for p in cmd.parties]
        named = [p.resident_id for p in parties if p.resident_id is not None]
        w.emit(
            disputes.register(
                w.id,
                signal_id=None,
                channel=cmd.channel,
                category=cmd.category,
                description=cmd.description,
                location=location,
                parties=parties,
                sensitivity=cmd.sensitivity,
                tier=cmd.tier,
                known_residents=await visible_residents(known, w.session, named, caller),
                now=now,
                slas=slas,
            )
        )
    return w.accepted


def escalate(cmd: Escalate, *, now: datetime, slas: Slas) -> Decide:
    return lambda d: disputes.escalate(d, to=cmd.to_tier, reason=cmd.reason, now=now, slas=slas)


def assign(cmd: AssignMediator) -> Decide:
    return lambda d: disputes.assign(d, mediator_id=cmd.mediator_id, role=cmd.role, name=cmd.name)


def reassign(cmd: ReassignMediator) -> Decide:
    return lambda d: disputes.reassign(
        d,
        from_mediator=cmd.from_mediator_id,
        to_mediator=cmd.mediator_id,
        role=cmd.role,
        name=cmd.name,
        reason=cmd.reason,
    )


def unassign(mediator_id: str, cmd: UnassignMediator) -> Decide:
    return lambda d: disputes.unassign(d, mediator_id=mediator_id, reason=cmd.reason)


def schedule_session(session_id: UUID, cmd: ScheduleSession, *, now: datetime) -> Decide:
    return lambda d: disputes.schedule_session(
        d, session_id=session_id, scheduled_for=cmd.scheduled_for, place=cmd.place, now=now
    )


def hold_session(session_id: UUID, cmd: HoldSession, *, planned: bool, now: datetime) -> Decide:
    """Record a held session: ``planned`` if ``session_id`` was scheduled, else a new one."""
    return lambda d: disputes.hold_session(
        d,
        session_id=session_id,
        planned=planned,
        held_at=when(cmd.held_at, now),
        place=cmd.place,
        attendees=cmd.attendees,
        minutes=cmd.minutes,
        now=now,
    )


def reach_agreement(agreement_id: UUID, cmd: ReachAgreement, *, now: datetime) -> Decide:
    return lambda d: disputes.reach_agreement(
        d, agreement_id=agreement_id, terms=cmd.terms, confirmed_by=cmd.confirmed_by, now=now
    )


def fail(cmd: FailMediation) -> Decide:
    return lambda d: disputes.fail(d, reason=cmd.reason)


def refer(referral_id: UUID, cmd: Refer, *, now: datetime) -> Decide:
    return lambda d: disputes.refer(d, referral_id=referral_id, to=cmd.to, note=cmd.note, now=now)


def answer_referral(referral_id: UUID, cmd: AnswerReferral, *, now: datetime) -> Decide:
    return lambda d: disputes.answer_referral(
        d, referral_id=referral_id, answer=cmd.answer, now=now
    )


def follow_up(cmd: FollowUpAgreement, *, now: datetime) -> Decide:
    return lambda d: disputes.follow_up(d, carried_out=cmd.carried_out, note=cmd.note, now=now)


def return_visit(cmd: RecordReturnVisit, *, now: datetime) -> Decide:
    return lambda d: disputes.return_visit(d, satisfaction=cmd.satisfaction, note=cmd.note, now=now)


def resolve(cmd: Resolve, *, now: datetime, slas: Slas) -> Decide:
    return lambda d: disputes.resolve(d, outcome=cmd.outcome, now=now, slas=slas)


async def close_dispute(
    store: Store,
    dispute_id: UUID,
    cmd: Close,
    caller: Caller,
    *,
    now: datetime,
    retention: Retention,
) -> Accepted:
    """Close the dispute's file; it is kept for its retention period, then erased."""
    async with DISPUTES.update(
        store, dispute_id, caller, "close_dispute", cmd.expected_version
    ) as w:
        w.emit(disputes.close(w.state, note=cmd.note, now=now))
        community_id = w.state.location.path.community_id
        await w.session.schedule(
            DISPUTE_RETENTION_DUE,
            str(dispute_id),
            retention.erase_at(community_id, now),
            {"closed_at": now.isoformat(), "days": retention.days_for(community_id)},
        )
    return w.accepted


def reopen(cmd: Reopen, *, now: datetime, slas: Slas) -> Decide:
    return lambda d: disputes.reopen(d, reason=cmd.reason, now=now, slas=slas)


# -- the SLA deadlines ---------------------------------------------------------------------------


async def _on_sla(
    session: StoreSession,
    deadline: Deadline,
    decide: Callable[[Dispute, datetime], list[Event]],
) -> None:
    dispute, stream = await DISPUTES.load(session, dispute_of_key(deadline.key))
    due_by = datetime.fromisoformat(str(deadline.payload["due_by"]))
    events = decide(dispute, due_by)
    if events:
        await session.append(
            stream.id,
            stream.version,
            events,
            context=Context(actor=SERVICE_ACTOR),
            area=area_of(dispute.location.path),
        )
        await follow_sla(session, dispute.id, events)


def sla_handlers(
    slas: Slas,
) -> tuple[
    Callable[[StoreSession, Deadline], Awaitable[None]],
    Callable[[StoreSession, Deadline], Awaitable[None]],
]:
    """Deadline handlers: the SLA is at risk; the SLA ran out (and maybe escalates)."""

    async def at_risk(session: StoreSession, deadline: Deadline) -> None:
        with counted(SOURCE, "mark_sla_at_risk"):
            await _on_sla(session, deadline, lambda d, due: disputes.mark_at_risk(d, due_by=due))

    async def breached(session: StoreSession, deadline: Deadline) -> None:
        with counted(SOURCE, "mark_sla_breached"):
            await _on_sla(
                session, deadline, lambda d, due: disputes.breach(d, due_by=due, slas=slas)
            )

    return at_risk, breached


# -- retention -----------------------------------------------------------------------------------


class ErasureUnavailable(Unavailable):
    """No key store is configured: nothing can be erased (the fields are kept in clear)."""

    code = "erasure_unavailable"


def retention_due(keys: Callable[[], KeyStore | None]) -> DeadlineHandler:
    """Deadline handler: a closed dispute's retention period ended. Its record's key (the
    description, notes, minutes, outcome, the ad-hoc parties) and the key of the signal it came
    from are destroyed, then ``DisputeErased`` tells the read models to blank their copies.
    Parties who are registered residents keep their own keys. A dispute reopened meanwhile, or
    erased already, is left as it is. ``keys`` gives the runtime's key store once started."""

    async def handle(session: Session, deadline: Deadline) -> None:
        with counted(SOURCE, "erase_closed_dispute"):
            dispute, stream = await DISPUTES.load(session, UUID(deadline.key))
            events = disputes.erase(dispute, basis=ErasureBasis.RETENTION)
            if not events:
                return
            store = keys()
            if store is None:
                raise ErasureUnavailable("no key store is configured: nothing can be erased")
            # Destroying first is idempotent: if the append fails, the retry appends.
            await store.destroy(record_subject(SOURCE, stream.id))
            if dispute.signal_id is not None:
                await store.destroy(record_subject(SOURCE, SIGNALS.stream(dispute.signal_id)))
            await session.append(
                stream.id,
                stream.version,
                events,
                context=Context(actor=SERVICE_ACTOR),
                area=area_of(dispute.location.path),
            )
            log.info("dispute_erased", dispute_id=deadline.key, basis="retention")

    return handle


# -- the service's own view of a dispute -------------------------------------------------------


class DisputeView(BaseModel):
    """A dispute as mediation knows it now (a sensitive one: for its mediators and directors)."""

    id: UUID
    status: Status
    tier: Tier
    category: Category
    location: Location
    sensitivity: Sensitivity
    parties: list[Party]
    tier_entered_at: datetime
    sla_due_by: datetime | None
    mediators: dict[str, MediatorRole]
    sessions: dict[UUID, SessionPlace]
    held_sessions: list[UUID]
    agreement_id: UUID | None
    failed: bool
    referrals: dict[UUID, bool]
    resolved_at: datetime | None
    resolved_on_time: bool | None
    """Resolved by the SLA end of the tier it was resolved at, judged from business time (null
    while open, and at ``external``, which has no SLA)."""
    reopen_until: datetime | None
    version: int


async def view_dispute(store: Store, dispute_id: UUID, caller: Caller) -> DisputeView:
    dispute, stream = await DISPUTES.read(store, dispute_id, caller, "read_dispute")
    return DisputeView(
        id=dispute.id,
        status=dispute.status,
        tier=dispute.tier,
        category=dispute.category,
        location=dispute.location,
        sensitivity=dispute.sensitivity,
        parties=list(dispute.parties),
        tier_entered_at=dispute.tier_entered_at,
        sla_due_by=dispute.sla_due_by,
        mediators=dict(dispute.mediators),
        sessions=dict(dispute.sessions),
        held_sessions=sorted(dispute.held, key=str),
        agreement_id=dispute.agreement_id,
        failed=dispute.failed,
        referrals=dict(dispute.referrals),
        resolved_at=dispute.resolved_at,
        resolved_on_time=dispute.resolved_on_time,
        reopen_until=dispute.reopen_until,
        version=stream.version,
    )
