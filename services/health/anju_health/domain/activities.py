"""Clinic days and health activities: held once, with how many people were served."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from uuid import UUID

from anju_contracts import Event
from anju_contracts.health import ActivityKind, HealthActivityHeld
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
