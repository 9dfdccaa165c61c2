"""What mediation knows of the registry: areas and residents, learned from registry events.

A kernel policy on ``registry.events`` keeps two tables of mediation's own database, in the
same transaction as its inbox row, so a redelivered event changes nothing. Commands read them to
place a dispute in the area tree and to accept a resident as a party without calling the
registry.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from typing import Protocol, cast
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
from anju_mediation.domain.errors import AreaNotFound, UnknownResident
from eventkit.commands import Caller
from eventkit.messages import Delivered
from eventkit.policy import Policy
from eventkit.store import Session, StoreSession

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


class Known(Protocol):
    """What mediation has learnt of the registry, as its commands read it."""

    async def location(self, session: StoreSession, area_id: UUID) -> Location | None: ...

    async def residents(
        self, session: StoreSession, ids: Collection[UUID]
    ) -> Mapping[UUID, AreaPath]:
        """Where each of ``ids`` that the registry has registered lives."""


class PostgresKnown:
    """The two tables :func:`learn` keeps in mediation's database."""

    async def location(self, session: StoreSession, area_id: UUID) -> Location | None:
        row = await _conn(session).fetchrow(
            f"SELECT kind, {_PATH_COLUMNS} FROM mediation_areas WHERE area_id = $1", area_id
        )
        if row is None:
            return None
        return Location(area_id=area_id, kind=AreaKind(row["kind"]), path=_path_of(row))

    async def residents(
        self, session: StoreSession, ids: Collection[UUID]
    ) -> Mapping[UUID, AreaPath]:
        if not ids:
            return {}
        rows = await _conn(session).fetch(
            f"""
            SELECT resident_id, {_PATH_COLUMNS} FROM mediation_residents
            WHERE resident_id = ANY($1::uuid[])
            """,
            list(ids),
        )
        return {row["resident_id"]: _path_of(row) for row in rows}


class MemoryKnown:
    """Areas and residents in dictionaries, for handler tests on the in-memory store."""

    def __init__(self) -> None:
        self.locations: dict[UUID, Location] = {}
        self.paths: dict[UUID, AreaPath] = {}

    async def location(self, session: StoreSession, area_id: UUID) -> Location | None:
        return self.locations.get(area_id)

    async def residents(
        self, session: StoreSession, ids: Collection[UUID]
    ) -> Mapping[UUID, AreaPath]:
        return {i: self.paths[i] for i in ids if i in self.paths}


def _conn(session: StoreSession) -> asyncpg.Connection:
    return cast(Session, session).conn


def _path_of(row: asyncpg.Record) -> AreaPath:
    return AreaPath(
        community_id=row["community_id"],
        grid_id=row["grid_id"],
        building_id=row["building_id"],
        unit_id=row["unit_id"],
    )


async def visible_location(
    known: Known, session: StoreSession, area_id: UUID, caller: Caller
) -> Location:
    """The area, if mediation knows it and the caller covers it; else it is not found."""
    location = await known.location(session, area_id)
    if location is None or not caller.covers(location.path):
        raise AreaNotFound("no such area (as the registry has announced)", area_id=str(area_id))
    return location


async def visible_residents(
    known: Known, session: StoreSession, ids: Collection[UUID], caller: Caller
) -> Mapping[UUID, AreaPath]:
    """Those of ``ids`` the registry registered *and* the caller may see: anyone else is
    "unknown" when a command names them, exactly like an id nobody registered."""
    found = await known.residents(session, ids)
    return {i: path for i, path in found.items() if caller.covers(path)}


def require_known(ids: Collection[UUID], known: Mapping[UUID, AreaPath]) -> None:
    for resident_id in ids:
        if resident_id not in known:
            raise UnknownResident("no such resident", resident_id=str(resident_id))
