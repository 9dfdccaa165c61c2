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
from anju_query.application.models import FollowUpBoard, FollowUpGroup, FollowUpItem, FollowUpState
from anju_query.application.residents import LOCATED, LOCATION_COLUMNS, active_flags, location
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
    paged = f"""
        FROM residents.follow_ups f
        JOIN residents.residents r ON r.resident_id = f.resident_id
        WHERE {" AND ".join(where)}
    """
    source = f"""
        FROM residents.follow_ups f
        JOIN residents.residents r ON r.resident_id = f.resident_id
        {LOCATED.format(t="r")}
        WHERE {" AND ".join(where)}
    """
    group_rows = await conn.fetch(
        f"""
        SELECT r.grid_id, ag.name AS grid_name, f.last_worker_id,
               count(*) FILTER (WHERE NOT {overdue}) AS due,
               count(*) FILTER (WHERE {overdue}) AS overdue
        {source}
        GROUP BY r.grid_id, ag.name, f.last_worker_id
        ORDER BY ag.name NULLS LAST, r.grid_id, f.last_worker_id NULLS FIRST
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
        for g in group_rows
    ]
    # the page first, then the names of its places: the planner weighs the page's joins alone
    rows = await conn.fetch(
        f"""
        SELECT x.*, {LOCATION_COLUMNS.format(t="x")}
        FROM (
            SELECT f.resident_id, r.name, f.due_by, f.last_worker_id, f.last_visit_at,
                   {overdue} AS is_overdue, r.community_id, r.grid_id, r.building_id, r.unit_id
            {paged}
            ORDER BY f.due_by, f.resident_id LIMIT {p(limit)} OFFSET {p(offset)}
        ) x {LOCATED.format(t="x")}
        ORDER BY x.due_by, x.resident_id
        """,
        *p.values,
    )
    flags = await active_flags(conn, [r["resident_id"] for r in rows])
    items = [
        FollowUpItem(
            resident_id=r["resident_id"],
            name=r["name"],
            location=location(r),
            due_by=r["due_by"],
            state="overdue" if r["is_overdue"] else "due",
            grid_worker_id=r["last_worker_id"],
            last_visit_at=r["last_visit_at"],
            flags=flags.get(r["resident_id"], []),
        )
        for r in rows
    ]
    total = sum(g.due + g.overdue for g in groups)
    return FollowUpBoard(items=items, groups=groups, total=total, limit=limit, offset=offset)
