"""The query API's governance routes: the work-list board, an item's history, the meeting
register, on-time completion rates and the items overdue now.

Same rules as every query route: a bearer JWT, read-your-writes by consistency token (a
governance command's token, ``governance:<stream>:<version>``, waits for the ``governance``
read model), and only what the one access policy lets the caller see: their areas' meetings and
items; a partner's liaison only the items their organisations own or co-own (any other is 404);
an item from a sensitive dispute only directors (each such item shown is an audited read).
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Request

from anju_contracts.governance import (
    MEETING_KIND_PATTERN,
    SupervisionColour,
    WorkItemSource,
    WorkItemStatus,
)
from anju_query.application.meetings import MeetingFilter, MeetingItem, meeting_register
from anju_query.application.models import Page
from anju_query.application.on_time import OnTimeFilter, OnTimeReport, on_time_rates
from anju_query.application.periods import Period
from anju_query.application.permissions import READ_MEETINGS, READ_WORK_ITEMS
from anju_query.application.scope import Scope
from anju_query.application.work_items import (
    ItemFilter,
    WorkItemBoard,
    WorkItemDetail,
    work_item,
    work_item_board,
)
from anju_query.entrypoints.http import (
    Limit,
    NowDep,
    Offset,
    check_range,
    query_router,
    scope_for,
)
from eventkit import audit
from eventkit.app import RuntimeDep
from eventkit.errors import NotFound

MeetingsScope = Annotated[Scope, Depends(scope_for(READ_MEETINGS))]
ItemsScope = Annotated[Scope, Depends(scope_for(READ_WORK_ITEMS))]
CommunityId = Annotated[UUID | None, Query(description="only this community's")]
FromDate = Annotated[date | None, Query(alias="from", description="on or after (UTC day)")]
ToDate = Annotated[date | None, Query(alias="to", description="on or before (UTC day)")]

router = query_router()


def _utc(value: datetime | None) -> datetime | None:
    """A filter's time in UTC (a time without an offset is taken as UTC); one beyond what a
    timestamp holds becomes the nearest that does (the filter then keeps nothing, or all)."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        return (datetime.min if value.year == 1 else datetime.max).replace(tzinfo=UTC)


async def _board(
    request: Request,
    runtime: RuntimeDep,
    scope: Scope,
    search: ItemFilter,
    *,
    limit: int,
    offset: int,
    now: datetime,
) -> WorkItemBoard:
    async with runtime.pool.acquire() as conn:
        board = await work_item_board(conn, scope, search, limit=limit, offset=offset, now=now)
        await audit.record_reads(
            conn,
            scope.principal,
            "work_item",
            [i.id for i in board.items if i.sensitive],
            audit.route_of(request),
            correlation_id=audit.correlation_of(request),
        )
    return board


@router.get("/governance/work-items", tags=["governance"])
async def list_work_items(
    request: Request,
    runtime: RuntimeDep,
    scope: ItemsScope,
    now: NowDep,
    community_id: CommunityId = None,
    owner_id: Annotated[UUID | None, Query(description="the owner organisation")] = None,
    status: WorkItemStatus | None = None,
    colour: Annotated[SupervisionColour | None, Query(description="the supervision now")] = None,
    source: Annotated[WorkItemSource | None, Query(description="the service it came from")] = None,
    due_before: Annotated[
        datetime | None, Query(description="deadline (as extended) before this time")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> WorkItemBoard:
    """The work-list board: each item with its owner and co-organisations (named as the
    registry names them), the person responsible, deadline, priority, status, the supervision
    colour in force, its source and whether it is overdue now; open items first, the nearest
    deadline first; with counts per status and colour and of those overdue."""
    search = ItemFilter(
        community_id=community_id,
        owner_id=owner_id,
        status=status,
        colour=colour,
        source=source,
        due_before=_utc(due_before),
    )
    return await _board(request, runtime, scope, search, limit=limit, offset=offset, now=now)


@router.get("/governance/overdue", tags=["governance"])
async def list_overdue(
    request: Request,
    runtime: RuntimeDep,
    scope: ItemsScope,
    now: NowDep,
    community_id: CommunityId = None,
    owner_id: Annotated[UUID | None, Query(description="the owner organisation")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> WorkItemBoard:
    """The items overdue now — still the owner's to do, the deadline (as extended) passed —
    the longest overdue first."""
    search = ItemFilter(community_id=community_id, owner_id=owner_id, overdue=True)
    return await _board(request, runtime, scope, search, limit=limit, offset=offset, now=now)


@router.get("/governance/work-items/{item_id}", tags=["governance"])
async def get_work_item(
    request: Request, runtime: RuntimeDep, scope: ItemsScope, now: NowDep, item_id: UUID
) -> WorkItemDetail:
    """A work item, its source and its whole history: every fact with who, when and the reason
    (an extension's, a failed verification's, a reopening's)."""
    async with runtime.pool.acquire() as conn:
        item = await work_item(conn, scope, item_id, now=now)
        if item is None:
            raise NotFound("no such work item", item_id=str(item_id))
        if item.sensitive:
            await audit.record_read(
                conn,
                scope.principal,
                "work_item",
                item_id,
                audit.route_of(request),
                correlation_id=audit.correlation_of(request),
            )
    return item


@router.get("/governance/meetings", tags=["governance"])
async def list_meetings(
    runtime: RuntimeDep,
    scope: MeetingsScope,
    now: NowDep,
    community_id: CommunityId = None,
    kind: Annotated[
        str | None, Query(pattern=MEETING_KIND_PATTERN, description="joint_party_building, ...")
    ] = None,
    from_date: FromDate = None,
    to_date: ToDate = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[MeetingItem]:
    """The meeting register, the latest first: kind, day, convener, the organisations that
    attended, the agenda, whether the minutes are confirmed, and each decision with the work
    items it became."""
    check_range(from_date, to_date)
    search = MeetingFilter(
        community_id=community_id, kind=kind, from_date=from_date, to_date=to_date
    )
    async with runtime.pool.acquire() as conn:
        return await meeting_register(conn, scope, search, limit=limit, offset=offset, now=now)


@router.get("/governance/on-time", tags=["governance"])
async def get_on_time(
    runtime: RuntimeDep,
    scope: ItemsScope,
    now: NowDep,
    community_id: CommunityId = None,
    from_date: FromDate = None,
    to_date: ToDate = None,
    period: Annotated[Period, Query(description="per UTC day, ISO week or month")] = "month",
) -> OnTimeReport:
    """On-time completion per owner organisation and period: of the items whose deadline (as
    extended) falls in the period, how many were closed on time, closed late, or are open, and
    the rate closed on time over due (at most 400 periods: `too_many_periods`)."""
    check_range(from_date, to_date)
    search = OnTimeFilter(
        community_id=community_id, from_date=from_date, to_date=to_date, period=period
    )
    async with runtime.pool.acquire() as conn:
        return await on_time_rates(conn, scope, search, now=now)
