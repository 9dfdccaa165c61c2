"""Handlers for clinic days and health activities."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel

from anju_contracts.health import ActivityKind
from anju_health.application.aggregates import ACTIVITIES
from anju_health.application.commands import RecordActivity
from anju_health.application.records import HealthConfig
from anju_health.domain import activities
from eventkit.commands import Accepted, Caller
from eventkit.known import visible_location
from eventkit.store import Store


async def record_activity(
    store: Store, cmd: RecordActivity, caller: Caller, cfg: HealthConfig
) -> Accepted:
    async with ACTIVITIES.create(store, caller, "record_activity") as w:
        location = await visible_location(cfg.known, w.session, cmd.area_id, caller)
        w.emit(
            activities.hold(
                w.id,
                kind=cmd.kind,
                held_on=cmd.held_on,
                path=location.path,
                place=cmd.place,
                at_station=cmd.at_station,
                partner=cmd.partner,
                staff=cmd.staff,
                served=cmd.served,
                topic=cmd.topic,
                today=cfg.day_of(caller),
            )
        )
    return w.accepted


class ActivityView(BaseModel):
    id: UUID
    kind: ActivityKind
    held_on: date
    community_id: UUID
    grid_id: UUID | None
    place: str
    at_station: bool
    partner: str | None
    staff: list[str]
    served: int
    topic: str | None


async def view_activity(store: Store, activity_id: UUID, caller: Caller) -> ActivityView:
    a, _ = await ACTIVITIES.read(store, activity_id, caller, "read_activity")
    return ActivityView(
        id=a.id,
        kind=a.kind,
        held_on=a.held_on,
        community_id=a.path.community_id,
        grid_id=a.path.grid_id,
        place=a.place,
        at_station=a.at_station,
        partner=a.partner,
        staff=list(a.staff),
        served=a.served,
        topic=a.topic,
    )
