"""An activity with shifts: a themed party day, a practical-things day, a patrol.

Volunteers sign up for a shift up to its capacity and may withdraw before it begins. Once it
has begun, a coordinator records who came: an attendee is credited the shift's length (to be
approved), a no-show nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from uuid import UUID

from anju_contracts import Event
from anju_contracts.registry import AreaPath
from anju_contracts.volunteering import (
    Shift,
    ShiftAttendanceRecorded,
    ShiftSignedUp,
    ShiftSignUpWithdrawn,
    VolunteerActivityKind,
    VolunteerActivityScheduled,
)
from anju_volunteering.domain.errors import (
    AlreadySignedUp,
    BadShift,
    NotSignedUp,
    ShiftFull,
    ShiftNotFound,
    ShiftNotOver,
)
from eventkit.dates import check_schedule


@dataclass(frozen=True)
class Activity:
    id: UUID
    kind: VolunteerActivityKind
    title: str
    path: AreaPath
    team_id: UUID | None
    shifts: dict[UUID, Shift]
    signed_up: dict[UUID, frozenset[UUID]] = field(default_factory=dict)
    attendance: dict[tuple[UUID, UUID], bool] = field(default_factory=dict)

    def shift(self, shift_id: UUID) -> Shift:
        found = self.shifts.get(shift_id)
        if found is None:
            raise ShiftNotFound("no such shift", shift_id=str(shift_id))
        return found


def evolve(state: Activity | None, event: Event) -> Activity | None:
    if isinstance(event, VolunteerActivityScheduled):
        return Activity(
            event.activity_id,
            event.kind,
            event.title,
            event.path,
            event.team_id,
            {s.shift_id: s for s in event.shifts},
        )
    if state is None:
        return None
    if isinstance(event, ShiftSignedUp | ShiftSignUpWithdrawn):
        current = state.signed_up.get(event.shift_id, frozenset())
        if isinstance(event, ShiftSignedUp):
            current = current | {event.volunteer_id}
        else:
            current = current - {event.volunteer_id}
        return replace(state, signed_up={**state.signed_up, event.shift_id: current})
    if isinstance(event, ShiftAttendanceRecorded):
        key = (event.shift_id, event.volunteer_id)
        return replace(state, attendance={**state.attendance, key: event.attended})
    return state


def fold(events: Iterable[Event]) -> Activity | None:
    state: Activity | None = None
    for event in events:
        state = evolve(state, event)
    return state


def schedule(
    activity_id: UUID,
    *,
    kind: VolunteerActivityKind,
    title: str,
    path: AreaPath,
    team_id: UUID | None,
    shifts: list[Shift],
    now: datetime,
) -> list[Event]:
    if len({s.shift_id for s in shifts}) != len(shifts):
        raise BadShift("two shifts have the same id")
    for s in shifts:
        if s.ends_at <= s.starts_at:
            raise BadShift("a shift ends after it starts", shift_id=str(s.shift_id))
        if (s.ends_at - s.starts_at).total_seconds() > 24 * 3600:
            raise BadShift("a shift lasts at most a day", shift_id=str(s.shift_id))
        check_schedule(s.starts_at, now=now, field="starts_at")
    return [
        VolunteerActivityScheduled(
            activity_id=activity_id,
            kind=kind,
            title=title,
            path=path,
            team_id=team_id,
            shifts=shifts,
        )
    ]


def sign_up(state: Activity, shift_id: UUID, volunteer_id: UUID, *, now: datetime) -> list[Event]:
    shift = state.shift(shift_id)
    taken = state.signed_up.get(shift_id, frozenset())
    if volunteer_id in taken:
        raise AlreadySignedUp("signed up already", volunteer_id=str(volunteer_id))
    if now >= shift.starts_at:
        raise BadShift("the shift has begun", shift_id=str(shift_id))
    if len(taken) >= shift.capacity:
        raise ShiftFull("the shift is full", shift_id=str(shift_id), capacity=shift.capacity)
    return [ShiftSignedUp(activity_id=state.id, shift_id=shift_id, volunteer_id=volunteer_id)]


def withdraw(state: Activity, shift_id: UUID, volunteer_id: UUID, *, now: datetime) -> list[Event]:
    shift = state.shift(shift_id)
    if volunteer_id not in state.signed_up.get(shift_id, frozenset()):
        raise NotSignedUp("not signed up for the shift", volunteer_id=str(volunteer_id))
    if now >= shift.starts_at:
        raise BadShift("the shift has begun: record attendance instead", shift_id=str(shift_id))
    return [
        ShiftSignUpWithdrawn(activity_id=state.id, shift_id=shift_id, volunteer_id=volunteer_id)
    ]


def record_attendance(
    state: Activity, shift_id: UUID, volunteer_id: UUID, *, attended: bool, now: datetime
) -> list[Event]:
    shift = state.shift(shift_id)
    if volunteer_id not in state.signed_up.get(shift_id, frozenset()):
        raise NotSignedUp("not signed up for the shift", volunteer_id=str(volunteer_id))
    if now < shift.starts_at:
        raise ShiftNotOver("attendance is recorded once the shift has begun")
    if (shift_id, volunteer_id) in state.attendance:
        if state.attendance[(shift_id, volunteer_id)] == attended:
            return []
        raise AlreadySignedUp("attendance is recorded already", volunteer_id=str(volunteer_id))
    hours = round((shift.ends_at - shift.starts_at).total_seconds() / 3600, 2) if attended else 0
    return [
        ShiftAttendanceRecorded(
            activity_id=state.id,
            shift_id=shift_id,
            volunteer_id=volunteer_id,
            attended=attended,
            hours=hours,
        )
    ]
