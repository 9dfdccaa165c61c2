"""The follow-up board: pending visits per grid and grid worker, due or overdue.

A pending visit is *overdue* once its due time has passed (or the registry said so), *due*
before that. The grid worker of a resident is whoever visited last; nobody (``unassigned``)
until the first visit.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from anju_contracts.registry import FlagType, RiskTier
from anju_query.application.models import (
    FlagBadge,
    FollowUpBoard,
    FollowUpGroup,
    FollowUpItem,
    FollowUpState,
)
from anju_query.application.residents import LOCATED, location
from anju_query.application.scope import Params, Scope

UNASSIGNED = "unassigned"


@dataclass(frozen=True)
class BoardFilter:
    grid_id: UUID | None = None
    state: FollowUpState | None = None
    worker: str | None = None
    flag: FlagType | None = None
    tier: RiskTier | None = None


async def follow_up_board(
    conn: asyncpg.Connection,
    scope: Scope,
    board: BoardFilter,
    *,
    limit: int,
    offset: int,
    now: datetime,
) -> FollowUpBoard:
    p = Params()
    overdue = f"(f.overdue OR f.due_by < {p(now)})"
    # a pending follow-up carries where its resident lives (the projection keeps it so, with
    # the resident's row): the same scope on it lets a grid's pending visits be found by their
    # own index. When a flag picks the residents, the flags' index does (below), and each is
    # joined to its resident by key: the scope on the residents too would have them matched
    # against every resident of the community instead
    flagged = board.flag is not None or board.tier is not None
    where = [
        "f.due_by IS NOT NULL",
        "NOT f.stopped",
        "r.status = 'active'",
        scope.where(p, "f.community_id", "f.grid_id"),
    ]
    if not flagged:
        where.append(scope.where(p, "r.community_id", "r.grid_id"))
    if board.grid_id is not None:
        where.append(f"r.grid_id = {p(board.grid_id)}")
        where.append(f"f.grid_id = {p(board.grid_id)}")
    if board.state is not None:
        where.append(overdue if board.state == "overdue" else f"NOT {overdue}")
    if board.worker == UNASSIGNED:
        where.append("f.last_worker_id IS NULL")
    elif board.worker is not None:
        where.append(f"f.last_worker_id = {p(board.worker)}")
    if flagged:
        flag = "" if board.flag is None else f"AND fl.flag = {p(board.flag.value)}"
        tier = "" if board.tier is None else f"AND fl.tier = {p(board.tier.value)}"
        # a flag carries where its resident lives (the projection keeps it so): the same scope
        # on the flag lets a community's flags of one kind be found by their own index
        where.append(
            "EXISTS (SELECT 1 FROM residents.flags fl"
            f" WHERE fl.resident_id = f.resident_id AND fl.active {flag} {tier}"
            f" AND {scope.where(p, 'fl.community_id', 'fl.grid_id')})"
        )
    # one statement: the pending visits are found once, then counted per grid and worker
    # (part 0) and paged (part 1), each with the names of its places, a page's residents with
    # their active flags
    rows = await conn.fetch(
        f"""
        WITH pending AS MATERIALIZED (
            SELECT f.resident_id, r.name, f.due_by, f.last_worker_id, f.last_visit_at,
                   {overdue} AS is_overdue, r.community_id, r.grid_id, r.building_id, r.unit_id
            FROM residents.follow_ups f
            JOIN residents.residents r ON r.resident_id = f.resident_id
            WHERE {" AND ".join(where)}
        ), grouped AS (
            SELECT q.grid_id, q.last_worker_id,
                   count(*) FILTER (WHERE NOT q.is_overdue) AS due,
                   count(*) FILTER (WHERE q.is_overdue) AS overdue
            FROM pending q GROUP BY q.grid_id, q.last_worker_id
        ), page AS (
            SELECT * FROM pending ORDER BY due_by, resident_id
            LIMIT {p(limit)} OFFSET {p(offset)}
        )
        SELECT 0 AS part, row_number() OVER (
                   ORDER BY ag.name NULLS LAST, g.grid_id, g.last_worker_id NULLS FIRST) AS ord,
               g.grid_id, ag.name AS grid_name, g.last_worker_id, g.due, g.overdue,
               NULL::uuid AS resident_id, NULL::text AS name, NULL::timestamptz AS due_by,
               NULL::timestamptz AS last_visit_at, NULL::boolean AS is_overdue,
               NULL::uuid AS community_id, NULL::text AS community_name,
               NULL::uuid AS building_id, NULL::text AS building_name,
               NULL::uuid AS unit_id, NULL::text AS unit_name,
               NULL::text[] AS flags, NULL::text[] AS tiers
        FROM grouped g LEFT JOIN residents.areas ag ON ag.area_id = g.grid_id
        UNION ALL
        SELECT 1, row_number() OVER (ORDER BY x.due_by, x.resident_id),
               x.grid_id, ag.name, x.last_worker_id, NULL, NULL,
               x.resident_id, x.name, x.due_by, x.last_visit_at, x.is_overdue,
               x.community_id, ac.name, x.building_id, ab.name, x.unit_id, au.name,
               fl.flags, fl.tiers
        FROM page x {LOCATED.format(t="x")}
        LEFT JOIN LATERAL (
            SELECT array_agg(f.flag ORDER BY f.flag) AS flags,
                   array_agg(f.tier ORDER BY f.flag) AS tiers
            FROM residents.flags f WHERE f.resident_id = x.resident_id AND f.active
        ) fl ON true
        ORDER BY part, ord
        """,
        *p.values,
    )
    groups = [
        FollowUpGroup(
            grid_id=g["grid_id"],
            grid_name=g["grid_name"],
            grid_worker_id=g["last_worker_id"],
            due=g["due"],
            overdue=g["overdue"],
        )
        for g in rows
        if g["part"] == 0
    ]
    rows = [r for r in rows if r["part"] == 1]
    items = [
        FollowUpItem(
            resident_id=r["resident_id"],
            name=r["name"],
            location=location(r),
            due_by=r["due_by"],
            state="overdue" if r["is_overdue"] else "due",
            grid_worker_id=r["last_worker_id"],
            last_visit_at=r["last_visit_at"],
            flags=[
                FlagBadge(type=flag, tier=tier)
                for flag, tier in zip(r["flags"] or (), r["tiers"] or (), strict=True)
            ],
        )
        for r in rows
    ]
    total = sum(g.due + g.overdue for g in groups)
    return FollowUpBoard(items=items, groups=groups, total=total, limit=limit, offset=offset)
