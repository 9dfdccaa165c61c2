"""The query API's station routes: the desk's receptions counted per period, and its
convenience services.

Same rules as every query route: a bearer JWT, read-your-writes by consistency token (a station
command's token, ``station:<stream>:<version>``, waits for the ``station`` read model), and only
what the caller's areas reach.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from anju_contracts.station import ServiceStatus
from anju_query.application.periods import Period
from anju_query.application.permissions import READ_STATION_RECEPTIONS, READ_STATION_SERVICES
from anju_query.application.scope import Scope
from anju_query.application.station import (
    ReceptionCounts,
    ReceptionFilter,
    ServiceFilter,
    StationServices,
    reception_counts,
    station_services,
)
from anju_query.entrypoints.http import (
    BadDateRange,
    Limit,
    Offset,
    read_your_writes,
    scope_for,
)
from eventkit.app import RuntimeDep

ReceptionsScope = Annotated[Scope, Depends(scope_for(READ_STATION_RECEPTIONS))]
ServicesScope = Annotated[Scope, Depends(scope_for(READ_STATION_SERVICES))]

router = APIRouter(dependencies=[Depends(read_your_writes)])


@router.get("/station/receptions", tags=["station"])
async def count_station_receptions(
    runtime: RuntimeDep,
    scope: ReceptionsScope,
    area_id: Annotated[UUID | None, Query(description="a community, grid or building")] = None,
    from_date: Annotated[date | None, Query(alias="from", description="logged on or after")] = None,
    to_date: Annotated[date | None, Query(alias="to", description="logged on or before")] = None,
    period: Annotated[Period, Query(description="count per UTC day, ISO week or month")] = "day",
) -> ReceptionCounts:
    """How many visitors the desk received per period, with the counts per purpose (a visit may
    have several) and per referral, and the totals."""
    if from_date is not None and to_date is not None and from_date > to_date:
        raise BadDateRange("`from` is after `to`", from_date=str(from_date), to_date=str(to_date))
    search = ReceptionFilter(area_id=area_id, from_date=from_date, to_date=to_date, period=period)
    async with runtime.pool.acquire() as conn:
        return await reception_counts(conn, scope, search)


@router.get("/station/services", tags=["station"])
async def list_station_services(
    runtime: RuntimeDep,
    scope: ServicesScope,
    area_id: Annotated[UUID | None, Query(description="a community, grid or building")] = None,
    status: ServiceStatus | None = None,
    service_type: Annotated[str | None, Query(pattern=r"^[a-z][a-z0-9_]{1,49}$")] = None,
    overdue: Annotated[
        bool | None, Query(description="only those whose hand-off passed its due date")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> StationServices:
    """Convenience services, latest received first, with the resident's name, the agency they
    were handed off to and by when, whether that was overdue, completion and satisfaction; and a
    summary per type and status with the mean hours to completion and the mean satisfaction."""
    search = ServiceFilter(
        area_id=area_id, status=status, service_type=service_type, overdue=overdue
    )
    async with runtime.pool.acquire() as conn:
        return await station_services(conn, scope, search, limit=limit, offset=offset)
