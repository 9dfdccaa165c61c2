"""What governance keeps of others' facts in its own tables, beyond the kernel's mirror of the
registry: the liaisons of partner organisations (a red notice names them), where each
dispute is (a dispute escalated to the community becomes a work item there), and which work
items each dispute's escalations opened, in the order they came (mediation withdrawing the
latest escalation to the community withdraws the item it opened).

Kept by the policies in the transaction of the event's inbox row; read through :class:`Mirror`
(:class:`PostgresMirror`, or :class:`MemoryMirror` in handler tests).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Protocol, cast
from uuid import UUID

import asyncpg

from anju_contracts.mediation import DisputeRegistered, Sensitivity
from anju_contracts.registry import AreaPath, Liaison, OrganisationChanged, OrganisationRegistered
from eventkit.store import Session, StoreSession

DDL = """
CREATE TABLE IF NOT EXISTS governance_liaisons (
    organisation_id uuid PRIMARY KEY,
    liaisons        jsonb NOT NULL
);
CREATE TABLE IF NOT EXISTS governance_disputes (
    dispute_id   uuid PRIMARY KEY,
    community_id uuid NOT NULL,
    grid_id      uuid,
    category     text NOT NULL,
    sensitive    boolean NOT NULL
);
-- ``sequence``: the escalation's place in the dispute's stream. Items opened before this table
-- was kept are found in the store once, in the order they were opened, without it.
DO $$
BEGIN
    IF to_regclass('governance_dispute_items') IS NULL THEN
        CREATE TABLE governance_dispute_items (
            opened     bigint GENERATED ALWAYS AS IDENTITY,
            dispute_id uuid NOT NULL,
            item_id    uuid PRIMARY KEY,
            sequence   integer
        );
        CREATE INDEX governance_dispute_items_dispute
            ON governance_dispute_items (dispute_id, opened);
        INSERT INTO governance_dispute_items (dispute_id, item_id)
        SELECT (data->'source'->>'id')::uuid, (data->>'item_id')::uuid FROM events
        WHERE type = 'governance.WorkItemOpened' AND data->'source'->>'record' = 'dispute'
        ORDER BY position;
    END IF;
END $$;
"""


@dataclass(frozen=True)
class DisputePlace:
    """Where a dispute is, as mediation registered it (nothing personal of it)."""

    dispute_id: UUID
    path: AreaPath
    category: str
    sensitive: bool


class Mirror(Protocol):
    async def liaisons(self, session: StoreSession, organisation_id: UUID) -> list[Liaison]: ...

    async def dispute(self, session: StoreSession, dispute_id: UUID) -> DisputePlace | None: ...

    async def keep_dispute_item(
        self, session: StoreSession, dispute_id: UUID, item_id: UUID, sequence: int
    ) -> None:
        """The item an escalation of the dispute opened (``sequence``: the escalation's place in
        the dispute's stream), after those opened before it."""
        ...

    async def latest_dispute_item(
        self, session: StoreSession, dispute_id: UUID, before: int
    ) -> UUID | None:
        """The work item the dispute's latest escalation to the community before ``before`` (a
        place in its stream) opened, if any."""
        ...


def _conn(session: StoreSession) -> asyncpg.Connection:
    return cast(Session, session).conn


def _liaisons(value: str) -> list[Liaison]:
    return [Liaison.model_validate(item) for item in json.loads(value)]


class PostgresMirror:
    async def liaisons(self, session: StoreSession, organisation_id: UUID) -> list[Liaison]:
        value = await _conn(session).fetchval(
            "SELECT liaisons::text FROM governance_liaisons WHERE organisation_id = $1",
            organisation_id,
        )
        return [] if value is None else _liaisons(value)

    async def dispute(self, session: StoreSession, dispute_id: UUID) -> DisputePlace | None:
        row = await _conn(session).fetchrow(
            """
            SELECT community_id, grid_id, category, sensitive FROM governance_disputes
            WHERE dispute_id = $1
            """,
            dispute_id,
        )
        if row is None:
            return None
        return DisputePlace(
            dispute_id,
            AreaPath(community_id=row["community_id"], grid_id=row["grid_id"]),
            row["category"],
            row["sensitive"],
        )

    async def keep_dispute_item(
        self, session: StoreSession, dispute_id: UUID, item_id: UUID, sequence: int
    ) -> None:
        await _conn(session).execute(
            """
            INSERT INTO governance_dispute_items (dispute_id, item_id, sequence)
            VALUES ($1, $2, $3) ON CONFLICT (item_id) DO NOTHING
            """,
            dispute_id,
            item_id,
            sequence,
        )

    async def latest_dispute_item(
        self, session: StoreSession, dispute_id: UUID, before: int
    ) -> UUID | None:
        item_id: UUID | None = await _conn(session).fetchval(
            """
            SELECT item_id FROM governance_dispute_items
            WHERE dispute_id = $1 AND (sequence IS NULL OR sequence < $2)
            ORDER BY opened DESC LIMIT 1
            """,
            dispute_id,
            before,
        )
        return item_id


async def keep_liaisons(
    session: Session, event: OrganisationRegistered | OrganisationChanged
) -> None:
    if event.liaisons is None:
        return
    await session.conn.execute(
        """
        INSERT INTO governance_liaisons (organisation_id, liaisons) VALUES ($1, $2::jsonb)
        ON CONFLICT (organisation_id) DO UPDATE SET liaisons = EXCLUDED.liaisons
        """,
        event.organisation_id,
        json.dumps([liaison.model_dump(mode="json") for liaison in event.liaisons]),
    )


async def keep_dispute(session: Session, event: DisputeRegistered) -> None:
    path = event.location.path
    await session.conn.execute(
        """
        INSERT INTO governance_disputes (dispute_id, community_id, grid_id, category, sensitive)
        VALUES ($1, $2, $3, $4, $5)
        ON CONFLICT (dispute_id) DO UPDATE SET community_id = EXCLUDED.community_id,
            grid_id = EXCLUDED.grid_id, category = EXCLUDED.category,
            sensitive = EXCLUDED.sensitive
        """,
        event.dispute_id,
        path.community_id,
        path.grid_id,
        event.category.value,
        event.sensitivity == Sensitivity.SENSITIVE,
    )


class MemoryMirror:
    """The same, in dictionaries, for handler tests."""

    def __init__(self) -> None:
        self.organisation_liaisons: dict[UUID, list[Liaison]] = {}
        self.disputes: dict[UUID, DisputePlace] = {}
        self.dispute_items: dict[UUID, dict[UUID, int]] = {}

    async def liaisons(self, session: StoreSession, organisation_id: UUID) -> list[Liaison]:
        return self.organisation_liaisons.get(organisation_id, [])

    async def dispute(self, session: StoreSession, dispute_id: UUID) -> DisputePlace | None:
        return self.disputes.get(dispute_id)

    async def keep_dispute_item(
        self, session: StoreSession, dispute_id: UUID, item_id: UUID, sequence: int
    ) -> None:
        self.dispute_items.setdefault(dispute_id, {}).setdefault(item_id, sequence)

    async def latest_dispute_item(
        self, session: StoreSession, dispute_id: UUID, before: int
    ) -> UUID | None:
        kept = self.dispute_items.get(dispute_id, {})
        return next((i for i, s in reversed(kept.items()) if s < before), None)
