"""The query API's dispute routes: the board, a dispute's timeline, statistics.

Same rules as every query route: a bearer JWT, read-your-writes by consistency token (a
mediation command's token waits for the ``disputes`` read model), and only what the caller
may see — sensitive disputes only for their assigned mediators and the director.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Depends, Query

from anju_contracts.mediation import Category, Tier
from anju_query.application.disputes import (
    Audience,
    DisputeDetail,
    DisputeFilter,
    DisputeItem,
    DisputeStatistics,
    DisputeStatus,
    SlaState,
    dispute_board,
    dispute_detail,
    dispute_statistics,
)
from anju_query.application.models import Page
from anju_query.entrypoints.http import Limit, Offset, read_your_writes
from eventkit.app import RuntimeDep
from eventkit.http import CurrentUser, NotFound


def audience_of(principal: CurrentUser) -> Audience:
    return Audience.of(principal)


AudienceDep = Annotated[Audience, Depends(audience_of)]

router = APIRouter(dependencies=[Depends(read_your_writes)])


@router.get("/disputes", tags=["disputes"])
async def list_disputes(
    runtime: RuntimeDep,
    audience: AudienceDep,
    tier: Tier | None = None,
    status: DisputeStatus | None = None,
    category: Category | None = None,
    area_id: Annotated[UUID | None, Query(description="a community, grid or building")] = None,
    mediator: Annotated[str | None, Query(description="an assigned mediator's id")] = None,
    sla_state: SlaState | None = None,
    resident_id: Annotated[UUID | None, Query(description="disputes with this party")] = None,
    limit: Limit = 50,
    offset: Offset = 0,
) -> Page[DisputeItem]:
    """The dispute board: open disputes first, the nearest SLA first."""
    board = DisputeFilter(
        tier=tier,
        status=status,
        category=category,
        area_id=area_id,
        mediator=mediator,
        sla_state=sla_state,
        resident_id=resident_id,
    )
    async with runtime.pool.acquire() as conn:
        return await dispute_board(
            conn, audience, board, limit=limit, offset=offset, now=datetime.now(UTC)
        )


@router.get("/disputes/statistics", tags=["disputes"])
async def get_statistics(
    runtime: RuntimeDep,
    audience: AudienceDep,
    since: datetime | None = None,
    until: datetime | None = None,
    area_id: UUID | None = None,
) -> DisputeStatistics:
    """Per period (default: the last 365 days) and area: registered, resolved per tier,
    median days to resolution, agreements carried out, satisfaction, petitions, hotspots."""
    until = until or datetime.now(UTC)
    since = since or until - timedelta(days=365)
    async with runtime.pool.acquire() as conn:
        return await dispute_statistics(conn, audience, since=since, until=until, area_id=area_id)


@router.get("/disputes/{dispute_id}", tags=["disputes"])
async def get_dispute(
    runtime: RuntimeDep, audience: AudienceDep, dispute_id: UUID
) -> DisputeDetail:
    """A dispute with its parties, mediators and whole timeline."""
    async with runtime.pool.acquire() as conn:
        detail = await dispute_detail(conn, audience, dispute_id, now=datetime.now(UTC))
    if detail is None:
        raise NotFound("no such dispute", dispute_id=str(dispute_id))
    return detail
