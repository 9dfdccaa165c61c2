"""Handlers for residents: register, correct, move, move out, record a death; and the read."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID, uuid4

from pydantic import BaseModel

from anju_contracts.registry import SOURCE, AreaPath, FlagType, RiskTier, Sex
from anju_registry.application.commands import (
    CorrectResident,
    MoveOut,
    MoveResident,
    RecordDeath,
    RegisterResident,
)
from anju_registry.application.common import (
    Caller,
    append_care,
    counted,
    expect,
    load_area,
    load_care,
    load_resident,
    resident_stream,
)
from anju_registry.application.lookups import claim_id_number, release_id_number
from anju_registry.domain import care, id_numbers, residents
from anju_registry.domain.care import Intervals
from anju_registry.domain.errors import ResidentNotFound
from anju_registry.domain.residents import ResidentStatus
from eventkit.auth import Role
from eventkit.commands import Accepted, accepted, area_of
from eventkit.store import EventStore, Session


async def register_resident(store: EventStore, cmd: RegisterResident, caller: Caller) -> Accepted:
    with counted("register_resident"):
        resident_id = uuid4()
        async with store.session() as session:
            unit = await load_area(session, cmd.unit_id)
            caller.check_write(unit.path)
            events = residents.register(
                resident_id,
                name=cmd.name,
                sex=cmd.sex,
                date_of_birth=cmd.date_of_birth,
                id_number=cmd.id_number,
                phone=cmd.phone,
                unit=unit,
            )
            await claim_id_number(session.conn, cmd.id_number, resident_id)
            result = await session.append(
                resident_stream(resident_id),
                0,
                events,
                context=caller.context,
                area=area_of(unit.path),
            )
        return accepted(SOURCE, str(resident_id), result)


async def correct_resident(
    store: EventStore, resident_id: UUID, cmd: CorrectResident, caller: Caller
) -> Accepted:
    with counted("correct_resident"):
        async with store.session() as session:
            resident, stream = await load_resident(session, resident_id)
            caller.check_write(resident.path)
            version = expect(stream, cmd.expected_version)
            events = residents.correct(
                resident,
                reason=cmd.reason,
                name=cmd.name,
                sex=cmd.sex,
                date_of_birth=cmd.date_of_birth,
                id_number=cmd.id_number,
                phone=cmd.phone,
            )
            if cmd.id_number is not None and cmd.id_number != resident.id_number:
                await claim_id_number(session.conn, cmd.id_number, resident_id)
                await release_id_number(session.conn, resident.id_number, resident_id)
            result = await session.append(
                stream.id, version, events, context=caller.context, area=area_of(resident.path)
            )
        return accepted(SOURCE, str(resident_id), result)


async def move_resident(
    store: EventStore,
    resident_id: UUID,
    cmd: MoveResident,
    caller: Caller,
    *,
    now: datetime,
    intervals: Intervals,
) -> Accepted:
    with counted("move_resident"):
        async with store.session() as session:
            resident, stream = await load_resident(session, resident_id)
            caller.check_write(resident.path)
            version = expect(stream, cmd.expected_version)
            unit = await load_area(session, cmd.unit_id)
            caller.check_write(unit.path)
            events = residents.move(resident, unit=unit)
            result = await session.append(
                stream.id, version, events, context=caller.context, area=area_of(unit.path)
            )
            moved = residents.fold([*(e.event for e in stream.events), *events])
            assert moved is not None
            state, care_events = await load_care(session, resident_id)
            replanned = care.follow_moved_resident(state, moved, now=now, intervals=intervals)
            await append_care(
                session,
                resident_id,
                care_events.version,
                replanned,
                context=caller.context,
                path=moved.path,
            )
        return accepted(SOURCE, str(resident_id), result)


async def move_out(
    store: EventStore, resident_id: UUID, cmd: MoveOut, caller: Caller, *, today: date
) -> Accepted:
    with counted("move_out"):
        async with store.session() as session:
            resident, stream = await load_resident(session, resident_id)
            caller.check_write(resident.path)
            version = expect(stream, cmd.expected_version)
            events = residents.move_out(
                resident, moved_out_on=cmd.moved_out_on, reason=cmd.reason, today=today
            )
            result = await session.append(
                stream.id, version, events, context=caller.context, area=area_of(resident.path)
            )
            await _stop_care(session, resident, caller, reason="the resident moved out")
        return accepted(SOURCE, str(resident_id), result)


async def record_death(
    store: EventStore, resident_id: UUID, cmd: RecordDeath, caller: Caller, *, today: date
) -> Accepted:
    with counted("record_death"):
        async with store.session() as session:
            resident, stream = await load_resident(session, resident_id)
            caller.check_write(resident.path)
            version = expect(stream, cmd.expected_version)
            events = residents.die(resident, died_on=cmd.died_on, today=today)
            result = await session.append(
                stream.id, version, events, context=caller.context, area=area_of(resident.path)
            )
            await _stop_care(session, resident, caller, reason="the resident died")
        return accepted(SOURCE, str(resident_id), result)


async def _stop_care(
    session: Session, resident: residents.Resident, caller: Caller, *, reason: str
) -> None:
    state, stream = await load_care(session, resident.id)
    events = care.stop(state, reason=reason)
    await append_care(
        session, resident.id, stream.version, events, context=caller.context, path=resident.path
    )


# -- the registry's own view of a resident ----------------------------------------------------


class ResidentView(BaseModel):
    """A resident as the registry knows them now; the identity number masked for most roles."""

    id: UUID
    name: str
    sex: Sex
    date_of_birth: date
    id_number: str
    id_number_masked: bool
    phone: str | None
    path: AreaPath
    status: ResidentStatus
    version: int
    flags: dict[FlagType, RiskTier]
    last_visit_at: datetime | None
    follow_up_due_by: datetime | None


async def view_resident(store: EventStore, resident_id: UUID, caller: Caller) -> ResidentView:
    async with store.session() as session:
        resident, stream = await load_resident(session, resident_id)
        if not caller.may_act_on(resident.path):
            # Outside the caller's areas it does not exist for them.
            raise ResidentNotFound("no such resident", resident_id=str(resident_id))
        state, _ = await load_care(session, resident_id)
    masked = not caller.principal.has(Role.ADMIN, Role.DIRECTOR)
    return ResidentView(
        id=resident.id,
        name=resident.name,
        sex=resident.sex,
        date_of_birth=resident.date_of_birth,
        id_number=id_numbers.mask(resident.id_number) if masked else resident.id_number,
        id_number_masked=masked,
        phone=resident.phone,
        path=resident.path,
        status=resident.status,
        version=stream.version,
        flags=dict(state.flags),
        last_visit_at=state.last_visit_at,
        follow_up_due_by=state.due_by,
    )
