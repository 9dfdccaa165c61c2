"""A flag and a visit carry where their resident lives now, whichever was written first.

The residents read model keeps ``community_id`` and ``grid_id`` on its flags and visits (the
dashboard and the flag board read them by those columns' indexes); the database keeps them
equal to the resident row's, or null while there is no resident row: set when the flag or visit
is written (by the projection's own writers), and again when the resident is registered, moves
or is removed (by the database).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio

from anju_contracts import Event
from anju_contracts.registry import (
    SOURCE as REGISTRY,
    FlagType,
    FollowUpStopped,
    FollowUpVisitOverdue,
    FollowUpVisitPlanned,
    FollowUpVisitRecorded,
    RiskTier,
    SpecialGroupFlagRaised,
)
from anju_query.projections import residents
from eventkit.testing.delivery import delivered

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


async def write(conn: asyncpg.Connection, *events: Event) -> None:
    """``events`` through the projection's own writers, one stream each."""
    await residents.WRITERS.apply(
        conn,
        [delivered(e, source=REGISTRY, subject=f"s-{uuid.uuid4()}", sequence=1) for e in events],
    )


async def flag_and_visit(conn: asyncpg.Connection, resident: uuid.UUID) -> None:
    await write(
        conn,
        SpecialGroupFlagRaised(
            resident_id=resident, flag=FlagType.ELDERLY_ALONE, tier=RiskTier.RED
        ),
        visited(resident),
    )


def visited(resident: uuid.UUID) -> FollowUpVisitRecorded:
    return FollowUpVisitRecorded(
        resident_id=resident,
        visit_id=uuid.uuid4(),
        visited_at=AT,
        grid_worker_id="w",
        findings="fine",
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


def follow_ups_begun_by(resident: uuid.UUID) -> list[Event]:
    """Each event that may be the first of a resident's follow-up row (each inserts it)."""
    grid = uuid.uuid4()
    return [
        FollowUpVisitPlanned(resident_id=resident, due_by=AT, interval_days=7, grid_id=grid),
        visited(resident),
        FollowUpVisitOverdue(resident_id=resident, due_by=AT - timedelta(days=1), grid_id=grid),
        FollowUpStopped(resident_id=resident, reason="moved away"),
    ]


@pytest.mark.parametrize("which", range(4))
async def test_every_way_a_follow_up_begins_places_it(conn: asyncpg.Connection, which: int) -> None:
    resident, community, grid = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    await register(conn, resident, community, grid)
    await write(conn, follow_ups_begun_by(resident)[which])
    placed = await conn.fetchrow(
        "SELECT community_id, grid_id FROM follow_ups WHERE resident_id = $1", resident
    )
    assert placed is not None
    assert (placed["community_id"], placed["grid_id"]) == (community, grid)
