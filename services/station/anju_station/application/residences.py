"""Where a resident lives since when, under which name: what a residence certificate states.

The kernel's registry mirror (``eventkit.known``) keeps where residents live and whether they
still do; a certificate also needs the resident's name and the day they came to live at their
unit. Only the station needs those, so it keeps them in its own table, learnt by the same
registry policy in the same transaction (``registry_policy(then=...)``): the day a registration
or a move was recorded is the day the resident began living there.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date
from typing import Protocol, cast
from uuid import UUID

from anju_contracts.registry import (
    PersonErased,
    ResidentDetailsCorrected,
    ResidentMoved,
    ResidentRegistered,
)
from eventkit.erasure import blank
from eventkit.messages import Delivered
from eventkit.store import Session, StoreSession

DDL = """
CREATE TABLE IF NOT EXISTS station_residences (
    resident_id  uuid PRIMARY KEY,
    name         text,
    living_since date NOT NULL
);
"""


@dataclass(frozen=True)
class NameAndSince:
    name: str | None
    """None only for a resident first heard of by a move (registered before the station
    listened)."""
    living_since: date


async def learn_residence(session: Session, delivered: Delivered) -> None:
    """Keep the name and the day of arrival at the current unit, and blank the name when the
    person is erased; other events change nothing."""
    event = delivered.event
    day = delivered.envelope.occurred_at.astimezone(UTC).date()
    if isinstance(event, ResidentRegistered):
        await session.conn.execute(
            """
            INSERT INTO station_residences (resident_id, name, living_since) VALUES ($1, $2, $3)
            ON CONFLICT (resident_id) DO UPDATE
                SET name = EXCLUDED.name, living_since = EXCLUDED.living_since
            """,
            event.resident_id,
            event.name,
            day,
        )
    elif isinstance(event, ResidentMoved):
        await session.conn.execute(
            """
            INSERT INTO station_residences (resident_id, living_since) VALUES ($1, $2)
            ON CONFLICT (resident_id) DO UPDATE SET living_since = EXCLUDED.living_since
            """,
            event.resident_id,
            day,
        )
    elif isinstance(event, PersonErased):
        # the name a certificate would state is theirs; the day they came stays
        await session.conn.execute(
            blank("station_residences", key="resident_id", text=["name"]), event.resident_id
        )
    elif isinstance(event, ResidentDetailsCorrected) and event.name is not None:
        await session.conn.execute(
            "UPDATE station_residences SET name = $2 WHERE resident_id = $1",
            event.resident_id,
            event.name,
        )


class Residences(Protocol):
    async def get(self, session: StoreSession, resident_id: UUID) -> NameAndSince | None: ...


class PostgresResidences:
    async def get(self, session: StoreSession, resident_id: UUID) -> NameAndSince | None:
        row = await cast(Session, session).conn.fetchrow(
            "SELECT name, living_since FROM station_residences WHERE resident_id = $1",
            resident_id,
        )
        return None if row is None else NameAndSince(row["name"], row["living_since"])


class MemoryResidences:
    """For handler tests on the in-memory store."""

    def __init__(self) -> None:
        self.rows: dict[UUID, NameAndSince] = {}

    async def get(self, session: StoreSession, resident_id: UUID) -> NameAndSince | None:
        return self.rows.get(resident_id)
