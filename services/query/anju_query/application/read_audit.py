"""The audit of sensitive reads, as a director reviews it: who read which sensitive record
(a resident's full identity number, a sensitive dispute, a sensitive work item), by which route,
when.

The rows are the kernel's (``eventkit.audit``, table ``read_audit``: ids and roles only). What
places a row is the record it names: the read models know where each record is, so a read is
shown only to a caller whose areas cover its record (``Scope.where``, the one access policy) —
a director sees the reads of their communities' records, and nothing of anyone else's. A read of
a record no read model places (gone, or not yet projected) is shown to admins only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any, Literal
from uuid import UUID

import asyncpg

from anju_query.application.models import Page, ReadModel
from anju_query.application.scope import Params, Scope

AuditedKind = Literal["resident", "dispute", "work_item"]
"""The kinds of record whose reads the query service audits."""

PLACES = """
    SELECT 'resident' AS kind, x.resident_id::text AS subject, x.community_id, x.grid_id,
           x.name AS label
      FROM residents.residents x
    UNION ALL
    SELECT 'dispute', d.dispute_id::text, d.community_id, d.grid_id, d.category
      FROM disputes.disputes d
    UNION ALL
    SELECT 'work_item', i.item_id::text, i.community_id, i.grid_id, i.title
      FROM governance.work_items i
"""
"""Where each audited record is, and what names it to the reviewer (a resident's name, a
dispute's category code, a work item's title)."""


class AuditedRead(ReadModel):
    id: int
    reader: str
    """The reader's id (the token's ``sub``)."""
    roles: list[str]
    kind: AuditedKind
    subject: UUID
    label: str | None
    community_id: UUID | None
    grid_id: UUID | None
    route: str
    """The method and route template the record was read by (``GET /disputes/{dispute_id}``)."""
    read_at: datetime


@dataclass(frozen=True)
class ReadFilter:
    kind: AuditedKind | None = None
    subject: UUID | None = None
    reader: str | None = None
    area_id: UUID | None = None
    read_from: date | None = None
    read_to: date | None = None


def _item(r: Any) -> AuditedRead:
    return AuditedRead(
        id=r["id"],
        reader=r["sub"],
        roles=list(r["roles"]),
        kind=r["kind"],
        subject=UUID(r["subject"]),
        label=r["label"],
        community_id=r["community_id"],
        grid_id=r["grid_id"],
        route=r["route"],
        read_at=r["read_at"],
    )


async def audited_reads(
    conn: asyncpg.Connection, scope: Scope, search: ReadFilter, *, limit: int, offset: int
) -> Page[AuditedRead]:
    """The audited reads of the records the caller's areas cover, the newest first."""
    p = Params()
    where = [
        "a.kind IN ('resident', 'dispute', 'work_item')",
        scope.where(p, "w.community_id", "w.grid_id"),
    ]
    if search.kind is not None:
        where.append(f"a.kind = {p(search.kind)}")
    if search.subject is not None:
        where.append(f"a.subject = {p(str(search.subject))}")
    if search.reader is not None:
        where.append(f"a.sub = {p(search.reader)}")
    if search.area_id is not None:
        where.append(f"{p(search.area_id)} IN (w.community_id, w.grid_id)")
    if search.read_from is not None:
        where.append(f"a.read_at >= {p(search.read_from)}::date::timestamp AT TIME ZONE 'UTC'")
    if search.read_to is not None:
        until = search.read_to + timedelta(days=1)
        where.append(f"a.read_at < {p(until)}::date::timestamp AT TIME ZONE 'UTC'")
    source = f"read_audit a LEFT JOIN ({PLACES}) w ON w.kind = a.kind AND w.subject = a.subject"
    condition = " AND ".join(where)
    total = await conn.fetchval(f"SELECT count(*) FROM {source} WHERE {condition}", *p.values)
    rows = await conn.fetch(
        f"""
        SELECT a.*, w.community_id, w.grid_id, w.label FROM {source} WHERE {condition}
        ORDER BY a.read_at DESC, a.id DESC LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    return Page(items=[_item(r) for r in rows], total=total, limit=limit, offset=offset)


async def record_in_scope(
    conn: asyncpg.Connection, scope: Scope, kind: AuditedKind, subject: UUID
) -> bool:
    """Whether the record is one the caller's areas cover (else it does not exist for them)."""
    p = Params()
    found = await conn.fetchval(
        f"""
        SELECT true FROM ({PLACES}) w
        WHERE w.kind = {p(kind)} AND w.subject = {p(str(subject))}
          AND {scope.where(p, "w.community_id", "w.grid_id")}
        """,
        *p.values,
    )
    return bool(found)
