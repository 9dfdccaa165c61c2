"""The 12345 work orders that wait for a place, as the desk lists them (``hotline_parked``).

A row per parked order, written in the transaction that parks it and deleted in the one that
places it: where it is for the access policy (its place, or the communities whose desks see it
while it has none), the area it named if any (placed by itself once the registry announces
that area), and its deadline (the list shows the nearest first).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

import asyncpg

from anju_integration.domain.orders import Order
from eventkit.access import Guarded, Params, may_see, visible_sql
from eventkit.auth import Principal
from eventkit.store import Session, StoreSession

DDL = """
CREATE TABLE IF NOT EXISTS hotline_parked (
    order_id      text PRIMARY KEY,
    named_area_id uuid,
    community_id  uuid,
    grid_id       uuid,
    community_ids uuid[] NOT NULL,
    deadline      timestamptz NOT NULL,
    parked_at     timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS hotline_parked_named ON hotline_parked (named_area_id)
    WHERE named_area_id IS NOT NULL AND community_id IS NULL;
"""

NOWHERE = UUID(int=0)
"""The place of an order parked where no community is served: only admins see it."""


def guard(order: Order) -> Guarded:
    """Where an order is for the access policy: its place (where it arrived, was placed or
    forwarded), else every community whose desks see it while it has none."""
    if order.path is not None:
        return Guarded(order.path.community_id, order.path.grid_id)
    if order.community_ids:
        return Guarded.serving(order.community_ids)
    return Guarded(NOWHERE)


class ParkedOrders(Protocol):
    """The parked list, inside the caller's session."""

    async def park(self, session: StoreSession, order: Order) -> None:
        """``order`` (parked) is on the list."""
        ...

    async def unpark(self, session: StoreSession, order_id: str) -> None: ...

    async def listed(self, session: StoreSession, principal: Principal, limit: int) -> list[str]:
        """The parked orders ``principal`` may see, the nearest deadline first."""
        ...

    async def naming(self, session: StoreSession, area_id: UUID) -> list[str]:
        """The parked orders without a place that named ``area_id``."""
        ...

    async def communities(self, session: StoreSession) -> list[UUID]:
        """Every community the service has learnt of the registry."""
        ...


def _row(order: Order) -> tuple[UUID | None, UUID | None, UUID | None, list[UUID]]:
    path = order.path
    named = order.received.area_id if path is None else None
    if path is None:
        return named, None, None, list(order.community_ids)
    return named, path.community_id, path.grid_id, []


def _conn(session: StoreSession) -> asyncpg.Connection:
    assert isinstance(session, Session), "the parked orders live in PostgreSQL"
    return session.conn


class PostgresParked:
    async def park(self, session: StoreSession, order: Order) -> None:
        named, community, grid, communities = _row(order)
        await _conn(session).execute(
            """
            INSERT INTO hotline_parked
                (order_id, named_area_id, community_id, grid_id, community_ids, deadline,
                 parked_at)
            VALUES ($1, $2, $3, $4, $5, $6, $7)
            ON CONFLICT (order_id) DO UPDATE SET named_area_id = EXCLUDED.named_area_id,
                community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
                community_ids = EXCLUDED.community_ids, parked_at = EXCLUDED.parked_at
            """,
            order.order_id,
            named,
            community,
            grid,
            communities,
            order.received.deadline,
            order.parked_at,
        )

    async def unpark(self, session: StoreSession, order_id: str) -> None:
        await _conn(session).execute("DELETE FROM hotline_parked WHERE order_id = $1", order_id)

    async def listed(self, session: StoreSession, principal: Principal, limit: int) -> list[str]:
        params = Params()
        visible = visible_sql(
            principal, params, community="community_id", grid="grid_id", communities="community_ids"
        )
        rows = await _conn(session).fetch(
            f"""
            SELECT order_id FROM hotline_parked WHERE {visible}
            ORDER BY deadline, order_id LIMIT {params(limit)}
            """,
            *params.values,
        )
        return [row["order_id"] for row in rows]

    async def naming(self, session: StoreSession, area_id: UUID) -> list[str]:
        rows = await _conn(session).fetch(
            """
            SELECT order_id FROM hotline_parked
            WHERE named_area_id = $1 AND community_id IS NULL ORDER BY order_id
            """,
            area_id,
        )
        return [row["order_id"] for row in rows]

    async def communities(self, session: StoreSession) -> list[UUID]:
        rows = await _conn(session).fetch(
            "SELECT area_id FROM known_areas WHERE kind = 'community' ORDER BY area_id"
        )
        return [row["area_id"] for row in rows]


@dataclass
class MemoryParked:
    """The same in a dictionary, for handler tests on the in-memory store."""

    orders: dict[str, Order] = field(default_factory=dict)
    known_communities: Sequence[UUID] = ()

    async def park(self, session: StoreSession, order: Order) -> None:
        self.orders[order.order_id] = order

    async def unpark(self, session: StoreSession, order_id: str) -> None:
        self.orders.pop(order_id, None)

    async def listed(self, session: StoreSession, principal: Principal, limit: int) -> list[str]:
        seen = [o for o in self.orders.values() if may_see(principal, guard(o))]
        seen.sort(key=lambda o: (o.received.deadline, o.order_id))
        return [o.order_id for o in seen[:limit]]

    async def naming(self, session: StoreSession, area_id: UUID) -> list[str]:
        return sorted(
            o.order_id
            for o in self.orders.values()
            if o.path is None and o.received.area_id == area_id
        )

    async def communities(self, session: StoreSession) -> list[UUID]:
        return list(self.known_communities)
