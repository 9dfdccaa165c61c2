"""The query API's station routes: the desk's receptions counted per period, its convenience
services, residence certificates, lectures and activities, the opinion log and the duty roster.

Same rules as every query route: a bearer JWT, read-your-writes by consistency token (a station
command's token, ``station:<stream>:<version>``, waits for the ``station`` read model), and only
what the caller's areas reach.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query

from anju_contracts.station import GatheringKind, ServiceStatus
from anju_query.application.models import Page
from anju_query.application.periods import Period
from anju_query.application.permissions import (
    READ_STATION_CERTIFICATES,
    READ_STATION_GATHERINGS,
    READ_STATION_OPINIONS,
    READ_STATION_RECEPTIONS,
    READ_STATION_ROSTER,
    READ_STATION_SERVICES,
)
from anju_query.application.scope import Scope
from anju_query.application.station import (
    ReceptionCounts,
    ReceptionFilter,
    ServiceFilter,
    StationServices,
    reception_counts,
    station_services,
)
from anju_query.application.station_certificates import (
    CertificateFilter,
    CertificateStatus,
    RosterDay,
    RosterFilter,
    StationCertificates,
    duty_roster,
    station_certificates,
)
from anju_query.application.station_gatherings import (
    GatheringFilter,
    OpinionFilter,
    OpinionStatus,
    StationGatherings,
    StationOpinions,
    station_gatherings,
    station_opinions,
)
from anju_query.entrypoints.http import (
    Limit,
    Offset,
    check_range,
    query_router,
    scope_for,
)
from eventkit.app import RuntimeDep

ReceptionsScope = Annotated[Scope, Depends(scope_for(READ_STATION_RECEPTIONS))]
ServicesScope = Annotated[Scope, Depends(scope_for(READ_STATION_SERVICES))]
CertificatesScope = Annotated[Scope, Depends(scope_for(READ_STATION_CERTIFICATES))]
GatheringsScope = Annotated[Scope, Depends(scope_for(READ_STATION_GATHERINGS))]
OpinionsScope = Annotated[Scope, Depends(scope_for(READ_STATION_OPINIONS))]
RosterScope = Annotated[Scope, Depends(scope_for(READ_STATION_ROSTER))]
Community = Annotated[UUID | None, Query(description="only this community's")]

router = query_router()


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
    check_range(from_date, to_date)
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


@router.get("/station/gatherings", tags=["station"])
async def list_station_gatherings(
    runtime: RuntimeDep,
    scope: GatheringsScope,
    community_id: Community = None,
    kind: GatheringKind | None = None,
    from_date: Annotated[date | None, Query(alias="from", description="held on or after")] = None,
    to_date: Annotated[date | None, Query(alias="to", description="held on or before")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> StationGatherings:
    """Lectures, policy explanations, civilisation-practice activities and opinion-gathering
    sessions, latest held first: topic, speaker, date, attendance, the partner that co-hosted
    it, how many opinions were raised; and for the whole period the count and attendance per
    kind."""
    check_range(from_date, to_date)
    search = GatheringFilter(
        community_id=community_id, kind=kind, from_date=from_date, to_date=to_date
    )
    async with runtime.pool.acquire() as conn:
        return await station_gatherings(conn, scope, search, limit=limit, offset=offset)


@router.get("/station/opinions", tags=["station"])
async def list_station_opinions(
    runtime: RuntimeDep,
    scope: OpinionsScope,
    community_id: Community = None,
    status: OpinionStatus | None = None,
    from_date: Annotated[
        date | None, Query(alias="from", description="raised on or after (UTC day)")
    ] = None,
    to_date: Annotated[
        date | None, Query(alias="to", description="raised on or before (UTC day)")
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> StationOpinions:
    """The opinion log, latest raised first: each opinion with its session, its text, and what
    became of it — open, answered (the reply), referred to mediation (the conflict signal
    mediation reported for it, and the dispute it became, or its dismissal) or referred to
    governance; counted per status."""
    check_range(from_date, to_date)
    search = OpinionFilter(
        community_id=community_id, status=status, from_date=from_date, to_date=to_date
    )
    async with runtime.pool.acquire() as conn:
        return await station_opinions(conn, scope, search, limit=limit, offset=offset)


@router.get("/station/certificates", tags=["station"])
async def list_station_certificates(
    runtime: RuntimeDep,
    scope: CertificatesScope,
    community_id: Community = None,
    resident_id: UUID | None = None,
    status: CertificateStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> StationCertificates:
    """Residence certificates issued at the desk, latest first: number, holder (the resident's
    id; the name only for callers who may see that resident), address and since when, valid or
    revoked with the reason."""
    search = CertificateFilter(community_id=community_id, resident_id=resident_id, status=status)
    async with runtime.pool.acquire() as conn:
        return await station_certificates(conn, scope, search, limit=limit, offset=offset)


@router.get("/station/roster", tags=["station"])
async def get_station_roster(
    runtime: RuntimeDep,
    scope: RosterScope,
    community_id: Community = None,
    from_date: Annotated[date | None, Query(alias="from", description="from this day")] = None,
    to_date: Annotated[date | None, Query(alias="to", description="to this day")] = None,
    limit: Annotated[int, Query(ge=1, le=400)] = 100,
    offset: Offset = 0,
) -> Page[RosterDay]:
    """Who is on duty at the desk and at the party-member pioneer post, per community and day
    (the latest roster set for that day)."""
    check_range(from_date, to_date)
    search = RosterFilter(community_id=community_id, from_date=from_date, to_date=to_date)
    async with runtime.pool.acquire() as conn:
        return await duty_roster(conn, scope, search, limit=limit, offset=offset)
