"""Break-the-glass: a doctor opens protected care they do not manage, with a reason and an expiry.

Each opening is a row written in the command's transaction, before anything is shown: who,
which resident, why, when, until when, and the area (so a director sees the openings in their
areas). The rows are the audit; nothing about them goes on a topic.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, cast
from uuid import UUID

import asyncpg

from anju_contracts.registry import AreaPath
from eventkit.store import Session, StoreSession

DDL = """
CREATE TABLE IF NOT EXISTS glass_breaks (
    id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sub          text NOT NULL,
    resident_id  uuid NOT NULL,
    reason       text NOT NULL,
    opened_at    timestamptz NOT NULL,
    expires_at   timestamptz NOT NULL,
    community_id uuid NOT NULL,
    grid_id      uuid
);
CREATE INDEX IF NOT EXISTS glass_breaks_open ON glass_breaks (resident_id, sub, expires_at);
CREATE INDEX IF NOT EXISTS glass_breaks_recent ON glass_breaks (opened_at);
"""


@dataclass(frozen=True)
class GlassBreak:
    sub: str
    resident_id: UUID
    reason: str
    opened_at: datetime
    expires_at: datetime
    path: AreaPath


class Glass(Protocol):
    async def open(self, session: StoreSession, opening: GlassBreak) -> None: ...

    async def is_open(
        self, session: StoreSession, resident_id: UUID, sub: str, now: datetime
    ) -> bool: ...

    async def open_reason(
        self, session: StoreSession, resident_id: UUID, sub: str, now: datetime
    ) -> str | None:
        """The reason ``sub`` gave for the glass open on the resident at ``now``, if one is."""
        ...

    async def since(self, session: StoreSession, since: datetime) -> list[GlassBreak]: ...


class PostgresGlass:
    async def open(self, session: StoreSession, opening: GlassBreak) -> None:
        await _conn(session).execute(
            """
            INSERT INTO glass_breaks
                (sub, resident_id, reason, opened_at, expires_at, community_id, grid_id)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            """,
            opening.sub,
            opening.resident_id,
            opening.reason,
            opening.opened_at,
            opening.expires_at,
            opening.path.community_id,
            opening.path.grid_id,
        )

    async def is_open(
        self, session: StoreSession, resident_id: UUID, sub: str, now: datetime
    ) -> bool:
        return await self.open_reason(session, resident_id, sub, now) is not None

    async def open_reason(
        self, session: StoreSession, resident_id: UUID, sub: str, now: datetime
    ) -> str | None:
        reason: str | None = await _conn(session).fetchval(
            """
            SELECT reason FROM glass_breaks
            WHERE resident_id = $1 AND sub = $2 AND opened_at <= $3 AND expires_at > $3
            ORDER BY opened_at DESC LIMIT 1
            """,
            resident_id,
            sub,
            now,
        )
        return reason

    async def since(self, session: StoreSession, since: datetime) -> list[GlassBreak]:
        rows = await _conn(session).fetch(
            """
            SELECT * FROM glass_breaks WHERE opened_at >= $1 ORDER BY opened_at DESC LIMIT 1000
            """,
            since,
        )
        return [
            GlassBreak(
                r["sub"],
                r["resident_id"],
                r["reason"],
                r["opened_at"],
                r["expires_at"],
                AreaPath(community_id=r["community_id"], grid_id=r["grid_id"]),
            )
            for r in rows
        ]


class MemoryGlass:
    def __init__(self) -> None:
        self.openings: list[GlassBreak] = []

    async def open(self, session: StoreSession, opening: GlassBreak) -> None:
        self.openings.append(opening)

    async def is_open(
        self, session: StoreSession, resident_id: UUID, sub: str, now: datetime
    ) -> bool:
        return await self.open_reason(session, resident_id, sub, now) is not None

    async def open_reason(
        self, session: StoreSession, resident_id: UUID, sub: str, now: datetime
    ) -> str | None:
        open_ = [
            o
            for o in self.openings
            if o.resident_id == resident_id and o.sub == sub and o.opened_at <= now < o.expires_at
        ]
        return max(open_, key=lambda o: o.opened_at).reason if open_ else None

    async def since(self, session: StoreSession, since: datetime) -> list[GlassBreak]:
        return sorted(
            (o for o in self.openings if o.opened_at >= since),
            key=lambda o: o.opened_at,
            reverse=True,
        )


def _conn(session: StoreSession) -> asyncpg.Connection:
    return cast(Session, session).conn
