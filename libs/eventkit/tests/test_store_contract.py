"""The store contract (:mod:`eventkit.testing.store_contract`), run against every store."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import asyncpg
import pytest
import pytest_asyncio

from anju_contracts import EventCatalog
from eventkit.memory import MemoryEventStore, ScheduledDeadline
from eventkit.schema import migrate
from eventkit.store import ConcurrencyError, EventStore, Store
from eventkit.testing.clocks import ManualClock
from eventkit.testing.store_contract import CATALOG, CONTEXT, Counted, StoreContract


class TestMemoryStore(StoreContract):
    @pytest.fixture
    def store(self) -> Store:
        return MemoryEventStore(CATALOG)

    async def deadlines(self, store: Store) -> dict[tuple[str, str], ScheduledDeadline]:
        assert isinstance(store, MemoryEventStore)
        return {
            k: ScheduledDeadline(d.due_at, d.payload, d.fired) for k, d in store.deadlines.items()
        }

    async def mark_fired(self, store: Store, kind: str, key: str) -> None:
        assert isinstance(store, MemoryEventStore)
        store.deadlines[(kind, key)].fired = True

    def reopen(self, store: Store, catalog: EventCatalog) -> Store:
        assert isinstance(store, MemoryEventStore)
        return store.reopen(catalog)


class TestPostgresStore(StoreContract):
    @pytest_asyncio.fixture
    async def store(self, database_url: str) -> AsyncIterator[Store]:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=10)
        try:
            await migrate(pool)
            yield EventStore(pool, CATALOG)
        finally:
            await pool.close()

    async def deadlines(self, store: Store) -> dict[tuple[str, str], ScheduledDeadline]:
        assert isinstance(store, EventStore)
        async with store.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT kind, key, due_at, payload::text, fired_at IS NOT NULL AS fired"
                " FROM deadlines"
            )
        return {
            (r["kind"], r["key"]): ScheduledDeadline(
                r["due_at"], json.loads(r["payload"]), r["fired"]
            )
            for r in rows
        }

    async def mark_fired(self, store: Store, kind: str, key: str) -> None:
        assert isinstance(store, EventStore)
        async with store.pool.acquire() as conn:
            await conn.execute(
                "UPDATE deadlines SET fired_at = now() WHERE kind = $1 AND key = $2", kind, key
            )

    def reopen(self, store: Store, catalog: EventCatalog) -> Store:
        assert isinstance(store, EventStore)
        return EventStore(store.pool, catalog)


# -- what only the memory store has to show ------------------------------------------------


async def test_memory_store_stamps_events_with_its_clock() -> None:
    clock = ManualClock()
    start = clock.now
    store = MemoryEventStore(CATALOG, clock=clock)
    await store.append("s", 0, [Counted(n=1)], context=CONTEXT)
    clock.advance(hours=1)
    await store.append("s", 1, [Counted(n=2)], context=CONTEXT)
    stamps: list[datetime] = [e.occurred_at for e in (await store.load("s")).events]
    assert stamps == [start, start + timedelta(hours=1)]


async def test_memory_session_that_lost_the_race_at_commit_applies_nothing() -> None:
    """Both sessions pass the check at append; the second to commit must be refused whole."""
    store = MemoryEventStore(CATALOG)
    body_done = False

    async def late_command() -> None:
        nonlocal body_done
        async with store.session() as late:
            await late.append("s", 0, [Counted(n=1)], context=CONTEXT)
            await late.append("t", 0, [Counted(n=2)], context=CONTEXT)
            await late.schedule("visit", "t", ManualClock().now)
            await store.append("s", 0, [Counted(n=3)], context=CONTEXT)  # commits first
            body_done = True

    with pytest.raises(ConcurrencyError):
        await late_command()
    assert body_done  # refused at commit, not at append
    assert (await store.load("s")).payloads == [Counted(n=3)]
    assert not (await store.load("t")).exists
    assert store.deadlines == {}
