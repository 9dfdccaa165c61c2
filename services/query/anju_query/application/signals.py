"""Conflict signals (未诉先办): the list, filtered by area and status, within the caller's areas.

The read model keeps where, what kind, what was reported and by whom (``reported_by``, the
reporter's id), when, what became of a signal, and the record of another service it came from
(``origin``); the residents involved and the reporter's role are in mediation's
``GET /signals/{id}``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import asyncpg

from anju_contracts.mediation import Category, SignalOrigin
from anju_query.application.models import Page, ReadModel
from anju_query.application.paging import page_total
from anju_query.application.scope import Params, Scope

SignalStatus = Literal["reported", "dismissed", "converted"]


class SignalItem(ReadModel):
    id: UUID
    category: Category
    status: SignalStatus
    community_id: UUID
    grid_id: UUID | None
    building_id: UUID | None
    reported_at: datetime
    dispute_id: UUID | None
    description: str
    reported_by: str
    origin: SignalOrigin | None
    """The record of another service it came from (an opinion raised at the station)."""


@dataclass(frozen=True)
class SignalFilter:
    area_id: UUID | None = None
    status: SignalStatus | None = None
    category: Category | None = None


async def list_signals(
    conn: asyncpg.Connection, scope: Scope, search: SignalFilter, *, limit: int, offset: int
) -> Page[SignalItem]:
    """The newest signals first."""
    p = Params()
    where = [scope.where(p, "x.community_id", "x.grid_id")]
    if search.area_id is not None:
        where.append(f"{p(search.area_id)} IN (x.community_id, x.grid_id, x.building_id)")
    if search.status is not None:
        where.append(f"x.status = {p(search.status)}")
    if search.category is not None:
        where.append(f"x.category = {p(search.category.value)}")
    condition = " AND ".join(where)
    counting = [*p.values]
    rows = await conn.fetch(
        f"""
        SELECT x.* FROM disputes.signals x WHERE {condition}
        ORDER BY x.reported_at DESC, x.signal_id LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    total = await page_total(
        conn,
        len(rows),
        limit,
        offset,
        f"SELECT count(*) FROM disputes.signals x WHERE {condition}",
        counting,
    )
    items = [
        SignalItem(
            id=r["signal_id"],
            category=r["category"],
            status=r["status"],
            community_id=r["community_id"],
            grid_id=r["grid_id"],
            building_id=r["building_id"],
            reported_at=r["reported_at"],
            dispute_id=r["dispute_id"],
            description=r["description"],
            reported_by=r["reported_by"],
            origin=None
            if r["origin_id"] is None
            else SignalOrigin(
                source=r["origin_source"], record=r["origin_record"], id=r["origin_id"]
            ),
        )
        for r in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)
