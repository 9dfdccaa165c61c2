"""A dispute: its tier and SLA, the people working on it, and how it ends.

Tiers only go up. Each tier but ``external`` has an SLA counted from when the dispute entered
it (registration, escalation or reopening); the scheduler warns when a quarter of the time is
left and records the breach when it runs out, which escalates the dispute one tier when that
tier's policy says so. A resolved dispute can be reopened within a window, which restarts the
SLA of its tier; a closed one accepts nothing else.

Times are business times: a dispute brought in from a paper ledger is registered, escalated and
resolved on the days the ledger says, and its SLAs run from them. The scheduler, on the clock,
may breach and escalate such a dispute before the ledger's next fact arrives. Those automatic
escalations give way to a resolution or an escalation by hand dated before them
(:func:`standing_at`): the dispute was still at its tier then, so it is resolved there, on time
if by that tier's SLA end — "on time" is judged from the facts' business times, never from the
marks the scheduler made without them.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from anju_contracts import Event
from anju_contracts.mediation import (
    AgreementFollowedUp,
    AgreementReached,
    AgreementTerm,
    Category,
    Channel,
    DisputeClosed,
    DisputeErased,
    DisputeEscalated,
    DisputeEscalationsWithdrawn,
    DisputeReferred,
    DisputeRegistered,
    DisputeReopened,
    DisputeResolved,
    DisputeSlaAtRisk,
    DisputeSlaBreached,
    Location,
    MediationFailed,
    MediationSessionHeld,
    MediationSessionScheduled,
    MediatorAssigned,
    MediatorRole,
    MediatorUnassigned,
    Party,
    ReferralAnswered,
    ReferralTarget,
    ReturnVisitRecorded,
    Satisfaction,
    Sensitivity,
    SessionPlace,
    Tier,
)
from anju_contracts.registry import AreaKind, ErasureBasis
from anju_mediation.domain import errors
from eventkit.dates import CLOCK_SKEW, check_past_event, check_schedule


class Status(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    CLOSED = "closed"


@dataclass(frozen=True)
class Slas:
    """The tiers' SLAs in days, whether a breach escalates, and the window to reopen."""

    days: Mapping[Tier, float]
    auto_escalate: Mapping[Tier, bool]
    reopen_days: int = 30

    def due_by(self, tier: Tier, entered_at: datetime) -> datetime | None:
        days = self.days.get(tier)
        return None if days is None else entered_at + timedelta(days=days)


DEFAULT_SLAS = Slas(
    days={Tier.BUILDING: 3, Tier.GRID: 7, Tier.COMMUNITY: 15},
    auto_escalate={Tier.BUILDING: True, Tier.GRID: True, Tier.COMMUNITY: True},
)


def at_risk_time(entered_at: datetime, due_by: datetime) -> datetime:
    """When a quarter of the SLA time is left."""
    return due_by - (due_by - entered_at) / 4


@dataclass(frozen=True)
class Stint:
    """A dispute's time at one tier: entered at ``since`` (by registration, reopening or
    escalation — ``automatic`` when the scheduler escalated after a breach), its SLA due by
    ``due_by`` (none at ``external``)."""

    tier: Tier
    since: datetime
    due_by: datetime | None
    automatic: bool = False


@dataclass(frozen=True)
class Dispute:
    id: UUID
    status: Status
    category: Category
    location: Location
    sensitivity: Sensitivity
    parties: tuple[Party, ...]
    stints: tuple[Stint, ...]
    """The tiers since the registration or the last reopening, the one it is at now last."""
    at_risk_for: datetime | None = None
    breached_for: datetime | None = None
    mediators: Mapping[str, MediatorRole] = field(default_factory=dict)
    sessions: Mapping[UUID, SessionPlace] = field(default_factory=dict)  # planned, by id
    held: frozenset[UUID] = frozenset()
    agreement_id: UUID | None = None
    failed: bool = False
    referrals: Mapping[UUID, bool] = field(default_factory=dict)  # referral id → answered
    resolved_at: datetime | None = None
    resolved_on_time: bool | None = None
    reopen_until: datetime | None = None
    registered_at: datetime | None = None
    signal_id: UUID | None = None
    """The conflict signal the dispute came from, if any."""
    erased: bool = False
    """The personal data of the closed dispute was erased (its retention ended)."""

    @property
    def tier(self) -> Tier:
        return self.stints[-1].tier

    @property
    def tier_entered_at(self) -> datetime:
        return self.stints[-1].since

    @property
    def sla_due_by(self) -> datetime | None:
        return self.stints[-1].due_by

    @property
    def sensitive(self) -> bool:
        return self.sensitivity == Sensitivity.SENSITIVE

    @property
    def party_ids(self) -> set[UUID]:
        return {p.party_id for p in self.parties}


def evolve(state: Dispute | None, event: Event) -> Dispute | None:
    if isinstance(event, DisputeRegistered):
        return Dispute(
            id=event.dispute_id,
            status=Status.OPEN,
            category=event.category,
            location=event.location,
            sensitivity=event.sensitivity,
            parties=tuple(event.parties),
            stints=(Stint(event.tier, event.registered_at, event.sla_due_by),),
            registered_at=event.registered_at,
            signal_id=event.signal_id,
        )
    if state is None:
        return None
    if isinstance(event, DisputeEscalated):
        entered = Stint(event.to_tier, event.escalated_at, event.sla_due_by, event.automatic)
        return replace(state, stints=(*state.stints, entered))
    if isinstance(event, DisputeEscalationsWithdrawn):
        return replace(state, stints=state.stints[: len(state.stints) - len(event.withdrawn)])
    if isinstance(event, DisputeSlaAtRisk):
        return replace(state, at_risk_for=event.due_by)
    if isinstance(event, DisputeSlaBreached):
        return replace(state, breached_for=event.due_by)
    if isinstance(event, MediatorAssigned):
        return replace(state, mediators={**state.mediators, event.mediator_id: event.role})
    if isinstance(event, MediatorUnassigned):
        mediators = {k: v for k, v in state.mediators.items() if k != event.mediator_id}
        return replace(state, mediators=mediators)
    if isinstance(event, MediationSessionScheduled):
        return replace(state, sessions={**state.sessions, event.session_id: event.place})
    if isinstance(event, MediationSessionHeld):
        sessions = {**state.sessions, event.session_id: event.place}
        return replace(state, sessions=sessions, held=state.held | {event.session_id})
    if isinstance(event, AgreementReached):
        return replace(state, agreement_id=event.agreement_id, failed=False)
    if isinstance(event, MediationFailed):
        return replace(state, failed=True)
    if isinstance(event, DisputeReferred):
        return replace(state, referrals={**state.referrals, event.referral_id: False})
    if isinstance(event, ReferralAnswered):
        return replace(state, referrals={**state.referrals, event.referral_id: True})
    if isinstance(event, DisputeResolved):
        return replace(
            state,
            status=Status.RESOLVED,
            resolved_at=event.resolved_at,
            resolved_on_time=event.on_time,
            reopen_until=event.reopen_until,
        )
    if isinstance(event, DisputeClosed):
        return replace(state, status=Status.CLOSED)
    if isinstance(event, DisputeErased):
        return replace(state, erased=True)
    if isinstance(event, DisputeReopened):
        return replace(
            state,
            status=Status.OPEN,
            resolved_at=None,
            resolved_on_time=None,
            reopen_until=None,
            stints=(Stint(event.tier, event.reopened_at, event.sla_due_by),),
        )
    return state


def fold(events: Iterable[Event]) -> Dispute | None:
    state: Dispute | None = None
    for event in events:
        state = evolve(state, event)
    return state


# -- guards --------------------------------------------------------------------------------------


def ensure_open(d: Dispute) -> None:
    if d.status == Status.CLOSED:
        raise errors.DisputeClosed("the dispute is closed", dispute_id=str(d.id))
    if d.status != Status.OPEN:
        raise errors.DisputeNotOpen(f"the dispute is {d.status}", status=d.status)


def ensure_not_closed(d: Dispute) -> None:
    if d.status == Status.CLOSED:
        raise errors.DisputeClosed("the dispute is closed", dispute_id=str(d.id))


def tier_for(location: Location) -> Tier:
    """The tier that fits a location: 琐事不出楼栋、小事不出网格、大事不出社区."""
    if location.kind in (AreaKind.BUILDING, AreaKind.UNIT):
        return Tier.BUILDING
    if location.kind == AreaKind.GRID:
        return Tier.GRID
    return Tier.COMMUNITY


def check_parties(parties: Sequence[Party], known_residents: Collection[UUID]) -> None:
    """Each party is a resident the registry knows, or an ad-hoc party with name and contact;
    no party, and no resident, is named twice."""
    party_ids = [p.party_id for p in parties]
    residents = [p.resident_id for p in parties if p.resident_id is not None]
    if len(set(party_ids)) != len(party_ids) or len(set(residents)) != len(residents):
        raise errors.DuplicateParty("a party is named twice", field="parties")
    for party in parties:
        if party.resident_id is not None:
            if party.resident_id not in known_residents:
                raise errors.UnknownResident(
                    "no such resident in the registry", resident_id=str(party.resident_id)
                )
        elif not party.name or not party.contact:
            raise errors.AdHocPartyIncomplete(
                "a party who is not a registered resident needs a name and a contact",
                party_id=str(party.party_id),
            )


# -- deciders ------------------------------------------------------------------------------------


def register(
    dispute_id: UUID,
    *,
    signal_id: UUID | None,
    channel: Channel,
    category: Category,
    description: str,
    location: Location,
    parties: Sequence[Party],
    sensitivity: Sensitivity,
    tier: Tier | None,
    known_residents: Collection[UUID],
    now: datetime,
    slas: Slas,
) -> list[Event]:
    check_parties(parties, known_residents)
    starts_at = tier or tier_for(location)
    return [
        DisputeRegistered(
            dispute_id=dispute_id,
            signal_id=signal_id,
            channel=channel,
            category=category,
            description=description,
            location=location,
            parties=list(parties),
            sensitivity=sensitivity,
            tier=starts_at,
            registered_at=now,
            sla_due_by=slas.due_by(starts_at, now),
        )
    ]


def standing_at(d: Dispute, at: datetime) -> tuple[Stint, list[Event]]:
    """The tier the dispute stood at, at ``at``, for a person's fact dated then; and the
    withdrawal of the automatic escalations made at or after ``at``, if any.

    The scheduler escalates on the clock, without the facts a paper ledger brings in later: an
    automatic escalation at or after a resolution's (or an escalation by hand's) business time
    did not happen, as the ledger shows — its SLA had not run out by then. What a person did
    (registering, reopening, escalating by hand) stands: a fact dated before it is refused.
    """
    stints = list(d.stints)
    withdrawn: list[Tier] = []
    while len(stints) > 1 and stints[-1].automatic and stints[-1].since >= at:
        withdrawn.insert(0, stints.pop().tier)
    standing = stints[-1]
    if standing.since > at + CLOCK_SKEW:
        raise errors.BeforeTierEntered(
            f"the dispute entered the {standing.tier} tier after that time",
            tier=standing.tier,
            tier_entered_at=standing.since.isoformat(),
            at=at.isoformat(),
        )
    if not withdrawn:
        return standing, []
    return standing, [
        DisputeEscalationsWithdrawn(
            dispute_id=d.id,
            tier=standing.tier,
            tier_entered_at=standing.since,
            sla_due_by=standing.due_by,
            withdrawn=withdrawn,
            superseded_at=at,
        )
    ]


def escalate(
    d: Dispute,
    *,
    to: Tier | None,
    reason: str,
    now: datetime,
    slas: Slas,
    automatic: bool = False,
) -> list[Event]:
    """Move the dispute up: by hand to ``to`` (else the next tier), as the dispute stood at
    ``now`` (:func:`standing_at`); or ``automatic`` after a breach, one tier up."""
    ensure_open(d)
    tier = d.tier
    withdrawals: list[Event] = []
    if not automatic:
        standing, withdrawals = standing_at(d, now)
        tier = standing.tier
    target = to or _next(tier)
    if target is None or target.rank <= tier.rank:
        raise errors.CannotEscalate("a dispute only moves up a tier", tier=tier, to=target or tier)
    return [
        *withdrawals,
        DisputeEscalated(
            dispute_id=d.id,
            from_tier=tier,
            to_tier=target,
            reason=reason,
            automatic=automatic,
            escalated_at=now,
            sla_due_by=slas.due_by(target, now),
        ),
    ]


def _next(tier: Tier) -> Tier | None:
    tiers = list(Tier)
    return tiers[tier.rank + 1] if tier.rank + 1 < len(tiers) else None


def mark_at_risk(d: Dispute, *, due_by: datetime) -> list[Event]:
    """The at-risk deadline of ``due_by`` fired: a fact only if that SLA still runs."""
    if d.status != Status.OPEN or d.sla_due_by != due_by or d.at_risk_for == due_by:
        return []
    return [DisputeSlaAtRisk(dispute_id=d.id, tier=d.tier, due_by=due_by)]


def breach(d: Dispute, *, due_by: datetime, slas: Slas) -> list[Event]:
    """The SLA of ``due_by`` ran out: record the breach, and escalate if the tier says so."""
    if d.status != Status.OPEN or d.sla_due_by != due_by or d.breached_for == due_by:
        return []
    events: list[Event] = [DisputeSlaBreached(dispute_id=d.id, tier=d.tier, due_by=due_by)]
    if slas.auto_escalate.get(d.tier, False) and _next(d.tier) is not None:
        events += escalate(
            d,
            to=None,
            reason=f"the {d.tier} tier's SLA was breached",
            now=due_by,
            slas=slas,
            automatic=True,
        )
    return events


def assign(d: Dispute, *, mediator_id: str, role: MediatorRole, name: str | None) -> list[Event]:
    ensure_open(d)
    if mediator_id in d.mediators:
        raise errors.AlreadyAssigned("this mediator is already assigned", mediator_id=mediator_id)
    return [MediatorAssigned(dispute_id=d.id, mediator_id=mediator_id, role=role, name=name)]


def unassign(d: Dispute, *, mediator_id: str, reason: str | None) -> list[Event]:
    ensure_open(d)
    if mediator_id not in d.mediators:
        raise errors.NotAssigned("this mediator is not assigned", mediator_id=mediator_id)
    return [MediatorUnassigned(dispute_id=d.id, mediator_id=mediator_id, reason=reason)]


def reassign(
    d: Dispute,
    *,
    from_mediator: str,
    to_mediator: str,
    role: MediatorRole,
    name: str | None,
    reason: str | None,
) -> list[Event]:
    events = unassign(d, mediator_id=from_mediator, reason=reason)
    after = evolve(d, events[0])
    assert after is not None
    return events + assign(after, mediator_id=to_mediator, role=role, name=name)


def schedule_session(
    d: Dispute, *, session_id: UUID, scheduled_for: datetime, place: SessionPlace, now: datetime
) -> list[Event]:
    ensure_open(d)
    check_schedule(scheduled_for, now=now, field="scheduled_for")
    return [
        MediationSessionScheduled(
            dispute_id=d.id, session_id=session_id, scheduled_for=scheduled_for, place=place
        )
    ]


def hold_session(
    d: Dispute,
    *,
    session_id: UUID,
    planned: bool,
    held_at: datetime,
    place: SessionPlace | None,
    attendees: Sequence[str],
    minutes: str,
    now: datetime,
) -> list[Event]:
    """Record a session: one that was planned (``planned``), or one held on the spot."""
    ensure_open(d)
    since = d.registered_at or d.tier_entered_at
    check_past_event(held_at, since=since, now=now, field="held_at")
    if planned and session_id not in d.sessions:
        raise errors.SessionNotFound("no such session", session_id=str(session_id))
    if session_id in d.held:
        raise errors.SessionAlreadyHeld("this session was already held")
    place = place or d.sessions.get(session_id)
    if place is None:
        raise errors.PlaceRequired("a session held on the spot needs its place", field="place")
    return [
        MediationSessionHeld(
            dispute_id=d.id,
            session_id=session_id,
            held_at=held_at,
            place=place,
            attendees=list(attendees),
            minutes=minutes,
        )
    ]


def reach_agreement(
    d: Dispute,
    *,
    agreement_id: UUID,
    terms: Sequence[AgreementTerm],
    confirmed_by: Sequence[UUID],
    now: datetime,
) -> list[Event]:
    ensure_open(d)
    if d.agreement_id is not None:
        raise errors.AlreadyAgreed("an agreement was already reached")
    confirmed = set(confirmed_by)
    if len(d.parties) < 2 or len(confirmed) < 2:
        raise errors.AgreementNeedsTwoParties(
            "an agreement needs at least two parties who confirm it",
            parties=len(d.parties),
            confirmed=len(confirmed),
        )
    named = confirmed | {t.party_id for t in terms}
    unknown = named - d.party_ids
    if unknown:
        raise errors.UnknownParty(
            "not a party to this dispute", party_ids=sorted(str(u) for u in unknown)
        )
    return [
        AgreementReached(
            dispute_id=d.id,
            agreement_id=agreement_id,
            terms=list(terms),
            confirmed_by=sorted(confirmed, key=str),
            reached_at=now,
        )
    ]


def fail(d: Dispute, *, reason: str) -> list[Event]:
    ensure_open(d)
    if d.agreement_id is not None:
        raise errors.AlreadyAgreed("the parties already reached an agreement")
    return [MediationFailed(dispute_id=d.id, reason=reason)]


def refer(
    d: Dispute, *, referral_id: UUID, to: ReferralTarget, note: str | None, now: datetime
) -> list[Event]:
    ensure_open(d)
    if not d.failed:
        raise errors.MediationNotFailed("record that mediation failed before referring it")
    return [
        DisputeReferred(dispute_id=d.id, referral_id=referral_id, to=to, note=note, referred_at=now)
    ]


def answer_referral(d: Dispute, *, referral_id: UUID, answer: str, now: datetime) -> list[Event]:
    ensure_not_closed(d)
    answered = d.referrals.get(referral_id)
    if answered is None:
        raise errors.ReferralNotFound("no such referral", referral_id=str(referral_id))
    if answered:
        raise errors.AlreadyAnswered("this referral was already answered")
    return [
        ReferralAnswered(dispute_id=d.id, referral_id=referral_id, answer=answer, answered_at=now)
    ]


def follow_up(d: Dispute, *, carried_out: bool, note: str | None, now: datetime) -> list[Event]:
    ensure_not_closed(d)
    if d.agreement_id is None:
        raise errors.NoAgreement("there is no agreement to follow up")
    return [
        AgreementFollowedUp(
            dispute_id=d.id,
            agreement_id=d.agreement_id,
            carried_out=carried_out,
            note=note,
            checked_at=now,
        )
    ]


def return_visit(
    d: Dispute, *, satisfaction: Sequence[Satisfaction], note: str | None, now: datetime
) -> list[Event]:
    ensure_not_closed(d)
    unknown = {s.party_id for s in satisfaction} - d.party_ids
    if unknown:
        raise errors.UnknownParty(
            "not a party to this dispute", party_ids=sorted(str(u) for u in unknown)
        )
    return [
        ReturnVisitRecorded(
            dispute_id=d.id, visited_at=now, satisfaction=list(satisfaction), note=note
        )
    ]


def resolve(d: Dispute, *, outcome: str, now: datetime, slas: Slas) -> list[Event]:
    """Resolve the dispute at the tier it stood at, at ``now`` (:func:`standing_at`): on time
    when by that tier's SLA end, whatever breach the scheduler marked meanwhile."""
    ensure_open(d)
    standing, withdrawals = standing_at(d, now)
    return [
        *withdrawals,
        DisputeResolved(
            dispute_id=d.id,
            tier=standing.tier,
            outcome=outcome,
            resolved_at=now,
            reopen_until=now + timedelta(days=slas.reopen_days),
            on_time=None if standing.due_by is None else now <= standing.due_by,
        ),
    ]


def close(d: Dispute, *, note: str | None, now: datetime) -> list[Event]:
    ensure_not_closed(d)
    if d.status != Status.RESOLVED:
        raise errors.DisputeNotResolved("only a resolved dispute can be closed")
    return [DisputeClosed(dispute_id=d.id, note=note, closed_at=now)]


def reopen(d: Dispute, *, reason: str, now: datetime, slas: Slas) -> list[Event]:
    if d.status == Status.OPEN:
        raise errors.DisputeNotResolved("the dispute is still open")
    if d.reopen_until is None or now > d.reopen_until:
        raise errors.ReopenWindowPassed(
            "the window to reopen this dispute has passed",
            reopen_until=None if d.reopen_until is None else d.reopen_until.isoformat(),
        )
    return [
        DisputeReopened(
            dispute_id=d.id,
            reason=reason,
            tier=d.tier,
            reopened_at=now,
            sla_due_by=slas.due_by(d.tier, now),
        )
    ]


def erase(d: Dispute, *, basis: ErasureBasis) -> list[Event]:
    """Erase a closed dispute's personal data (its retention ended), once: nothing for a
    dispute reopened meanwhile, or erased already."""
    if d.status != Status.CLOSED or d.erased:
        return []
    return [DisputeErased(dispute_id=d.id, signal_id=d.signal_id, basis=basis)]
