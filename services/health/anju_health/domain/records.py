"""A resident's health record and its programmes, each with one open visit at a time.

The record (健康档案) opens on request, at a first encounter, or when the resident is enrolled
in a programme; it closes (终止) on death or move-out, which cancels every open visit, and
reopens when the resident lives here again. Each programme keeps exactly one next visit: booked
when the resident enrols, and again whenever a visit is completed or skipped. A visit whose
window ends without it is overdue once; rescheduling opens a new window.

Nothing clinical is decided here: what an encounter found lives in :mod:`anju_health.domain.chart`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date, timedelta
from uuid import UUID, uuid4

from anju_contracts import Event
from anju_contracts.health import (
    CancelReason,
    CloseReason,
    EnrolmentReason,
    FamilyDoctorAssigned,
    HealthRecordClosed,
    HealthRecordOpened,
    HealthRecordRelocated,
    HealthRecordReopened,
    LeaveReason,
    Programme,
    ProgrammeEnrolled,
    ProgrammeLeft,
    RescheduleReason,
    SkipReason,
    VisitBooked,
    VisitCancelled,
    VisitCompleted,
    VisitKind,
    VisitOverdue,
    VisitRescheduled,
    VisitSkipped,
)
from anju_contracts.registry import AreaPath
from anju_health.domain.errors import (
    AlreadyEnrolled,
    NotEnrolled,
    RecordAlreadyOpen,
    RecordClosed,
    RecordNotClosed,
    VisitNotFound,
)
from eventkit.dates import DateBeyondHorizon, DateTooEarly

ELDERLY_AGE = 65


@dataclass(frozen=True)
class Schedule:
    """When visits fall due: the programme rules, set by the service's settings."""

    first_check_up_days: int = 30
    """A newly enrolled over-65 is due for a check-up this many days after enrolment."""
    follow_up_days: int = 90
    """Chronic-disease programmes: a follow-up every quarter."""
    grace_days: int = 7
    """A visit is overdue when this many days have passed after its due date."""
    horizon_days: int = 400
    """No visit is booked further ahead than this."""

    def kind(self, programme: Programme) -> VisitKind:
        if programme == Programme.ELDERLY_ANNUAL:
            return VisitKind.CHECK_UP
        return VisitKind.FOLLOW_UP

    def first_due(self, programme: Programme, enrolled_on: date) -> date:
        if programme == Programme.ELDERLY_ANNUAL:
            return enrolled_on + timedelta(days=self.first_check_up_days)
        return enrolled_on + timedelta(days=self.follow_up_days)

    def next_due(self, programme: Programme, after: date) -> date:
        """The default date of the visit after one on (or due on) ``after``."""
        if programme == Programme.ELDERLY_ANNUAL:
            return add_years(after, 1)
        return after + timedelta(days=self.follow_up_days)

    def overdue_on(self, due_on: date) -> date:
        """The first day on which a visit due on ``due_on`` is overdue."""
        return due_on + timedelta(days=self.grace_days + 1)


def add_years(day: date, years: int) -> date:
    """The same day ``years`` later (29 February becomes 28 February)."""
    try:
        return day.replace(year=day.year + years)
    except ValueError:
        return day.replace(year=day.year + years, day=28)


def turns_65_on(date_of_birth: date) -> date:
    return add_years(date_of_birth, ELDERLY_AGE)


def aged_65_on(date_of_birth: date, day: date) -> bool:
    return turns_65_on(date_of_birth) <= day


@dataclass(frozen=True)
class Visit:
    id: UUID
    programme: Programme
    kind: VisitKind
    due_on: date
    overdue: bool = False


@dataclass(frozen=True)
class Record:
    resident_id: UUID
    path: AreaPath
    health_station: str
    family_doctor_id: str | None
    open: bool = True
    closed_reason: CloseReason | None = None
    enrolled: dict[Programme, date] = field(default_factory=dict)
    visits: dict[Programme, Visit] = field(default_factory=dict)
    completed: tuple[tuple[Programme, date], ...] = ()

    @property
    def community_id(self) -> UUID:
        return self.path.community_id

    @property
    def grid_id(self) -> UUID | None:
        return self.path.grid_id

    def visit(self, visit_id: UUID) -> Visit:
        for visit in self.visits.values():
            if visit.id == visit_id:
                return visit
        raise VisitNotFound("no such open visit", visit_id=str(visit_id))

    def checked_up_in(self, year: int) -> bool:
        return any(p == Programme.ELDERLY_ANNUAL and day.year == year for p, day in self.completed)


def evolve(state: Record | None, event: Event) -> Record | None:
    if isinstance(event, HealthRecordOpened):
        return Record(event.resident_id, event.path, event.health_station, event.family_doctor_id)
    if state is None:
        return None
    if isinstance(event, HealthRecordRelocated):
        return replace(state, path=event.path)
    if isinstance(event, FamilyDoctorAssigned):
        return replace(
            state, health_station=event.health_station, family_doctor_id=event.family_doctor_id
        )
    if isinstance(event, HealthRecordClosed):
        return replace(state, open=False, closed_reason=event.reason)
    if isinstance(event, HealthRecordReopened):
        return replace(state, open=True, closed_reason=None, path=event.path)
    if isinstance(event, ProgrammeEnrolled):
        return replace(state, enrolled={**state.enrolled, event.programme: event.enrolled_on})
    if isinstance(event, ProgrammeLeft):
        enrolled = {p: d for p, d in state.enrolled.items() if p != event.programme}
        return replace(state, enrolled=enrolled)
    if isinstance(event, VisitBooked):
        visit = Visit(event.visit_id, event.programme, event.kind, event.due_on)
        return replace(state, visits={**state.visits, event.programme: visit})
    if isinstance(event, VisitRescheduled | VisitOverdue):
        current = state.visits.get(event.programme)
        if current is None or current.id != event.visit_id:
            return state
        if isinstance(event, VisitRescheduled):
            moved = replace(current, due_on=event.due_on, overdue=False)
        else:
            moved = replace(current, overdue=True)
        return replace(state, visits={**state.visits, event.programme: moved})
    if isinstance(event, VisitCompleted | VisitSkipped | VisitCancelled):
        visits = {p: v for p, v in state.visits.items() if v.id != event.visit_id}
        completed = state.completed
        if isinstance(event, VisitCompleted):
            completed = (*completed, (event.programme, event.completed_on))
        return replace(state, visits=visits, completed=completed)
    return state


def fold(events: Iterable[Event]) -> Record | None:
    state: Record | None = None
    for event in events:
        state = evolve(state, event)
    return state


def _open(record: Record | None, resident_id: UUID) -> Record:
    if record is None:
        raise RecordClosed("the resident has no health record", resident_id=str(resident_id))
    if not record.open:
        raise RecordClosed("the health record is closed", resident_id=str(resident_id))
    return record


def _book(resident_id: UUID, programme: Programme, due_on: date, schedule: Schedule) -> VisitBooked:
    return VisitBooked(
        resident_id=resident_id,
        visit_id=uuid4(),
        programme=programme,
        kind=schedule.kind(programme),
        due_on=due_on,
    )


def _check_booking(due_on: date, *, today: date, schedule: Schedule) -> None:
    if due_on < today:
        # a visit is booked for today or later; the past is recorded, not booked
        raise DateTooEarly(
            "a visit cannot be booked in the past", field="due_on", value=due_on.isoformat()
        )
    if due_on > today + timedelta(days=schedule.horizon_days):
        raise DateBeyondHorizon(
            f"a visit is booked at most {schedule.horizon_days} days ahead",
            field="due_on",
            value=due_on.isoformat(),
        )


# -- deciders --------------------------------------------------------------------------------


def open_record(
    state: Record | None,
    resident_id: UUID,
    *,
    path: AreaPath,
    health_station: str,
    family_doctor_id: str | None,
    today: date,
) -> list[Event]:
    if state is not None:
        if state.open:
            raise RecordAlreadyOpen("the health record is open", resident_id=str(resident_id))
        return reopen(state, path=path, today=today)
    return [
        HealthRecordOpened(
            resident_id=resident_id,
            opened_on=today,
            path=path,
            health_station=health_station,
            family_doctor_id=family_doctor_id,
        )
    ]


def reopen(state: Record, *, path: AreaPath, today: date) -> list[Event]:
    if state.open:
        raise RecordNotClosed("the health record is open", resident_id=str(state.resident_id))
    return [HealthRecordReopened(resident_id=state.resident_id, reopened_on=today, path=path)]


def relocate(state: Record, *, path: AreaPath) -> list[Event]:
    if path == state.path:
        return []
    return [HealthRecordRelocated(resident_id=state.resident_id, path=path)]


def assign_doctor(state: Record, *, health_station: str, family_doctor_id: str) -> list[Event]:
    record = _open(state, state.resident_id)
    if (record.health_station, record.family_doctor_id) == (health_station, family_doctor_id):
        return []
    return [
        FamilyDoctorAssigned(
            resident_id=record.resident_id,
            health_station=health_station,
            family_doctor_id=family_doctor_id,
        )
    ]


def enrol(
    state: Record | None,
    resident_id: UUID,
    programme: Programme,
    *,
    reason: EnrolmentReason,
    today: date,
    schedule: Schedule,
) -> list[Event]:
    """Enrol in a programme and book its first visit."""
    record = _open(state, resident_id)
    if programme in record.enrolled:
        raise AlreadyEnrolled(
            "the resident is enrolled already", resident_id=str(resident_id), programme=programme
        )
    return [
        ProgrammeEnrolled(
            resident_id=resident_id, programme=programme, enrolled_on=today, reason=reason
        ),
        _book(resident_id, programme, schedule.first_due(programme, today), schedule),
    ]


def leave(state: Record, programme: Programme, *, reason: LeaveReason, today: date) -> list[Event]:
    record = _open(state, state.resident_id)
    if programme not in record.enrolled:
        raise NotEnrolled("the resident is not enrolled", programme=programme)
    events: list[Event] = []
    visit = record.visits.get(programme)
    if visit is not None:
        events.append(
            VisitCancelled(
                resident_id=record.resident_id,
                visit_id=visit.id,
                programme=programme,
                reason=CancelReason.PROGRAMME_LEFT,
            )
        )
    events.append(
        ProgrammeLeft(
            resident_id=record.resident_id, programme=programme, left_on=today, reason=reason
        )
    )
    return events


def complete(
    state: Record,
    programme: Programme,
    *,
    on: date,
    doctor_id: str,
    next_due_on: date | None,
    today: date,
    schedule: Schedule,
) -> list[Event]:
    """The programme's open visit took place on ``on``; the next one is booked.

    A visit copied from a paper ledger may lie far back: its next one then falls due by the
    programme's rule, in the past if so — the resident is late, and the scheduler says so at
    once. A date the doctor books must be today or later."""
    record = _open(state, state.resident_id)
    visit = record.visits.get(programme)
    if visit is None:
        raise NotEnrolled("the resident has no open visit in this programme", programme=programme)
    if next_due_on is not None:
        _check_booking(next_due_on, today=today, schedule=schedule)
    due_on = next_due_on or schedule.next_due(programme, on)
    return [
        VisitCompleted(
            resident_id=record.resident_id,
            visit_id=visit.id,
            programme=programme,
            kind=visit.kind,
            completed_on=on,
            doctor_id=doctor_id,
        ),
        _book(record.resident_id, programme, due_on, schedule),
    ]


def skip(
    state: Record, visit_id: UUID, *, reason: SkipReason, today: date, schedule: Schedule
) -> list[Event]:
    """The visit will not happen; the next is booked a programme interval after its due date
    (never in the past)."""
    record = _open(state, state.resident_id)
    visit = record.visit(visit_id)
    due_on = max(schedule.next_due(visit.programme, visit.due_on), today)
    return [
        VisitSkipped(
            resident_id=record.resident_id,
            visit_id=visit.id,
            programme=visit.programme,
            skipped_on=today,
            reason=reason,
        ),
        _book(record.resident_id, visit.programme, due_on, schedule),
    ]


def reschedule(
    state: Record,
    visit_id: UUID,
    *,
    due_on: date,
    reason: RescheduleReason,
    today: date,
    schedule: Schedule,
) -> list[Event]:
    record = _open(state, state.resident_id)
    visit = record.visit(visit_id)
    _check_booking(due_on, today=today, schedule=schedule)
    if due_on == visit.due_on and not visit.overdue:
        return []
    return [
        VisitRescheduled(
            resident_id=record.resident_id,
            visit_id=visit.id,
            programme=visit.programme,
            from_due_on=visit.due_on,
            due_on=due_on,
            reason=reason,
        )
    ]


def mark_overdue(state: Record, visit_id: UUID, *, due_on: date) -> list[Event]:
    """The deadline of the visit's window passed: overdue, once, if it is still open and still
    due on the day the deadline was armed for."""
    if not state.open:
        return []
    for visit in state.visits.values():
        if visit.id == visit_id and visit.due_on == due_on and not visit.overdue:
            return [
                VisitOverdue(
                    resident_id=state.resident_id,
                    visit_id=visit.id,
                    programme=visit.programme,
                    due_on=visit.due_on,
                )
            ]
    return []


def close(state: Record, *, reason: CloseReason, on: date) -> list[Event]:
    """Close the record: every open visit is cancelled and every programme left."""
    if not state.open:
        return []
    events: list[Event] = [
        VisitCancelled(
            resident_id=state.resident_id,
            visit_id=visit.id,
            programme=visit.programme,
            reason=CancelReason.RECORD_CLOSED,
        )
        for visit in state.visits.values()
    ]
    events += [
        ProgrammeLeft(
            resident_id=state.resident_id,
            programme=programme,
            left_on=on,
            reason=LeaveReason.RECORD_CLOSED,
        )
        for programme in state.enrolled
    ]
    events.append(HealthRecordClosed(resident_id=state.resident_id, closed_on=on, reason=reason))
    return events
