"""A service request from need to delivered.

    open ─assign→ assigned ─accept→ accepted ─start→ in_progress ─finish→ finished ─deliver→ delivered
      ▲               │ decline        │ decline
      └───────────────┴────────────────┘
    open, assigned, accepted ─cancel→ cancelled

A request not taken up (accepted) by its ``respond_by`` is flagged to the coordinator once. Whether
it was taken up in time is judged from business times: one accepted at or before ``respond_by``
responded in time, even if the scheduler flagged it before the acceptance was recorded (a
coordinator bringing in the paper ledger); one accepted later, or still waiting when flagged,
did not (:attr:`Request.response_overdue`).
Finishing credits each volunteer who checked in with the time between check-in and check-out;
the hours count once a coordinator approves them (:mod:`anju_volunteering.domain.ledger`).
Check-in and check-out are often written down after the fact (a grid worker logs in the evening
what a neighbour did in the morning): they may lie in the past, up to :data:`RECORDED_LATE`
before the request was raised, never in the future.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from anju_contracts import Event
from anju_contracts.registry import AreaPath
from anju_contracts.volunteering import (
    DeclineReason,
    RaisedBy,
    RequestCancelReason,
    RequestKind,
    ServiceRequestAccepted,
    ServiceRequestAssigned,
    ServiceRequestCancelled,
    ServiceRequestDeclined,
    ServiceRequestDelivered,
    ServiceRequestFinished,
    ServiceRequestRaised,
    ServiceRequestResponseOverdue,
    ServiceRequestStarted,
)
from anju_volunteering.domain.errors import (
    AssigneeRequired,
    NotTheAssignee,
    WrongRequestState,
)
from eventkit.dates import check_past_event


class Status(StrEnum):
    OPEN = "open"
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    IN_PROGRESS = "in_progress"
    FINISHED = "finished"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"


RECORDED_LATE = timedelta(days=7)
"""How long before a request was raised its work may be recorded to have begun."""

PENDING = (Status.OPEN, Status.ASSIGNED)
"""Not yet taken up: what the response deadline watches."""
LIVE = (Status.OPEN, Status.ASSIGNED, Status.ACCEPTED)
"""May still be cancelled."""


@dataclass(frozen=True)
class Request:
    id: UUID
    resident_id: UUID
    kind: RequestKind
    path: AreaPath
    raised_by: RaisedBy
    period: str | None
    raised_at: datetime
    respond_by: datetime
    status: Status = Status.OPEN
    team_id: UUID | None = None
    volunteer_id: UUID | None = None
    accepted_by: UUID | None = None
    volunteers: tuple[UUID, ...] = ()
    checked_in_at: datetime | None = None
    accepted_at: datetime | None = None
    """When the acceptance in force was given (business time)."""
    flagged: bool = False
    """The scheduler said nobody had taken it up by ``respond_by``."""

    @property
    def response_overdue(self) -> bool:
        """Not taken up by ``respond_by``: by when the acceptance in force happened, else by
        the scheduler's flag."""
        if self.accepted_at is not None:
            return self.accepted_at > self.respond_by
        return self.flagged


def evolve(state: Request | None, event: Event) -> Request | None:
    if isinstance(event, ServiceRequestRaised):
        return Request(
            event.request_id,
            event.resident_id,
            event.kind,
            event.path,
            event.raised_by,
            event.period,
            event.raised_at,
            event.respond_by,
        )
    if state is None:
        return None
    if isinstance(event, ServiceRequestAssigned):
        return replace(
            state,
            status=Status.ASSIGNED,
            team_id=event.team_id,
            volunteer_id=event.volunteer_id,
        )
    if isinstance(event, ServiceRequestAccepted):
        return replace(
            state,
            status=Status.ACCEPTED,
            accepted_by=event.volunteer_id,
            accepted_at=event.accepted_at,
        )
    if isinstance(event, ServiceRequestDeclined):
        return replace(
            state,
            status=Status.OPEN,
            team_id=None,
            volunteer_id=None,
            accepted_by=None,
            accepted_at=None,
        )
    if isinstance(event, ServiceRequestResponseOverdue):
        return replace(state, flagged=True)
    if isinstance(event, ServiceRequestStarted):
        return replace(
            state,
            status=Status.IN_PROGRESS,
            volunteers=tuple(event.volunteer_ids),
            checked_in_at=event.checked_in_at,
        )
    if isinstance(event, ServiceRequestFinished):
        return replace(state, status=Status.FINISHED)
    if isinstance(event, ServiceRequestDelivered):
        return replace(state, status=Status.DELIVERED)
    if isinstance(event, ServiceRequestCancelled):
        return replace(state, status=Status.CANCELLED)
    return state


def fold(events: Iterable[Event]) -> Request | None:
    state: Request | None = None
    for event in events:
        state = evolve(state, event)
    return state


def _in(state: Request, *allowed: Status, step: str) -> Request:
    if state.status not in allowed:
        raise WrongRequestState(
            f"a request that is {state.status} cannot be {step}",
            request_id=str(state.id),
            status=state.status,
        )
    return state


def raise_request(
    request_id: UUID,
    *,
    resident_id: UUID,
    kind: RequestKind,
    description: str,
    path: AreaPath,
    raised_by: RaisedBy,
    staff_id: str | None,
    period: str | None,
    now: datetime,
    response: timedelta,
) -> list[Event]:
    return [
        ServiceRequestRaised(
            request_id=request_id,
            resident_id=resident_id,
            kind=kind,
            description=description,
            path=path,
            raised_by=raised_by,
            staff_id=staff_id,
            period=period,
            raised_at=now,
            respond_by=now + response,
        )
    ]


def assign(
    state: Request, *, team_id: UUID | None, volunteer_id: UUID | None, now: datetime
) -> list[Event]:
    """Give the request to a team or a volunteer (again, to another one, while not taken up)."""
    r = _in(state, Status.OPEN, Status.ASSIGNED, step="assigned")
    if (team_id is None) == (volunteer_id is None):
        raise AssigneeRequired("assign the request to one team or one volunteer")
    if (r.team_id, r.volunteer_id) == (team_id, volunteer_id):
        return []
    return [
        ServiceRequestAssigned(
            request_id=r.id, team_id=team_id, volunteer_id=volunteer_id, assigned_at=now
        )
    ]


def accept(
    state: Request, volunteer_id: UUID, *, team_members: frozenset[UUID], now: datetime
) -> list[Event]:
    """The assignee (or a member of the assigned team, ``team_members``) takes it up."""
    r = _in(state, Status.ASSIGNED, step="accepted")
    if r.volunteer_id != volunteer_id and volunteer_id not in team_members:
        raise NotTheAssignee(
            "the request was given to someone else", volunteer_id=str(volunteer_id)
        )
    return [ServiceRequestAccepted(request_id=r.id, volunteer_id=volunteer_id, accepted_at=now)]


def decline(state: Request, *, reason: DeclineReason, now: datetime) -> list[Event]:
    """The assignee declines: the request is open for another assignment."""
    r = _in(state, Status.ASSIGNED, Status.ACCEPTED, step="declined")
    return [
        ServiceRequestDeclined(
            request_id=r.id,
            volunteer_id=r.accepted_by or r.volunteer_id,
            team_id=r.team_id,
            reason=reason,
            declined_at=now,
        )
    ]


def mark_response_overdue(state: Request, *, respond_by: datetime) -> list[Event]:
    if state.status not in PENDING or state.flagged or state.respond_by != respond_by:
        return []
    return [ServiceRequestResponseOverdue(request_id=state.id, respond_by=respond_by)]


def start(state: Request, volunteer_ids: list[UUID], *, at: datetime, now: datetime) -> list[Event]:
    r = _in(state, Status.ACCEPTED, step="started")
    assert r.accepted_by is not None
    check_past_event(at, since=r.raised_at - RECORDED_LATE, now=now, field="checked_in_at")
    team = list(dict.fromkeys([r.accepted_by, *volunteer_ids]))
    return [ServiceRequestStarted(request_id=r.id, volunteer_ids=team, checked_in_at=at)]


def finish(state: Request, *, at: datetime, now: datetime) -> list[Event]:
    r = _in(state, Status.IN_PROGRESS, step="finished")
    assert r.checked_in_at is not None
    check_past_event(at, since=r.checked_in_at, now=now, field="checked_out_at")
    hours = round((at - r.checked_in_at).total_seconds() / 3600, 2)
    if not 0 < hours <= 24:
        raise WrongRequestState(
            "check-out must be after check-in and within a day",
            request_id=str(r.id),
            hours=hours,
        )
    return [
        ServiceRequestFinished(
            request_id=r.id, volunteer_ids=list(r.volunteers), checked_out_at=at, hours=hours
        )
    ]


def deliver(
    state: Request, *, satisfaction: int, feedback: str | None, now: datetime
) -> list[Event]:
    r = _in(state, Status.FINISHED, step="delivered")
    return [
        ServiceRequestDelivered(
            request_id=r.id, satisfaction=satisfaction, feedback=feedback, delivered_at=now
        )
    ]


def cancel(state: Request, *, reason: RequestCancelReason, now: datetime) -> list[Event]:
    r = _in(state, *LIVE, step="cancelled")
    return [ServiceRequestCancelled(request_id=r.id, reason=reason, cancelled_at=now)]


def cancel_if_live(state: Request, *, reason: RequestCancelReason, now: datetime) -> list[Event]:
    """What a stopped plan does to its request: cancel it unless work on it has begun."""
    if state.status not in LIVE:
        return []
    return cancel(state, reason=reason, now=now)
