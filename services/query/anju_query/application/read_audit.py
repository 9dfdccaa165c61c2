"""The audit of sensitive reads, as a director reviews it: who read which sensitive record
(a resident's full identity number, a sensitive dispute, a sensitive work item), by which route,
when.

The rows, the filters and the answer's shape are the kernel's (``eventkit.audit``, table
``read_audit``: ids and roles only); health audits the reads of health records and protected
care the same way in its own database, with the break-the-glass reasons. What
places a row is the record it names: the read models know where each record is, so a read is
shown only to a caller whose areas cover its record (``Scope.where``, the one access policy) —
a director sees the reads of their communities' records, and nothing of anyone else's. A read of
a record no read model places (gone, or not yet projected) is shown to admins only.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import asyncpg

from anju_query.application.models import Page
from anju_query.application.scope import Params, Scope
from eventkit import audit
from eventkit.audit import AuditedRead, ReadFilter

__all__ = ["AuditedKind", "AuditedRead", "ReadFilter", "audited_reads", "record_in_scope"]

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


KINDS: tuple[AuditedKind, ...] = ("resident", "dispute", "work_item")


async def audited_reads(
    conn: asyncpg.Connection, scope: Scope, search: ReadFilter, *, limit: int, offset: int
) -> Page[AuditedRead]:
    """The audited reads of the records the caller's areas cover, the newest first."""
    items, total = await audit.audited_reads(
        conn, scope.principal, search, kinds=KINDS, places=PLACES, limit=limit, offset=offset
    )
    return Page(items=items, total=total, limit=limit, offset=offset)


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
