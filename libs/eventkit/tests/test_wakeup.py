"""The relay is woken when events commit, not found by polling: across processes by ``NOTIFY``
(eventkit.listen), and a standby takes the lock when the publisher lets go of it.

Each relay and each writer has a store of its own (its own pool, its own ``EventStore``), as
two processes of one service would: nothing in one wakes the other in memory. The relays poll
every 30 s, so an event published within a few seconds was announced, not polled for; those
bounds are generous, not speed targets (those are in ``make bench``).
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import asyncpg
import pytest
from pydantic import SecretStr

from anju_contracts import Actor, Event, EventCatalog
from eventkit.listen import CommitAnnouncer
from eventkit.relay import Relay
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore

POLL_S = 30.0
"""The relays' idle poll: far longer than any of the waits below."""
WOKEN_WITHIN_S = 5.0


class Rang(Event):
    event_type = "wake.Rang"
    n: int


CATALOG = EventCatalog("wake", [Rang])
CONTEXT = Context(actor=Actor(id="tester", roles=("admin",)))


def settings_for(database_url: str, bootstrap: str) -> ServiceSettings:
    return ServiceSettings(
        service="wake",
        database_url=database_url,
        jwt_secret=SecretStr("x" * 32),
        kafka=KafkaSettings(
            bootstrap=bootstrap,
            topic_prefix=f"w{uuid.uuid4().hex[:10]}.",
            session_timeout_ms=2000,
            heartbeat_interval_ms=300,
        ),
        relay_idle_poll_s=POLL_S,
        topic_check_interval_s=POLL_S,
    )


@asynccontextmanager
async def store_of(database_url: str, *, announcing: bool) -> AsyncIterator[EventStore]:
    """A store as one process has it; ``announcing`` as a service process's is."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=5)
    try:
        await migrate(pool)
        store = EventStore(pool, CATALOG)
        if announcing:
            store.announcer = CommitAnnouncer(pool)
        yield store
    finally:
        await pool.close()


@asynccontextmanager
async def running(relay: Relay) -> AsyncIterator[asyncio.Event]:
    """The relay's ``run`` as a task; yields its stop event, stops it and waits for it after."""
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        yield stop
    finally:
        stop.set()
        await asyncio.wait_for(task, 20)


async def eventually(
    check: Callable[[], Awaitable[bool] | bool], what: str, within: float
) -> float:
    """Wait until ``check`` holds; return how long it took; fail after ``within`` seconds."""
    started = time.monotonic()
    while True:
        held = check()
        if not isinstance(held, bool):
            held = await held
        if held:
            return time.monotonic() - started
        if time.monotonic() - started > within:
            pytest.fail(f"not within {within}s: {what}")
        await asyncio.sleep(0.01)


async def settled(relay: Relay) -> None:
    """The relay publishes, listens, and has published everything: it is asleep on its poll."""
    await eventually(lambda: relay.active, "the relay to start", 30)
    listener = relay.listener
    assert listener is not None
    await eventually(listener.listening.is_set, "the relay to listen", 10)
    await eventually(lambda: _caught_up(relay), "the relay to publish what is stored", 10)
    await asyncio.sleep(0.2)  # past its last look: now only a wake-up (or the poll) moves it


async def _caught_up(relay: Relay) -> bool:
    return await relay.lag() == 0


async def append(store: EventStore, n: int) -> None:
    await store.append(f"bell-{uuid.uuid4()}", 0, [Rang(n=n)], context=CONTEXT)


async def test_a_relay_is_woken_by_an_append_made_in_another_process(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = settings_for(database_url, kafka_bootstrap)
    async with (
        store_of(database_url, announcing=False) as relays,
        store_of(database_url, announcing=True) as announcing,
        store_of(database_url, announcing=False) as silent,
    ):
        relay = Relay(relays, settings)
        async with running(relay):
            await settled(relay)

            # A writer that announces nothing leaves the relay asleep (its poll is 30 s away):
            # what wakes it below is the announcement, nothing else.
            await append(silent, 1)
            await asyncio.sleep(1.0)
            assert await relay.lag() == 1

            await append(announcing, 2)
            took = await eventually(
                lambda: _caught_up(relay), "the announced append to be published", WOKEN_WITHIN_S
            )
            assert announcing.announcer is not None
            assert announcing.announcer.sent >= 1
            print(f"published {took * 1000:.0f} ms after the announced append")


async def test_the_relay_listens_again_after_its_connection_is_terminated(
    database_url: str, kafka_bootstrap: str, pg_server_url: str
) -> None:
    settings = settings_for(database_url, kafka_bootstrap)
    async with (
        store_of(database_url, announcing=False) as relays,
        store_of(database_url, announcing=True) as writer,
    ):
        relay = Relay(relays, settings)
        async with running(relay):
            await settled(relay)
            listener = relay.listener
            assert listener is not None
            assert listener.connections == 1
            pid = listener.backend_pid

            admin = await asyncpg.connect(database_url)
            try:
                assert await admin.fetchval("SELECT pg_terminate_backend($1)", pid)
            finally:
                await admin.close()
            await eventually(
                lambda: listener.connections == 2 and listener.listening.is_set(),
                "the listener to connect again",
                10,
            )
            assert listener.backend_pid != pid
            await asyncio.sleep(0.2)

            await append(writer, 1)
            await eventually(
                lambda: _caught_up(relay), "an append announced after the reconnection", 5
            )


async def _advisory_waiters(database_url: str) -> int:
    conn = await asyncpg.connect(database_url)
    try:
        return int(
            await conn.fetchval(
                """
                SELECT count(*) FROM pg_locks
                WHERE locktype = 'advisory' AND NOT granted
                  AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
                """
            )
        )
    finally:
        await conn.close()


async def test_a_standby_relay_takes_over_when_the_publisher_stops(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = settings_for(database_url, kafka_bootstrap)
    async with (
        store_of(database_url, announcing=True) as first_store,
        store_of(database_url, announcing=True) as second_store,
        store_of(database_url, announcing=True) as third_store,
    ):
        first, second = Relay(first_store, settings), Relay(second_store, settings)
        async with running(first) as stop_first:
            await settled(first)
            async with running(second):
                await _takes_over(
                    database_url, first, second, stop_first, first_store, second_store
                )

        # A standby can be stopped while it waits, and leaves no waiter behind.
        third = Relay(third_store, settings)
        async with running(publisher := Relay(second_store, settings)):
            await settled(publisher)
            async with running(third) as stop_third:
                await eventually(lambda: third.standby, "the third relay on standby", 10)
                stop_third.set()
            assert not third.active
            assert await _advisory_waiters(database_url) == 0


async def _takes_over(
    database_url: str,
    first: Relay,
    second: Relay,
    stop_first: asyncio.Event,
    first_store: EventStore,
    second_store: EventStore,
) -> None:
    await eventually(lambda: second.standby, "the second relay on standby", 10)
    assert await _advisory_waiters(database_url) == 1  # waiting in PostgreSQL
    assert not second.active

    await append(second_store, 1)  # a standby's process announces its appends
    await eventually(lambda: _caught_up(first), "the publisher to publish it", 5)

    stop_first.set()
    stopped = time.monotonic()
    await eventually(lambda: second.active, "the standby to take over", 10)
    took_over = time.monotonic() - stopped
    await eventually(lambda: not first.active, "the first relay to stop", 10)
    await append(first_store, 2)  # the stopped relay's process announces now
    await eventually(lambda: _caught_up(second), "the new publisher to publish", 10)
    print(f"standby took over {took_over * 1000:.0f} ms after the publisher was stopped")
