"""Petitions by proxy (信访代办): the list, filtered by status, timeliness, area and building.

Scoped like residents: the caller's communities and grids (admins everywhere). A petition is
*late* once a department missed a deadline — accepted or answered after it, or the petition closed
still waiting past it — or the deadline it waits on has passed; otherwise it is *on time*. Judged
from business times (``missed``, as the projection keeps it): a deadline the scheduler marked
missed before a ledger's acceptance, answer or closing dated by it arrived was not missed.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg

from anju_query.application.models import Page, PetitionItem, PetitionStatus
from anju_query.application.paging import page_total
from anju_query.application.scope import Params, Scope

Timeliness = Literal["on_time", "late"]


@dataclass(frozen=True)
class PetitionFilter:
    status: PetitionStatus | None = None
    timeliness: Timeliness | None = None
    area_id: UUID | None = None
    resident_id: UUID | None = None
    building_id: UUID | None = None


def late_sql(p: Params, now: datetime, t: str = "x") -> str:
    return f"({t}.missed OR ({t}.due_by IS NOT NULL AND {t}.due_by < {p(now)}::timestamptz))"


def _item(r: Any) -> PetitionItem:
    return PetitionItem(
        id=r["petition_id"],
        resident_id=r["resident_id"],
        agent_id=r["agent_id"],
        community_id=r["community_id"],
        grid_id=r["grid_id"],
        building_id=r["building_id"],
        subject=r["subject"],
        department=r["department"],
        status=r["status"],
        registered_at=r["registered_at"],
        due_by=r["due_by"],
        accepted_on_time=r["accepted_on_time"],
        answered_at=r["answered_at"],
        answered_on_time=r["answered_on_time"],
        missed=r["missed"],
        late=r["late"],
        closed_at=r["closed_at"],
        outcome=r["outcome"],
    )


async def list_petitions(
    conn: asyncpg.Connection,
    scope: Scope,
    search: PetitionFilter,
    *,
    limit: int,
    offset: int,
    now: datetime,
) -> Page[PetitionItem]:
    """Open petitions first, the nearest deadline first, then the newest."""
    p = Params()
    late = late_sql(p, now)
    where = [scope.where(p, "x.community_id", "x.grid_id")]
    if search.status is not None:
        where.append(f"x.status = {p(search.status)}")
    if search.timeliness == "late":
        where.append(late)
    elif search.timeliness == "on_time":
        where.append(f"NOT {late}")
    if search.area_id is not None:
        where.append(f"{p(search.area_id)} IN (x.community_id, x.grid_id)")
    if search.resident_id is not None:
        where.append(f"x.resident_id = {p(search.resident_id)}")
    if search.building_id is not None:
        where.append(f"x.building_id = {p(search.building_id)}")
    condition = " AND ".join(where)
    counting = [*p.values]
    rows = await conn.fetch(
        f"""
        SELECT x.*, {late} AS late FROM disputes.petitions x WHERE {condition}
        ORDER BY x.status = 'closed', x.due_by NULLS LAST, x.registered_at DESC, x.petition_id
        LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    total = await page_total(
        conn,
        len(rows),
        limit,
        offset,
        f"SELECT count(*) FROM (SELECT {late} FROM disputes.petitions x WHERE {condition}) y",
        counting,
    )
    return Page(items=[_item(r) for r in rows], total=total, limit=limit, offset=offset)
