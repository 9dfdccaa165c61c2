"""A meeting: scheduled (or recorded held straight from a paper ledger), held, its minutes
recorded and confirmed by the convener — then immutable, corrections being new facts — and
its decisions."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from uuid import UUID

from anju_contracts import Event
from anju_contracts.governance import (
    DecisionRecorded,
    MeetingHeld,
    MeetingScheduled,
    MinutesConfirmed,
    MinutesCorrected,
    MinutesRecorded,
)
from anju_contracts.registry import AreaPath
from anju_governance.domain.errors import (
    MeetingAlreadyExists,
    MinutesConfirmedAlready,
    NotTheConvener,
    UnknownDecision,
    WrongMeetingState,
)


@dataclass(frozen=True)
class Plan:
    """What a meeting is: the same whether it is scheduled or recorded held."""

    kind: str
    title: str
    path: AreaPath
    convener: str
    place: str | None = None
    organisation_ids: tuple[UUID, ...] = ()
    attendees: tuple[str, ...] = ()
    agenda: tuple[str, ...] = ()


@dataclass(frozen=True)
class Meeting:
    id: UUID
    plan: Plan
    scheduled_for: datetime | None = None
    held_on: date | None = None
    minutes: str | None = None
    confirmed: bool = False
    corrections: tuple[str, ...] = ()
    decisions: tuple[tuple[UUID, str], ...] = ()

    @property
    def path(self) -> AreaPath:
        return self.plan.path

    @property
    def convener(self) -> str:
        return self.plan.convener

    def decision(self, decision_id: UUID) -> str:
        for known, text in self.decisions:
            if known == decision_id:
                return text
        raise UnknownDecision(
            "no such decision of the meeting",
            meeting_id=str(self.id),
            decision_id=str(decision_id),
        )


def _plan(e: MeetingScheduled | MeetingHeld) -> Plan:
    return Plan(
        e.kind,
        e.title,
        e.path,
        e.convener,
        e.place,
        tuple(e.organisation_ids),
        tuple(e.attendees),
        tuple(e.agenda),
    )


def evolve(state: Meeting | None, event: Event) -> Meeting | None:
    if isinstance(event, MeetingScheduled):
        return Meeting(event.meeting_id, _plan(event), scheduled_for=event.scheduled_for)
    if isinstance(event, MeetingHeld):
        base = state or Meeting(event.meeting_id, _plan(event))
        return replace(base, plan=_plan(event), held_on=event.held_on)
    if state is None:
        return None
    if isinstance(event, MinutesRecorded):
        return replace(state, minutes=event.minutes)
    if isinstance(event, MinutesConfirmed):
        return replace(state, confirmed=True)
    if isinstance(event, MinutesCorrected):
        return replace(state, corrections=(*state.corrections, event.correction))
    if isinstance(event, DecisionRecorded):
        return replace(state, decisions=(*state.decisions, (event.decision_id, event.text)))
    return state


def fold(events: Iterable[Event]) -> Meeting | None:
    state: Meeting | None = None
    for event in events:
        state = evolve(state, event)
    return state


def schedule(
    state: Meeting | None, meeting_id: UUID, plan: Plan, *, scheduled_for: datetime, now: datetime
) -> list[Event]:
    if state is not None:
        raise MeetingAlreadyExists("the meeting exists already", meeting_id=str(meeting_id))
    return [
        MeetingScheduled(
            meeting_id=meeting_id,
            kind=plan.kind,
            title=plan.title,
            path=plan.path,
            scheduled_for=scheduled_for,
            place=plan.place,
            convener=plan.convener,
            organisation_ids=list(dict.fromkeys(plan.organisation_ids)),
            attendees=list(dict.fromkeys(plan.attendees)),
            agenda=list(plan.agenda),
            scheduled_at=now,
        )
    ]


def hold(
    state: Meeting | None,
    meeting_id: UUID,
    plan: Plan,
    *,
    held_on: date,
    recorded_by: str,
    now: datetime,
) -> list[Event]:
    """The meeting took place, as ``plan`` says (for a scheduled one, ``plan`` is the scheduled
    plan with what actually happened laid over it)."""
    if state is not None and state.held_on is not None:
        raise WrongMeetingState("the meeting was recorded held already", meeting_id=str(state.id))
    return [
        MeetingHeld(
            meeting_id=meeting_id,
            kind=plan.kind,
            title=plan.title,
            path=plan.path,
            held_on=held_on,
            place=plan.place,
            convener=plan.convener,
            organisation_ids=list(dict.fromkeys(plan.organisation_ids)),
            attendees=list(dict.fromkeys(plan.attendees)),
            agenda=list(plan.agenda),
            recorded_by=recorded_by,
            recorded_at=now,
        )
    ]


def _held(state: Meeting, step: str) -> Meeting:
    if state.held_on is None:
        raise WrongMeetingState(
            f"a meeting that has not been held cannot {step}", meeting_id=str(state.id)
        )
    return state


def _open_minutes(state: Meeting) -> Meeting:
    if state.confirmed:
        raise MinutesConfirmedAlready(
            "the minutes are confirmed and never change: record a correction",
            meeting_id=str(state.id),
        )
    return state


def record_minutes(state: Meeting, *, minutes: str, by: str, now: datetime) -> list[Event]:
    m = _open_minutes(_held(state, "have minutes"))
    return [MinutesRecorded(meeting_id=m.id, minutes=minutes, recorded_by=by, recorded_at=now)]


def confirm_minutes(state: Meeting, *, by: str, now: datetime) -> list[Event]:
    m = _open_minutes(_held(state, "have minutes"))
    if by != m.convener:
        raise NotTheConvener("only the convener confirms the minutes", meeting_id=str(m.id))
    if m.minutes is None:
        raise WrongMeetingState("there are no minutes to confirm", meeting_id=str(m.id))
    return [MinutesConfirmed(meeting_id=m.id, confirmed_by=by, confirmed_at=now)]


def correct_minutes(
    state: Meeting, *, correction: str, reason: str, by: str, now: datetime
) -> list[Event]:
    if not state.confirmed:
        raise WrongMeetingState(
            "minutes not yet confirmed are recorded again, not corrected",
            meeting_id=str(state.id),
        )
    return [
        MinutesCorrected(
            meeting_id=state.id,
            correction=correction,
            reason=reason,
            corrected_by=by,
            corrected_at=now,
        )
    ]


def record_decision(
    state: Meeting, decision_id: UUID, *, text: str, by: str, now: datetime
) -> list[Event]:
    m = _open_minutes(_held(state, "decide"))
    return [
        DecisionRecorded(
            meeting_id=m.id, decision_id=decision_id, text=text, recorded_by=by, recorded_at=now
        )
    ]
