"""What the tenancy flow keeps in the integration service's own tables, and reads from them.

- ``tenancy_id_hashes``: for each resident the registry announced, a keyed hash of their
  identity number (never the number), learnt with the kernel's registry mirror
  (:func:`learn`, run by the registry policy);
- ``tenancy_unit_references``: a unit reference of the housing security centre (an address,
  a building and unit number) that a desk clerk matched to a unit: the next notice naming it
  matches exactly;
- ``tenancy_pending_tenants``: the details of a pending notice's tenants (name, date of birth,
  identity number, phone), needed to register them and to show them to the clerk; deleted when
  the notice is applied or dismissed;
- ``tenancy_parked``: the parked notices and where they are, for the desk's list.

Units and residents themselves come from the kernel's mirror (``known_areas``,
``known_residents``, ``known_organisations``).
"""

from __future__ import annotations

import hashlib
import hmac
import unicodedata
from collections.abc import Mapping, Sequence
from typing import cast
from uuid import UUID

import asyncpg

from anju_contracts.housing import Tenant, UnitReference
from anju_contracts.registry import (
    OrganisationKind,
    PersonErased,
    ResidentDetailsCorrected,
    ResidentRegistered,
)
from anju_integration.domain.tenancies import Person, Unit
from eventkit.access import Params, visible_sql
from eventkit.auth import Principal
from eventkit.messages import Delivered
from eventkit.policy import Handler
from eventkit.store import Session, StoreSession

DDL = """
CREATE TABLE IF NOT EXISTS tenancy_id_hashes (
    resident_id uuid PRIMARY KEY,
    id_hash     text NOT NULL
);
CREATE INDEX IF NOT EXISTS tenancy_id_hashes_hash ON tenancy_id_hashes (id_hash);
CREATE TABLE IF NOT EXISTS tenancy_unit_references (
    reference text PRIMARY KEY,
    unit_id   uuid NOT NULL
);
CREATE TABLE IF NOT EXISTS tenancy_pending_tenants (
    notice_id     uuid NOT NULL,
    ref           text NOT NULL,
    id_number     text NOT NULL,
    name          text NOT NULL,
    date_of_birth date NOT NULL,
    phone         text,
    PRIMARY KEY (notice_id, ref)
);
CREATE TABLE IF NOT EXISTS tenancy_parked (
    notice_id     uuid PRIMARY KEY,
    community_id  uuid,
    grid_id       uuid,
    community_ids uuid[] NOT NULL,
    parked_at     timestamptz NOT NULL DEFAULT now()
);
"""


class IdHasher:
    """A keyed hash (HMAC-SHA-256) of an identity number: equal numbers hash equal, and
    without the key a hash cannot be checked against a guessed number."""

    def __init__(self, key: bytes) -> None:
        self._key = key

    def __call__(self, id_number: str) -> str:
        normal = id_number.strip().upper().encode()
        return hmac.new(self._key, normal, hashlib.sha256).hexdigest()


def _conn(session: StoreSession) -> asyncpg.Connection:
    return cast(Session, session).conn


def learner(hasher: IdHasher) -> Handler:
    """The registry policy's reaction: keep the hash of every resident's identity number, and
    forget it when the person is erased (a later notice naming the number matches no one)."""

    async def learn(session: Session, delivered: Delivered) -> None:
        event = delivered.event
        if isinstance(event, PersonErased):
            await session.conn.execute(
                "DELETE FROM tenancy_id_hashes WHERE resident_id = $1", event.resident_id
            )
            return
        if not isinstance(event, ResidentRegistered | ResidentDetailsCorrected):
            return
        number = event.id_number
        if number is not None:
            await session.conn.execute(
                """
                INSERT INTO tenancy_id_hashes (resident_id, id_hash) VALUES ($1, $2)
                ON CONFLICT (resident_id) DO UPDATE SET id_hash = EXCLUDED.id_hash
                """,
                event.resident_id,
                hasher(number),
            )

    return learn


def name_key(text: str) -> str:
    """A name as the estate writes it, compared: full-width folded (NFKC), case and spaces
    ignored."""
    return "".join(unicodedata.normalize("NFKC", text).lower().split())


def reference_keys(reference: UnitReference) -> list[str]:
    keys = []
    if reference.building is not None and reference.unit is not None:
        keys.append(f"unit:{name_key(reference.building)}/{name_key(reference.unit)}")
    if reference.address is not None:
        keys.append(f"address:{name_key(reference.address)}")
    return keys


_KEY_SQL = "lower(regexp_replace(normalize({col}, NFKC), '\\s+', '', 'g'))"


class TenancyTables:
    """The tenancy flow's reads and writes of the service's database."""

    async def units(self, session: StoreSession, reference: UnitReference) -> list[Unit]:
        """Every unit the reference names exactly: a clerk's earlier match of the reference, or
        the registry's unit of that number in the building of that name."""
        conn = _conn(session)
        found: dict[UUID, Unit] = {}
        keys = reference_keys(reference)
        rows = await conn.fetch(
            """
            SELECT a.area_id, a.community_id, a.grid_id FROM tenancy_unit_references r
            JOIN known_areas a ON a.area_id = r.unit_id WHERE r.reference = ANY($1::text[])
            """,
            keys,
        )
        if not rows and reference.building is not None and reference.unit is not None:
            rows = await conn.fetch(
                f"""
                SELECT u.area_id, u.community_id, u.grid_id FROM known_areas u
                JOIN known_areas b ON b.area_id = u.building_id AND b.kind = 'building'
                WHERE u.kind = 'unit' AND {_KEY_SQL.format(col="u.name")} = $1
                  AND {_KEY_SQL.format(col="b.name")} = $2
                """,
                name_key(reference.unit),
                name_key(reference.building),
            )
        for row in rows:
            found[row["area_id"]] = Unit(row["area_id"], row["community_id"], row["grid_id"])
        return list(found.values())

    async def unit(self, session: StoreSession, unit_id: UUID) -> Unit | None:
        row = await _conn(session).fetchrow(
            "SELECT community_id, grid_id FROM known_areas WHERE area_id = $1 AND kind = 'unit'",
            unit_id,
        )
        return None if row is None else Unit(unit_id, row["community_id"], row["grid_id"])

    async def building_grid(
        self, session: StoreSession, reference: UnitReference
    ) -> tuple[UUID, UUID | None] | None:
        """The community and grid of the one building the reference's building name names."""
        if reference.building is None:
            return None
        rows = await _conn(session).fetch(
            f"""
            SELECT community_id, grid_id FROM known_areas
            WHERE kind = 'building' AND {_KEY_SQL.format(col="name")} = $1
            """,
            name_key(reference.building),
        )
        return (rows[0]["community_id"], rows[0]["grid_id"]) if len(rows) == 1 else None

    async def centre_communities(self, session: StoreSession) -> list[UUID]:
        """The communities the registry's housing security centres serve."""
        rows = await _conn(session).fetch(
            """
            SELECT DISTINCT unnest(community_ids) AS community_id FROM known_organisations
            WHERE kind = $1 AND active ORDER BY 1
            """,
            OrganisationKind.HOUSING_SECURITY_CENTRE.value,
        )
        return [row["community_id"] for row in rows]

    async def people(
        self, session: StoreSession, hashes: Sequence[str]
    ) -> Mapping[str, list[Person]]:
        """The residents holding each hashed number, as the registry last announced them."""
        rows = await _conn(session).fetch(
            """
            SELECT h.id_hash, r.resident_id, r.active, r.unit_id, r.community_id
            FROM tenancy_id_hashes h JOIN known_residents r USING (resident_id)
            WHERE h.id_hash = ANY($1::text[]) ORDER BY r.resident_id
            """,
            list(hashes),
        )
        found: dict[str, list[Person]] = {}
        for row in rows:
            found.setdefault(row["id_hash"], []).append(
                Person(row["resident_id"], row["active"], row["unit_id"], row["community_id"])
            )
        return found

    async def person(self, session: StoreSession, resident_id: UUID) -> Person | None:
        row = await _conn(session).fetchrow(
            """
            SELECT active, unit_id, community_id FROM known_residents WHERE resident_id = $1
            """,
            resident_id,
        )
        if row is None:
            return None
        return Person(resident_id, row["active"], row["unit_id"], row["community_id"])

    async def remember_reference(
        self, session: StoreSession, reference: UnitReference, unit_id: UUID
    ) -> None:
        await _conn(session).executemany(
            """
            INSERT INTO tenancy_unit_references (reference, unit_id) VALUES ($1, $2)
            ON CONFLICT (reference) DO UPDATE SET unit_id = EXCLUDED.unit_id
            """,
            [(key, unit_id) for key in reference_keys(reference)],
        )

    async def keep_tenants(
        self, session: StoreSession, notice_id: UUID, tenants: Mapping[str, Tenant]
    ) -> None:
        await _conn(session).executemany(
            """
            INSERT INTO tenancy_pending_tenants
                (notice_id, ref, id_number, name, date_of_birth, phone)
            VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING
            """,
            [
                (notice_id, ref, t.id_number.upper(), t.name, t.date_of_birth, t.phone)
                for ref, t in tenants.items()
            ],
        )

    async def tenants(self, session: StoreSession, notice_id: UUID) -> dict[str, Tenant]:
        rows = await _conn(session).fetch(
            """
            SELECT ref, id_number, name, date_of_birth, phone FROM tenancy_pending_tenants
            WHERE notice_id = $1
            """,
            notice_id,
        )
        return {
            row["ref"]: Tenant(
                id_number=row["id_number"],
                name=row["name"],
                date_of_birth=row["date_of_birth"],
                phone=row["phone"],
            )
            for row in rows
        }

    async def forget(self, session: StoreSession, notice_id: UUID) -> None:
        """The notice is settled: drop its tenants' details and its place on the parked list."""
        conn = _conn(session)
        await conn.execute("DELETE FROM tenancy_pending_tenants WHERE notice_id = $1", notice_id)
        await conn.execute("DELETE FROM tenancy_parked WHERE notice_id = $1", notice_id)

    async def park(
        self,
        session: StoreSession,
        notice_id: UUID,
        community_ids: Sequence[UUID],
        grid_id: UUID | None,
    ) -> None:
        await _conn(session).execute(
            """
            INSERT INTO tenancy_parked (notice_id, community_id, grid_id, community_ids)
            VALUES ($1, $2, $3, $4)
            ON CONFLICT (notice_id) DO UPDATE SET community_id = EXCLUDED.community_id,
                grid_id = EXCLUDED.grid_id, community_ids = EXCLUDED.community_ids
            """,
            notice_id,
            community_ids[0] if community_ids else None,
            grid_id,
            list(community_ids),
        )

    async def unpark(self, session: StoreSession, notice_id: UUID) -> None:
        await _conn(session).execute("DELETE FROM tenancy_parked WHERE notice_id = $1", notice_id)

    async def parked(self, session: StoreSession, principal: Principal, limit: int) -> list[UUID]:
        """The parked notices the caller may see, oldest first."""
        params = Params()
        visible = visible_sql(
            principal,
            params,
            community="community_id",
            grid="grid_id",
            communities="community_ids",
        )
        rows = await _conn(session).fetch(
            f"""
            SELECT notice_id FROM tenancy_parked WHERE {visible}
            ORDER BY parked_at, notice_id LIMIT {params(limit)}
            """,
            *params.values,
        )
        return [row["notice_id"] for row in rows]
