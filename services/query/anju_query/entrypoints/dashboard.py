"""The query API's dashboard: the community's report figures for a period, and the records
behind each figure (``anju_query.application.dashboard`` defines them).

Same rules as every query route: a bearer JWT, read-your-writes by consistency token, and only
what the caller's areas reach; small counts of sensitive groups are suppressed for callers who
see only aggregates.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date
from typing import Annotated
from uuid import UUID

import asyncpg
from fastapi import Depends, Query, Request

from anju_query.application.config import QueryConfig
from anju_query.application.dashboard import (
    Dashboard,
    FigureRecords,
    Period,
    dashboard,
    figure_records,
)
from anju_query.application.permissions import READ_DASHBOARD
from anju_query.application.scope import Scope
from anju_query.entrypoints.http import Limit, Offset, check_range, query_router, scope_for
from eventkit import audit
from eventkit.app import CONFIG, RuntimeDep

DashboardScope = Annotated[Scope, Depends(scope_for(READ_DASHBOARD))]
Config = Annotated[QueryConfig, CONFIG]
Community = Annotated[
    UUID | None, Query(description="only this community's (else all the caller sees)")
]
From = Annotated[date, Query(alias="from", description="the period's first UTC day")]
To = Annotated[date, Query(alias="to", description="the period's last UTC day (included)")]

router = query_router()


async def record_audited_reads(
    conn: asyncpg.Connection, request: Request, scope: Scope, audited: Mapping[str, Iterable[UUID]]
) -> None:
    """Record that the caller read the sensitive records an answer listed (a drill-down, the
    report's appendix), by the kind of record each read is audited as."""
    for kind, ids in audited.items():
        await audit.record_reads(
            conn,
            scope.principal,
            kind,
            ids,
            audit.route_of(request),
            correlation_id=audit.correlation_of(request),
        )


def _period(community_id: UUID | None, from_date: date, to_date: date) -> Period:
    check_range(from_date, to_date)
    return Period(community_id, from_date, to_date)


@router.get("/dashboard", tags=["dashboard"])
async def get_dashboard(
    runtime: RuntimeDep,
    scope: DashboardScope,
    config: Config,
    from_date: From,
    to_date: To,
    community_id: Community = None,
) -> Dashboard:
    """The report's figures for the period (receptions, lectures, convenience services by type,
    disputes resolved by tier, petitions handled by proxy, health activities and people served,
    special-group flags, volunteers and approved hours, work items closed on time and late,
    satisfaction ratings) and the response, resolution and satisfaction rates."""
    period = _period(community_id, from_date, to_date)
    async with runtime.pool.acquire() as conn:
        return await dashboard(
            conn, scope, period, threshold=config.dashboard_suppression_threshold
        )


@router.get("/dashboard/figures/{name}", tags=["dashboard"])
async def list_figure_records(
    runtime: RuntimeDep,
    scope: DashboardScope,
    request: Request,
    name: str,
    from_date: From,
    to_date: To,
    community_id: Community = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> FigureRecords:
    """The records that make up one figure of the dashboard (its id, day, a short label, its
    group, its amount and the event that made it count), latest first; ``value`` is the
    figure, ``total`` how many records there are."""
    period = _period(community_id, from_date, to_date)
    async with runtime.pool.acquire() as conn:
        audited, records = await figure_records(
            conn, scope, name, period, limit=limit, offset=offset
        )
        await record_audited_reads(conn, request, scope, audited)
    return records
