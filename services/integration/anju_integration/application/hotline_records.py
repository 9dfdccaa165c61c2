"""Which 12345 order each mediation record answers, and what mediation did with the record.

Two facts meet here, and either may come first: the order's forwarding is noted (by the
subscriber, once mediation answered the record's id), and mediation announces what became of
the record on ``mediation.events`` (opened, converted to a dispute, resolved, dismissed). A
record opened by the integration service is known from its opening on, without an order while
the forwarding is not noted yet (a crash between mediation's answer and the note, a redelivery
still to come); its closing is kept until the order is known, so the order is answered then and
no reply is lost. Records opened by anyone else are never kept.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Protocol
from uuid import UUID

import asyncpg

from anju_contracts.integration import AnjuRecord, ReplyOutcome
from eventkit.store import Session, StoreSession

DDL = """
CREATE TABLE IF NOT EXISTS hotline_records (
    record_id uuid PRIMARY KEY,
    order_id  text,
    record    text NOT NULL
);
ALTER TABLE hotline_records ALTER COLUMN order_id DROP NOT NULL;
ALTER TABLE hotline_records ADD COLUMN IF NOT EXISTS from_signal uuid;
ALTER TABLE hotline_records ADD COLUMN IF NOT EXISTS outcome text;
ALTER TABLE hotline_records ADD COLUMN IF NOT EXISTS reply text;
ALTER TABLE hotline_records ADD COLUMN IF NOT EXISTS handled_at timestamptz;
CREATE INDEX IF NOT EXISTS hotline_records_from_signal ON hotline_records (from_signal)
    WHERE from_signal IS NOT NULL;
"""
"""``order_id`` is null while the record is known from mediation only; ``from_signal``: the
signal a dispute came from; ``outcome``, ``reply``, ``handled_at``: how mediation closed it."""


@dataclass(frozen=True)
class Closing:
    """How mediation closed a record: what the order's reply says."""

    record: AnjuRecord
    record_id: UUID
    outcome: ReplyOutcome
    text: str
    handled_at: datetime


class Records(Protocol):
    """The link between orders and mediation's records, inside the caller's session."""

    async def opened(
        self,
        session: StoreSession,
        record_id: UUID,
        record: AnjuRecord,
        *,
        from_signal: UUID | None = None,
    ) -> None:
        """Mediation opened ``record_id`` for the integration service; or, with
        ``from_signal``, a dispute from a signal known here (else nothing is kept)."""
        ...

    async def forwarded(
        self, session: StoreSession, record_id: UUID, order_id: str, record: AnjuRecord
    ) -> Closing | None:
        """``record_id`` answers ``order_id``; how mediation closed it (or the dispute it
        became) already, if it did."""
        ...

    async def closed(self, session: StoreSession, closing: Closing) -> str | None:
        """Mediation closed a record: kept if the record is known here; the order it answers,
        when that is known already."""
        ...


def _conn(session: StoreSession) -> asyncpg.Connection:
    assert isinstance(session, Session), "the hotline records live in PostgreSQL"
    return session.conn


class PostgresRecords:
    """``hotline_records`` in the service's database. Each step is one statement on the
    record's row, so a note and a closing arriving at the same moment are serialised by the
    row's lock, and whichever commits second sees the other."""

    async def opened(
        self,
        session: StoreSession,
        record_id: UUID,
        record: AnjuRecord,
        *,
        from_signal: UUID | None = None,
    ) -> None:
        conn = _conn(session)
        if from_signal is None:
            await conn.execute(
                "INSERT INTO hotline_records (record_id, record) VALUES ($1, $2)"
                " ON CONFLICT DO NOTHING",
                record_id,
                record.value,
            )
            return
        await conn.execute(
            """
            INSERT INTO hotline_records (record_id, order_id, record, from_signal)
            SELECT $1, s.order_id, $2, s.record_id FROM hotline_records s WHERE s.record_id = $3
            ON CONFLICT (record_id) DO UPDATE SET from_signal = EXCLUDED.from_signal,
                order_id = coalesce(hotline_records.order_id, EXCLUDED.order_id)
            """,
            record_id,
            record.value,
            from_signal,
        )

    async def forwarded(
        self, session: StoreSession, record_id: UUID, order_id: str, record: AnjuRecord
    ) -> Closing | None:
        conn = _conn(session)
        await conn.execute(
            """
            INSERT INTO hotline_records (record_id, order_id, record) VALUES ($1, $2, $3)
            ON CONFLICT (record_id) DO UPDATE SET order_id = EXCLUDED.order_id
            """,
            record_id,
            order_id,
            record.value,
        )
        await conn.execute(
            "UPDATE hotline_records SET order_id = $2 WHERE from_signal = $1", record_id, order_id
        )
        row = await conn.fetchrow(
            """
            SELECT record, record_id, outcome, reply, handled_at FROM hotline_records
            WHERE (record_id = $1 OR from_signal = $1) AND outcome IS NOT NULL
            ORDER BY record = 'dispute' DESC LIMIT 1
            """,
            record_id,
        )
        if row is None:
            return None
        return Closing(
            record=AnjuRecord(row["record"]),
            record_id=row["record_id"],
            outcome=ReplyOutcome(row["outcome"]),
            text=row["reply"],
            handled_at=row["handled_at"],
        )

    async def closed(self, session: StoreSession, closing: Closing) -> str | None:
        row = await _conn(session).fetchrow(
            """
            UPDATE hotline_records SET outcome = $2, reply = $3, handled_at = $4
            WHERE record_id = $1 RETURNING order_id
            """,
            closing.record_id,
            closing.outcome.value,
            closing.text,
            closing.handled_at,
        )
        return None if row is None else row["order_id"]


@dataclass
class _Row:
    record: AnjuRecord
    order_id: str | None = None
    from_signal: UUID | None = None
    closing: Closing | None = None


class MemoryRecords:
    """The same in a dictionary, for handler tests on the in-memory store."""

    def __init__(self) -> None:
        self.rows: dict[UUID, _Row] = {}

    async def opened(
        self,
        session: StoreSession,
        record_id: UUID,
        record: AnjuRecord,
        *,
        from_signal: UUID | None = None,
    ) -> None:
        if from_signal is None:
            self.rows.setdefault(record_id, _Row(record))
            return
        signal = self.rows.get(from_signal)
        if signal is None:
            return
        row = self.rows.setdefault(record_id, _Row(record))
        self.rows[record_id] = replace(
            row, from_signal=from_signal, order_id=row.order_id or signal.order_id
        )

    async def forwarded(
        self, session: StoreSession, record_id: UUID, order_id: str, record: AnjuRecord
    ) -> Closing | None:
        row = self.rows.setdefault(record_id, _Row(record))
        row.order_id = order_id
        found = [row]
        for other in self.rows.values():
            if other.from_signal == record_id:
                other.order_id = order_id
                found.insert(0, other)
        return next((r.closing for r in found if r.closing is not None), None)

    async def closed(self, session: StoreSession, closing: Closing) -> str | None:
        row = self.rows.get(closing.record_id)
        if row is None:
            return None
        row.closing = closing
        return row.order_id
