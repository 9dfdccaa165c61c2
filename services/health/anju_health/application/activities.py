"""Handlers for clinic days and health activities."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import BaseModel

from anju_contracts.health import ActivityKind, HealthConsentPurpose
from anju_health.application.aggregates import ACTIVITIES, attendance_stream
from anju_health.application.commands import RecordActivity, RecordAttendance
from anju_health.application.consents import consented
from anju_health.application.permissions import PERMISSIONS
from anju_health.application.records import HealthConfig, visible_resident
from anju_health.domain import activities
from eventkit.commands import Accepted, Caller
from eventkit.known import visible_location
from eventkit.store import Store

ATTENDANCE = HealthConsentPurpose.ACTIVITY_ATTENDANCE


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


async def record_attendance(
    store: Store, activity_id: UUID, cmd: RecordAttendance, caller: Caller, cfg: HealthConfig
) -> Accepted:
    """Someone attended: linked to the resident when they consent to it, else only counted."""
    async with ACTIVITIES.update(store, activity_id, caller, "record_attendance") as w:
        linked = False
        if cmd.resident_id is not None:
            await visible_resident(cfg.known, w.session, cmd.resident_id, caller)
            linked = await consented(w.session, cmd.resident_id, ATTENDANCE)
        stream = await w.session.load(attendance_stream(activity_id))
        events = activities.attend(w.state, cmd.resident_id, consented=linked)
        result = await w.session.append(
            stream.id,
            stream.version,
            events,
            context=caller.context,
            area=str(w.state.path.grid_id or w.state.path.community_id),
        )
        w.answer_with(result)
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
    attended: int
    """Attendances recorded one by one, linked to a resident or not."""
    attendees: list[UUID]
    """The residents the attendances are linked to, while they consent to it (to those who
    record attendance); the others are counted only."""


async def view_activity(store: Store, activity_id: UUID, caller: Caller) -> ActivityView:
    a, _ = await ACTIVITIES.read(store, activity_id, caller, "read_activity")
    async with store.session() as session:
        attendance = activities.fold_attendance(
            (await session.load(attendance_stream(activity_id))).payloads
        )
        attendees = [r for r in attendance.linked if await consented(session, r, ATTENDANCE)]
    if not PERMISSIONS.allows(caller.principal, "record_attendance"):
        attendees = []
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
        attended=attendance.attended,
        attendees=attendees,
    )
