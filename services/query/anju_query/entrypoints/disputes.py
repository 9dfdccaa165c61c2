"""The query API's dispute routes: the board, a dispute's timeline, statistics.

Same rules as every query route: a bearer JWT, read-your-writes by consistency token (a
mediation command's token waits for the ``disputes`` read model), and only what the caller
may see — sensitive disputes only for their assigned mediators and the director.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query, Request

from anju_contracts.mediation import Category, Sensitivity, Tier
from anju_query.application.config import QueryConfig
from anju_query.application.disputes import (
    Audience,
    DisputeDetail,
    DisputeFilter,
    DisputeStatistics,
    ParkedOrderItem,
    dispute_board,
    dispute_detail,
    dispute_statistics,
    parked_orders,
)
from anju_query.application.models import (
    DisputeItem,
    DisputeStatus,
    Page,
    PetitionItem,
    PetitionStatus,
    SlaState,
)
from anju_query.application.permissions import PERMISSIONS, READ_DISPUTES
from anju_query.application.petitions import PetitionFilter, Timeliness, list_petitions
from anju_query.application.signals import SignalFilter, SignalItem, SignalStatus, list_signals
from anju_query.entrypoints.http import (
    Limit,
    NowDep,
    Offset,
    PetitionsScope,
    SignalsScope,
    query_router,
)
from eventkit import audit
from eventkit.app import CONFIG, RuntimeDep
from eventkit.errors import NotFound
from eventkit.http import CurrentUser


async def audience_of(principal: CurrentUser) -> Audience:
    PERMISSIONS.check(principal, READ_DISPUTES)
    return Audience.of(principal)


AudienceDep = Annotated[Audience, Depends(audience_of)]
Config = Annotated[QueryConfig, CONFIG]

router = query_router()


@router.get("/disputes", tags=["disputes"])
async def list_disputes(
    request: Request,
    runtime: RuntimeDep,
    principal: CurrentUser,
    audience: AudienceDep,
    now: NowDep,
    config: Config,
    tier: Tier | None = None,
    status: DisputeStatus | None = None,
    category: Category | None = None,
    area_id: Annotated[UUID | None, Query(description="a community, grid or building")] = None,
    mediator: Annotated[str | None, Query(description="an assigned mediator's id")] = None,
    sla_state: SlaState | None = None,
    resident_id: Annotated[UUID | None, Query(description="disputes with this party")] = None,
    reply_at_risk: Annotated[
        bool | None,
        Query(description="disputes whose 12345 order's reply is (`true`) or is not at risk"),
    ] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[DisputeItem]:
    """The dispute board: open disputes first, the nearest SLA first (each sensitive dispute
    on the page is an audited read). A dispute opened for a 12345 work order names the order,
    its deadline, and whether its reply is at risk (unanswered, the deadline near or passed)."""
    board = DisputeFilter(
        tier=tier,
        status=status,
        category=category,
        area_id=area_id,
        mediator=mediator,
        sla_state=sla_state,
        resident_id=resident_id,
        reply_at_risk=reply_at_risk,
    )
    async with runtime.pool.acquire() as conn:
        page = await dispute_board(
            conn,
            audience,
            board,
            limit=limit,
            offset=offset,
            now=now,
            reply_window=config.reply_risk_window,
        )
        sensitive = [d.id for d in page.items if d.sensitivity == Sensitivity.SENSITIVE]
        await audit.record_reads(
            conn,
            principal,
            "dispute",
            sensitive,
            audit.route_of(request),
            correlation_id=audit.correlation_of(request),
        )
    return page


@router.get("/disputes/hotline-parked", tags=["disputes"])
async def list_parked_orders(
    runtime: RuntimeDep,
    audience: AudienceDep,
    now: NowDep,
    config: Config,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[ParkedOrderItem]:
    """The 12345 work orders that wait for a place (no area known: no dispute yet), the
    nearest deadline first, each with ``reply_at_risk`` by the board's rule; the desk places
    them through the integration service (``POST /orders/{order_id}/placement``)."""
    async with runtime.pool.acquire() as conn:
        return await parked_orders(
            conn,
            audience,
            limit=limit,
            offset=offset,
            now=now,
            reply_window=config.reply_risk_window,
        )


@router.get("/disputes/statistics", tags=["disputes"])
async def get_statistics(
    runtime: RuntimeDep,
    audience: AudienceDep,
    now: NowDep,
    since: datetime | None = None,
    until: datetime | None = None,
    area_id: UUID | None = None,
) -> DisputeStatistics:
    """Per period (default: the last 365 days) and area: registered, resolved per tier,
    median days to resolution, agreements carried out, satisfaction, petitions, hotspots."""
    until = until or now
    since = since or until - timedelta(days=365)
    async with runtime.pool.acquire() as conn:
        return await dispute_statistics(conn, audience, since=since, until=until, area_id=area_id)


@router.get("/disputes/{dispute_id}", tags=["disputes"])
async def get_dispute(
    request: Request,
    runtime: RuntimeDep,
    principal: CurrentUser,
    audience: AudienceDep,
    now: NowDep,
    config: Config,
    dispute_id: UUID,
) -> DisputeDetail:
    """A dispute with its parties, mediators and whole timeline (a sensitive one is audited)."""
    async with runtime.pool.acquire() as conn:
        detail = await dispute_detail(
            conn, audience, dispute_id, now=now, reply_window=config.reply_risk_window
        )
        if detail is None:
            raise NotFound("no such dispute", dispute_id=str(dispute_id))
        if detail.dispute.sensitivity == Sensitivity.SENSITIVE:
            await audit.record_read(
                conn,
                principal,
                "dispute",
                dispute_id,
                audit.route_of(request),
                correlation_id=audit.correlation_of(request),
            )
    return detail


@router.get("/signals", tags=["signals"])
async def get_signals(
    runtime: RuntimeDep,
    scope: SignalsScope,
    area_id: Annotated[UUID | None, Query(description="a community, grid or building")] = None,
    status: SignalStatus | None = None,
    category: Category | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[SignalItem]:
    """Conflict signals (未诉先办) within the caller's areas, newest first."""
    search = SignalFilter(area_id=area_id, status=status, category=category)
    async with runtime.pool.acquire() as conn:
        return await list_signals(conn, scope, search, limit=limit, offset=offset)


@router.get("/petitions", tags=["petitions"])
async def get_petitions(
    runtime: RuntimeDep,
    scope: PetitionsScope,
    now: NowDep,
    status: PetitionStatus | None = None,
    timeliness: Annotated[
        Timeliness | None, Query(description="`late`: a deadline missed or met late")
    ] = None,
    area_id: Annotated[UUID | None, Query(description="a community or grid")] = None,
    building_id: Annotated[
        UUID | None, Query(description="petitions registered at this building")
    ] = None,
    resident_id: UUID | None = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[PetitionItem]:
    """Petitions by proxy within the caller's areas: open first, the nearest deadline first."""
    search = PetitionFilter(
        status=status,
        timeliness=timeliness,
        area_id=area_id,
        building_id=building_id,
        resident_id=resident_id,
    )
    async with runtime.pool.acquire() as conn:
        return await list_petitions(conn, scope, search, limit=limit, offset=offset, now=now)
