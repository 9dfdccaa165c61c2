"""A flag and a visit carry where their resident lives now, whichever was written first.

The residents read model keeps ``community_id`` and ``grid_id`` on its flags and visits (the
dashboard and the flag board read them by those columns' indexes); the database keeps them
equal to the resident row's, or null while there is no resident row: set when the flag or visit
is written, and again when the resident is registered, moves or is removed.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest_asyncio

from anju_query.projections import residents

AT = datetime(2026, 6, 1, 9, tzinfo=UTC)


@pytest_asyncio.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("CREATE SCHEMA places; SET search_path TO places")
        await conn.execute(residents.DDL)
        yield conn
    finally:
        await conn.close()


async def register(
    conn: asyncpg.Connection, resident: uuid.UUID, community: uuid.UUID, grid: uuid.UUID
) -> None:
    await conn.execute(
        """
        INSERT INTO residents (resident_id, name, sex, date_of_birth, id_number, community_id,
                               grid_id, status, residency, registered_at, updated_at)
        VALUES ($1, '张三', 'male', '1950-01-01', '110101195001010011', $2, $3, 'active', 'active',
                $4, $4)
        ON CONFLICT (resident_id) DO UPDATE SET community_id = EXCLUDED.community_id,
            grid_id = EXCLUDED.grid_id
        """,
        resident,
        community,
        grid,
        AT,
    )


async def flag_and_visit(conn: asyncpg.Connection, resident: uuid.UUID) -> None:
    await conn.execute(
        "INSERT INTO flags (resident_id, flag, tier, active, since)"
        " VALUES ($1, 'elderly_alone', 'red', true, $2)",
        resident,
        AT,
    )
    await conn.execute(
        "INSERT INTO visits (visit_id, resident_id, visited_at, grid_worker_id, findings, errands)"
        " VALUES ($1, $2, $3, 'w', 'fine', '[]')",
        uuid.uuid4(),
        resident,
        AT,
    )


async def places(conn: asyncpg.Connection, resident: uuid.UUID) -> set[tuple[object, object]]:
    rows = await conn.fetch(
        """
        SELECT community_id, grid_id FROM flags WHERE resident_id = $1
        UNION ALL SELECT community_id, grid_id FROM visits WHERE resident_id = $1
        """,
        resident,
    )
    assert len(rows) == 2
    return {(r["community_id"], r["grid_id"]) for r in rows}


async def test_flags_and_visits_written_after_the_resident_take_their_place(
    conn: asyncpg.Connection,
) -> None:
    resident, community, grid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await register(conn, resident, community, grid)
    await flag_and_visit(conn, resident)
    assert await places(conn, resident) == {(community, grid)}


async def test_flags_and_visits_written_first_are_placed_when_the_resident_arrives(
    conn: asyncpg.Connection,
) -> None:
    resident, community, grid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await flag_and_visit(conn, resident)
    assert await places(conn, resident) == {(None, None)}
    await register(conn, resident, community, grid)
    assert await places(conn, resident) == {(community, grid)}


async def test_a_move_and_a_removal_follow_the_resident(conn: asyncpg.Connection) -> None:
    resident, community, grid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    other = uuid.uuid4()
    await register(conn, resident, community, grid)
    await flag_and_visit(conn, resident)
    await conn.execute("UPDATE residents SET grid_id = $2 WHERE resident_id = $1", resident, other)
    assert await places(conn, resident) == {(community, other)}
    await register(conn, resident, other, grid)  # registered again elsewhere: an upsert
    assert await places(conn, resident) == {(other, grid)}
    await conn.execute("DELETE FROM residents WHERE resident_id = $1", resident)
    assert await places(conn, resident) == {(None, None)}
