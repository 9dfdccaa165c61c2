"""A work item (工作清单) from its source to closing, and the supervision its deadlines raise.

    unassigned ─assign→ assigned ─receive (签收)→ received ─progress→ in_progress
                            │                        └──────────┬───────┘
                            └─ (re)assign                 report completion
                                                               ▼
               in_progress ←verification failed── completion_reported ─verified (验收)→ verified
                    ▲                                                                     │
                    └────────────── reopened (within the window) ←── closed (销号) ←─────┘

    any state but closed ─withdrawn (what opened it no longer stands)→ withdrawn

Verification is by someone other than the owner. Only the convener moves the deadline. The
scheduler raises supervision once per colour and deadline: blue when the owner has not signed
by ``receipt_due_by``, yellow when the deadline is near, red when it has passed — while the
work is still the owner's to do (a reported completion stops the clock until it is verified or
sent back).

An item opened by a dispute's escalation to the community tier is withdrawn when mediation
withdraws that escalation (a paper ledger's fact dated before it shows the dispute never got
there): a terminal state of its own, neither on time nor late, supervised no more. An item the
people already closed (销号) stays closed: its work was done and verified, and its history is the
record of it; the withdrawal leaves it alone.
"""

from __future__ import annotations

from collections.abc import Iterable, Set
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import UUID

from anju_contracts import Event
from anju_contracts.governance import (
    CompletionReported,
    DeadlineExtended,
    NoticeRecipient,
    Priority,
    ProgressReported,
    SourceLink,
    SupervisionColour,
    SupervisionRaised,
    VerificationFailed,
    WorkItemAssigned,
    WorkItemClosed,
    WorkItemOpened,
    WorkItemReceived,
    WorkItemReopened,
    WorkItemStatus,
    WorkItemVerified,
    WorkItemWithdrawn,
)
from anju_contracts.registry import AreaPath
from anju_governance.domain.errors import (
    DeadlineNotAhead,
    NotTheConvener,
    NotTheOwner,
    OwnerMayNotVerify,
    ReopenWindowPassed,
    WrongItemState,
)
from eventkit.dates import HORIZON, DateBeyondHorizon, DateTooEarly

Status = WorkItemStatus

ACTIVE = frozenset({Status.UNASSIGNED, Status.ASSIGNED, Status.RECEIVED, Status.IN_PROGRESS})
"""The work is still to be done: the deadline's clock runs."""


@dataclass(frozen=True)
class WorkItem:
    id: UUID
    title: str
    source: SourceLink
    meeting_id: UUID | None
    path: AreaPath
    sensitive: bool
    deadline: datetime
    priority: Priority
    convener: str | None
    opened_at: datetime
    status: Status = Status.UNASSIGNED
    owner: UUID | None = None
    co_organisations: tuple[UUID, ...] = ()
    responsible: str | None = None
    receipt_due_by: datetime | None = None
    received_by: str | None = None
    completed_by: str | None = None
    completed_on_time: bool = False
    closed_at: datetime | None = None
    withdrawn_at: datetime | None = None
    reopens: int = 0
    raised: frozenset[tuple[SupervisionColour, datetime]] = field(default_factory=frozenset)

    @property
    def organisations(self) -> tuple[UUID, ...]:
        """The owner and the co-organisations: their liaisons see the item."""
        return (*((self.owner,) if self.owner else ()), *self.co_organisations)

    @property
    def colour(self) -> SupervisionColour | None:
        """The most pressing supervision raised for the deadline in force, while active."""
        if self.status not in ACTIVE:
            return None
        for colour in (SupervisionColour.RED, SupervisionColour.YELLOW):
            if (colour, self.deadline) in self.raised:
                return colour
        if (
            self.status == Status.ASSIGNED
            and self.receipt_due_by is not None
            and (SupervisionColour.BLUE, self.receipt_due_by) in self.raised
        ):
            return SupervisionColour.BLUE
        return None


def evolve(state: WorkItem | None, event: Event) -> WorkItem | None:
    if isinstance(event, WorkItemOpened):
        return WorkItem(
            id=event.item_id,
            title=event.title,
            source=event.source,
            meeting_id=event.meeting_id,
            path=event.path,
            sensitive=event.sensitive,
            deadline=event.deadline,
            priority=event.priority,
            convener=event.convener,
            opened_at=event.opened_at,
            status=Status.UNASSIGNED if event.owner_organisation_id is None else Status.ASSIGNED,
            owner=event.owner_organisation_id,
            co_organisations=tuple(event.co_organisation_ids),
            responsible=event.responsible,
            receipt_due_by=event.receipt_due_by,
        )
    if state is None:
        return None
    if isinstance(event, WorkItemAssigned):
        return replace(
            state,
            status=Status.ASSIGNED,
            owner=event.owner_organisation_id,
            co_organisations=tuple(event.co_organisation_ids),
            responsible=event.responsible,
            receipt_due_by=event.receipt_due_by,
        )
    if isinstance(event, WorkItemReceived):
        return replace(state, status=Status.RECEIVED, received_by=event.received_by)
    if isinstance(event, ProgressReported):
        return replace(state, status=Status.IN_PROGRESS)
    if isinstance(event, CompletionReported):
        return replace(
            state,
            status=Status.COMPLETION_REPORTED,
            completed_by=event.reported_by,
            completed_on_time=event.on_time,
        )
    if isinstance(event, WorkItemVerified):
        return replace(state, status=Status.VERIFIED)
    if isinstance(event, VerificationFailed):
        return replace(state, status=Status.IN_PROGRESS, completed_by=None)
    if isinstance(event, WorkItemClosed):
        return replace(state, status=Status.CLOSED, closed_at=event.closed_at)
    if isinstance(event, WorkItemReopened):
        return replace(
            state,
            status=Status.IN_PROGRESS,
            deadline=event.deadline,
            completed_by=None,
            completed_on_time=False,
            closed_at=None,
            reopens=state.reopens + 1,
        )
    if isinstance(event, WorkItemWithdrawn):
        return replace(state, status=Status.WITHDRAWN, withdrawn_at=event.withdrawn_at)
    if isinstance(event, DeadlineExtended):
        return replace(state, deadline=event.to_deadline)
    if isinstance(event, SupervisionRaised):
        return replace(state, raised=state.raised | {(event.colour, event.due_by)})
    return state


def fold(events: Iterable[Event]) -> WorkItem | None:
    state: WorkItem | None = None
    for event in events:
        state = evolve(state, event)
    return state


def _in(state: WorkItem, *allowed: Status, step: str) -> WorkItem:
    if state.status not in allowed:
        raise WrongItemState(
            f"a work item that is {state.status} cannot be {step}",
            item_id=str(state.id),
            status=state.status,
        )
    return state


def _deadline(deadline: datetime, *, since: datetime, now: datetime) -> None:
    """A deadline lies after what it is about began (a meeting held last month may have set one
    that has passed: a ledger brought in from paper) and within the horizon ahead."""
    if deadline <= since:
        raise DateTooEarly(
            "the deadline lies before its source (or now)",
            field="deadline",
            value=deadline.isoformat(),
        )
    if deadline > max(now, since) + HORIZON:
        raise DateBeyondHorizon(
            f"the deadline is more than {HORIZON.days} days ahead",
            field="deadline",
            value=deadline.isoformat(),
        )


def _co(owner: UUID | None, co: Iterable[UUID]) -> list[UUID]:
    return [o for o in dict.fromkeys(co) if o != owner]


@dataclass(frozen=True)
class Opening:
    """What a new work item says, wherever it came from."""

    title: str
    source: SourceLink
    path: AreaPath
    deadline: datetime
    priority: Priority = Priority.NORMAL
    description: str | None = None
    meeting_id: UUID | None = None
    sensitive: bool = False
    owner: UUID | None = None
    co_organisations: tuple[UUID, ...] = ()
    responsible: str | None = None
    convener: str | None = None


def open_item(
    item_id: UUID,
    opening: Opening,
    *,
    by: str,
    since: datetime,
    now: datetime,
    receipt: timedelta,
) -> list[Event]:
    """``since``: when the source happened (the meeting, the escalation); ``receipt``: how long
    an owner has to sign for the item."""
    o = opening
    _deadline(o.deadline, since=since, now=now)
    return [
        WorkItemOpened(
            item_id=item_id,
            title=o.title,
            description=o.description,
            source=o.source,
            meeting_id=o.meeting_id,
            path=o.path,
            sensitive=o.sensitive,
            owner_organisation_id=o.owner,
            co_organisation_ids=_co(o.owner, o.co_organisations),
            responsible=o.responsible,
            deadline=o.deadline,
            priority=o.priority,
            receipt_due_by=None if o.owner is None else now + receipt,
            convener=o.convener,
            opened_by=by,
            opened_at=now,
        )
    ]


def assign(
    state: WorkItem,
    *,
    owner: UUID,
    co_organisations: Iterable[UUID],
    responsible: str | None,
    by: str,
    now: datetime,
    receipt: timedelta,
) -> list[Event]:
    s = _in(state, Status.UNASSIGNED, Status.ASSIGNED, step="assigned")
    return [
        WorkItemAssigned(
            item_id=s.id,
            owner_organisation_id=owner,
            co_organisation_ids=_co(owner, co_organisations),
            responsible=responsible,
            receipt_due_by=now + receipt,
            assigned_by=by,
            assigned_at=now,
        )
    ]


def receive(
    state: WorkItem, *, by: str, speaks_for: Set[UUID] | None, now: datetime
) -> list[Event]:
    """签收 by the owner: its liaison (``speaks_for``: the organisations they speak for), or
    staff on the owner's behalf (``None``)."""
    s = _in(state, Status.ASSIGNED, step="received")
    assert s.owner is not None
    assert s.receipt_due_by is not None
    if speaks_for is not None and s.owner not in speaks_for:
        raise NotTheOwner("only the owner organisation signs for the item", item_id=str(s.id))
    return [
        WorkItemReceived(
            item_id=s.id,
            owner_organisation_id=s.owner,
            received_by=by,
            received_at=now,
            late=now > s.receipt_due_by,
        )
    ]


def report_progress(
    state: WorkItem, *, note: str, percent: int | None, by: str, now: datetime
) -> list[Event]:
    s = _in(state, Status.RECEIVED, Status.IN_PROGRESS, step="reported on")
    return [
        ProgressReported(item_id=s.id, note=note, percent=percent, reported_by=by, reported_at=now)
    ]


def report_completion(state: WorkItem, *, summary: str, by: str, now: datetime) -> list[Event]:
    s = _in(state, Status.RECEIVED, Status.IN_PROGRESS, step="reported done")
    return [
        CompletionReported(
            item_id=s.id,
            summary=summary,
            reported_by=by,
            reported_at=now,
            on_time=now <= s.deadline,
        )
    ]


def _not_the_owner(state: WorkItem, by: str, speaks_for: Set[UUID]) -> WorkItem:
    s = _in(state, Status.COMPLETION_REPORTED, step="verified")
    owners = {by} & {s.received_by, s.completed_by, s.responsible}
    if owners or (s.owner is not None and s.owner in speaks_for):
        raise OwnerMayNotVerify(
            "the work is verified by someone other than its owner", item_id=str(s.id)
        )
    return s


def verify(
    state: WorkItem, *, by: str, speaks_for: Set[UUID], note: str | None, now: datetime
) -> list[Event]:
    s = _not_the_owner(state, by, speaks_for)
    return [WorkItemVerified(item_id=s.id, verified_by=by, note=note, verified_at=now)]


def fail_verification(
    state: WorkItem, *, by: str, speaks_for: Set[UUID], reason: str, now: datetime
) -> list[Event]:
    s = _not_the_owner(state, by, speaks_for)
    return [VerificationFailed(item_id=s.id, verified_by=by, reason=reason, failed_at=now)]


def close(state: WorkItem, *, by: str, now: datetime) -> list[Event]:
    s = _in(state, Status.VERIFIED, step="closed")
    return [WorkItemClosed(item_id=s.id, closed_by=by, closed_at=now, on_time=s.completed_on_time)]


def reopen(
    state: WorkItem,
    *,
    reason: str,
    deadline: datetime,
    by: str,
    now: datetime,
    window: timedelta,
) -> list[Event]:
    s = _in(state, Status.CLOSED, step="reopened")
    assert s.closed_at is not None
    if now > s.closed_at + window:
        raise ReopenWindowPassed(
            "the item was closed too long ago to reopen: open a new one",
            item_id=str(s.id),
            closed_at=s.closed_at.isoformat(),
        )
    _deadline(deadline, since=now, now=now)
    return [
        WorkItemReopened(
            item_id=s.id, reason=reason, deadline=deadline, reopened_by=by, reopened_at=now
        )
    ]


def extend_deadline(
    state: WorkItem, *, to: datetime, reason: str, by: str, now: datetime
) -> list[Event]:
    """Only the convener moves the deadline (any director of the place, for an item that no
    meeting decided: the role table says who that is)."""
    s = _in(state, *ACTIVE, Status.COMPLETION_REPORTED, Status.VERIFIED, step="extended")
    if s.convener is not None and by != s.convener:
        raise NotTheConvener("only the convener extends the deadline", item_id=str(s.id))
    if to <= s.deadline:
        raise DeadlineNotAhead(
            "an extension lies beyond the deadline in force", deadline=s.deadline.isoformat()
        )
    _deadline(to, since=now, now=now)
    return [
        DeadlineExtended(
            item_id=s.id,
            from_deadline=s.deadline,
            to_deadline=to,
            reason=reason,
            extended_by=by,
            extended_at=now,
        )
    ]


ESCALATION_WITHDRAWN = "the escalation that opened it was withdrawn"


def withdraw_escalated(
    state: WorkItem, *, dispute_id: UUID, by: str, at: datetime, now: datetime
) -> list[Event]:
    """Withdraw the item that dispute ``dispute_id``'s escalation to the community tier opened,
    now that mediation withdrew that escalation (as of ``at``, when mediation recorded it).

    Nothing when the item is withdrawn already (the withdrawal delivered twice) or was closed by
    the people (its work was done and verified: it stays closed, its history intact). Dated
    ``at``, but never before the item opened — the ledger's fact that withdrew the escalation
    predates it — nor after ``now``."""
    if state.status in (Status.CLOSED, Status.WITHDRAWN):
        return []
    assert state.source.id == dispute_id
    return [
        WorkItemWithdrawn(
            item_id=state.id,
            dispute_id=dispute_id,
            reason=ESCALATION_WITHDRAWN,
            withdrawn_by=by,
            withdrawn_at=max(state.opened_at, min(at, now)),
        )
    ]


def supervise(
    state: WorkItem,
    colour: SupervisionColour,
    *,
    due_by: datetime,
    notify: Iterable[NoticeRecipient] = (),
    now: datetime,
) -> list[Event]:
    """The supervision a deadline raises, if it still applies and was not raised already for
    that colour and deadline: a deadline that fires twice raises nothing the second time."""
    if (colour, due_by) in state.raised or state.status not in ACTIVE:
        return []
    if colour == SupervisionColour.BLUE:
        if state.status != Status.ASSIGNED or state.receipt_due_by != due_by:
            return []
    elif state.deadline != due_by:
        return []
    return [
        SupervisionRaised(
            item_id=state.id,
            colour=colour,
            due_by=due_by,
            owner_organisation_id=state.owner,
            notify=list(notify) if colour == SupervisionColour.RED else [],
            raised_at=now,
        )
    ]
