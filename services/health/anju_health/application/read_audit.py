"""The audit of reads of health records and protected care, as a director reviews it.

Every read of a health record (``GET /records/{id}``) and of protected care
(``GET /protected/{id}``) is a row of the kernel's ``read_audit`` table in health's own database,
written before the answer leaves; a read of protected care made under a broken glass carries the
reason the doctor gave. Nothing of it leaves health: the query service's audit lists the reads of
the records it shows (identity numbers, sensitive disputes and work items), this one the reads of
health's. A read is shown to the directors whose areas hold the resident (as health knows them
from the registry's events), to admins everywhere.
"""

from __future__ import annotations

from typing import Literal

import asyncpg

from anju_health.application.records import HealthConfig
from eventkit import audit
from eventkit.audit import AuditedReads, ReadFilter
from eventkit.commands import Caller

AuditedKind = Literal["health_record", "protected_care"]
KINDS: tuple[AuditedKind, ...] = ("health_record", "protected_care")

PLACES = """
    SELECT k.kind, r.resident_id::text AS subject, r.community_id, r.grid_id, NULL::text AS label
      FROM known_residents r CROSS JOIN (VALUES ('health_record'), ('protected_care')) AS k(kind)
"""
"""Where each audited record is: a resident's record and protected care are where they live.
Nothing names them to the reviewer but the resident's id (health keeps no names)."""


async def audited_reads(
    conn: asyncpg.Connection,
    search: ReadFilter,
    caller: Caller,
    cfg: HealthConfig,
    *,
    limit: int,
    offset: int,
) -> AuditedReads:
    """The audited reads of the records the caller's areas hold, the newest first."""
    cfg.records.permissions.check(caller.principal, "read_audit")
    items, total = await audit.audited_reads(
        conn, caller.principal, search, kinds=KINDS, places=PLACES, limit=limit, offset=offset
    )
    return AuditedReads(items=items, total=total, limit=limit, offset=offset)
