"""Clinic days and health activities: held once, with how many people were served."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from anju_contracts import Event
from anju_contracts.health import ActivityAttended, ActivityKind, HealthActivityHeld
from anju_contracts.registry import AreaPath
from eventkit.dates import DateInFuture, DateTooEarly

BACKDATE_DAYS = 366
"""An activity is recorded at most a year after it was held."""


@dataclass(frozen=True)
class Activity:
    id: UUID
    kind: ActivityKind
    held_on: date
    path: AreaPath
    place: str
    at_station: bool
    partner: str | None
    staff: tuple[str, ...]
    served: int
    topic: str | None


def fold(events: Iterable[Event]) -> Activity | None:
    state: Activity | None = None
    for e in events:
        if isinstance(e, HealthActivityHeld):
            state = Activity(
                e.activity_id,
                e.kind,
                e.held_on,
                e.path,
                e.place,
                e.at_station,
                e.partner,
                tuple(e.staff),
                e.served,
                e.topic,
            )
    return state


def hold(
    activity_id: UUID,
    *,
    kind: ActivityKind,
    held_on: date,
    path: AreaPath,
    place: str,
    at_station: bool,
    partner: str | None,
    staff: list[str],
    served: int,
    topic: str | None,
    today: date,
) -> list[Event]:
    if held_on > today:
        raise DateInFuture("held_on is in the future", field="held_on", value=held_on.isoformat())
    if (today - held_on).days > BACKDATE_DAYS:
        raise DateTooEarly(
            f"an activity is recorded within {BACKDATE_DAYS} days",
            field="held_on",
            value=held_on.isoformat(),
        )
    return [
        HealthActivityHeld(
            activity_id=activity_id,
            kind=kind,
            held_on=held_on,
            path=path,
            place=place,
            at_station=at_station,
            partner=partner,
            staff=staff,
            served=served,
            topic=topic,
        )
    ]


@dataclass(frozen=True)
class Attendance:
    """Who attended an activity: the residents it is linked to (with their consent), and how
    many attended in all."""

    linked: tuple[UUID, ...] = ()
    attended: int = 0


def fold_attendance(events: Iterable[Event]) -> Attendance:
    state = Attendance()
    for e in events:
        if isinstance(e, ActivityAttended):
            linked = state.linked
            if e.resident_id is not None and e.resident_id not in linked:
                linked = (*linked, e.resident_id)
            state = Attendance(linked=linked, attended=state.attended + 1)
    return state


def attend(activity: Activity, resident_id: UUID | None, *, consented: bool) -> list[Event]:
    """Someone attended: linked to the resident only when they consent to it (else counted
    anonymously, as is someone the desk does not name)."""
    linked = resident_id if consented else None
    return [ActivityAttended(activity_id=activity.id, resident_id=linked)]
