"""The audit of sensitive reads (who read which sensitive record, by which route, when) and of
back-dated commands (:func:`backdates_of`).

DESIGN: "reads of sensitive records are audited". A service that shows sensitive records (a full
identity number, a sensitive dispute) passes :data:`DDL` to its :class:`~eventkit.runtime.Runtime`
(``ddl=[audit.DDL]``) and calls :func:`record_read` before it answers. The row is written
before the answer leaves: a read that cannot be audited fails instead of going unrecorded.

The table holds ids and roles only, never the record's content.
"""

from __future__ import annotations

from collections.abc import Iterable
from uuid import UUID

import asyncpg
from fastapi import Request

from eventkit.auth import Principal
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
"""

_INSERT = """
INSERT INTO read_audit (sub, roles, kind, subject, route, correlation_id)
VALUES ($1, $2, $3, $4, $5, $6)
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
) -> None:
    """Record that ``principal`` read the sensitive record ``kind``/``subject`` via ``route``."""
    await record_reads(
        pool_or_conn, principal, kind, [subject], route, correlation_id=correlation_id
    )


async def record_reads(
    pool_or_conn: asyncpg.Pool | asyncpg.Connection,
    principal: Principal,
    kind: str,
    subjects: Iterable[UUID | str],
    route: str,
    *,
    correlation_id: str | None = None,
) -> None:
    """:func:`record_read` for several records of one kind shown by one answer."""
    roles = [str(r) for r in principal.roles]
    rows = [(principal.sub, roles, kind, str(s), route, correlation_id) for s in subjects]
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
