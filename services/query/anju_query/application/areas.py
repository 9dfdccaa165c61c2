"""Per-grid summaries and the area tree."""

from __future__ import annotations

from collections import defaultdict
from typing import Any
from uuid import UUID

import asyncpg

from anju_query.application.models import AreaNode, AreaSummary, FlagCount, GridSummary
from anju_query.application.scope import Params, Scope


async def area_summary(
    conn: asyncpg.Connection, scope: Scope, *, grid_id: UUID | None = None
) -> AreaSummary:
    """Per grid: active residents, households with a current member, active flags by type/tier.

    A resident counts while they live here, erased or not (an erased person's row keeps where
    they live and whether they still do).

    Grids appear when the area tree names them or when residents live in them.
    """
    p = Params()
    only = "" if grid_id is None else f"AND x.grid_id = {p(grid_id)}"
    residents_where = f"{scope.where(p, 'x.community_id', 'x.grid_id')} {only}"
    rows = await conn.fetch(
        f"""
        WITH grids AS (
            SELECT x.grid_id, x.community_id FROM residents.areas x
            WHERE x.kind = 'grid' AND {residents_where}
            UNION
            SELECT DISTINCT x.grid_id, x.community_id FROM residents.residents x
            WHERE x.grid_id IS NOT NULL AND x.residency = 'active' AND {residents_where}
        ), people AS (
            SELECT x.grid_id, count(*) AS n FROM residents.residents x
            WHERE x.residency = 'active' AND {residents_where} GROUP BY x.grid_id
        ), homes AS (
            SELECT x.grid_id, count(*) AS n FROM residents.households x
            WHERE {residents_where} AND EXISTS (
                SELECT 1 FROM residents.household_members m
                WHERE m.household_id = x.household_id AND m.removed_at IS NULL)
            GROUP BY x.grid_id
        )
        SELECT g.grid_id, g.community_id, ag.name AS grid_name, ac.name AS community_name,
               coalesce(people.n, 0) AS residents, coalesce(homes.n, 0) AS households
        FROM grids g
        LEFT JOIN people ON people.grid_id = g.grid_id
        LEFT JOIN homes ON homes.grid_id = g.grid_id
        LEFT JOIN residents.areas ag ON ag.area_id = g.grid_id
        LEFT JOIN residents.areas ac ON ac.area_id = g.community_id
        ORDER BY ag.name NULLS LAST, g.grid_id
        """,
        *p.values,
    )
    flag_rows = await conn.fetch(
        f"""
        SELECT x.grid_id, f.flag, f.tier, count(*) AS n
        FROM residents.flags f JOIN residents.residents x ON x.resident_id = f.resident_id
        WHERE f.active AND x.residency = 'active' AND {residents_where}
        GROUP BY x.grid_id, f.flag, f.tier ORDER BY x.grid_id, f.flag, f.tier
        """,
        *p.values,
    )
    flags: dict[UUID, list[FlagCount]] = defaultdict(list)
    for f in flag_rows:
        flags[f["grid_id"]].append(FlagCount(type=f["flag"], tier=f["tier"], count=f["n"]))
    seen: set[UUID] = set()
    grids = []
    for r in rows:
        if r["grid_id"] in seen:  # a grid listed under two communities keeps its first
            continue
        seen.add(r["grid_id"])
        grids.append(
            GridSummary(
                grid_id=r["grid_id"],
                grid_name=r["grid_name"],
                community_id=r["community_id"],
                community_name=r["community_name"],
                residents=r["residents"],
                households=r["households"],
                flags=flags.get(r["grid_id"], []),
            )
        )
    return AreaSummary(grids=grids)


async def area_tree(conn: asyncpg.Connection, scope: Scope) -> list[AreaNode]:
    """The area nodes in scope as trees; a node whose parent is out of scope is a root."""
    p = Params()
    rows = await conn.fetch(
        f"""
        SELECT area_id, kind, name, parent_id FROM residents.areas
        WHERE {scope.where(p, "community_id", "grid_id")} ORDER BY name, area_id
        """,
        *p.values,
    )
    children: dict[UUID | None, list[Any]] = defaultdict(list)
    ids = {r["area_id"] for r in rows}
    for r in rows:
        children[r["parent_id"] if r["parent_id"] in ids else None].append(r)

    def build(row: Any) -> AreaNode:
        return AreaNode(
            id=row["area_id"],
            kind=row["kind"],
            name=row["name"],
            parent_id=row["parent_id"],
            children=[build(c) for c in children.get(row["area_id"], [])],
        )

    return [build(r) for r in children[None]]
