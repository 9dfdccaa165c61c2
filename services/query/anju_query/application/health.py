"""Health read models: the visit board, the 65+ check-up coverage, health activities, and a
resident's health section.

Only what ``health.events`` carries is here (no diagnosis, reading or finding exists in this
service). One more thing a read can reveal is the programme: a hypertension or diabetes
follow-up names a diagnosis, so a visit's programme is shown only to callers who may read it
(doctors and admins, :attr:`Scope.health_programmes`); everyone else sees that a check-up or a
follow-up is due.

A visit is *open* from its booking until it is completed, skipped or cancelled; *overdue* once
health said its window ended (health decides windows), *due* before that. The board lists the
open visits due within a horizon and every overdue one.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from anju_contracts.health import ActivityKind, Programme, VisitKind
from anju_query.application.models import (
    HealthSection,
    HealthVisitState,
    OpenHealthVisit,
    Page,
    ReadModel,
)
from anju_query.application.scope import Params, Scope

UNASSIGNED = "unassigned"
ELDERLY_AGE = 65


# -- the visit board ------------------------------------------------------------------------


class HealthVisitItem(ReadModel):
    visit_id: UUID
    resident_id: UUID
    name: str | None
    """From the resident directory (``None`` until the registry's resident is known here)."""
    community_id: UUID
    grid_id: UUID | None
    grid_name: str | None
    due_on: date
    state: HealthVisitState
    overdue: bool
    kind: VisitKind
    programme: Programme | None
    """Doctors and admins only; ``None`` for everyone else."""
    family_doctor_id: str | None


class HealthVisitGroup(ReadModel):
    """Counts for one grid and family doctor (``None``: no family doctor assigned yet)."""

    grid_id: UUID | None
    grid_name: str | None
    family_doctor_id: str | None
    due: int
    overdue: int


class HealthVisitBoard(ReadModel):
    items: list[HealthVisitItem]
    groups: list[HealthVisitGroup]
    total: int
    limit: int
    offset: int
    due_by: date
    """The horizon: visits due on or before this day, and every overdue one."""


@dataclass(frozen=True)
class VisitFilter:
    area_id: UUID | None = None
    doctor_id: str | None = None
    state: HealthVisitState | None = None
    within_days: int = 30


async def health_visits(
    conn: asyncpg.Connection,
    scope: Scope,
    board: VisitFilter,
    *,
    limit: int,
    offset: int,
    today: date,
) -> HealthVisitBoard:
    p = Params()
    horizon = today + timedelta(days=board.within_days)
    where = [
        "v.state = 'open'",
        "rec.status = 'open'",
        f"(v.overdue OR v.due_on <= {p(horizon)})",
        scope.where(p, "v.community_id", "v.grid_id"),
    ]
    if board.area_id is not None:
        where.append(f"{p(board.area_id)} IN (v.community_id, v.grid_id)")
    if board.state is not None:
        where.append("v.overdue" if board.state == "overdue" else "NOT v.overdue")
    if board.doctor_id == UNASSIGNED:
        where.append("rec.family_doctor_id IS NULL")
    elif board.doctor_id is not None:
        where.append(f"rec.family_doctor_id = {p(board.doctor_id)}")
    source = f"""
        FROM health.visits v
        JOIN health.records rec ON rec.resident_id = v.resident_id
        LEFT JOIN residents.residents r ON r.resident_id = v.resident_id
        LEFT JOIN residents.areas ag ON ag.area_id = v.grid_id
        WHERE {" AND ".join(where)}
    """
    group_rows = await conn.fetch(
        f"""
        SELECT v.grid_id, ag.name AS grid_name, rec.family_doctor_id,
               count(*) FILTER (WHERE NOT v.overdue) AS due,
               count(*) FILTER (WHERE v.overdue) AS overdue
        {source}
        GROUP BY v.grid_id, ag.name, rec.family_doctor_id
        ORDER BY ag.name NULLS LAST, v.grid_id, rec.family_doctor_id NULLS FIRST
        """,
        *p.values,
    )
    groups = [
        HealthVisitGroup(
            grid_id=g["grid_id"],
            grid_name=g["grid_name"],
            family_doctor_id=g["family_doctor_id"],
            due=g["due"],
            overdue=g["overdue"],
        )
        for g in group_rows
    ]
    rows = await conn.fetch(
        f"""
        SELECT v.visit_id, v.resident_id, r.name, v.community_id, v.grid_id, ag.name AS grid_name,
               v.due_on, v.overdue, v.kind, v.programme, rec.family_doctor_id
        {source}
        ORDER BY v.due_on, v.visit_id LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    programmes = scope.health_programmes
    items = [
        HealthVisitItem(
            visit_id=r["visit_id"],
            resident_id=r["resident_id"],
            name=r["name"],
            community_id=r["community_id"],
            grid_id=r["grid_id"],
            grid_name=r["grid_name"],
            due_on=r["due_on"],
            state="overdue" if r["overdue"] else "due",
            overdue=r["overdue"],
            kind=r["kind"],
            programme=r["programme"] if programmes else None,
            family_doctor_id=r["family_doctor_id"],
        )
        for r in rows
    ]
    total = sum(g.due + g.overdue for g in groups)
    return HealthVisitBoard(
        items=items, groups=groups, total=total, limit=limit, offset=offset, due_by=horizon
    )


# -- 65+ coverage ---------------------------------------------------------------------------


class CoverageFigures(ReadModel):
    aged_65_plus: int
    """Residents of the directory aged 65 or more on 31 December of the year and still living
    here then: whoever died or moved out before the year ended is not counted. (The directory
    knows when someone left, not when they came: a past year counts later arrivals too.)"""
    enrolled: int
    """Of them, those enrolled in the elderly programme at that time."""
    checked_up: int
    """Of them, those whose elderly-programme check-up was completed in the year."""
    share: float | None
    """``checked_up / aged_65_plus`` (``None`` when nobody is aged 65+)."""


class GridCoverage(CoverageFigures):
    grid_id: UUID | None
    grid_name: str | None


class HealthCoverage(CoverageFigures):
    year: int
    area_id: UUID | None
    grids: list[GridCoverage]


def _share(checked_up: int, aged: int) -> float | None:
    return None if aged == 0 else round(checked_up / aged, 4)


async def health_coverage(
    conn: asyncpg.Connection, scope: Scope, *, area_id: UUID | None, year: int
) -> HealthCoverage:
    """The elderly programme's coverage (老年人健康管理率) in ``year``, per grid, as far as the
    caller's areas reach: who is aged 65+ and where they live come from the resident directory."""
    p = Params()
    start, end = date(year, 1, 1), date(year, 12, 31)
    # turning 65 in the year is enough: the year of birth decides (an erased person's stays)
    last_birth_year = year - ELDERLY_AGE
    end_sql = f"{p(end)}::date"
    scoped = scope.where(p, "x.community_id", "x.grid_id")
    area = "" if area_id is None else f"AND {p(area_id)} IN (x.community_id, x.grid_id)"
    rows = await conn.fetch(
        f"""
        WITH elders AS (
            SELECT x.resident_id, x.grid_id FROM residents.residents x
            WHERE {scoped} {area}
              AND x.birth_year <= {p(last_birth_year)}
              AND (x.residency = 'active' OR x.left_on > {end_sql})
        ), counts AS (
            SELECT e.grid_id, count(*) AS aged,
                count(*) FILTER (WHERE EXISTS (
                    SELECT 1 FROM health.enrolments en
                    WHERE en.resident_id = e.resident_id AND en.programme = 'elderly_annual'
                      AND en.enrolled_on <= {end_sql} AND (en.active OR en.left_on > {end_sql})
                )) AS enrolled,
                count(*) FILTER (WHERE EXISTS (
                    SELECT 1 FROM health.visits v
                    WHERE v.resident_id = e.resident_id AND v.programme = 'elderly_annual'
                      AND v.state = 'completed'
                      AND v.completed_on BETWEEN {p(start)} AND {end_sql}
                )) AS checked_up
            FROM elders e GROUP BY e.grid_id
        ), grids AS (
            SELECT x.area_id AS grid_id FROM residents.areas x
            WHERE x.kind = 'grid' AND {scoped} {area}
            UNION
            SELECT grid_id FROM counts
        )
        SELECT g.grid_id, ag.name AS grid_name, coalesce(c.aged, 0) AS aged,
               coalesce(c.enrolled, 0) AS enrolled, coalesce(c.checked_up, 0) AS checked_up
        FROM grids g
        LEFT JOIN counts c ON c.grid_id IS NOT DISTINCT FROM g.grid_id
        LEFT JOIN residents.areas ag ON ag.area_id = g.grid_id
        ORDER BY ag.name NULLS LAST, g.grid_id NULLS LAST
        """,
        *p.values,
    )
    grids = [
        GridCoverage(
            grid_id=r["grid_id"],
            grid_name=r["grid_name"],
            aged_65_plus=r["aged"],
            enrolled=r["enrolled"],
            checked_up=r["checked_up"],
            share=_share(r["checked_up"], r["aged"]),
        )
        for r in rows
    ]
    aged = sum(g.aged_65_plus for g in grids)
    checked_up = sum(g.checked_up for g in grids)
    return HealthCoverage(
        year=year,
        area_id=area_id,
        aged_65_plus=aged,
        enrolled=sum(g.enrolled for g in grids),
        checked_up=checked_up,
        share=_share(checked_up, aged),
        grids=grids,
    )


# -- health activities ----------------------------------------------------------------------


class HealthActivityItem(ReadModel):
    id: UUID
    kind: ActivityKind
    held_on: date
    community_id: UUID
    grid_id: UUID | None
    building_id: UUID | None
    place: str
    at_station: bool
    partner: str | None
    staff: list[str]
    served: int
    topic: str | None


class ActivityCount(ReadModel):
    kind: ActivityKind
    count: int
    served: int


class ActivitySummary(ReadModel):
    """Every activity the filter matches (not only the page): how many, how many people served."""

    count: int
    served: int
    by_kind: list[ActivityCount]


class HealthActivities(Page[HealthActivityItem]):
    summary: ActivitySummary


@dataclass(frozen=True)
class ActivityFilter:
    area_id: UUID | None = None
    held_from: date | None = None
    held_to: date | None = None
    kind: ActivityKind | None = None


async def health_activities(
    conn: asyncpg.Connection, scope: Scope, search: ActivityFilter, *, limit: int, offset: int
) -> HealthActivities:
    p = Params()
    where = [scope.where(p, "a.community_id", "a.grid_id")]
    if search.area_id is not None:
        where.append(f"{p(search.area_id)} IN (a.community_id, a.grid_id, a.building_id)")
    if search.held_from is not None:
        where.append(f"a.held_on >= {p(search.held_from)}")
    if search.held_to is not None:
        where.append(f"a.held_on <= {p(search.held_to)}")
    if search.kind is not None:
        where.append(f"a.kind = {p(search.kind.value)}")
    condition = " AND ".join(where)
    counts = await conn.fetch(
        f"""
        SELECT a.kind, count(*) AS n, coalesce(sum(a.served), 0) AS served
        FROM health.activities a WHERE {condition} GROUP BY a.kind ORDER BY a.kind
        """,
        *p.values,
    )
    by_kind = [ActivityCount(kind=c["kind"], count=c["n"], served=c["served"]) for c in counts]
    rows = await conn.fetch(
        f"""
        SELECT a.*, a.staff::text AS staff_json FROM health.activities a WHERE {condition}
        ORDER BY a.held_on DESC, a.activity_id LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    total = sum(c.count for c in by_kind)
    return HealthActivities(
        items=[_activity(r) for r in rows],
        total=total,
        limit=limit,
        offset=offset,
        summary=ActivitySummary(
            count=total, served=sum(c.served for c in by_kind), by_kind=by_kind
        ),
    )


def _activity(r: Any) -> HealthActivityItem:
    return HealthActivityItem(
        id=r["activity_id"],
        kind=r["kind"],
        held_on=r["held_on"],
        community_id=r["community_id"],
        grid_id=r["grid_id"],
        building_id=r["building_id"],
        place=r["place"],
        at_station=r["at_station"],
        partner=r["partner"],
        staff=json.loads(r["staff_json"]),
        served=r["served"],
        topic=r["topic"],
    )


# -- a resident's health section ------------------------------------------------------------


async def health_section(
    conn: asyncpg.Connection, scope: Scope, resident_id: UUID
) -> HealthSection | None:
    """The resident's record and open visits (the caller may already see the resident)."""
    record = await conn.fetchrow(
        """
        SELECT status, opened_on, closed_on, health_station, family_doctor_id
        FROM health.records WHERE resident_id = $1
        """,
        resident_id,
    )
    if record is None:
        return None
    rows = await conn.fetch(
        """
        SELECT visit_id, kind, due_on, overdue, programme FROM health.visits
        WHERE resident_id = $1 AND state = 'open' ORDER BY due_on, visit_id
        """,
        resident_id,
    )
    programmes = scope.health_programmes
    return HealthSection(
        status=record["status"],
        opened_on=record["opened_on"],
        closed_on=record["closed_on"],
        health_station=record["health_station"],
        family_doctor_id=record["family_doctor_id"],
        open_visits=[
            OpenHealthVisit(
                visit_id=v["visit_id"],
                kind=v["kind"],
                due_on=v["due_on"],
                overdue=v["overdue"],
                programme=v["programme"] if programmes else None,
            )
            for v in rows
        ],
    )
