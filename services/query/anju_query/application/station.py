"""Station read models: the desk's receptions counted per period, its convenience services, and
the station section of a resident's profile. Certificates and the duty roster are read in
``station_certificates``, lectures, activities and the opinion log in ``station_gatherings``.

A reception or a service belongs to the community (or grid) of the desk that logged it; the
caller sees it when their areas reach that place. Periods are of UTC calendar days: a day, an
ISO week (from Monday) or a calendar month, named by their first day. A service is *overdue*
once the station said its hand-off passed its due date (:class:`HandOffOverdue`), and stays
marked when it is completed or refused late; one completed or refused by its due date — in
business time, as a completion from the paper ledger may arrive after the mark — is not.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from anju_contracts.station import BillType, Purpose, Referral, ServiceStatus
from anju_query.application.models import (
    Page,
    ReadModel,
    StationSection,
    StationService,
    StationVisit,
)
from anju_query.application.periods import Period, period_starts
from anju_query.application.permissions import PERMISSIONS, READ_STATION_CERTIFICATES
from anju_query.application.scope import Params, Scope
from anju_query.application.station_certificates import resident_certificates

SHOWN = 100
"""How many receptions, services and certificates a profile shows (latest first)."""


def _mean(value: Any) -> float | None:
    return None if value is None else round(float(value), 2)


# -- receptions -----------------------------------------------------------------------------


class ReceptionPeriod(ReadModel):
    start: date
    """The period's first day (a Monday for a week, the 1st for a month)."""
    total: int
    by_purpose: dict[Purpose, int]
    """Receptions that came for each purpose (a visit may have several)."""
    by_referral: dict[Referral, int]


class ReceptionCounts(ReadModel):
    """Receptions within the caller's areas (and ``area_id``), per period and in total.

    The periods run from the first to the last asked for (or, without bounds, to those that
    had receptions), each listed even when nobody came."""

    area_id: UUID | None
    from_date: date | None
    to_date: date | None
    period: Period
    total: int
    by_purpose: dict[Purpose, int]
    by_referral: dict[Referral, int]
    periods: list[ReceptionPeriod]


@dataclass(frozen=True)
class ReceptionFilter:
    area_id: UUID | None = None
    from_date: date | None = None
    to_date: date | None = None
    period: Period = "day"


def _counts(rows: list[Mapping[str, Any]], key: str, kinds: Any) -> dict[date, dict[Any, int]]:
    counts: dict[date, dict[Any, int]] = {}
    for r in rows:
        counts.setdefault(r["start"], dict.fromkeys(kinds, 0))[kinds(r[key])] = r["n"]
    return counts


async def reception_counts(
    conn: asyncpg.Connection, scope: Scope, search: ReceptionFilter
) -> ReceptionCounts:
    p = Params()
    where = [scope.where(p, "r.community_id", "r.grid_id")]
    if search.area_id is not None:
        where.append(f"{p(search.area_id)} IN (r.community_id, r.grid_id, r.building_id)")
    if search.from_date is not None:
        where.append(f"r.logged_on >= {p(search.from_date)}")
    if search.to_date is not None:
        where.append(f"r.logged_on <= {p(search.to_date)}")
    start = f"date_trunc({p(search.period)}, r.logged_on::timestamp)::date"
    condition = " AND ".join(where)
    totals = await conn.fetch(
        f"""
        SELECT {start} AS start, count(*) AS n FROM station.receptions r
        WHERE {condition} GROUP BY 1
        """,
        *p.values,
    )
    purposes = await conn.fetch(
        f"""
        SELECT {start} AS start, x.purpose, count(*) AS n
        FROM station.receptions r, unnest(r.purposes) AS x(purpose)
        WHERE {condition} GROUP BY 1, 2
        """,
        *p.values,
    )
    referrals = await conn.fetch(
        f"""
        SELECT {start} AS start, r.referred_by, count(*) AS n FROM station.receptions r
        WHERE {condition} GROUP BY 1, 2
        """,
        *p.values,
    )
    per_total = {r["start"]: r["n"] for r in totals}
    per_purpose = _counts(purposes, "purpose", Purpose)
    per_referral = _counts(referrals, "referred_by", Referral)
    periods: list[ReceptionPeriod] = []
    starts = sorted(per_total)
    first = search.from_date or (starts[0] if starts else None)
    last = search.to_date or (starts[-1] if starts else None)
    if first is not None and last is not None:
        periods = [
            ReceptionPeriod(
                start=at,
                total=per_total.get(at, 0),
                by_purpose=per_purpose.get(at, dict.fromkeys(Purpose, 0)),
                by_referral=per_referral.get(at, dict.fromkeys(Referral, 0)),
            )
            for at in period_starts(first, last, search.period)
        ]
    return ReceptionCounts(
        area_id=search.area_id,
        from_date=search.from_date,
        to_date=search.to_date,
        period=search.period,
        total=sum(per_total.values()),
        by_purpose={k: sum(c.get(k, 0) for c in per_purpose.values()) for k in Purpose},
        by_referral={k: sum(c.get(k, 0) for c in per_referral.values()) for k in Referral},
        periods=periods,
    )


# -- convenience services -------------------------------------------------------------------


class StationServiceItem(ReadModel):
    id: UUID
    service_type: str
    status: ServiceStatus
    resident_id: UUID | None
    resident_name: str | None
    """From the resident directory (``None`` for an anonymous visitor, or until the registry's
    resident is known here)."""
    community_id: UUID
    grid_id: UUID | None
    bill_type: BillType | None
    received_at: datetime
    notices: int
    """How many one-time notices were issued (each lists everything missing at once)."""
    accepted_at: datetime | None
    organisation_id: UUID | None
    """The agency of record it was handed off to."""
    organisation_name: str | None
    handed_off_at: datetime | None
    due_by: datetime | None
    overdue: bool
    completed_at: datetime | None
    refused_at: datetime | None
    satisfaction: int | None
    """The resident's rating (1-5) at the callback."""


class StationServiceGroup(ReadModel):
    """Services of one type and status among those the filter matches (not only the page)."""

    service_type: str
    status: ServiceStatus
    count: int
    overdue: int
    mean_hours_to_completion: float | None
    """From receipt to completion, over the completed ones."""
    mean_satisfaction: float | None
    """Over those with a callback."""


class StationServices(Page[StationServiceItem]):
    summary: list[StationServiceGroup]


@dataclass(frozen=True)
class ServiceFilter:
    area_id: UUID | None = None
    status: ServiceStatus | None = None
    service_type: str | None = None
    overdue: bool | None = None


async def station_services(
    conn: asyncpg.Connection, scope: Scope, search: ServiceFilter, *, limit: int, offset: int
) -> StationServices:
    p = Params()
    where = [scope.where(p, "s.community_id", "s.grid_id")]
    if search.area_id is not None:
        where.append(f"{p(search.area_id)} IN (s.community_id, s.grid_id, s.building_id)")
    if search.status is not None:
        where.append(f"s.status = {p(search.status.value)}")
    if search.service_type is not None:
        where.append(f"s.service_type = {p(search.service_type)}")
    if search.overdue is not None:
        where.append("s.overdue" if search.overdue else "NOT s.overdue")
    condition = " AND ".join(where)
    groups = await conn.fetch(
        f"""
        SELECT s.service_type, s.status, count(*) AS n, count(*) FILTER (WHERE s.overdue) AS late,
               avg(extract(epoch FROM s.completed_at - s.received_at) / 3600)
                   FILTER (WHERE s.completed_at IS NOT NULL) AS hours,
               avg(s.satisfaction) AS satisfaction
        FROM station.services s WHERE {condition}
        GROUP BY s.service_type, s.status ORDER BY s.service_type, s.status
        """,
        *p.values,
    )
    rows = await conn.fetch(
        f"""
        SELECT s.*, r.name AS resident_name, o.name AS organisation_name
        FROM station.services s
        LEFT JOIN residents.residents r ON r.resident_id = s.resident_id
        LEFT JOIN residents.organisations o ON o.organisation_id = s.organisation_id
        WHERE {condition}
        ORDER BY s.received_at DESC, s.service_id LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    summary = [
        StationServiceGroup(
            service_type=g["service_type"],
            status=g["status"],
            count=g["n"],
            overdue=g["late"],
            mean_hours_to_completion=_mean(g["hours"]),
            mean_satisfaction=_mean(g["satisfaction"]),
        )
        for g in groups
    ]
    return StationServices(
        items=[_service(r) for r in rows],
        total=sum(g.count for g in summary),
        limit=limit,
        offset=offset,
        summary=summary,
    )


def _service(r: Mapping[str, Any]) -> StationServiceItem:
    return StationServiceItem(
        id=r["service_id"],
        service_type=r["service_type"],
        status=r["status"],
        resident_id=r["resident_id"],
        resident_name=r["resident_name"],
        community_id=r["community_id"],
        grid_id=r["grid_id"],
        bill_type=r["bill_type"],
        received_at=r["received_at"],
        notices=r["notices"],
        accepted_at=r["accepted_at"],
        organisation_id=r["organisation_id"],
        organisation_name=r["organisation_name"],
        handed_off_at=r["handed_off_at"],
        due_by=r["due_by"],
        overdue=r["overdue"],
        completed_at=r["completed_at"],
        refused_at=r["refused_at"],
        satisfaction=r["satisfaction"],
    )


# -- a resident's station section -----------------------------------------------------------


async def station_section(
    conn: asyncpg.Connection, scope: Scope, resident_id: UUID
) -> StationSection:
    """The resident's receptions, services and residence certificates, latest first, within the
    caller's areas (certificates for the roles that read them)."""
    p = Params()
    mine = f"resident_id = {p(resident_id)}"
    scoped = scope.where(p, "community_id", "grid_id")
    limit = p(SHOWN)
    receptions = await conn.fetch(
        f"""
        SELECT reception_id, logged_at, purposes, referred_by, outcome FROM station.receptions
        WHERE {mine} AND {scoped} ORDER BY logged_at DESC, reception_id LIMIT {limit}
        """,
        *p.values,
    )
    services = await conn.fetch(
        f"""
        SELECT * FROM station.services
        WHERE {mine} AND {scoped} ORDER BY received_at DESC, service_id LIMIT {limit}
        """,
        *p.values,
    )
    certificates = (
        await resident_certificates(conn, scope, resident_id, limit=SHOWN)
        if PERMISSIONS.allows(scope.principal, READ_STATION_CERTIFICATES)
        else []
    )
    return StationSection(
        receptions=[
            StationVisit(
                id=r["reception_id"],
                logged_at=r["logged_at"],
                purposes=r["purposes"],
                referred_by=r["referred_by"],
                outcome=r["outcome"],
            )
            for r in receptions
        ],
        services=[
            StationService(
                id=s["service_id"],
                service_type=s["service_type"],
                status=s["status"],
                received_at=s["received_at"],
                accepted_at=s["accepted_at"],
                handed_off_at=s["handed_off_at"],
                due_by=s["due_by"],
                overdue=s["overdue"],
                completed_at=s["completed_at"],
                refused_at=s["refused_at"],
                satisfaction=s["satisfaction"],
            )
            for s in services
        ],
        certificates=certificates,
    )
