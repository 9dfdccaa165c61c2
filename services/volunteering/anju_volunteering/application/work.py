"""Handlers for service requests and activities: the work whose hours volunteers are credited."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel

from anju_contracts import Event
from anju_contracts.volunteering import (
    HoursRecorded,
    HoursSource,
    RaisedBy,
    RequestKind,
    Shift,
    VolunteerActivityKind,
)
from anju_volunteering.application.aggregates import (
    ACTIVITIES,
    REQUESTS,
    TEAMS,
    VOLUNTEERS,
    ledger_stream,
)
from anju_volunteering.application.commands import (
    AcceptRequest,
    AssignRequest,
    Attendance,
    CancelRequest,
    CheckIn,
    CheckOut,
    DeclineRequest,
    Deliver,
    RaiseRequest,
    ScheduleActivity,
    ShiftVolunteer,
)
from anju_volunteering.application.people import VolunteeringConfig, _area, active_volunteer
from anju_volunteering.domain import activities, ledger, requests
from anju_volunteering.domain.requests import Status
from eventkit.commands import Accepted, Caller, area_of
from eventkit.known import require_known, visible_location, visible_residents
from eventkit.store import Context, Store, StoreSession


async def credit(
    session: StoreSession,
    volunteer_ids: Sequence[UUID],
    *,
    source: HoursSource,
    source_id: UUID,
    hours: float,
    served_on: date,
    context: Context,
) -> list[UUID]:
    """Record the hours of each volunteer in their ledger, waiting for a coordinator; the ids
    of the entries recorded."""
    entries: list[UUID] = []
    for volunteer_id in volunteer_ids:
        volunteer, _ = await VOLUNTEERS.load(session, volunteer_id)
        stream = await session.load(ledger_stream(volunteer_id))
        events: list[Event] = ledger.record(
            volunteer_id,
            source=source,
            source_id=source_id,
            hours=hours,
            served_on=served_on,
            organisation_id=volunteer.organisation_id,
        )
        await session.append(
            stream.id, stream.version, events, context=context, area=area_of(volunteer.path)
        )
        entries.extend(e.entry_id for e in events if isinstance(e, HoursRecorded))
    return entries


# -- requests -----------------------------------------------------------------------------------


async def raise_request(
    store: Store, cmd: RaiseRequest, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    async with REQUESTS.create(store, caller, "raise_request") as w:
        found = await visible_residents(cfg.known, w.session, [cmd.resident_id], caller)
        require_known([cmd.resident_id], found)
        w.emit(
            requests.raise_request(
                w.id,
                resident_id=cmd.resident_id,
                kind=cmd.kind,
                description=cmd.description,
                path=found[cmd.resident_id],
                raised_by=RaisedBy.STAFF,
                staff_id=caller.principal.sub,
                period=None,
                now=caller.now(cfg.clock),
                response=cfg.response,
            )
        )
    return w.accepted


async def assign(
    store: Store, request_id: UUID, cmd: AssignRequest, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    async with REQUESTS.update(
        store, request_id, caller, "assign_request", cmd.expected_version
    ) as w:
        if cmd.team_id is not None:
            await TEAMS.load(w.session, cmd.team_id, caller)
        if cmd.volunteer_id is not None:
            await active_volunteer(w.session, cmd.volunteer_id, caller)
        w.emit(
            requests.assign(
                w.state,
                team_id=cmd.team_id,
                volunteer_id=cmd.volunteer_id,
                now=caller.now(cfg.clock),
            )
        )
    return w.accepted


async def accept(
    store: Store, request_id: UUID, cmd: AcceptRequest, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    async with REQUESTS.update(
        store, request_id, caller, "work_request", cmd.expected_version
    ) as w:
        await active_volunteer(w.session, cmd.volunteer_id, caller)
        members: frozenset[UUID] = frozenset()
        if w.state.team_id is not None:
            team, _ = await TEAMS.load(w.session, w.state.team_id)
            members = team.members
        w.emit(
            requests.accept(
                w.state, cmd.volunteer_id, team_members=members, now=caller.now(cfg.clock)
            )
        )
    return w.accepted


async def decline(
    store: Store, request_id: UUID, cmd: DeclineRequest, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    return await REQUESTS.act(
        store,
        request_id,
        caller,
        "work_request",
        cmd.expected_version,
        lambda r: requests.decline(r, reason=cmd.reason, now=caller.now(cfg.clock)),
    )


async def check_in(
    store: Store, request_id: UUID, cmd: CheckIn, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    async with REQUESTS.update(
        store, request_id, caller, "work_request", cmd.expected_version
    ) as w:
        for volunteer_id in cmd.volunteer_ids:
            await active_volunteer(w.session, volunteer_id, caller)
        now = caller.now(cfg.clock)
        w.emit(requests.start(w.state, cmd.volunteer_ids, at=cmd.at or now, now=now))
    return w.accepted


async def check_out(
    store: Store, request_id: UUID, cmd: CheckOut, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    """Finish the request and credit each volunteer who checked in with its hours."""
    async with REQUESTS.update(
        store, request_id, caller, "work_request", cmd.expected_version
    ) as w:
        now = caller.now(cfg.clock)
        at = cmd.at or now
        finished = requests.finish(w.state, at=at, now=now)
        w.emit(finished)
        (done,) = finished
        await credit(
            w.session,
            w.state.volunteers,
            source=HoursSource.REQUEST,
            source_id=request_id,
            hours=done.hours,  # type: ignore[attr-defined]
            served_on=at.date(),
            context=caller.context,
        )
    return w.accepted


async def deliver(
    store: Store, request_id: UUID, cmd: Deliver, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    return await REQUESTS.act(
        store,
        request_id,
        caller,
        "deliver_request",
        cmd.expected_version,
        lambda r: requests.deliver(
            r, satisfaction=cmd.satisfaction, feedback=cmd.feedback, now=caller.now(cfg.clock)
        ),
    )


async def cancel(
    store: Store, request_id: UUID, cmd: CancelRequest, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    return await REQUESTS.act(
        store,
        request_id,
        caller,
        "cancel_request",
        cmd.expected_version,
        lambda r: requests.cancel(r, reason=cmd.reason, now=caller.now(cfg.clock)),
    )


class RequestView(BaseModel):
    id: UUID
    resident_id: UUID
    kind: RequestKind
    status: Status
    raised_by: RaisedBy
    period: str | None
    raised_at: datetime
    respond_by: datetime
    response_overdue: bool
    team_id: UUID | None
    volunteer_id: UUID | None
    accepted_by: UUID | None
    volunteers: list[UUID]
    community_id: UUID
    grid_id: UUID | None
    version: int


async def view_request(store: Store, request_id: UUID, caller: Caller) -> RequestView:
    r, stream = await REQUESTS.read(store, request_id, caller, "read_request")
    return RequestView(
        id=r.id,
        resident_id=r.resident_id,
        kind=r.kind,
        status=r.status,
        raised_by=r.raised_by,
        period=r.period,
        raised_at=r.raised_at,
        respond_by=r.respond_by,
        response_overdue=r.response_overdue,
        team_id=r.team_id,
        volunteer_id=r.volunteer_id,
        accepted_by=r.accepted_by,
        volunteers=list(r.volunteers),
        community_id=r.path.community_id,
        grid_id=r.path.grid_id,
        version=stream.version,
    )


# -- activities ---------------------------------------------------------------------------------


async def schedule_activity(
    store: Store, cmd: ScheduleActivity, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    async with ACTIVITIES.create(store, caller, "schedule_activity") as w:
        location = await visible_location(cfg.known, w.session, cmd.area_id, caller)
        if cmd.team_id is not None:
            await TEAMS.load(w.session, cmd.team_id, caller)
        w.emit(
            activities.schedule(
                w.id,
                kind=cmd.kind,
                title=cmd.title,
                path=_area(location.path),
                team_id=cmd.team_id,
                shifts=cmd.shifts,
                now=caller.now(cfg.clock),
            )
        )
    return w.accepted


async def sign_up(
    store: Store,
    activity_id: UUID,
    shift_id: UUID,
    cmd: ShiftVolunteer,
    caller: Caller,
    cfg: VolunteeringConfig,
) -> Accepted:
    async with ACTIVITIES.update(store, activity_id, caller, "sign_up", cmd.expected_version) as w:
        await active_volunteer(w.session, cmd.volunteer_id, caller)
        w.emit(activities.sign_up(w.state, shift_id, cmd.volunteer_id, now=caller.now(cfg.clock)))
    return w.accepted


async def withdraw(
    store: Store,
    activity_id: UUID,
    shift_id: UUID,
    cmd: ShiftVolunteer,
    caller: Caller,
    cfg: VolunteeringConfig,
) -> Accepted:
    return await ACTIVITIES.act(
        store,
        activity_id,
        caller,
        "sign_up",
        cmd.expected_version,
        lambda a: activities.withdraw(a, shift_id, cmd.volunteer_id, now=caller.now(cfg.clock)),
    )


async def record_attendance(
    store: Store,
    activity_id: UUID,
    shift_id: UUID,
    cmd: Attendance,
    caller: Caller,
    cfg: VolunteeringConfig,
) -> Accepted:
    """Who came; an attendee is credited the shift's length (to be approved): ``sub_id``
    names the hours entry, for its approval."""
    async with ACTIVITIES.update(
        store, activity_id, caller, "record_attendance", cmd.expected_version
    ) as w:
        events = activities.record_attendance(
            w.state, shift_id, cmd.volunteer_id, attended=cmd.attended, now=caller.now(cfg.clock)
        )
        w.emit(events)
        for event in events:
            entries = await credit(
                w.session,
                [cmd.volunteer_id],
                source=HoursSource.SHIFT,
                source_id=activity_id,
                hours=event.hours,  # type: ignore[attr-defined]
                served_on=w.state.shift(shift_id).starts_at.date(),
                context=caller.context,
            )
            w.sub_id = entries[0] if entries else None
    return w.accepted


class ShiftView(BaseModel):
    shift_id: UUID
    starts_at: datetime
    ends_at: datetime
    capacity: int
    signed_up: list[UUID]
    attended: list[UUID]
    no_shows: list[UUID]


class ActivityView(BaseModel):
    id: UUID
    kind: VolunteerActivityKind
    title: str
    community_id: UUID
    grid_id: UUID | None
    team_id: UUID | None
    shifts: list[ShiftView]
    version: int


def _shift_view(a: activities.Activity, s: Shift) -> ShiftView:
    came = {v for (sid, v), yes in a.attendance.items() if sid == s.shift_id and yes}
    missed = {v for (sid, v), yes in a.attendance.items() if sid == s.shift_id and not yes}
    return ShiftView(
        shift_id=s.shift_id,
        starts_at=s.starts_at,
        ends_at=s.ends_at,
        capacity=s.capacity,
        signed_up=sorted(a.signed_up.get(s.shift_id, frozenset())),
        attended=sorted(came),
        no_shows=sorted(missed),
    )


async def view_activity(store: Store, activity_id: UUID, caller: Caller) -> ActivityView:
    a, stream = await ACTIVITIES.read(store, activity_id, caller, "read_activity")
    return ActivityView(
        id=a.id,
        kind=a.kind,
        title=a.title,
        community_id=a.path.community_id,
        grid_id=a.path.grid_id,
        team_id=a.team_id,
        shifts=[_shift_view(a, s) for s in a.shifts.values()],
        version=stream.version,
    )
