"""What a service knows of the registry: areas, residents and partner organisations, learnt from
the registry's events.

No service reads another's database, yet most commands name an area, a resident or a partner
organisation of the registry. A service that needs them runs :func:`registry_policy` on
``registry.events``: it keeps tables of the service's own database (:data:`DDL`) in the same
transaction as the policy's inbox row, so a redelivered event changes nothing, and then lets the
service react in that same transaction. Commands read the tables through :class:`Known`
(:class:`PostgresKnown`, or :class:`MemoryKnown` in handler tests) and the access rule through
:func:`visible_location`, :func:`visible_residents` and :func:`visible_organisation`: a record
the caller may not see is not found, exactly like one the registry never announced.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, replace
from datetime import date
from typing import Protocol, cast
from uuid import UUID

import asyncpg

from anju_contracts import Event
from anju_contracts.registry import (
    CATALOG as REGISTRY,
    AreaCreated,
    AreaKind,
    AreaPath,
    Location,
    OrganisationChanged,
    OrganisationKind,
    OrganisationRegistered,
    OrganisationRetired,
    PersonErased,
    ResidentDetailsCorrected,
    ResidentDied,
    ResidentMoved,
    ResidentMovedOut,
    ResidentRegistered,
)
from eventkit.access import Guarded
from eventkit.commands import Caller
from eventkit.erasure import blank
from eventkit.errors import AreaNotFound, OrganisationNotFound, UnknownResident
from eventkit.messages import Delivered
from eventkit.policy import Handler, Policy
from eventkit.store import Session, StoreSession

__all__ = [
    "DDL",
    "AreaNotFound",
    "Known",
    "KnownOrganisation",
    "KnownResident",
    "MemoryKnown",
    "OrganisationNotFound",
    "PostgresKnown",
    "UnknownResident",
    "learn",
    "registry_policy",
    "require_known",
    "visible_location",
    "visible_organisation",
    "visible_residents",
]

DDL = """
-- Mediation kept these tables as mediation_areas and mediation_residents before the kernel
-- took them over: a database that has the old tables and not the new ones keeps its rows.
DO $$
BEGIN
    IF to_regclass('mediation_areas') IS NOT NULL AND to_regclass('known_areas') IS NULL THEN
        ALTER TABLE mediation_areas RENAME TO known_areas;
        ALTER INDEX IF EXISTS mediation_areas_pkey RENAME TO known_areas_pkey;
    END IF;
    IF to_regclass('mediation_residents') IS NOT NULL
            AND to_regclass('known_residents') IS NULL THEN
        ALTER TABLE mediation_residents RENAME TO known_residents;
        ALTER INDEX IF EXISTS mediation_residents_pkey RENAME TO known_residents_pkey;
    END IF;
END
$$;
CREATE TABLE IF NOT EXISTS known_areas (
    area_id      uuid PRIMARY KEY,
    kind         text NOT NULL,
    community_id uuid NOT NULL,
    grid_id      uuid,
    building_id  uuid,
    unit_id      uuid
);
CREATE TABLE IF NOT EXISTS known_residents (
    resident_id  uuid PRIMARY KEY,
    community_id uuid NOT NULL,
    grid_id      uuid,
    building_id  uuid,
    unit_id      uuid,
    active       boolean NOT NULL
);
ALTER TABLE known_areas ADD COLUMN IF NOT EXISTS name text;
ALTER TABLE known_residents ADD COLUMN IF NOT EXISTS date_of_birth date;
ALTER TABLE known_residents ADD COLUMN IF NOT EXISTS died_on date;
CREATE TABLE IF NOT EXISTS known_organisations (
    organisation_id uuid PRIMARY KEY,
    kind            text NOT NULL,
    name            text NOT NULL,
    community_ids   uuid[] NOT NULL,
    active          boolean NOT NULL
);
"""
"""The tables :func:`learn` keeps; pass it to the service's ``Runtime(ddl=...)``."""


@dataclass(frozen=True)
class KnownResident:
    """A resident as the registry last announced them."""

    resident_id: UUID
    path: AreaPath
    date_of_birth: date | None
    """Unknown for a resident first heard of by a move (the registration came earlier than
    the service started listening), and once the person is erased."""
    active: bool
    """False once the resident died or moved out; true again if the registry registers them
    again."""
    died_on: date | None


@dataclass(frozen=True)
class KnownOrganisation:
    """A partner organisation as the registry last announced it."""

    organisation_id: UUID
    kind: OrganisationKind
    name: str
    community_ids: tuple[UUID, ...]
    """The communities it serves, the first being where its facts are scoped."""
    active: bool
    """False once the registry retired it."""

    @property
    def guard(self) -> Guarded:
        """Where the organisation sits for the access policy: seen from any community it serves
        (by its own liaisons, too)."""
        return Guarded.serving(self.community_ids, organisations=[self.organisation_id])


# -- learning -------------------------------------------------------------------------------------

_PATH_COLUMNS = "community_id, grid_id, building_id, unit_id"


def _columns(path: AreaPath) -> tuple[UUID, UUID | None, UUID | None, UUID | None]:
    return (path.community_id, path.grid_id, path.building_id, path.unit_id)


def _located(event: AreaCreated) -> Location:
    """The area with a path that ends at the area itself, whether or not the event's did."""
    if event.kind == AreaKind.COMMUNITY:
        path = AreaPath(community_id=event.area_id)
    else:
        path = event.path.model_copy(update={f"{event.kind}_id": event.area_id})
    return Location(area_id=event.area_id, kind=event.kind, path=path)


async def learn(session: Session, delivered: Delivered) -> None:
    """Mirror the areas, residents and organisations a registry event announces; the others
    change nothing.

    Every statement sets the row to what the event says, so applying an event again leaves the
    row as it was (the policy's inbox already keeps a redelivery from applying it twice).
    """
    conn = session.conn
    event = delivered.event
    if isinstance(event, AreaCreated):
        location = _located(event)
        await conn.execute(
            f"""
            INSERT INTO known_areas (area_id, kind, {_PATH_COLUMNS}, name)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (area_id) DO UPDATE SET kind = EXCLUDED.kind,
                community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
                building_id = EXCLUDED.building_id, unit_id = EXCLUDED.unit_id,
                name = EXCLUDED.name
            """,
            location.area_id,
            location.kind.value,
            *_columns(location.path),
            event.name,
        )
    elif isinstance(event, ResidentRegistered):
        await conn.execute(
            f"""
            INSERT INTO known_residents
                (resident_id, {_PATH_COLUMNS}, date_of_birth, active, died_on)
            VALUES ($1, $2, $3, $4, $5, $6, true, NULL)
            ON CONFLICT (resident_id) DO UPDATE SET community_id = EXCLUDED.community_id,
                grid_id = EXCLUDED.grid_id, building_id = EXCLUDED.building_id,
                unit_id = EXCLUDED.unit_id, date_of_birth = EXCLUDED.date_of_birth,
                active = true, died_on = NULL
            """,
            event.resident_id,
            *_columns(event.path),
            event.date_of_birth,
        )
    elif isinstance(event, ResidentMoved):
        await conn.execute(
            f"""
            INSERT INTO known_residents (resident_id, {_PATH_COLUMNS}, active)
            VALUES ($1, $2, $3, $4, $5, true)
            ON CONFLICT (resident_id) DO UPDATE SET community_id = EXCLUDED.community_id,
                grid_id = EXCLUDED.grid_id, building_id = EXCLUDED.building_id,
                unit_id = EXCLUDED.unit_id
            """,
            event.resident_id,
            *_columns(event.to_path),
        )
    elif isinstance(event, ResidentDetailsCorrected):
        if event.date_of_birth is not None:
            await conn.execute(
                "UPDATE known_residents SET date_of_birth = $2 WHERE resident_id = $1",
                event.resident_id,
                event.date_of_birth,
            )
    elif isinstance(event, PersonErased):
        # the date of birth is theirs (it reads null once erased); where they lived stays
        await conn.execute(
            blank("known_residents", key="resident_id", values=["date_of_birth"]),
            event.resident_id,
        )
    elif isinstance(event, ResidentMovedOut):
        await conn.execute(
            "UPDATE known_residents SET active = false WHERE resident_id = $1",
            event.resident_id,
        )
    elif isinstance(event, ResidentDied):
        await conn.execute(
            "UPDATE known_residents SET active = false, died_on = $2 WHERE resident_id = $1",
            event.resident_id,
            event.died_on,
        )
    elif isinstance(event, OrganisationRegistered):
        await conn.execute(
            """
            INSERT INTO known_organisations (organisation_id, kind, name, community_ids, active)
            VALUES ($1, $2, $3, $4, true)
            ON CONFLICT (organisation_id) DO UPDATE SET kind = EXCLUDED.kind,
                name = EXCLUDED.name, community_ids = EXCLUDED.community_ids, active = true
            """,
            event.organisation_id,
            event.kind.value,
            event.name,
            event.community_ids,
        )
    elif isinstance(event, OrganisationChanged):
        await conn.execute(
            """
            UPDATE known_organisations SET name = coalesce($2, name),
                community_ids = coalesce($3, community_ids)
            WHERE organisation_id = $1
            """,
            event.organisation_id,
            event.name,
            event.community_ids,
        )
    elif isinstance(event, OrganisationRetired):
        await conn.execute(
            "UPDATE known_organisations SET active = false WHERE organisation_id = $1",
            event.organisation_id,
        )


def registry_policy(name: str, then: Handler | None = None) -> Policy:
    """The policy on ``registry.events`` that runs :func:`learn`, then ``then`` (the service's
    own reaction, if any) in the same transaction, so ``then`` reads the tables as they stand
    after the event.

    ``name`` keys the policy's inbox rows, dead letters and consumer group: it must never
    change for a service that has run it.
    """

    async def handle(session: Session, delivered: Delivered) -> None:
        await learn(session, delivered)
        if then is not None:
            await then(session, delivered)

    return Policy(name=name, catalogs=[REGISTRY], handle=handle)


# -- reading --------------------------------------------------------------------------------------


class Known(Protocol):
    """What a service has learnt of the registry, as its commands read it."""

    async def location(self, session: StoreSession, area_id: UUID) -> Location | None:
        """The area, if the registry has announced it."""

    async def area_names(self, session: StoreSession, ids: Collection[UUID]) -> Mapping[UUID, str]:
        """The names the registry gave the areas of ``ids`` it announced (a community's name,
        a building's, a unit's)."""

    async def residents(
        self, session: StoreSession, ids: Collection[UUID]
    ) -> Mapping[UUID, AreaPath]:
        """Where each of ``ids`` that the registry has registered lives (or last lived)."""

    async def resident(self, session: StoreSession, resident_id: UUID) -> KnownResident | None:
        """The resident, if the registry has registered them."""

    async def organisation(
        self, session: StoreSession, organisation_id: UUID
    ) -> KnownOrganisation | None:
        """The partner organisation, if the registry has registered it (retired ones too)."""


class PostgresKnown:
    """The tables :func:`learn` keeps in the service's database."""

    async def location(self, session: StoreSession, area_id: UUID) -> Location | None:
        row = await _conn(session).fetchrow(
            f"SELECT kind, {_PATH_COLUMNS} FROM known_areas WHERE area_id = $1", area_id
        )
        if row is None:
            return None
        return Location(area_id=area_id, kind=AreaKind(row["kind"]), path=_path_of(row))

    async def area_names(self, session: StoreSession, ids: Collection[UUID]) -> Mapping[UUID, str]:
        rows = await _conn(session).fetch(
            """
            SELECT area_id, name FROM known_areas
            WHERE area_id = ANY($1::uuid[]) AND name IS NOT NULL
            """,
            list(ids),
        )
        return {row["area_id"]: row["name"] for row in rows}

    async def residents(
        self, session: StoreSession, ids: Collection[UUID]
    ) -> Mapping[UUID, AreaPath]:
        if not ids:
            return {}
        rows = await _conn(session).fetch(
            f"""
            SELECT resident_id, {_PATH_COLUMNS} FROM known_residents
            WHERE resident_id = ANY($1::uuid[])
            """,
            list(ids),
        )
        return {row["resident_id"]: _path_of(row) for row in rows}

    async def resident(self, session: StoreSession, resident_id: UUID) -> KnownResident | None:
        row = await _conn(session).fetchrow(
            f"""
            SELECT {_PATH_COLUMNS}, date_of_birth, active, died_on FROM known_residents
            WHERE resident_id = $1
            """,
            resident_id,
        )
        if row is None:
            return None
        return KnownResident(
            resident_id=resident_id,
            path=_path_of(row),
            date_of_birth=row["date_of_birth"],
            active=row["active"],
            died_on=row["died_on"],
        )

    async def organisation(
        self, session: StoreSession, organisation_id: UUID
    ) -> KnownOrganisation | None:
        row = await _conn(session).fetchrow(
            """
            SELECT kind, name, community_ids, active FROM known_organisations
            WHERE organisation_id = $1
            """,
            organisation_id,
        )
        if row is None:
            return None
        return KnownOrganisation(
            organisation_id=organisation_id,
            kind=OrganisationKind(row["kind"]),
            name=row["name"],
            community_ids=tuple(row["community_ids"]),
            active=row["active"],
        )


def _conn(session: StoreSession) -> asyncpg.Connection:
    return cast(Session, session).conn


def _path_of(row: asyncpg.Record) -> AreaPath:
    return AreaPath(
        community_id=row["community_id"],
        grid_id=row["grid_id"],
        building_id=row["building_id"],
        unit_id=row["unit_id"],
    )


class MemoryKnown:
    """Areas, residents and organisations in dictionaries, for handler tests on the in-memory
    store.

    Fill ``locations``, ``people`` and ``organisations`` directly, or feed registry events to
    :meth:`learn`, which mirrors them as :func:`learn` does in PostgreSQL.
    """

    def __init__(self) -> None:
        self.locations: dict[UUID, Location] = {}
        self.people: dict[UUID, KnownResident] = {}
        self.organisations: dict[UUID, KnownOrganisation] = {}
        self.names: dict[UUID, str] = {}

    def place(
        self, resident_id: UUID, path: AreaPath, *, date_of_birth: date | None = None
    ) -> KnownResident:
        """Know an active resident living at ``path``."""
        person = KnownResident(resident_id, path, date_of_birth, active=True, died_on=None)
        self.people[resident_id] = person
        return person

    def learn(self, event: Event) -> None:
        """What :func:`learn` does with a registry event, in the dictionaries."""
        if isinstance(event, AreaCreated):
            self.locations[event.area_id] = _located(event)
            self.names[event.area_id] = event.name
        elif isinstance(event, ResidentRegistered):
            self.place(event.resident_id, event.path, date_of_birth=event.date_of_birth)
        elif isinstance(event, ResidentMoved):
            known = self.people.get(event.resident_id)
            if known is None:
                self.place(event.resident_id, event.to_path)
            else:
                self.people[event.resident_id] = replace(known, path=event.to_path)
        elif isinstance(event, ResidentDetailsCorrected | ResidentMovedOut | ResidentDied):
            known = self.people.get(event.resident_id)
            if known is None:
                return  # as in PostgreSQL: an update finds no row
            if isinstance(event, ResidentDetailsCorrected):
                if event.date_of_birth is not None:
                    known = replace(known, date_of_birth=event.date_of_birth)
            elif isinstance(event, ResidentMovedOut):
                known = replace(known, active=False)
            else:
                known = replace(known, active=False, died_on=event.died_on)
            self.people[event.resident_id] = known
        elif isinstance(event, OrganisationRegistered):
            self.organisations[event.organisation_id] = KnownOrganisation(
                organisation_id=event.organisation_id,
                kind=event.kind,
                name=event.name,
                community_ids=tuple(event.community_ids),
                active=True,
            )
        elif isinstance(event, OrganisationChanged | OrganisationRetired):
            organisation = self.organisations.get(event.organisation_id)
            if organisation is None:
                return  # as in PostgreSQL: an update finds no row
            if isinstance(event, OrganisationRetired):
                organisation = replace(organisation, active=False)
            else:
                if event.name is not None:
                    organisation = replace(organisation, name=event.name)
                if event.community_ids is not None:
                    organisation = replace(organisation, community_ids=tuple(event.community_ids))
            self.organisations[event.organisation_id] = organisation

    async def location(self, session: StoreSession, area_id: UUID) -> Location | None:
        return self.locations.get(area_id)

    async def area_names(self, session: StoreSession, ids: Collection[UUID]) -> Mapping[UUID, str]:
        return {i: self.names[i] for i in ids if i in self.names}

    async def residents(
        self, session: StoreSession, ids: Collection[UUID]
    ) -> Mapping[UUID, AreaPath]:
        return {i: self.people[i].path for i in ids if i in self.people}

    async def resident(self, session: StoreSession, resident_id: UUID) -> KnownResident | None:
        return self.people.get(resident_id)

    async def organisation(
        self, session: StoreSession, organisation_id: UUID
    ) -> KnownOrganisation | None:
        return self.organisations.get(organisation_id)


# -- the access rule on what is known -------------------------------------------------------------


async def visible_location(
    known: Known, session: StoreSession, area_id: UUID, caller: Caller
) -> Location:
    """The area, if the service knows it and the caller covers it; else :class:`AreaNotFound`."""
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


def require_known(ids: Collection[UUID], found: Mapping[UUID, AreaPath]) -> None:
    """Refuse with :class:`UnknownResident` unless every one of ``ids`` was ``found``."""
    for resident_id in ids:
        if resident_id not in found:
            raise UnknownResident("no such resident", resident_id=str(resident_id))


async def visible_organisation(
    known: Known, session: StoreSession, organisation_id: UUID, caller: Caller
) -> KnownOrganisation:
    """The partner organisation, if the service knows it, it is not retired, and the caller
    covers a community it serves; else :class:`OrganisationNotFound` (404), the same answer for
    each of the three, so that none is told apart."""
    organisation = await known.organisation(session, organisation_id)
    if organisation is None or not organisation.active or not caller.sees(organisation.guard):
        raise OrganisationNotFound(
            "no such organisation (as the registry has announced)",
            organisation_id=str(organisation_id),
        )
    return organisation
