"""A pending follow-up is found on the board of the grid its resident lives in now: it carries
the resident's place, kept by the read model as the resident registers and moves, whichever
stream's events arrive first."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg

from anju_contracts import Event
from anju_contracts.registry import (
    SOURCE as REGISTRY,
    AreaPath,
    FollowUpVisitPlanned,
    ResidentMoved,
    ResidentRegistered,
    Sex,
)
from anju_query.application.follow_ups import BoardFilter, follow_up_board
from anju_query.application.scope import Scope
from anju_query.projections.residents import ResidentsProjection
from eventkit.auth import Principal, Role
from eventkit.projection import apply_batch, ensure_projection
from eventkit.testing.delivery import delivered

NOW = datetime(2026, 6, 1, 9, tzinfo=UTC)
COMMUNITY, GRID, OTHER_GRID = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()


class Residents:
    def __init__(self, pool: asyncpg.Pool) -> None:
        self.pool = pool
        self.projection = ResidentsProjection()
        self.sequences: dict[str, int] = {}

    async def apply(self, event: Event, subject: str) -> None:
        schema = await ensure_projection(self.pool, self.projection)
        sequence = self.sequences[subject] = self.sequences.get(subject, 0) + 1
        sent = delivered(event, source=REGISTRY, subject=subject, sequence=sequence)
        async with self.pool.acquire() as conn, conn.transaction():
            await apply_batch(conn, self.projection, schema, [sent])

    async def board_of(self, grid: uuid.UUID) -> list[uuid.UUID]:
        worker = Scope(Principal(sub="gw", roles=(Role.GRID_WORKER,), areas=(str(grid),)))
        async with self.pool.acquire() as conn:
            board = await follow_up_board(conn, worker, BoardFilter(), limit=50, offset=0, now=NOW)
        return [item.resident_id for item in board.items]


def registered(resident: uuid.UUID) -> ResidentRegistered:
    return ResidentRegistered(
        resident_id=resident,
        name="周桂兰",
        sex=Sex.FEMALE,
        date_of_birth=date(1944, 5, 6),
        id_number="110101194405060025",
        path=AreaPath(community_id=COMMUNITY, grid_id=GRID),
    )


def planned(resident: uuid.UUID) -> FollowUpVisitPlanned:
    return FollowUpVisitPlanned(
        resident_id=resident, due_by=NOW + timedelta(days=3), interval_days=7, grid_id=GRID
    )


async def test_a_follow_up_moves_to_the_board_of_the_grid_its_resident_moved_to(
    read_model_pool: asyncpg.Pool,
) -> None:
    residents, resident = Residents(read_model_pool), uuid.uuid4()
    await residents.apply(registered(resident), f"resident-{resident}")
    await residents.apply(planned(resident), f"care-{resident}")
    assert await residents.board_of(GRID) == [resident]
    assert await residents.board_of(OTHER_GRID) == []

    moved = ResidentMoved(
        resident_id=resident,
        from_path=AreaPath(community_id=COMMUNITY, grid_id=GRID),
        to_path=AreaPath(community_id=COMMUNITY, grid_id=OTHER_GRID),
    )
    await residents.apply(moved, f"resident-{resident}")
    assert await residents.board_of(GRID) == []
    assert await residents.board_of(OTHER_GRID) == [resident]


async def test_a_plan_read_before_its_resident_is_placed_once_the_resident_is(
    read_model_pool: asyncpg.Pool,
) -> None:
    residents, resident = Residents(read_model_pool), uuid.uuid4()
    await residents.apply(planned(resident), f"care-{resident}")
    assert await residents.board_of(GRID) == []
    await residents.apply(registered(resident), f"resident-{resident}")
    assert await residents.board_of(GRID) == [resident]
