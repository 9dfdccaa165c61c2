"""The monthly home cleaning of an elder living alone.

A resident flagged ``elderly_alone`` in the registry gets a home-cleaning request for the
current month at once, then one on the first of every month, until the flag is cleared or the
resident moves out or dies. Each month's request has an id derived from the resident and the
month (:func:`request_id`), so whatever fires twice raises it once.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from uuid import UUID

from anju_contracts import Event
from anju_contracts.registry import AreaPath
from anju_contracts.volunteering import CleaningPlanStarted, CleaningPlanStopped, PlanStopReason

_PLAN = uuid.UUID("5b0e3c1e-6d0a-4c59-9a43-5d0b9b8a7c11")


@dataclass(frozen=True)
class Plan:
    resident_id: UUID
    path: AreaPath
    active: bool = True


def evolve(state: Plan | None, event: Event) -> Plan | None:
    if isinstance(event, CleaningPlanStarted):
        return Plan(event.resident_id, event.path)
    if state is None:
        return None
    if isinstance(event, CleaningPlanStopped):
        return replace(state, active=False)
    return state


def fold(events: Iterable[Event]) -> Plan | None:
    state: Plan | None = None
    for event in events:
        state = evolve(state, event)
    return state


def period_of(day: date) -> str:
    return f"{day.year:04d}-{day.month:02d}"


def next_month(day: date) -> datetime:
    """The first moment of the month after ``day``."""
    year, month = (day.year + 1, 1) if day.month == 12 else (day.year, day.month + 1)
    return datetime(year, month, 1, tzinfo=UTC)


def request_id(resident_id: UUID, period: str) -> UUID:
    """The id of the resident's cleaning request for ``period``: the same however often asked."""
    return uuid.uuid5(_PLAN, f"{resident_id}:{period}")


def start(state: Plan | None, resident_id: UUID, *, path: AreaPath, today: date) -> list[Event]:
    if state is not None and state.active:
        return []
    return [CleaningPlanStarted(resident_id=resident_id, path=path, started_on=today)]


def stop(state: Plan | None, *, reason: PlanStopReason, today: date) -> list[Event]:
    if state is None or not state.active:
        return []
    return [CleaningPlanStopped(resident_id=state.resident_id, reason=reason, stopped_on=today)]
