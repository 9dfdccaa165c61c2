"""Health's records as the kernel's command path sees them, and their deadlines.

Streams: ``record-<resident>`` (published), ``activity-<id>`` (published), and the two clinical
streams of a resident that never leave the store, ``chart-<resident>`` and
``protected_care-<resident>``, written in the same transaction as the record they belong to.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, date, datetime, time
from uuid import UUID

from anju_contracts import Actor, Event
from anju_contracts.health import (
    SOURCE,
    ProtectedCareEnded,
    ProtectedCareEnrolled,
    ProtectedVisitRecorded,
    ProtectedVisitRescheduled,
    VisitBooked,
    VisitCancelled,
    VisitCompleted,
    VisitRescheduled,
    VisitSkipped,
)
from anju_health.application.permissions import PERMISSIONS
from anju_health.domain import activities, records
from anju_health.domain.errors import ActivityNotFound, RecordNotFound
from anju_health.domain.records import Record, Schedule
from eventkit import consent
from eventkit.access import Guarded
from eventkit.aggregate import Aggregate, Follow
from eventkit.store import StoreSession

VISIT_OVERDUE = "health.visit_overdue"
"""Deadline kind: the window of the visit named by the key ended (payload: resident, due_on)."""
PROTECTED_OVERDUE = "health.protected_overdue"
"""Deadline kind: the protected-care follow-up of the resident named by the key is overdue."""
TURNS_65 = "health.turns_65"
"""Deadline kind: the resident named by the key turns 65 and joins the elderly programme."""

SERVICE_ACTOR = Actor(id=SOURCE, roles=("service",))


def chart_stream(resident_id: UUID) -> str:
    return f"chart-{resident_id}"


def protected_stream(resident_id: UUID) -> str:
    return f"protected_care-{resident_id}"


def midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


def _follow_visits(schedule: Schedule) -> Follow:
    async def follow(session: StoreSession, resident_id: UUID, events: Sequence[Event]) -> None:
        """Keep one overdue deadline per open visit, at the end of its window."""
        for event in events:
            if isinstance(event, VisitBooked | VisitRescheduled):
                payload = {"resident_id": str(resident_id), "due_on": event.due_on.isoformat()}
                due_at = midnight(schedule.overdue_on(event.due_on))
                await session.schedule(VISIT_OVERDUE, str(event.visit_id), due_at, payload)
            elif isinstance(event, VisitCompleted | VisitSkipped | VisitCancelled):
                await session.cancel(VISIT_OVERDUE, str(event.visit_id))

    return follow


async def follow_protected(
    session: StoreSession, resident_id: UUID, events: Sequence[Event], schedule: Schedule
) -> None:
    for event in events:
        due_on = None
        if isinstance(event, ProtectedCareEnrolled | ProtectedVisitRecorded):
            due_on = event.next_due_on
        elif isinstance(event, ProtectedVisitRescheduled):
            due_on = event.due_on
        elif isinstance(event, ProtectedCareEnded):
            await session.cancel(PROTECTED_OVERDUE, str(resident_id))
        if due_on is not None:
            payload = {"due_on": due_on.isoformat()}
            due_at = midnight(schedule.overdue_on(due_on))
            await session.schedule(PROTECTED_OVERDUE, str(resident_id), due_at, payload)


def record_guard(record: Record) -> Guarded:
    return Guarded.at(record.path)


def records_aggregate(schedule: Schedule) -> Aggregate[Record]:
    """Health records, whose visits' deadlines follow ``schedule``'s grace period."""
    return Aggregate(
        name="record",
        source=SOURCE,
        permissions=PERMISSIONS,
        fold=lambda _, events: records.fold(events),
        guard=record_guard,
        not_found=RecordNotFound,
        follow=_follow_visits(schedule),
    )


ACTIVITIES: Aggregate[activities.Activity] = Aggregate(
    name="activity",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: activities.fold(events),
    guard=lambda activity: Guarded.at(activity.path),
    not_found=ActivityNotFound,
)


CONSENTS: Aggregate[consent.Consent] = Aggregate(
    name="consent",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: consent.fold(events, person="resident_id"),
    guard=lambda c: Guarded.at(c.path),
    not_found=RecordNotFound,
)
"""A resident's consent to one purpose in health (``eventkit.consent``)."""


def attendance_stream(activity_id: UUID) -> str:
    """Who attended an activity: a stream of its own, never published (the activity's is)."""
    return f"attendance-{activity_id}"
