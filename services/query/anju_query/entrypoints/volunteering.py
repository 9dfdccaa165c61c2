"""The query API's volunteering routes: service requests and their statistics, approved hours,
volunteers, and a host organisation's quarterly summary.

Same rules as every query route: a bearer JWT, read-your-writes by consistency token (a
volunteering command's token, ``volunteering:<stream>:<version>``, waits for the
``volunteering`` read model), and only what the caller's areas reach — a request by the place
it was raised for, a volunteer and their hours by the place they serve.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query

from anju_contracts.volunteering import RequestKind, VolunteerKind
from anju_query.application.config import QueryConfig
from anju_query.application.models import RequestStatus
from anju_query.application.permissions import (
    READ_HOST_UNIT_SUMMARY,
    READ_SERVICE_REQUESTS,
    READ_SERVICE_STATISTICS,
    READ_VOLUNTEER_HOURS,
    READ_VOLUNTEERS,
)
from anju_query.application.scope import Scope
from anju_query.application.service_requests import (
    RequestFilter,
    ServiceRequestList,
    ServiceRequestStatistics,
    service_request_statistics,
    service_requests,
    utc_day,
)
from anju_query.application.volunteers import (
    HostUnitSummary,
    HoursFilter,
    HoursReport,
    VolunteerFilter,
    VolunteerList,
    host_unit_summary,
    list_volunteers,
    volunteer_hours,
    year_before,
)
from anju_query.entrypoints.http import Limit, NowDep, Offset, query_router, scope_for
from eventkit.app import CONFIG, RuntimeDep

RequestsScope = Annotated[Scope, Depends(scope_for(READ_SERVICE_REQUESTS))]
StatisticsScope = Annotated[Scope, Depends(scope_for(READ_SERVICE_STATISTICS))]
HoursScope = Annotated[Scope, Depends(scope_for(READ_VOLUNTEER_HOURS))]
VolunteersScope = Annotated[Scope, Depends(scope_for(READ_VOLUNTEERS))]
HostUnitScope = Annotated[Scope, Depends(scope_for(READ_HOST_UNIT_SUMMARY))]
Config = Annotated[QueryConfig, CONFIG]
AreaId = Annotated[UUID | None, Query(description="a community, grid or building")]
From = Annotated[date | None, Query(alias="from", description="on or after")]
To = Annotated[date | None, Query(alias="to", description="on or before")]

router = query_router()


@router.get("/volunteering/requests", tags=["volunteering"])
async def list_service_requests(
    runtime: RuntimeDep,
    scope: RequestsScope,
    now: NowDep,
    area_id: AreaId = None,
    status: RequestStatus | None = None,
    kind: RequestKind | None = None,
    overdue: Annotated[
        bool | None, Query(description="only those nobody took up in time (or only the others)")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> ServiceRequestList:
    """Service requests, oldest first, with the resident, age, who has them and whether the
    response is overdue; counts per grid (open, overdue, the oldest open one's age)."""
    search = RequestFilter(area_id=area_id, status=status, kind=kind, overdue=overdue)
    async with runtime.pool.acquire() as conn:
        return await service_requests(conn, scope, search, limit=limit, offset=offset, now=now)


@router.get("/volunteering/requests/statistics", tags=["volunteering"])
async def get_service_request_statistics(
    runtime: RuntimeDep,
    scope: StatisticsScope,
    now: NowDep,
    area_id: AreaId = None,
    period_from: From = None,
    period_to: To = None,
) -> ServiceRequestStatistics:
    """Requests delivered per month and kind with the mean satisfaction (default: the last 12
    months up to today)."""
    until = period_to or utc_day(now)
    since = period_from or year_before(until) + timedelta(days=1)
    async with runtime.pool.acquire() as conn:
        return await service_request_statistics(
            conn, scope, area_id=area_id, period_from=since, period_to=until
        )


@router.get("/volunteering/hours", tags=["volunteering"])
async def get_volunteer_hours(
    runtime: RuntimeDep,
    scope: HoursScope,
    area_id: AreaId = None,
    volunteer_id: UUID | None = None,
    team_id: UUID | None = None,
    organisation_id: UUID | None = None,
    served_from: From = None,
    served_to: To = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> HoursReport:
    """Approved hours (served in the period) per volunteer, per team (its members' hours while
    members) and per host organisation. Pending and rejected hours never count."""
    search = HoursFilter(
        area_id=area_id,
        volunteer_id=volunteer_id,
        team_id=team_id,
        organisation_id=organisation_id,
        served_from=served_from,
        served_to=served_to,
    )
    async with runtime.pool.acquire() as conn:
        return await volunteer_hours(conn, scope, search, limit=limit, offset=offset)


@router.get("/volunteering/volunteers", tags=["volunteering"])
async def get_volunteers(
    runtime: RuntimeDep,
    scope: VolunteersScope,
    config: Config,
    now: NowDep,
    area_id: AreaId = None,
    kind: VolunteerKind | None = None,
    active: Annotated[
        bool | None, Query(description="only active volunteers (or only the others)")
    ] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> VolunteerList:
    """Volunteers with their approved hours of the last 12 months, most first, and whether each
    is an active volunteer (averaged at least the configured hours a month and has not left)."""
    search = VolunteerFilter(area_id=area_id, kind=kind, active=active)
    async with runtime.pool.acquire() as conn:
        return await list_volunteers(
            conn,
            scope,
            search,
            monthly_hours=config.active_volunteer_monthly_hours,
            limit=limit,
            offset=offset,
            today=utc_day(now),
        )


@router.get("/volunteering/host-units/{organisation_id}/summary", tags=["volunteering"])
async def get_host_unit_summary(
    runtime: RuntimeDep,
    scope: HostUnitScope,
    now: NowDep,
    organisation_id: UUID,
    year: Annotated[int | None, Query(ge=2000, le=2200, description="default: now")] = None,
    quarter: Annotated[int | None, Query(ge=1, le=4, description="default: now")] = None,
) -> HostUnitSummary:
    """A host organisation's quarter: each of its in-service party members serving here, their
    approved hours and services (requests finished, shifts attended), and the totals. Members
    outside the caller's areas are left out; none visible is an empty summary."""
    today = utc_day(now)
    async with runtime.pool.acquire() as conn:
        return await host_unit_summary(
            conn,
            scope,
            organisation_id,
            year=today.year if year is None else year,
            quarter=(today.month + 2) // 3 if quarter is None else quarter,
        )
