"""Handlers for the duty roster: who is on duty at the desk and the pioneer post on a day."""

from __future__ import annotations

from datetime import UTC, date, timedelta
from typing import Annotated
from uuid import UUID

from pydantic import BaseModel, Field, StringConstraints

from anju_contracts.registry import AreaKind, AreaPath
from anju_station.application.aggregates import ROSTERS
from anju_station.application.desk import StationConfig
from anju_station.domain import roster
from anju_station.domain.errors import DayOutOfRange
from eventkit.commands import Accepted, Caller, Command
from eventkit.errors import AreaNotFound
from eventkit.known import visible_location
from eventkit.store import Store

StaffId = Annotated[str, StringConstraints(min_length=1, max_length=100)]

PLANNED_AHEAD = timedelta(days=366)
"""How far ahead a roster may be set."""


class SetRoster(Command):
    desk: list[StaffId] = Field(default_factory=list, max_length=20)
    pioneer_post: list[StaffId] = Field(
        default_factory=list, max_length=20, description="党员先锋岗"
    )


async def set_roster(
    store: Store, community_id: UUID, day: date, cmd: SetRoster, caller: Caller, cfg: StationConfig
) -> Accepted:
    """The community's roster for the day, replacing what it said before."""
    today = cfg.clock().astimezone(UTC).date()
    if day > today + PLANNED_AHEAD:
        raise DayOutOfRange("a roster is set at most a year ahead", day=day.isoformat())
    rid = roster.roster_id(community_id, day)
    async with ROSTERS.upsert(store, caller, "set_roster", rid) as w:
        location = await visible_location(cfg.known, w.session, community_id, caller)
        if location.kind != AreaKind.COMMUNITY:
            raise AreaNotFound("no such community", area_id=str(community_id))
        w.emit(
            roster.set_roster(
                w.state,
                rid,
                day=day,
                desk=cmd.desk,
                pioneer_post=cmd.pioneer_post,
                path=AreaPath(community_id=community_id),
                staff_id=caller.principal.sub,
                now=cfg.clock(),
            )
        )
    return w.accepted


class RosterView(BaseModel):
    community_id: UUID
    day: date
    desk: list[str]
    pioneer_post: list[str]
    version: int


async def view_roster(store: Store, community_id: UUID, day: date, caller: Caller) -> RosterView:
    r, stream = await ROSTERS.read(
        store, roster.roster_id(community_id, day), caller, "read_roster"
    )
    return RosterView(
        community_id=community_id,
        day=day,
        desk=list(r.desk),
        pioneer_post=list(r.pioneer_post),
        version=stream.version,
    )
