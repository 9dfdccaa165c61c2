"""The work list: assignment, receipt, progress, completion, verification by someone other than
the owner, closing, reopening and deadline extensions; and the item as it stands, with its
history."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import AwareDatetime, BaseModel, Field

from anju_contracts import Event
from anju_contracts.governance import Priority, SourceLink, SupervisionColour, WorkItemStatus
from anju_governance.application.config import GovernanceConfig
from anju_governance.domain import items
from eventkit.access import organisation_ids
from eventkit.auth import Role
from eventkit.commands import Accepted, Caller, StreamCommand
from eventkit.store import Store


class AssignItem(StreamCommand):
    owner_organisation_id: UUID
    co_organisation_ids: list[UUID] = Field(default_factory=list, max_length=20)
    responsible: str | None = Field(default=None, max_length=100)


class ReceiveItem(StreamCommand):
    pass


class ReportProgress(StreamCommand):
    note: str = Field(min_length=1, max_length=2000)
    percent: int | None = Field(default=None, ge=0, le=100)


class ReportCompletion(StreamCommand):
    summary: str = Field(min_length=1, max_length=2000)


class Verify(StreamCommand):
    note: str | None = Field(default=None, max_length=2000)


class FailVerification(StreamCommand):
    reason: str = Field(min_length=1, max_length=2000)


class CloseItem(StreamCommand):
    pass


class ReopenItem(StreamCommand):
    reason: str = Field(min_length=1, max_length=2000)
    deadline: AwareDatetime


class ExtendDeadline(StreamCommand):
    to: AwareDatetime
    reason: str = Field(min_length=1, max_length=1000)


def _speaks_for(caller: Caller) -> frozenset[UUID]:
    """The organisations a liaison speaks for (none for staff)."""
    return organisation_ids(caller.principal) if caller.principal.has(Role.LIAISON) else frozenset()


async def assign(
    store: Store, item_id: UUID, cmd: AssignItem, caller: Caller, cfg: GovernanceConfig
) -> Accepted:
    async with cfg.items.update(
        store, item_id, caller, "assign_work_item", cmd.expected_version
    ) as w:
        await cfg.organisations(
            w.session, [cmd.owner_organisation_id, *cmd.co_organisation_ids], caller
        )
        w.emit(
            items.assign(
                w.state,
                owner=cmd.owner_organisation_id,
                co_organisations=cmd.co_organisation_ids,
                responsible=cmd.responsible,
                by=caller.principal.sub,
                now=caller.now(cfg.clock),
                receipt=cfg.rules.receipt,
            )
        )
    return w.accepted


Decide = Callable[[items.WorkItem, str, datetime], Sequence[Event]]
"""A step's decision on the item, by the caller (their staff id), at the step's business time."""


async def _step(
    store: Store,
    item_id: UUID,
    caller: Caller,
    cfg: GovernanceConfig,
    action: str,
    cmd: StreamCommand,
    decide: Decide,
) -> Accepted:
    """A step that needs nothing but the item: the kernel's command path with the caller's id
    and the time the step happened (a step from the paper ledger is judged on time or late, and
    its receipt or completion against the deadline, by the day the ledger gives)."""
    by, now = caller.principal.sub, caller.now(cfg.clock)
    return await cfg.items.act(
        store, item_id, caller, action, cmd.expected_version, lambda s: decide(s, by, now)
    )


async def receive(
    store: Store, item_id: UUID, cmd: ReceiveItem, caller: Caller, cfg: GovernanceConfig
) -> Accepted:
    """签收 by the owner's liaison, or by staff on the owner's behalf."""
    speaks_for = _speaks_for(caller) if caller.principal.has(Role.LIAISON) else None
    return await _step(
        store,
        item_id,
        caller,
        cfg,
        "receive_work_item",
        cmd,
        lambda s, by, now: items.receive(s, by=by, speaks_for=speaks_for, now=now),
    )


async def report_progress(
    store: Store, item_id: UUID, cmd: ReportProgress, caller: Caller, cfg: GovernanceConfig
) -> Accepted:
    def decide(s: items.WorkItem, by: str, now: datetime) -> Sequence[Event]:
        return items.report_progress(s, note=cmd.note, percent=cmd.percent, by=by, now=now)

    return await _step(store, item_id, caller, cfg, "report_progress", cmd, decide)


async def report_completion(
    store: Store, item_id: UUID, cmd: ReportCompletion, caller: Caller, cfg: GovernanceConfig
) -> Accepted:
    def decide(s: items.WorkItem, by: str, now: datetime) -> Sequence[Event]:
        return items.report_completion(s, summary=cmd.summary, by=by, now=now)

    return await _step(store, item_id, caller, cfg, "report_progress", cmd, decide)


async def verify(
    store: Store, item_id: UUID, cmd: Verify, caller: Caller, cfg: GovernanceConfig
) -> Accepted:
    speaks_for = _speaks_for(caller)

    def decide(s: items.WorkItem, by: str, now: datetime) -> Sequence[Event]:
        return items.verify(s, by=by, speaks_for=speaks_for, note=cmd.note, now=now)

    return await _step(store, item_id, caller, cfg, "verify_work_item", cmd, decide)


async def fail_verification(
    store: Store, item_id: UUID, cmd: FailVerification, caller: Caller, cfg: GovernanceConfig
) -> Accepted:
    speaks_for = _speaks_for(caller)

    def decide(s: items.WorkItem, by: str, now: datetime) -> Sequence[Event]:
        return items.fail_verification(s, by=by, speaks_for=speaks_for, reason=cmd.reason, now=now)

    return await _step(store, item_id, caller, cfg, "verify_work_item", cmd, decide)


async def close(
    store: Store, item_id: UUID, cmd: CloseItem, caller: Caller, cfg: GovernanceConfig
) -> Accepted:
    return await _step(
        store,
        item_id,
        caller,
        cfg,
        "close_work_item",
        cmd,
        lambda s, by, now: items.close(s, by=by, now=now),
    )


async def reopen(
    store: Store, item_id: UUID, cmd: ReopenItem, caller: Caller, cfg: GovernanceConfig
) -> Accepted:
    window = cfg.rules.reopen_window

    def decide(s: items.WorkItem, by: str, now: datetime) -> Sequence[Event]:
        return items.reopen(
            s, reason=cmd.reason, deadline=cmd.deadline, by=by, now=now, window=window
        )

    return await _step(store, item_id, caller, cfg, "reopen_work_item", cmd, decide)


async def extend_deadline(
    store: Store, item_id: UUID, cmd: ExtendDeadline, caller: Caller, cfg: GovernanceConfig
) -> Accepted:
    def decide(s: items.WorkItem, by: str, now: datetime) -> Sequence[Event]:
        return items.extend_deadline(s, to=cmd.to, reason=cmd.reason, by=by, now=now)

    return await _step(store, item_id, caller, cfg, "extend_deadline", cmd, decide)


class HistoryEntry(BaseModel):
    """One fact of the item, as recorded."""

    sequence: int
    type: str
    recorded_at: datetime
    actor: str
    data: dict[str, Any]


class ItemView(BaseModel):
    id: UUID
    title: str
    source: SourceLink
    meeting_id: UUID | None
    community_id: UUID
    grid_id: UUID | None
    status: WorkItemStatus
    colour: SupervisionColour | None
    owner_organisation_id: UUID | None
    co_organisation_ids: list[UUID]
    responsible: str | None
    deadline: datetime
    priority: Priority
    receipt_due_by: datetime | None
    convener: str | None
    reopens: int
    history: list[HistoryEntry]
    version: int


async def view_item(store: Store, item_id: UUID, caller: Caller, cfg: GovernanceConfig) -> ItemView:
    s, stream = await cfg.items.read(store, item_id, caller, "read_work_item")
    return ItemView(
        id=s.id,
        title=s.title,
        source=s.source,
        meeting_id=s.meeting_id,
        community_id=s.path.community_id,
        grid_id=s.path.grid_id,
        status=s.status,
        colour=s.colour,
        owner_organisation_id=s.owner,
        co_organisation_ids=list(s.co_organisations),
        responsible=s.responsible,
        deadline=s.deadline,
        priority=s.priority,
        receipt_due_by=s.receipt_due_by,
        convener=s.convener,
        reopens=s.reopens,
        history=[
            HistoryEntry(
                sequence=r.sequence,
                type=r.event.event_type,
                recorded_at=r.occurred_at,
                actor=r.actor.id,
                data=r.event.model_dump(mode="json"),
            )
            for r in stream.events
        ],
        version=stream.version,
    )
