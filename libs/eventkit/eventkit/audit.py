"""The audit of sensitive reads (who read which sensitive record, by which route, when) and of
back-dated commands (:func:`backdates_of`).

DESIGN: "reads of sensitive records are audited". A service that shows sensitive records (a full
identity number, a sensitive dispute) passes :data:`DDL` to its :class:`~eventkit.runtime.Runtime`
(``ddl=[audit.DDL]``) and calls :func:`record_read` before it answers. The row is written
before the answer leaves: a read that cannot be audited fails instead of going unrecorded.

The table holds ids and roles only, never the record's content; a read made under a broken glass
(health's protected care) also holds the reason the reader gave for breaking it.

Directors read the rows through their services' ``GET /audit/reads`` (:func:`audited_reads`: the
same filters and the same :class:`AuditedRead` in every service that audits reads; each service
says where its records are, so a director sees only the reads of records in their areas). The
route reads its filters with :func:`read_filter`, given the kinds of record the service audits.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Annotated, Any
from uuid import UUID

import asyncpg
from fastapi import Query, Request
from pydantic import BaseModel

from eventkit.access import Params, visible_sql
from eventkit.auth import Principal
from eventkit.errors import BadDateRange
from eventkit.schema import _acquire

DDL = """
CREATE TABLE IF NOT EXISTS read_audit (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sub            text NOT NULL,
    roles          text[] NOT NULL,
    kind           text NOT NULL,
    subject        text NOT NULL,
    route          text NOT NULL,
    correlation_id text,
    read_at        timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS read_audit_subject ON read_audit (kind, subject, read_at);
CREATE INDEX IF NOT EXISTS read_audit_reader ON read_audit (sub, read_at);
ALTER TABLE read_audit ADD COLUMN IF NOT EXISTS reason text;
CREATE INDEX IF NOT EXISTS read_audit_time ON read_audit (read_at);
"""

_INSERT = """
INSERT INTO read_audit (sub, roles, kind, subject, route, correlation_id, reason)
VALUES ($1, $2, $3, $4, $5, $6, $7)
"""


def route_of(request: Request) -> str:
    """Why the record was read: the method and route template (``GET /residents/{id}``)."""
    route = request.scope.get("route")
    path = getattr(route, "path", None) or request.url.path
    return f"{request.method} {path}"


def correlation_of(request: Request) -> str | None:
    value: str = getattr(request.state, "correlation_id", "") or ""
    return value or None


async def record_read(
    pool_or_conn: asyncpg.Pool | asyncpg.Connection,
    principal: Principal,
    kind: str,
    subject: UUID | str,
    route: str,
    *,
    correlation_id: str | None = None,
    reason: str | None = None,
) -> None:
    """Record that ``principal`` read the sensitive record ``kind``/``subject`` via ``route``;
    ``reason`` when the reader had to give one to open it (break-the-glass)."""
    await record_reads(
        pool_or_conn,
        principal,
        kind,
        [subject],
        route,
        correlation_id=correlation_id,
        reason=reason,
    )


async def record_reads(
    pool_or_conn: asyncpg.Pool | asyncpg.Connection,
    principal: Principal,
    kind: str,
    subjects: Iterable[UUID | str],
    route: str,
    *,
    correlation_id: str | None = None,
    reason: str | None = None,
) -> None:
    """:func:`record_read` for several records of one kind shown by one answer."""
    roles = [str(r) for r in principal.roles]
    rows = [(principal.sub, roles, kind, str(s), route, correlation_id, reason) for s in subjects]
    if not rows:
        return
    async with _acquire(pool_or_conn) as conn:
        await conn.executemany(_INSERT, rows)


async def reads_of(
    pool_or_conn: asyncpg.Pool | asyncpg.Connection, kind: str, subject: UUID | str
) -> list[asyncpg.Record]:
    """The recorded reads of one record, oldest first (for reviews and tests)."""
    async with _acquire(pool_or_conn) as conn:
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT * FROM read_audit WHERE kind = $1 AND subject = $2 ORDER BY id",
            kind,
            str(subject),
        )
        return rows


class AuditedRead(BaseModel):
    """One audited read, as a director reviews it (the same in every service)."""

    id: int
    reader: str
    """The reader's id (the token's ``sub``)."""
    roles: list[str]
    kind: str
    """What was read: ``resident`` (a full identity number), ``dispute``, ``work_item`` (query);
    ``health_record``, ``protected_care`` (health)."""
    subject: UUID
    label: str | None
    """What names the record to the reviewer, where the service has one (a resident's name, a
    dispute's category code, a work item's title)."""
    community_id: UUID | None
    grid_id: UUID | None
    route: str
    """The method and route template the record was read by (``GET /disputes/{dispute_id}``)."""
    reason: str | None = None
    """Why the reader opened it, when they had to say (break-the-glass); else null."""
    read_at: datetime


class AuditedReads(BaseModel):
    """A page of audited reads, the newest first, and how many the filters select in all."""

    items: list[AuditedRead]
    total: int
    limit: int
    offset: int


@dataclass(frozen=True)
class ReadFilter:
    """What a director narrows the audit to: a kind, one record, a reader, an area (a community
    or grid the record is in), a period of days (``read_from`` to ``read_to``, inclusive, UTC)."""

    kind: str | None = None
    subject: UUID | None = None
    reader: str | None = None
    area_id: UUID | None = None
    read_from: date | None = None
    read_to: date | None = None

    def __post_init__(self) -> None:
        if self.read_from and self.read_to and self.read_from > self.read_to:
            raise BadDateRange(
                "`from` is after `to`", from_date=str(self.read_from), to_date=str(self.read_to)
            )


def read_filter(
    kinds: Any, *, record: str = "one record's id"
) -> Callable[..., Awaitable[ReadFilter]]:
    """The FastAPI dependency that reads a ``GET /audit/reads`` route's filters into a
    :class:`ReadFilter`: ``kind`` (one of ``kinds``, the ``Literal`` of the kinds the service
    audits), ``reader``, ``record`` (described as ``record`` says), ``area_id``, ``from``, ``to``.
    A period that ends before it starts is a 400 ``bad_date_range``.

    ``search: Annotated[ReadFilter, Depends(read_filter(AuditedKind))]``
    """

    async def filters(
        kind: Any = None,
        reader: Annotated[str | None, Query(max_length=100, description="a reader's id")] = None,
        record: Any = None,
        area_id: Annotated[UUID | None, Query(description="a community or grid")] = None,
        read_from: Annotated[
            date | None, Query(alias="from", description="read on or after")
        ] = None,
        read_to: Annotated[date | None, Query(alias="to", description="read on or before")] = None,
    ) -> ReadFilter:
        return ReadFilter(
            kind=kind,
            subject=record,
            reader=reader,
            area_id=area_id,
            read_from=read_from,
            read_to=read_to,
        )

    # The two annotations that differ between services, set on the function FastAPI inspects.
    filters.__annotations__["kind"] = Annotated[kinds | None, Query(description="what was read")]
    filters.__annotations__["record"] = Annotated[UUID | None, Query(description=record)]
    return filters


async def audited_reads(
    conn: asyncpg.Connection,
    principal: Principal,
    search: ReadFilter,
    *,
    kinds: Collection[str],
    places: str,
    limit: int,
    offset: int,
) -> tuple[list[AuditedRead], int]:
    """The reads of ``kinds`` of record that ``search`` selects among those the caller may
    review, the newest first, and how many there are in all.

    ``places`` is the service's SQL naming where each of its records is: rows of ``kind``,
    ``subject`` (text), ``community_id``, ``grid_id`` and ``label``. A read is shown when the
    caller's areas cover its record (:func:`~eventkit.access.visible_sql`); a read of a record
    the service cannot place (gone, not yet known) is shown to admins only.
    """
    p = Params()
    where = [
        f"a.kind = ANY({p(sorted(kinds))}::text[])",
        visible_sql(principal, p, community="w.community_id", grid="w.grid_id"),
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
    source = f"read_audit a LEFT JOIN ({places}) w ON w.kind = a.kind AND w.subject = a.subject"
    condition = " AND ".join(where)
    total: int = await conn.fetchval(f"SELECT count(*) FROM {source} WHERE {condition}", *p.values)
    rows = await conn.fetch(
        f"""
        SELECT a.*, w.community_id, w.grid_id, w.label FROM {source} WHERE {condition}
        ORDER BY a.read_at DESC, a.id DESC LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    items = [
        AuditedRead(
            id=r["id"],
            reader=r["sub"],
            roles=list(r["roles"]),
            kind=r["kind"],
            subject=UUID(r["subject"]),
            label=r["label"],
            community_id=r["community_id"],
            grid_id=r["grid_id"],
            route=r["route"],
            reason=r["reason"],
            read_at=r["read_at"],
        )
        for r in rows
    ]
    return items, total


async def backdates_of(
    pool_or_conn: asyncpg.Pool | asyncpg.Connection, stream_id: str
) -> list[asyncpg.Record]:
    """The back-dated commands recorded on one stream, oldest first: who (``sub``, ``roles``),
    what (``types``, ``correlation_id``), ``occurred_at`` and ``recorded_at``.

    The event store writes these rows itself, in the command's transaction
    (``backdate_audit``, :mod:`eventkit.business`).
    """
    async with _acquire(pool_or_conn) as conn:
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT * FROM backdate_audit WHERE stream_id = $1 ORDER BY id", stream_id
        )
        return rows
