"""Handlers for residents: register, correct, move, move out, record a death; and the read."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel

from anju_contracts.registry import AreaPath, FlagType, RiskTier, Sex
from anju_registry.application.aggregates import AREAS, CARE, RESIDENTS, arm_retention
from anju_registry.application.commands import (
    CorrectResident,
    MoveOut,
    MoveResident,
    RecordDeath,
    RegisterResident,
)
from anju_registry.application.lookups import IdNumbers
from anju_registry.application.permissions import PERMISSIONS, READ_FULL_ID_NUMBER
from anju_registry.domain import care, residents
from anju_registry.domain.care import Intervals
from anju_registry.domain.errors import DuplicateIdNumber
from anju_registry.domain.residents import ResidentStatus
from anju_registry.domain.retention import Retention, Rule
from eventkit.access import mask_id_number
from eventkit.aggregate import Work
from eventkit.commands import Accepted, Caller
from eventkit.store import Store, StoreSession


async def register_resident(
    store: Store, cmd: RegisterResident, caller: Caller, *, id_numbers: IdNumbers, today: date
) -> Accepted:
    async with RESIDENTS.create(store, caller, "register_resident") as w:
        unit, _ = await AREAS.load(w.session, cmd.unit_id, caller)
        w.emit(
            residents.register(
                w.id,
                name=cmd.name,
                sex=cmd.sex,
                date_of_birth=cmd.date_of_birth,
                id_number=cmd.id_number,
                phone=cmd.phone,
                unit=unit,
                today=today,
            )
        )
        await _claim(w.session, id_numbers, cmd.id_number, w.id, caller)
    return w.accepted


async def correct_resident(
    store: Store,
    resident_id: UUID,
    cmd: CorrectResident,
    caller: Caller,
    *,
    id_numbers: IdNumbers,
    today: date,
) -> Accepted:
    async with RESIDENTS.update(
        store, resident_id, caller, "correct_resident", cmd.expected_version
    ) as w:
        w.emit(
            residents.correct(
                w.state,
                reason=cmd.reason,
                name=cmd.name,
                sex=cmd.sex,
                date_of_birth=cmd.date_of_birth,
                id_number=cmd.id_number,
                phone=cmd.phone,
                today=today,
            )
        )
        if cmd.id_number is not None and cmd.id_number != w.state.id_number:
            await _claim(w.session, id_numbers, cmd.id_number, resident_id, caller)
            if w.state.id_number is not None:
                await id_numbers.release(w.session, w.state.id_number, resident_id)
    return w.accepted


async def _claim(
    session: StoreSession, id_numbers: IdNumbers, id_number: str, resident_id: UUID, caller: Caller
) -> None:
    """Claim the number; a duplicate names its holder only to a caller who may see them.

    A person who moved out and comes back is registered again: the number passes from their
    old record (kept until its retention ends, then erased) to the new one."""
    holder = await id_numbers.claim(session, id_number, resident_id)
    if holder is None:
        return
    details: dict[str, str] = {}
    stream = await session.load(RESIDENTS.stream(holder))
    held_by = residents.fold(stream.payloads)
    moved_out = held_by is not None and held_by.status is ResidentStatus.MOVED_OUT
    if moved_out and await id_numbers.transfer(session, id_number, holder, resident_id):
        return
    if held_by is not None and caller.sees(RESIDENTS.guard(held_by)):
        details["resident_id"] = str(holder)
    raise DuplicateIdNumber("a resident with this identity number is already registered", **details)


async def move_resident(
    store: Store,
    resident_id: UUID,
    cmd: MoveResident,
    caller: Caller,
    *,
    now: datetime,
    intervals: Intervals,
) -> Accepted:
    async with RESIDENTS.update(
        store, resident_id, caller, "move_resident", cmd.expected_version
    ) as w:
        unit, _ = await AREAS.load(w.session, cmd.unit_id, caller)
        events = residents.move(w.state, unit=unit)
        w.emit(events)
        moved = residents.fold([*w.stream.payloads, *events])
        assert moved is not None
        state, care_stream = await CARE.load(w.session, resident_id)
        replanned = care.follow_moved_resident(state, moved, now=now, intervals=intervals)
        await w.append_to(
            CARE, resident_id, care_stream.version, replanned, guard=RESIDENTS.guard(moved)
        )
    return w.accepted


async def move_out(
    store: Store,
    resident_id: UUID,
    cmd: MoveOut,
    caller: Caller,
    *,
    today: date,
    retention: Retention,
) -> Accepted:
    """Record the move out; the record is kept for its retention period, then erased."""
    async with RESIDENTS.update(store, resident_id, caller, "move_out", cmd.expected_version) as w:
        w.emit(
            residents.move_out(
                w.state, moved_out_on=cmd.moved_out_on, reason=cmd.reason, today=today
            )
        )
        await stop_care(w, reason="the resident moved out")
        await arm_retention(w.session, w.state, Rule.MOVED_OUT, cmd.moved_out_on, retention)
    return w.accepted


async def record_death(
    store: Store,
    resident_id: UUID,
    cmd: RecordDeath,
    caller: Caller,
    *,
    today: date,
    retention: Retention,
) -> Accepted:
    """Record the death; the record is kept for its retention period, then erased."""
    async with RESIDENTS.update(
        store, resident_id, caller, "record_death", cmd.expected_version
    ) as w:
        w.emit(residents.die(w.state, died_on=cmd.died_on, today=today))
        await stop_care(w, reason="the resident died")
        await arm_retention(w.session, w.state, Rule.DECEASED, cmd.died_on, retention)
    return w.accepted


async def stop_care(w: Work[residents.Resident], *, reason: str) -> None:
    state, stream = await CARE.load(w.session, w.id)
    events = care.stop(state, reason=reason)
    await w.append_to(CARE, w.id, stream.version, events, guard=RESIDENTS.guard(w.state))


# -- the registry's own view of a resident ----------------------------------------------------


class ResidentView(BaseModel):
    """A resident as the registry knows them now; the identity number masked for most roles."""

    id: UUID
    name: str
    sex: Sex
    date_of_birth: date | None
    """Null once the person is erased, as is ``id_number``."""
    id_number: str | None
    id_number_masked: bool
    phone: str | None
    path: AreaPath
    status: ResidentStatus
    version: int
    flags: dict[FlagType, RiskTier]
    last_visit_at: datetime | None
    follow_up_due_by: datetime | None


async def view_resident(store: Store, resident_id: UUID, caller: Caller) -> ResidentView:
    RESIDENTS.permissions.check(caller.principal, "read_resident")
    async with store.session() as session:
        resident, stream = await RESIDENTS.load(session, resident_id, caller)
        state, _ = await CARE.load(session, resident_id)
    masked = not PERMISSIONS.allows(caller.principal, READ_FULL_ID_NUMBER)
    return ResidentView(
        id=resident.id,
        name=resident.name,
        sex=resident.sex,
        date_of_birth=resident.date_of_birth,
        id_number=(
            mask_id_number(resident.id_number)
            if masked and resident.id_number is not None
            else resident.id_number
        ),
        id_number_masked=masked,
        phone=resident.phone,
        path=resident.path,
        status=resident.status,
        version=stream.version,
        flags=dict(state.flags),
        last_visit_at=state.last_visit_at,
        follow_up_due_by=state.due_by,
    )
