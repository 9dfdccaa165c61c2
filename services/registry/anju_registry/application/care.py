"""Handlers for special-group flags and follow-up visits, and the follow-up deadline."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from anju_contracts.registry import SOURCE, FlagType
from anju_registry.application.commands import ClearFlag, RaiseFlag, RecordVisit, ReviewFlag
from anju_registry.application.common import (
    SERVICE_ACTOR,
    Caller,
    append_care,
    care_stream,
    counted,
    expect,
    load_care,
    load_resident,
    payloads,
)
from anju_registry.domain import care
from anju_registry.domain.care import Intervals
from eventkit.commands import Accepted, accepted
from eventkit.scheduler import Deadline
from eventkit.store import Context, EventStore, Session


async def raise_flag(
    store: EventStore,
    resident_id: UUID,
    cmd: RaiseFlag,
    caller: Caller,
    *,
    now: datetime,
    intervals: Intervals,
) -> Accepted:
    with counted("raise_flag"):
        async with store.session() as session:
            resident, _ = await load_resident(session, resident_id)
            caller.check_write(resident.path)
            state, stream = await load_care(session, resident_id)
            version = expect(stream, cmd.expected_version)
            events = care.raise_flag(
                state,
                resident,
                flag=cmd.flag,
                tier=cmd.tier,
                note=cmd.note,
                now=now,
                intervals=intervals,
            )
            result = await append_care(
                session, resident_id, version, events, context=caller.context, path=resident.path
            )
        return accepted(SOURCE, str(resident_id), result)


async def review_flag(
    store: EventStore,
    resident_id: UUID,
    flag: FlagType,
    cmd: ReviewFlag,
    caller: Caller,
    *,
    now: datetime,
    intervals: Intervals,
) -> Accepted:
    with counted("review_flag"):
        async with store.session() as session:
            resident, _ = await load_resident(session, resident_id)
            caller.check_write(resident.path)
            state, stream = await load_care(session, resident_id)
            version = expect(stream, cmd.expected_version)
            events = care.review_flag(
                state,
                resident,
                flag=flag,
                tier=cmd.tier,
                note=cmd.note,
                reason=cmd.reason,
                now=now,
                intervals=intervals,
            )
            result = await append_care(
                session, resident_id, version, events, context=caller.context, path=resident.path
            )
        return accepted(SOURCE, str(resident_id), result)


async def clear_flag(
    store: EventStore,
    resident_id: UUID,
    flag: FlagType,
    cmd: ClearFlag,
    caller: Caller,
    *,
    now: datetime,
    intervals: Intervals,
) -> Accepted:
    with counted("clear_flag"):
        async with store.session() as session:
            resident, _ = await load_resident(session, resident_id)
            caller.check_write(resident.path)
            state, stream = await load_care(session, resident_id)
            version = expect(stream, cmd.expected_version)
            events = care.clear_flag(
                state, resident, flag=flag, reason=cmd.reason, now=now, intervals=intervals
            )
            result = await append_care(
                session, resident_id, version, events, context=caller.context, path=resident.path
            )
        return accepted(SOURCE, str(resident_id), result)


async def record_visit(
    store: EventStore,
    resident_id: UUID,
    cmd: RecordVisit,
    caller: Caller,
    *,
    now: datetime,
    intervals: Intervals,
) -> Accepted:
    with counted("record_visit"):
        visit_id = uuid4()
        async with store.session() as session:
            resident, _ = await load_resident(session, resident_id)
            caller.check_write(resident.path)
            state, stream = await load_care(session, resident_id)
            version = expect(stream, cmd.expected_version)
            events = care.record_visit(
                state,
                resident,
                visit_id=visit_id,
                visited_at=cmd.visited_at or now,
                grid_worker_id=caller.principal.sub,
                findings=cmd.findings,
                actions=cmd.actions,
                errands=cmd.errands,
                now=now,
                intervals=intervals,
            )
            result = await append_care(
                session, resident_id, version, events, context=caller.context, path=resident.path
            )
        return accepted(SOURCE, str(resident_id), result, sub_id=visit_id)


async def followup_due(session: Session, deadline: Deadline) -> None:
    """Deadline handler: the planned visit's due time passed; record it if nobody came."""
    with counted("mark_followup_overdue"):
        resident_id = UUID(deadline.key)
        stream = await session.load(care_stream(resident_id))
        state = care.fold(resident_id, payloads(stream))
        events = care.mark_overdue(state, due_at=deadline.due_at)
        if events:
            await session.append(
                stream.id,
                stream.version,
                events,
                context=Context(actor=SERVICE_ACTOR),
                area=str(state.grid_id),
            )
