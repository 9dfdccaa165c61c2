"""The query API's audit route: the reads of sensitive records, for the directors who answer for
them (``read_audit``; admins everywhere).

Same rules as every query route: a bearer JWT, and only what the caller's areas reach — a read
is shown when the record it names is in the caller's areas. One record's reads answer 404 for a
record outside them, exactly as for a record that does not exist. Both lists export as CSV or
XLSX (``?format=csv``, every read the filters select), as every board of the query API does.

The reads of health records and protected care, with the reasons given for breaking the glass,
stay in the health service's database: ``GET /audit/reads`` on health, the same filters and
shape.
"""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import Depends

from anju_query.application.models import Page
from anju_query.application.permissions import READ_AUDIT
from anju_query.application.read_audit import (
    AuditedKind,
    AuditedRead,
    ReadFilter,
    audited_reads,
    record_in_scope,
)
from anju_query.application.scope import Scope
from anju_query.entrypoints.http import Limit, Offset, query_router, scope_for
from eventkit.app import RuntimeDep
from eventkit.audit import read_filter
from eventkit.errors import NotFound

AuditScope = Annotated[Scope, Depends(scope_for(READ_AUDIT))]
Filters = Annotated[
    ReadFilter, Depends(read_filter(AuditedKind, record="one record's id (with its kind)"))
]

router = query_router()


@router.get("/audit/reads", tags=["audit"])
async def list_audited_reads(
    runtime: RuntimeDep,
    scope: AuditScope,
    search: Filters,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AuditedRead]:
    """Who read which sensitive record (a full identity number, a sensitive dispute or work
    item), by which route and when, the newest first: the reads of records in the caller's
    areas. ``?format=csv`` or ``xlsx`` exports every read the filters select."""
    async with runtime.pool.acquire() as conn:
        return await audited_reads(conn, scope, search, limit=limit, offset=offset)


@router.get("/audit/reads/{kind}/{subject_id}", tags=["audit"])
async def list_reads_of_record(
    runtime: RuntimeDep,
    scope: AuditScope,
    kind: AuditedKind,
    subject_id: UUID,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AuditedRead]:
    """The audited reads of one record, the newest first (404 outside the caller's areas)."""
    async with runtime.pool.acquire() as conn:
        if not await record_in_scope(conn, scope, kind, subject_id):
            raise NotFound("no such record", kind=kind, id=str(subject_id))
        search = ReadFilter(kind=kind, subject=subject_id)
        return await audited_reads(conn, scope, search, limit=limit, offset=offset)
