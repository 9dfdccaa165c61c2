"""The severe-mental-disorder programme (严重精神障碍患者管理): protected care.

Only the doctors who manage the patient see it; any other doctor of the area only through
break-the-glass (see :mod:`anju_health.application.protected`). Follow-ups are at least
quarterly and more often at higher risk: a stable patient (grade 0) is seen again in three
months; grades 1–2 (basically stable) and 3–5 (unstable) within two weeks.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, timedelta
from uuid import UUID

from anju_contracts import Event
from anju_contracts.health import (
    LeaveReason,
    ProtectedCareEnded,
    ProtectedCareEnrolled,
    ProtectedVisitOverdue,
    ProtectedVisitRecorded,
    ProtectedVisitRescheduled,
    RescheduleReason,
)
from anju_health.domain.errors import (
    AlreadyEnrolled,
    ImplausibleReading,
    NotAProtectedDiagnosis,
    ProtectedCareNotFound,
)
from eventkit.dates import DateBeyondHorizon, DateTooEarly

PROTECTED_CATEGORIES = (
    "F20",  # schizophrenia 精神分裂症
    "F25",  # schizoaffective disorder 分裂情感性障碍
    "F22",  # persistent delusional disorder 偏执性精神病
    "F31",  # bipolar disorder 双相障碍
    "F06",  # mental disorder due to epilepsy (with G40) 癫痫所致精神障碍
    "F70",
    "F71",
    "F72",
    "F73",
    "F78",
    "F79",  # mental retardation with a mental disorder 精神发育迟滞伴发精神障碍
)
STABLE_DAYS = 90
UNSTABLE_DAYS = 14
HORIZON_DAYS = 120


@dataclass(frozen=True)
class ProtectedCare:
    resident_id: UUID
    icd10: str | None
    """Null once the person is erased."""
    risk_grade: int
    doctors: frozenset[str]
    due_on: date
    overdue: bool = False
    active: bool = True


def evolve(state: ProtectedCare | None, event: Event) -> ProtectedCare | None:
    if isinstance(event, ProtectedCareEnrolled):
        return ProtectedCare(
            event.resident_id,
            event.icd10,
            event.risk_grade,
            frozenset({event.doctor_id}),
            event.next_due_on,
        )
    if state is None:
        return None
    if isinstance(event, ProtectedVisitRecorded):
        return replace(
            state,
            risk_grade=event.risk_grade,
            due_on=event.next_due_on,
            overdue=False,
            doctors=state.doctors | {event.doctor_id},
        )
    if isinstance(event, ProtectedVisitRescheduled):
        return replace(state, due_on=event.due_on, overdue=False)
    if isinstance(event, ProtectedVisitOverdue):
        return replace(state, overdue=True)
    if isinstance(event, ProtectedCareEnded):
        return replace(state, active=False)
    return state


def fold(events: Iterable[Event]) -> ProtectedCare | None:
    state: ProtectedCare | None = None
    for event in events:
        state = evolve(state, event)
    return state


def next_due(risk_grade: int, after: date) -> date:
    days = STABLE_DAYS if risk_grade == 0 else UNSTABLE_DAYS
    return after + timedelta(days=days)


def _grade(risk_grade: int) -> int:
    if not 0 <= risk_grade <= 5:
        raise ImplausibleReading("the risk grade is 0 to 5", field="risk_grade", value=risk_grade)
    return risk_grade


def _active(state: ProtectedCare | None, resident_id: UUID) -> ProtectedCare:
    if state is None or not state.active:
        raise ProtectedCareNotFound("no such protected care", resident_id=str(resident_id))
    return state


def _booking(due_on: date, today: date) -> date:
    if due_on < today:
        raise DateTooEarly(
            "a visit cannot be booked in the past", field="due_on", value=due_on.isoformat()
        )
    if due_on > today + timedelta(days=HORIZON_DAYS):
        raise DateBeyondHorizon(
            f"a protected visit is booked at most {HORIZON_DAYS} days ahead",
            field="due_on",
            value=due_on.isoformat(),
        )
    return due_on


def enrol(
    state: ProtectedCare | None,
    resident_id: UUID,
    *,
    icd10: str,
    risk_grade: int,
    doctor_id: str,
    today: date,
) -> list[Event]:
    if state is not None and state.active:
        raise AlreadyEnrolled("the resident is in protected care", resident_id=str(resident_id))
    if icd10.split(".")[0] not in PROTECTED_CATEGORIES:
        raise NotAProtectedDiagnosis(
            "the programme is for the six severe mental disorders", icd10=icd10
        )
    return [
        ProtectedCareEnrolled(
            resident_id=resident_id,
            icd10=icd10,
            risk_grade=_grade(risk_grade),
            enrolled_on=today,
            doctor_id=doctor_id,
            next_due_on=next_due(risk_grade, today),
        )
    ]


def record_visit(
    state: ProtectedCare | None,
    resident_id: UUID,
    *,
    on: date,
    risk_grade: int,
    doctor_id: str,
    findings: str | None,
    next_due_on: date | None,
    today: date,
) -> list[Event]:
    care = _active(state, resident_id)
    due = _booking(next_due_on or next_due(_grade(risk_grade), on), today)
    return [
        ProtectedVisitRecorded(
            resident_id=care.resident_id,
            visited_on=on,
            risk_grade=risk_grade,
            doctor_id=doctor_id,
            findings=findings,
            next_due_on=due,
        )
    ]


def reschedule(
    state: ProtectedCare | None,
    resident_id: UUID,
    *,
    due_on: date,
    reason: RescheduleReason,
    today: date,
) -> list[Event]:
    care = _active(state, resident_id)
    if due_on == care.due_on and not care.overdue:
        return []
    return [
        ProtectedVisitRescheduled(
            resident_id=care.resident_id,
            from_due_on=care.due_on,
            due_on=_booking(due_on, today),
            reason=reason,
        )
    ]


def mark_overdue(state: ProtectedCare | None, *, due_on: date) -> list[Event]:
    if state is None or not state.active or state.overdue or state.due_on != due_on:
        return []
    return [ProtectedVisitOverdue(resident_id=state.resident_id, due_on=due_on)]


def end(state: ProtectedCare | None, *, reason: LeaveReason, today: date) -> list[Event]:
    if state is None or not state.active:
        return []
    return [ProtectedCareEnded(resident_id=state.resident_id, ended_on=today, reason=reason)]
