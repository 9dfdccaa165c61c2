"""Service requests: the coordinator's list with ages and counts per grid, what was delivered
per month and kind, and the services section of a resident's profile.

A request belongs where the resident lived when it was raised (its path); the caller sees it
when their areas reach that place. *Response overdue*: nobody took it up by ``respond_by``,
judged from business times — one taken up (the acceptance in force) is overdue when it was
accepted after ``respond_by``, whether or not volunteering flagged it before the acceptance was
recorded (a coordinator bringing in the paper ledger); one not taken up is overdue when
volunteering flagged it, or it is still open or assigned and ``respond_by`` has passed (the
scheduler may not have run yet). Its *age* is the number of days since it was raised (UTC
calendar days).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from anju_contracts.volunteering import RaisedBy, RequestKind
from anju_query.application.models import (
    CleaningPlan,
    ReadModel,
    ReceivedService,
    RequestStatus,
    ServicesSection,
)
from anju_query.application.scope import Params, Scope

SERVICES_SHOWN = 100


def utc_day(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


def mean(total: int, count: int) -> float | None:
    return None if count == 0 else round(total / count, 2)


# -- the list -------------------------------------------------------------------------------


class ServiceRequestItem(ReadModel):
    id: UUID
    resident_id: UUID
    resident_name: str | None
    """From the resident directory (``None`` until the registry's resident is known here)."""
    kind: RequestKind
    status: RequestStatus
    raised_by: RaisedBy
    period: str | None
    community_id: UUID
    grid_id: UUID | None
    grid_name: str | None
    raised_at: datetime
    respond_by: datetime
    age_days: int
    response_overdue: bool
    team_id: UUID | None
    team_name: str | None
    volunteer_id: UUID | None
    volunteer_name: str | None
    declines: int
    delivered_at: datetime | None
    satisfaction: int | None


class ServiceRequestGroup(ReadModel):
    """One grid's requests among those the filter matches (``None``: raised for a community)."""

    grid_id: UUID | None
    grid_name: str | None
    requests: int
    open: int
    """Of them, waiting to be assigned (status ``open``)."""
    overdue: int
    oldest_open_age_days: int | None
    """The age of the oldest open one."""


class ServiceRequestList(ReadModel):
    items: list[ServiceRequestItem]
    groups: list[ServiceRequestGroup]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class RequestFilter:
    area_id: UUID | None = None
    status: RequestStatus | None = None
    kind: RequestKind | None = None
    overdue: bool | None = None


async def service_requests(
    conn: asyncpg.Connection,
    scope: Scope,
    search: RequestFilter,
    *,
    limit: int,
    offset: int,
    now: datetime,
) -> ServiceRequestList:
    p = Params()
    overdue = f"""(CASE WHEN q.accepted_at IS NOT NULL THEN q.accepted_at > q.respond_by
        ELSE q.response_overdue OR (q.status IN ('open', 'assigned') AND q.respond_by < {p(now)})
        END)"""
    where = [scope.where(p, "q.community_id", "q.grid_id")]
    if search.area_id is not None:
        where.append(f"{p(search.area_id)} IN (q.community_id, q.grid_id, q.building_id)")
    if search.status is not None:
        where.append(f"q.status = {p(search.status)}")
    if search.kind is not None:
        where.append(f"q.kind = {p(search.kind.value)}")
    if search.overdue is not None:
        where.append(overdue if search.overdue else f"NOT {overdue}")
    condition = " AND ".join(where)
    group_rows = await conn.fetch(
        f"""
        SELECT q.grid_id, ag.name AS grid_name, count(*) AS requests,
               count(*) FILTER (WHERE q.status = 'open') AS open,
               count(*) FILTER (WHERE {overdue}) AS overdue,
               min(q.raised_at) FILTER (WHERE q.status = 'open') AS oldest_open
        FROM volunteering.requests q
        LEFT JOIN residents.areas ag ON ag.area_id = q.grid_id
        WHERE {condition}
        GROUP BY q.grid_id, ag.name
        ORDER BY ag.name NULLS LAST, q.grid_id NULLS LAST
        """,
        *p.values,
    )
    today = utc_day(now)
    groups = [
        ServiceRequestGroup(
            grid_id=g["grid_id"],
            grid_name=g["grid_name"],
            requests=g["requests"],
            open=g["open"],
            overdue=g["overdue"],
            oldest_open_age_days=(
                None if g["oldest_open"] is None else (today - utc_day(g["oldest_open"])).days
            ),
        )
        for g in group_rows
    ]
    rows = await conn.fetch(
        f"""
        SELECT q.*, {overdue} AS overdue_now, ag.name AS grid_name, r.name AS resident_name,
               t.name AS team_name, v.name AS volunteer_name
        FROM volunteering.requests q
        LEFT JOIN residents.areas ag ON ag.area_id = q.grid_id
        LEFT JOIN residents.residents r ON r.resident_id = q.resident_id
        LEFT JOIN volunteering.teams t ON t.team_id = q.team_id
        LEFT JOIN volunteering.volunteers v ON v.volunteer_id = q.volunteer_id
        WHERE {condition}
        ORDER BY q.raised_at, q.request_id LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    return ServiceRequestList(
        items=[_item(r, today) for r in rows],
        groups=groups,
        total=sum(g.requests for g in groups),
        limit=limit,
        offset=offset,
    )


def _item(r: Mapping[str, Any], today: date) -> ServiceRequestItem:
    return ServiceRequestItem(
        id=r["request_id"],
        resident_id=r["resident_id"],
        resident_name=r["resident_name"],
        kind=r["kind"],
        status=r["status"],
        raised_by=r["raised_by"],
        period=r["period"],
        community_id=r["community_id"],
        grid_id=r["grid_id"],
        grid_name=r["grid_name"],
        raised_at=r["raised_at"],
        respond_by=r["respond_by"],
        age_days=(today - utc_day(r["raised_at"])).days,
        response_overdue=r["overdue_now"],
        team_id=r["team_id"],
        team_name=r["team_name"],
        volunteer_id=r["volunteer_id"],
        volunteer_name=r["volunteer_name"],
        declines=r["declines"],
        delivered_at=r["delivered_at"],
        satisfaction=r["satisfaction"],
    )


# -- statistics -----------------------------------------------------------------------------


class DeliveredCount(ReadModel):
    kind: RequestKind
    delivered: int
    mean_satisfaction: float | None


class MonthDelivered(DeliveredCount):
    month: str
    """``YYYY-MM`` (UTC)."""


class ServiceRequestStatistics(ReadModel):
    """Requests delivered in a period (by the day they were delivered), as far as the caller's
    areas reach."""

    period_from: date
    period_to: date
    delivered: int
    mean_satisfaction: float | None
    by_kind: list[DeliveredCount]
    by_month: list[MonthDelivered]


async def service_request_statistics(
    conn: asyncpg.Connection,
    scope: Scope,
    *,
    area_id: UUID | None,
    period_from: date,
    period_to: date,
) -> ServiceRequestStatistics:
    p = Params()
    where = [
        "q.status = 'delivered'",
        f"(q.delivered_at AT TIME ZONE 'UTC')::date BETWEEN {p(period_from)} AND {p(period_to)}",
        scope.where(p, "q.community_id", "q.grid_id"),
    ]
    if area_id is not None:
        where.append(f"{p(area_id)} IN (q.community_id, q.grid_id, q.building_id)")
    rows = await conn.fetch(
        f"""
        SELECT to_char(q.delivered_at AT TIME ZONE 'UTC', 'YYYY-MM') AS month, q.kind,
               count(*) AS n, sum(q.satisfaction) AS rated
        FROM volunteering.requests q WHERE {" AND ".join(where)}
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        *p.values,
    )
    by_month = [
        MonthDelivered(
            month=r["month"],
            kind=r["kind"],
            delivered=r["n"],
            mean_satisfaction=mean(r["rated"], r["n"]),
        )
        for r in rows
    ]
    kinds: dict[str, tuple[int, int]] = {}
    for r in rows:
        n, rated = kinds.get(r["kind"], (0, 0))
        kinds[r["kind"]] = (n + r["n"], rated + r["rated"])
    by_kind = [
        DeliveredCount(kind=RequestKind(k), delivered=n, mean_satisfaction=mean(rated, n))
        for k, (n, rated) in sorted(kinds.items())
    ]
    delivered = sum(n for n, _ in kinds.values())
    return ServiceRequestStatistics(
        period_from=period_from,
        period_to=period_to,
        delivered=delivered,
        mean_satisfaction=mean(sum(rated for _, rated in kinds.values()), delivered),
        by_kind=by_kind,
        by_month=by_month,
    )


# -- a resident's services section ----------------------------------------------------------


async def services_section(conn: asyncpg.Connection, resident_id: UUID) -> ServicesSection:
    """The requests raised for the resident and their cleaning plan (the caller may already
    see the resident, so every request of theirs is shown, wherever it was raised)."""
    rows = await conn.fetch(
        """
        SELECT request_id, kind, status, raised_at, delivered_at, satisfaction
        FROM volunteering.requests WHERE resident_id = $1
        ORDER BY raised_at DESC, request_id LIMIT $2
        """,
        resident_id,
        SERVICES_SHOWN,
    )
    plan = await conn.fetchrow(
        """
        SELECT active, started_on, stopped_on, stop_reason FROM volunteering.cleaning_plans
        WHERE resident_id = $1
        """,
        resident_id,
    )
    return ServicesSection(
        requests=[
            ReceivedService(
                id=r["request_id"],
                kind=r["kind"],
                status=r["status"],
                raised_at=r["raised_at"],
                delivered_at=r["delivered_at"],
                satisfaction=r["satisfaction"],
            )
            for r in rows
        ],
        cleaning_plan=(
            None
            if plan is None
            else CleaningPlan(
                active=plan["active"],
                started_on=plan["started_on"],
                stopped_on=plan["stopped_on"],
                stop_reason=plan["stop_reason"],
            )
        ),
    )
