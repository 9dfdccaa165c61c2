"""What mediation knows of the registry: areas and residents, learned from registry events.

A kernel policy on ``registry.events`` keeps two tables of mediation's own database, in the
same transaction as its inbox row, so a redelivered event changes nothing. Commands read them to
place a dispute in the area tree and to accept a resident as a party without calling the
registry.
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

import asyncpg

from anju_contracts.mediation import Location
from anju_contracts.registry import (
    CATALOG as REGISTRY,
    AreaCreated,
    AreaKind,
    AreaPath,
    ResidentDied,
    ResidentMoved,
    ResidentMovedOut,
    ResidentRegistered,
)
from eventkit.messages import Delivered
from eventkit.policy import Policy
from eventkit.store import Session

DDL = """
CREATE TABLE IF NOT EXISTS mediation_areas (
    area_id      uuid PRIMARY KEY,
    kind         text NOT NULL,
    community_id uuid NOT NULL,
    grid_id      uuid,
    building_id  uuid,
    unit_id      uuid
);
CREATE TABLE IF NOT EXISTS mediation_residents (
    resident_id  uuid PRIMARY KEY,
    community_id uuid NOT NULL,
    grid_id      uuid,
    building_id  uuid,
    unit_id      uuid,
    active       boolean NOT NULL
);
"""

_PATH_COLUMNS = "community_id, grid_id, building_id, unit_id"


def _path(path: AreaPath) -> tuple[UUID, UUID | None, UUID | None, UUID | None]:
    return (path.community_id, path.grid_id, path.building_id, path.unit_id)


async def learn(session: Session, delivered: Delivered) -> None:
    """Policy handler: record the areas and residents the registry announces."""
    conn = session.conn
    event = delivered.event
    if isinstance(event, AreaCreated):
        # a node's own level in its path is itself, whether or not the path repeats it
        path = event.path.model_copy(update={f"{event.kind}_id": event.area_id})
        if event.kind == AreaKind.COMMUNITY:
            path = AreaPath(community_id=event.area_id)
        await conn.execute(
            f"""
            INSERT INTO mediation_areas (area_id, kind, {_PATH_COLUMNS})
            VALUES ($1, $2, $3, $4, $5, $6)
            ON CONFLICT (area_id) DO UPDATE SET kind = EXCLUDED.kind,
                community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
                building_id = EXCLUDED.building_id, unit_id = EXCLUDED.unit_id
            """,
            event.area_id,
            event.kind.value,
            *_path(path),
        )
    elif isinstance(event, ResidentRegistered | ResidentMoved):
        path = event.path if isinstance(event, ResidentRegistered) else event.to_path
        await conn.execute(
            f"""
            INSERT INTO mediation_residents (resident_id, {_PATH_COLUMNS}, active)
            VALUES ($1, $2, $3, $4, $5, true)
            ON CONFLICT (resident_id) DO UPDATE SET community_id = EXCLUDED.community_id,
                grid_id = EXCLUDED.grid_id, building_id = EXCLUDED.building_id,
                unit_id = EXCLUDED.unit_id
            """,
            event.resident_id,
            *_path(path),
        )
    elif isinstance(event, ResidentMovedOut | ResidentDied):
        await conn.execute(
            "UPDATE mediation_residents SET active = false WHERE resident_id = $1",
            event.resident_id,
        )


POLICY = Policy(name="mediation_registry", catalogs=[REGISTRY], handle=learn)


async def location_of(conn: asyncpg.Connection, area_id: UUID) -> Location | None:
    row = await conn.fetchrow(
        f"SELECT kind, {_PATH_COLUMNS} FROM mediation_areas WHERE area_id = $1", area_id
    )
    if row is None:
        return None
    path = AreaPath(
        community_id=row["community_id"],
        grid_id=row["grid_id"],
        building_id=row["building_id"],
        unit_id=row["unit_id"],
    )
    return Location(area_id=area_id, kind=AreaKind(row["kind"]), path=path)


async def resident_path(conn: asyncpg.Connection, resident_id: UUID) -> AreaPath | None:
    row = await conn.fetchrow(
        f"SELECT {_PATH_COLUMNS} FROM mediation_residents WHERE resident_id = $1", resident_id
    )
    if row is None:
        return None
    return AreaPath(
        community_id=row["community_id"],
        grid_id=row["grid_id"],
        building_id=row["building_id"],
        unit_id=row["unit_id"],
    )


async def known_residents(conn: asyncpg.Connection, ids: Sequence[UUID]) -> Collection[UUID]:
    """Those of ``ids`` the registry has registered."""
    if not ids:
        return set()
    rows = await conn.fetch(
        "SELECT resident_id FROM mediation_residents WHERE resident_id = ANY($1::uuid[])",
        list(ids),
    )
    return {r["resident_id"] for r in rows}
