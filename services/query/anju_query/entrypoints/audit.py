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

from datetime import date
from typing import Annotated
from uuid import UUID

from fastapi import Depends, Query

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
from anju_query.entrypoints.http import Limit, Offset, check_range, query_router, scope_for
from eventkit.app import RuntimeDep
from eventkit.errors import NotFound

AuditScope = Annotated[Scope, Depends(scope_for(READ_AUDIT))]

router = query_router()


@router.get("/audit/reads", tags=["audit"])
async def list_audited_reads(
    runtime: RuntimeDep,
    scope: AuditScope,
    kind: AuditedKind | None = None,
    reader: Annotated[str | None, Query(max_length=100, description="a reader's id")] = None,
    record: Annotated[UUID | None, Query(description="one record's id (with its kind)")] = None,
    area_id: Annotated[UUID | None, Query(description="a community or grid")] = None,
    read_from: Annotated[date | None, Query(alias="from", description="read on or after")] = None,
    read_to: Annotated[date | None, Query(alias="to", description="read on or before")] = None,
    limit: Limit = 100,
    offset: Offset = 0,
) -> Page[AuditedRead]:
    """Who read which sensitive record (a full identity number, a sensitive dispute or work
    item), by which route and when, the newest first: the reads of records in the caller's
    areas. ``?format=csv`` or ``xlsx`` exports every read the filters select."""
    check_range(read_from, read_to)
    search = ReadFilter(
        kind=kind,
        subject=record,
        reader=reader,
        area_id=area_id,
        read_from=read_from,
        read_to=read_to,
    )
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
