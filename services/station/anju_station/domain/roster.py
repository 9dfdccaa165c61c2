"""Who is on duty on a day: at the desk, and at the party-member pioneer post (党员先锋岗).

A community's day has one roster; setting it again replaces who is on duty, and the history
keeps every change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID, uuid5

from anju_contracts import Event
from anju_contracts.registry import AreaPath
from anju_contracts.station import DutyRosterSet

_ROSTERS = UUID("b7d0e4c2-91a3-4f5e-8c6d-0a2b3c4d5e6f")


def roster_id(community_id: UUID, day: date) -> UUID:
    """One roster per community and day: its id follows from the two."""
    return uuid5(_ROSTERS, f"{community_id}:{day.isoformat()}")


@dataclass(frozen=True)
class Roster:
    id: UUID
    day: date
    desk: tuple[str, ...]
    pioneer_post: tuple[str, ...]
    path: AreaPath


def fold(events: Iterable[Event]) -> Roster | None:
    state: Roster | None = None
    for e in events:
        if isinstance(e, DutyRosterSet):
            state = Roster(e.roster_id, e.day, tuple(e.desk), tuple(e.pioneer_post), e.path)
    return state


def set_roster(
    state: Roster | None,
    rid: UUID,
    *,
    day: date,
    desk: list[str],
    pioneer_post: list[str],
    path: AreaPath,
    staff_id: str,
    now: datetime,
) -> list[Event]:
    """The day's roster; nothing when it already says exactly this."""
    desk, pioneer_post = list(dict.fromkeys(desk)), list(dict.fromkeys(pioneer_post))
    if state is not None and (list(state.desk), list(state.pioneer_post)) == (desk, pioneer_post):
        return []
    return [
        DutyRosterSet(
            roster_id=rid,
            day=day,
            desk=desk,
            pioneer_post=pioneer_post,
            path=path,
            set_by=staff_id,
            set_at=now,
        )
    ]
