"""Uniqueness across streams: identity numbers claimed in the command's own transaction.

Handlers reach it through :class:`IdNumbers`, a named adapter: PostgreSQL's table in the
service, a dictionary in handler tests.
"""

from __future__ import annotations

from typing import Protocol, cast
from uuid import UUID

from eventkit.store import Session, StoreSession

DDL = """
CREATE TABLE IF NOT EXISTS registry_id_numbers (
    id_number   text PRIMARY KEY,
    resident_id uuid NOT NULL
);
CREATE INDEX IF NOT EXISTS registry_id_numbers_resident ON registry_id_numbers (resident_id);
"""


class IdNumbers(Protocol):
    async def claim(self, session: StoreSession, id_number: str, resident_id: UUID) -> UUID | None:
        """Reserve ``id_number`` for ``resident_id``; the holder's id if someone else has it."""

    async def release(self, session: StoreSession, id_number: str, resident_id: UUID) -> None: ...

    async def transfer(
        self, session: StoreSession, id_number: str, holder: UUID, resident_id: UUID
    ) -> bool:
        """Pass the number from ``holder`` to ``resident_id``; False if ``holder`` no longer
        has it."""


class PostgresIdNumbers:
    """The claims in the registry's ``registry_id_numbers`` table."""

    async def claim(self, session: StoreSession, id_number: str, resident_id: UUID) -> UUID | None:
        # ON CONFLICT DO NOTHING waits for a concurrent claim to commit or roll back, so of two
        # registrations of one number exactly one gets it, and the transaction stays usable.
        conn = cast(Session, session).conn
        claimed = await conn.fetchval(
            """
            INSERT INTO registry_id_numbers (id_number, resident_id) VALUES ($1, $2)
            ON CONFLICT (id_number) DO NOTHING RETURNING resident_id
            """,
            id_number,
            resident_id,
        )
        if claimed is not None:
            return None
        holder: UUID = await conn.fetchval(
            "SELECT resident_id FROM registry_id_numbers WHERE id_number = $1", id_number
        )
        return None if holder == resident_id else holder

    async def release(self, session: StoreSession, id_number: str, resident_id: UUID) -> None:
        await cast(Session, session).conn.execute(
            "DELETE FROM registry_id_numbers WHERE id_number = $1 AND resident_id = $2",
            id_number,
            resident_id,
        )

    async def transfer(
        self, session: StoreSession, id_number: str, holder: UUID, resident_id: UUID
    ) -> bool:
        moved = await cast(Session, session).conn.execute(
            """
            UPDATE registry_id_numbers SET resident_id = $3
            WHERE id_number = $1 AND resident_id = $2
            """,
            id_number,
            holder,
            resident_id,
        )
        return bool(moved == "UPDATE 1")


class MemoryIdNumbers:
    """Claims in a dictionary, for handler tests on the in-memory store."""

    def __init__(self) -> None:
        self.holders: dict[str, UUID] = {}

    async def claim(self, session: StoreSession, id_number: str, resident_id: UUID) -> UUID | None:
        holder = self.holders.setdefault(id_number, resident_id)
        return None if holder == resident_id else holder

    async def release(self, session: StoreSession, id_number: str, resident_id: UUID) -> None:
        if self.holders.get(id_number) == resident_id:
            del self.holders[id_number]

    async def transfer(
        self, session: StoreSession, id_number: str, holder: UUID, resident_id: UUID
    ) -> bool:
        if self.holders.get(id_number) != holder:
            return False
        self.holders[id_number] = resident_id
        return True
