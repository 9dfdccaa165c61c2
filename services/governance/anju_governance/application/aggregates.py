"""Governance's records as the kernel's command path sees them, and the deadlines that keep a
work item's supervision in step with it."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

from anju_contracts import Actor, Event
from anju_contracts.governance import (
    SOURCE,
    CompletionReported,
    DeadlineExtended,
    VerificationFailed,
    WorkItemAssigned,
    WorkItemClosed,
    WorkItemOpened,
    WorkItemReceived,
    WorkItemReopened,
    WorkItemWithdrawn,
)
from anju_governance.application.permissions import PERMISSIONS
from anju_governance.domain import items, meetings
from anju_governance.domain.errors import MeetingNotFound, WorkItemNotFound
from eventkit.access import Guarded
from eventkit.aggregate import Aggregate, Follow
from eventkit.store import StoreSession

RECEIPT_DUE = "governance.receipt_due"
"""Deadline kind: the owner should have signed for the item by now (blue)."""
DEADLINE_NEAR = "governance.deadline_near"
"""Deadline kind: the item's deadline is near (yellow)."""
OVERDUE = "governance.overdue"
"""Deadline kind: the item's deadline has passed (red)."""

SERVICE_ACTOR = Actor(id=SOURCE, roles=("service",))

MEETINGS: Aggregate[meetings.Meeting] = Aggregate(
    name="meeting",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: meetings.fold(events),
    guard=lambda m: Guarded.at(m.path),
    not_found=MeetingNotFound,
)


def _guard(item: items.WorkItem) -> Guarded:
    return Guarded.at(item.path, sensitive=item.sensitive, organisations=item.organisations)


def supervision_follow(near: timedelta) -> Follow:
    """Arms the item's blue, yellow and red deadlines from its events (``near``: how long before
    the deadline yellow is raised). A deadline armed again after it fired fires again; the
    handler then finds the colour raised and appends nothing."""

    async def follow(session: StoreSession, item_id: UUID, events: Sequence[Event]) -> None:
        key = str(item_id)
        for event in events:
            receipt = getattr(event, "receipt_due_by", None)
            if isinstance(event, WorkItemOpened | WorkItemAssigned) and receipt is not None:
                await session.schedule(RECEIPT_DUE, key, receipt, {"due_by": receipt.isoformat()})
            if isinstance(event, WorkItemReceived | WorkItemClosed | WorkItemWithdrawn):
                await session.cancel(RECEIPT_DUE, key)
            deadline = None
            if isinstance(event, WorkItemOpened | WorkItemReopened):
                deadline = event.deadline
            elif isinstance(event, DeadlineExtended):
                deadline = event.to_deadline
            elif isinstance(event, VerificationFailed):
                # back to the owner: the clock runs again (a colour raised stays raised)
                stream = await session.load(f"item-{item_id}")
                item = items.fold(stream.payloads)
                deadline = None if item is None else item.deadline
            if deadline is not None:
                payload = {"due_by": deadline.isoformat()}
                await session.schedule(DEADLINE_NEAR, key, deadline - near, payload)
                await session.schedule(OVERDUE, key, deadline, payload)
            if isinstance(event, CompletionReported | WorkItemClosed | WorkItemWithdrawn):
                await session.cancel(DEADLINE_NEAR, key)
                await session.cancel(OVERDUE, key)

    return follow


def work_items(near: timedelta) -> Aggregate[items.WorkItem]:
    """Work items, their supervision armed ``near`` the deadline for yellow."""
    return Aggregate(
        name="item",
        source=SOURCE,
        permissions=PERMISSIONS,
        fold=lambda _, events: items.fold(events),
        guard=_guard,
        not_found=WorkItemNotFound,
        follow=supervision_follow(near),
    )
