"""Uniqueness across streams, kept in the registry's own tables in the command's transaction."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from anju_registry.domain.errors import DuplicateIdNumber

DDL = """
CREATE TABLE IF NOT EXISTS registry_id_numbers (
    id_number   text PRIMARY KEY,
    resident_id uuid NOT NULL
);
CREATE INDEX IF NOT EXISTS registry_id_numbers_resident ON registry_id_numbers (resident_id);
"""


async def claim_id_number(conn: asyncpg.Connection, id_number: str, resident_id: UUID) -> None:
    """Reserve ``id_number`` for ``resident_id``, or raise naming the resident who holds it.

    ``ON CONFLICT DO NOTHING`` waits for a concurrent claim to commit or roll back, so of two
    registrations of one number exactly one gets it, and the transaction stays usable.
    """
    claimed = await conn.fetchval(
        """
        INSERT INTO registry_id_numbers (id_number, resident_id) VALUES ($1, $2)
        ON CONFLICT (id_number) DO NOTHING RETURNING resident_id
        """,
        id_number,
        resident_id,
    )
    if claimed is not None:
        return
    holder = await conn.fetchval(
        "SELECT resident_id FROM registry_id_numbers WHERE id_number = $1", id_number
    )
    if holder != resident_id:
        raise DuplicateIdNumber(
            "a resident with this identity number is already registered",
            resident_id=str(holder),
        )


async def release_id_number(conn: asyncpg.Connection, id_number: str, resident_id: UUID) -> None:
    await conn.execute(
        "DELETE FROM registry_id_numbers WHERE id_number = $1 AND resident_id = $2",
        id_number,
        resident_id,
    )
