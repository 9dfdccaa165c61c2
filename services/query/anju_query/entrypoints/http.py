"""The query API. Every route needs a bearer JWT and answers only what the caller may see.

Read your writes: each route takes a consistency token (query ``consistency_token`` or header
``X-Consistency-Token``, as a command answered it). The route waits, up to
``consistency_wait_s``, until the read model has applied that stream to that version, then
answers with ``X-Consistency: fresh``; when the wait times out it still answers, with what it
has, and ``X-Consistency: stale`` — a UI would rather show slightly old data and say so than
fail. A malformed token, or one of a source no read model here follows, is a 400
``bad_consistency_token``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Header, Query, Request, Response

from anju_contracts.mediation import Sensitivity
from anju_contracts.registry import FlagType, RiskTier
from anju_query.application.areas import area_summary, area_tree
from anju_query.application.disputes import Audience, DisputeFilter, dispute_board
from anju_query.application.follow_ups import BoardFilter, follow_up_board
from anju_query.application.health import health_section
from anju_query.application.models import (
    AreaNode,
    AreaSummary,
    DisputeItem,
    FollowUpBoard,
    FollowUpState,
    Page,
    PetitionItem,
    ResidentProfile,
    ResidentStatus,
    ResidentSummary,
)
from anju_query.application.permissions import (
    PERMISSIONS,
    READ_AREA_SUMMARY,
    READ_AREAS,
    READ_DISPUTES,
    READ_FOLLOW_UPS,
    READ_HEALTH_VISITS,
    READ_PETITIONS,
    READ_RESIDENTS,
    READ_SERVICE_REQUESTS,
    READ_SIGNALS,
    READ_STATION_RECEPTIONS,
)
from anju_query.application.petitions import PetitionFilter, list_petitions
from anju_query.application.residents import DirectoryFilter, resident_profile, search_residents
from anju_query.application.scope import Scope
from anju_query.application.service_requests import services_section
from anju_query.application.station import station_section
from anju_query.entrypoints.exports import Exportable
from anju_query.projections import FOLLOWS
from eventkit import audit
from eventkit.access import VISIBLE_ID_SUFFIX
from eventkit.app import RuntimeDep
from eventkit.auth import Principal
from eventkit.commands import BadConsistencyToken, Clock, ConsistencyToken
from eventkit.errors import BadDateRange, NotFound, Rejected
from eventkit.http import CurrentUser
from eventkit.projection import wait_for_stream


class IdSuffixTooLong(Rejected):
    code = "id_suffix_too_long"


def check_range(from_date: date | None, to_date: date | None) -> None:
    """Refuse a period that ends before it starts (400 ``bad_date_range``); an open end is
    fine."""
    if from_date is not None and to_date is not None and from_date > to_date:
        raise BadDateRange("`from` is after `to`", from_date=str(from_date), to_date=str(to_date))


async def read_your_writes(
    _: CurrentUser,
    runtime: RuntimeDep,
    response: Response,
    consistency_token: Annotated[
        str | None, Query(description="`<source>:<stream_id>:<version>` from a command")
    ] = None,
    x_consistency_token: Annotated[str | None, Header()] = None,
) -> None:
    raw = consistency_token or x_consistency_token
    if raw is None:
        return
    token = ConsistencyToken.decode(raw)
    projection = FOLLOWS.get(token.source)
    if projection is None:
        raise BadConsistencyToken("no read model here follows that source", source=token.source)
    runner = runtime.runner(projection)
    fresh = await wait_for_stream(
        runtime.pool,
        projection,
        token.source,
        token.stream_id,
        token.version,
        timeout_s=runtime.settings.consistency_wait_s,
        wake=None if runner is None else runner.applied,
    )
    response.headers["X-Consistency"] = "fresh" if fresh else "stale"


async def now_of(request: Request) -> datetime:
    """The time of this request, from the app's clock: tests move it by hand."""
    clock: Clock = request.app.state.clock
    return clock()


NowDep = Annotated[datetime, Depends(now_of)]


def scope_for(action: str) -> Callable[[Principal], Awaitable[Scope]]:
    """A dependency: the caller's scope, once their role may do ``action`` (else 403)."""

    async def dependency(principal: CurrentUser) -> Scope:
        PERMISSIONS.check(principal, action)
        return Scope.of(principal)

    return dependency


ResidentsScope = Annotated[Scope, Depends(scope_for(READ_RESIDENTS))]
FollowUpsScope = Annotated[Scope, Depends(scope_for(READ_FOLLOW_UPS))]
AreaSummaryScope = Annotated[Scope, Depends(scope_for(READ_AREA_SUMMARY))]
AreasScope = Annotated[Scope, Depends(scope_for(READ_AREAS))]
SignalsScope = Annotated[Scope, Depends(scope_for(READ_SIGNALS))]
PetitionsScope = Annotated[Scope, Depends(scope_for(READ_PETITIONS))]
Limit = Annotated[int, Query(ge=1, le=200)]
Offset = Annotated[int, Query(ge=0, le=100_000)]


def query_router() -> APIRouter:
    """A router of the query API: read-your-writes on every route, and each board or table
    exportable as CSV or XLSX (:mod:`anju_query.entrypoints.exports`)."""
    return APIRouter(route_class=Exportable, dependencies=[Depends(read_your_writes)])


router = query_router()


@router.get("/residents", tags=["residents"])
async def list_residents(
    runtime: RuntimeDep,
    scope: ResidentsScope,
    now: NowDep,
    q: Annotated[str | None, Query(max_length=50, description="part of the name")] = None,
    id_suffix: Annotated[str | None, Query(pattern=r"^[0-9Xx]{1,18}$")] = None,
    unit_id: UUID | None = None,
    grid_id: UUID | None = None,
    status: ResidentStatus | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ResidentSummary]:
    """The resident directory: search by name, the last digits of the ID number, unit, grid.

    A caller who sees identity numbers masked may search by as many trailing characters as the
    mask shows, no more: a longer suffix would let them reconstruct the number."""
    if id_suffix and not scope.full_id_numbers and len(id_suffix) > VISIBLE_ID_SUFFIX:
        raise IdSuffixTooLong(
            f"search by at most the last {VISIBLE_ID_SUFFIX} characters",
            max_length=VISIBLE_ID_SUFFIX,
        )
    search = DirectoryFilter(
        q=q, id_suffix=id_suffix, unit_id=unit_id, grid_id=grid_id, status=status
    )
    async with runtime.pool.acquire() as conn:
        return await search_residents(
            conn, scope, search, limit=limit, offset=offset, today=now.date()
        )


@router.get("/residents/{resident_id}", tags=["residents"])
async def get_resident(
    request: Request, runtime: RuntimeDep, scope: ResidentsScope, now: NowDep, resident_id: UUID
) -> ResidentProfile:
    """A resident's profile: details, household, flags, visits and the next visit due; the
    disputes they are a party to and the petitions filed for them, as far as the caller may see;
    their health record and open programme visits (the programme for doctors only); the
    service requests raised for them and their cleaning plan; their visits to the station and
    the convenience services it gave them (those logged within the caller's areas).

    A profile that shows the full ID number, or a sensitive dispute, is an audited read."""
    principal = scope.principal
    audience = Audience(scope)
    async with runtime.pool.acquire() as conn:
        profile = await resident_profile(conn, scope, resident_id, now=now)
        if profile is None:
            raise NotFound("no such resident", resident_id=str(resident_id))
        disputes = (
            await dispute_board(
                conn,
                audience,
                DisputeFilter(resident_id=resident_id),
                limit=200,
                offset=0,
                now=now,
                reply_window=request.app.state.config.reply_risk_window,
            )
            if PERMISSIONS.allows(principal, READ_DISPUTES)
            else Page[DisputeItem](items=[], total=0, limit=200, offset=0)
        )
        petitions = (
            await list_petitions(
                conn, scope, PetitionFilter(resident_id=resident_id), limit=200, offset=0, now=now
            )
            if PERMISSIONS.allows(principal, READ_PETITIONS)
            else Page[PetitionItem](items=[], total=0, limit=200, offset=0)
        )
        health = (
            await health_section(conn, scope, resident_id)
            if PERMISSIONS.allows(principal, READ_HEALTH_VISITS)
            else None
        )
        services = (
            await services_section(conn, resident_id)
            if PERMISSIONS.allows(principal, READ_SERVICE_REQUESTS)
            else None
        )
        station = (
            await station_section(conn, scope, resident_id)
            if PERMISSIONS.allows(principal, READ_STATION_RECEPTIONS)
            else None
        )
        route, correlation_id = audit.route_of(request), audit.correlation_of(request)
        if scope.full_id_numbers:
            await audit.record_read(
                conn, principal, "resident", resident_id, route, correlation_id=correlation_id
            )
        sensitive = [d.id for d in disputes.items if d.sensitivity == Sensitivity.SENSITIVE]
        await audit.record_reads(
            conn, principal, "dispute", sensitive, route, correlation_id=correlation_id
        )
    return profile.model_copy(
        update={
            "disputes": disputes.items,
            "petitions": petitions.items,
            "health": health,
            "services": services,
            "station": station,
        }
    )


@router.get("/follow-ups", tags=["follow-ups"])
async def list_follow_ups(
    runtime: RuntimeDep,
    scope: FollowUpsScope,
    now: NowDep,
    grid_id: UUID | None = None,
    state: FollowUpState | None = None,
    worker: Annotated[str | None, Query(description="a grid worker's id, or `unassigned`")] = None,
    flag: FlagType | None = None,
    tier: RiskTier | None = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> FollowUpBoard:
    """Pending follow-up visits, soonest due first, with counts per grid and grid worker."""
    board = BoardFilter(grid_id=grid_id, state=state, worker=worker, flag=flag, tier=tier)
    async with runtime.pool.acquire() as conn:
        return await follow_up_board(conn, scope, board, limit=limit, offset=offset, now=now)


@router.get("/areas/summary", tags=["areas"])
async def get_area_summary(
    runtime: RuntimeDep, scope: AreaSummaryScope, grid_id: UUID | None = None
) -> AreaSummary:
    """Per grid: active residents, households, and active flags by type and tier."""
    async with runtime.pool.acquire() as conn:
        return await area_summary(conn, scope, grid_id=grid_id)


@router.get("/areas", tags=["areas"])
async def get_areas(runtime: RuntimeDep, scope: AreasScope) -> list[AreaNode]:
    """The area tree (community → grid → building → unit) within the caller's scope."""
    async with runtime.pool.acquire() as conn:
        return await area_tree(conn, scope)
