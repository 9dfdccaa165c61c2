"""The query API's health routes: due and overdue visits, the 65+ coverage, health activities.

Same rules as every query route: a bearer JWT, read-your-writes by consistency token (a health
command's token, ``health:record-<id>:<version>``, waits for the ``health`` read model), and
only what the caller's areas reach. A visit's programme is for doctors (and admins) only.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query

from anju_contracts.health import ActivityKind
from anju_query.application.health import (
    ActivityFilter,
    HealthActivities,
    HealthCoverage,
    HealthVisitBoard,
    VisitFilter,
    health_activities,
    health_coverage,
    health_visits,
)
from anju_query.application.models import HealthVisitState
from anju_query.application.permissions import (
    READ_HEALTH_ACTIVITIES,
    READ_HEALTH_COVERAGE,
    READ_HEALTH_VISITS,
)
from anju_query.application.scope import Scope
from anju_query.entrypoints.http import Limit, NowDep, Offset, query_router, scope_for
from eventkit.app import RuntimeDep

VisitsScope = Annotated[Scope, Depends(scope_for(READ_HEALTH_VISITS))]
CoverageScope = Annotated[Scope, Depends(scope_for(READ_HEALTH_COVERAGE))]
ActivitiesScope = Annotated[Scope, Depends(scope_for(READ_HEALTH_ACTIVITIES))]

router = query_router()


@router.get("/health/visits", tags=["health"])
async def list_health_visits(
    runtime: RuntimeDep,
    scope: VisitsScope,
    now: NowDep,
    area_id: Annotated[UUID | None, Query(description="a community or grid")] = None,
    doctor_id: Annotated[
        str | None,
        Query(max_length=100, description="a family doctor's id, or `unassigned`"),
    ] = None,
    state: HealthVisitState | None = None,
    within_days: Annotated[
        int, Query(ge=0, le=366, description="due within this many days from today")
    ] = 30,
    limit: Limit = 100,
    offset: Offset = 0,
) -> HealthVisitBoard:
    """Open programme visits due within ``within_days`` and every overdue one, soonest first,
    with counts per grid and family doctor. The programme is shown to doctors only."""
    board = VisitFilter(area_id=area_id, doctor_id=doctor_id, state=state, within_days=within_days)
    async with runtime.pool.acquire() as conn:
        return await health_visits(conn, scope, board, limit=limit, offset=offset, today=now.date())


@router.get("/health/coverage", tags=["health"])
async def get_health_coverage(
    runtime: RuntimeDep,
    scope: CoverageScope,
    now: NowDep,
    area_id: Annotated[UUID | None, Query(description="a community or grid")] = None,
    year: Annotated[int | None, Query(ge=1900, le=2200, description="default: this year")] = None,
) -> HealthCoverage:
    """The elderly programme's coverage in a year: residents aged 65+ on 31 December, how many
    are enrolled, how many had their check-up that year, and the share; per grid."""
    async with runtime.pool.acquire() as conn:
        return await health_coverage(
            conn, scope, area_id=area_id, year=now.year if year is None else year
        )


@router.get("/health/activities", tags=["health"])
async def list_health_activities(
    runtime: RuntimeDep,
    scope: ActivitiesScope,
    area_id: Annotated[UUID | None, Query(description="a community, grid or building")] = None,
    held_from: Annotated[date | None, Query(alias="from", description="held on or after")] = None,
    held_to: Annotated[date | None, Query(alias="to", description="held on or before")] = None,
    kind: ActivityKind | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> HealthActivities:
    """Health activities and clinic days, latest first, with how many were held and how many
    people were served, per kind and in total."""
    search = ActivityFilter(area_id=area_id, held_from=held_from, held_to=held_to, kind=kind)
    async with runtime.pool.acquire() as conn:
        return await health_activities(conn, scope, search, limit=limit, offset=offset)
