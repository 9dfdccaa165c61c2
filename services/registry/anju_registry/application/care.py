"""Handlers for special-group flags and follow-up visits, and the follow-up deadline."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from uuid import UUID, uuid4

from anju_contracts import Event
from anju_contracts.registry import FlagType
from anju_registry.application.aggregates import CARE, RESIDENTS, SERVICE_ACTOR
from anju_registry.application.commands import ClearFlag, RaiseFlag, RecordVisit, ReviewFlag
from anju_registry.domain import care, residents
from anju_registry.domain.care import Intervals
from eventkit.commands import Accepted, Caller, counted, expect_version
from eventkit.scheduler import Deadline
from eventkit.store import Context, Store, StoreSession

Decide = Callable[[care.Care, residents.Resident], Sequence[Event]]


async def _on_care(
    store: Store,
    resident_id: UUID,
    caller: Caller,
    action: str,
    expected_version: int | None,
    decide: Decide,
    *,
    sub_id: UUID | None = None,
) -> Accepted:
    """A command on the resident's care stream, through the resident (who must be visible and
    is locked, so a flag cannot slip in beside a death); ``expected_version`` is the care
    stream's, and so is the answer's consistency token."""
    async with RESIDENTS.update(store, resident_id, caller, action) as w:
        state, stream = await CARE.load(w.session, resident_id)
        version = expect_version(stream, expected_version)
        events = decide(state, w.state)
        result = await w.append_to(
            CARE, resident_id, version, events, guard=RESIDENTS.guard(w.state)
        )
        w.answer_with(result)
        w.sub_id = sub_id
    return w.accepted


async def raise_flag(
    store: Store,
    resident_id: UUID,
    cmd: RaiseFlag,
    caller: Caller,
    *,
    now: datetime,
    intervals: Intervals,
) -> Accepted:
    return await _on_care(
        store,
        resident_id,
        caller,
        "raise_flag",
        cmd.expected_version,
        lambda state, resident: care.raise_flag(
            state,
            resident,
            flag=cmd.flag,
            tier=cmd.tier,
            note=cmd.note,
            now=now,
            intervals=intervals,
        ),
    )


async def review_flag(
    store: Store,
    resident_id: UUID,
    flag: FlagType,
    cmd: ReviewFlag,
    caller: Caller,
    *,
    now: datetime,
    intervals: Intervals,
) -> Accepted:
    return await _on_care(
        store,
        resident_id,
        caller,
        "review_flag",
        cmd.expected_version,
        lambda state, resident: care.review_flag(
            state,
            resident,
            flag=flag,
            tier=cmd.tier,
            note=cmd.note,
            reason=cmd.reason,
            now=now,
            intervals=intervals,
        ),
    )


async def clear_flag(
    store: Store,
    resident_id: UUID,
    flag: FlagType,
    cmd: ClearFlag,
    caller: Caller,
    *,
    now: datetime,
    intervals: Intervals,
) -> Accepted:
    return await _on_care(
        store,
        resident_id,
        caller,
        "clear_flag",
        cmd.expected_version,
        lambda state, resident: care.clear_flag(
            state, resident, flag=flag, reason=cmd.reason, now=now, intervals=intervals
        ),
    )


async def record_visit(
    store: Store,
    resident_id: UUID,
    cmd: RecordVisit,
    caller: Caller,
    *,
    now: datetime,
    intervals: Intervals,
) -> Accepted:
    visit_id = uuid4()
    return await _on_care(
        store,
        resident_id,
        caller,
        "record_visit",
        cmd.expected_version,
        lambda state, resident: care.record_visit(
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
        ),
        sub_id=visit_id,
    )


async def followup_due(session: StoreSession, deadline: Deadline) -> None:
    """Deadline handler: the planned visit's due time passed; record it if nobody came."""
    with counted(CARE.source, "mark_followup_overdue"):
        resident_id = UUID(deadline.key)
        state, stream = await CARE.load(session, resident_id)
        events = care.mark_overdue(state, due_at=deadline.due_at)
        if events:
            await session.append(
                stream.id,
                stream.version,
                events,
                context=Context(actor=SERVICE_ACTOR),
                area=str(state.grid_id),
            )
