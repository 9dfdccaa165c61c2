"""Poison inside a consumer: an event that decodes but keeps failing in a projection's SQL or a
policy's handler, and a deadline whose handler keeps failing.

Against real PostgreSQL and the real broker. Each failing event goes to dead letters with the
error, the other streams go on, the failing stream's later events wait behind it, and a replay
after the fix applies everything in stream order, exactly once.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer
from pydantic import SecretStr

from anju_contracts import Actor, Event, EventCatalog
from eventkit import deadletters, kafka
from eventkit.messages import Delivered
from eventkit.policy import Policy, PolicyRunner
from eventkit.projection import ProjectionRunner, ensure_projection
from eventkit.relay import Relay
from eventkit.scheduler import Deadline, Scheduler
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore, Session

TIMEOUT_S = 20.0
BAD = 13  # the event value the broken code fails on


class Counted(Event):
    event_type = "poison.Counted"
    n: int


CATALOG = EventCatalog("poison", [Counted])
CONTEXT = Context(actor=Actor(id="tester", roles=("admin",)))


def service_settings(database_url: str, bootstrap: str) -> ServiceSettings:
    return ServiceSettings(
        service="poison",
        database_url=database_url,
        jwt_secret=SecretStr("x" * 32),
        kafka=KafkaSettings(
            bootstrap=bootstrap,
            topic_prefix=f"t{uuid.uuid4().hex[:10]}.",
            partitions=2,
            session_timeout_ms=2000,
            heartbeat_interval_ms=300,
            fetch_max_wait_ms=20,
        ),
    )


@asynccontextmanager
async def open_store(database_url: str) -> AsyncIterator[EventStore]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=10)
    try:
        await migrate(pool)
        yield EventStore(pool, CATALOG)
    finally:
        await pool.close()


async def eventually(check: Callable[[], Awaitable[bool]], what: str) -> None:
    deadline = time.monotonic() + TIMEOUT_S
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {TIMEOUT_S}s waiting for: {what}")
        await asyncio.sleep(0.05)


async def publish(
    store: EventStore, settings: ServiceSettings, plan: Sequence[tuple[str, int]]
) -> None:
    """Append ``(stream, n)`` in this order, then publish everything to the topic."""
    for stream, n in plan:
        async with store.pool.acquire() as conn:
            version = await conn.fetchval(
                "SELECT coalesce(max(sequence), 0) FROM events WHERE stream_id = $1", stream
            )
        await store.append(stream, version, [Counted(n=n)], context=CONTEXT)
    relay = Relay(store, settings)
    await relay.start()
    try:

        async def published() -> bool:
            await relay.publish_batch()
            async with store.pool.acquire() as conn:
                left = await conn.fetchval(
                    "SELECT count(*) FROM events WHERE (xid, position) > ($1::text::xid8, $2)",
                    relay._cursor.xid,
                    relay._cursor.position,
                )
            return int(left) == 0

        await eventually(published, "the relay to publish every event")
    finally:
        await relay.close()


async def drain(
    settings: ServiceSettings,
    group_id: str,
    poll: Callable[[AIOKafkaConsumer], Awaitable[int]],
) -> None:
    """Poll as the group's consumer until every partition is read and committed to its end."""
    consumer = kafka.consumer(settings.kafka, settings.topic, group_id=group_id, client_id="t")
    await consumer.start()
    try:

        async def committed_to_the_end() -> bool:
            await poll(consumer)
            assigned = list(consumer.assignment())
            if len(assigned) < settings.kafka.partitions:
                return False
            end = await consumer.end_offsets(assigned)
            return all([(await consumer.committed(tp) or 0) >= end[tp] for tp in assigned])

        await eventually(committed_to_the_end, "the consumer to commit every partition")
    finally:
        await consumer.stop()


async def letters(pool: asyncpg.Pool, consumer: str) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        rows: list[asyncpg.Record] = await conn.fetch(
            """SELECT id, reason, detail, status, stream_id, sequence FROM dead_letters
               WHERE consumer = $1 ORDER BY id""",
            consumer,
        )
    return rows


# The same history for both consumers: stream "a" fails at its second event; "b" interleaves.
PLAN = [("a", 1), ("b", 1), ("a", BAD), ("b", 2), ("a", 3), ("b", 3)]


def applied_in_order(rows: Sequence[asyncpg.Record]) -> dict[str, list[int]]:
    """``{stream: [sequence, ...]}`` in the order the consumer applied them."""
    order: dict[str, list[int]] = {}
    for row in rows:
        order.setdefault(row["stream_id"], []).append(row["sequence"])
    return order


def assert_held_behind(rows: Sequence[asyncpg.Record], error: str) -> tuple[int, int]:
    """The failing event is a letter with the error, and the next of its stream waits behind
    it; nothing else is a letter. Returns both ids."""
    assert [(r["stream_id"], r["sequence"], r["status"]) for r in rows] == [
        ("a", 2, "pending"),
        ("a", 3, "pending"),
    ]
    head, behind = rows
    assert error in head["detail"]
    assert behind["reason"] == "blocked"
    assert behind["detail"] == f"blocked behind dead letter {head['id']}"
    return head["id"], behind["id"]


# == a projection whose SQL fails for one event ============================================


@dataclass
class LoggingProjection:
    """Logs each application in order; while ``broken``, its SQL fails on ``n == BAD``."""

    broken: bool = True
    name: str = "ledger"
    catalogs: Sequence[EventCatalog] = (CATALOG,)
    ddl: str = """
        CREATE TABLE log (
            at        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            stream_id text NOT NULL,
            sequence  integer NOT NULL,
            n         integer NOT NULL
        );
    """

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        for d in batch:
            n = d.event.n if isinstance(d.event, Counted) else 0
            divisor = 0 if self.broken and n == BAD else 1
            await conn.execute(
                "INSERT INTO log (stream_id, sequence, n) VALUES ($1, $2, $3::int / $4::int)",
                d.envelope.subject,
                d.envelope.sequence,
                n,
                divisor,
            )


async def logged(pool: asyncpg.Pool) -> list[asyncpg.Record]:
    async with pool.acquire() as conn:
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT stream_id, sequence FROM ledger.log ORDER BY at"
        )
    return rows


async def test_projection_sets_aside_the_failing_event_and_holds_its_stream(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = service_settings(database_url, kafka_bootstrap)
    async with open_store(database_url) as store:
        await publish(store, settings, PLAN)
        projection = LoggingProjection()
        await ensure_projection(store.pool, projection)
        runner = ProjectionRunner(store.pool, projection, settings.kafka)
        await drain(settings, runner.group_id, runner.poll)

        # The other stream went on; "a" stopped before its failing event, nothing ran twice.
        assert applied_in_order(await logged(store.pool)) == {"a": [1], "b": [1, 2, 3]}
        rows = await letters(store.pool, "ledger")
        head, behind = assert_held_behind(rows, "DivisionByZeroError")
        assert rows[0]["reason"] == "apply_failed"

        # Replaying the letter behind is refused; replaying the head with the code still broken
        # leaves both pending.
        known = {"ledger": projection}
        refused = await deadletters.replay(store.pool, behind, projections=known)
        assert not refused.replayed
        assert f"blocked behind dead letter {head}" in refused.reason
        again = await deadletters.replay(store.pool, head, projections=known)
        assert not again.replayed
        assert "DivisionByZeroError" in again.reason
        assert [r["status"] for r in await letters(store.pool, "ledger")] == ["pending"] * 2

        # A later event of the held stream waits too; one of another stream does not.
        await publish(store, settings, [("a", 4), ("c", 1)])
        await drain(settings, runner.group_id, runner.poll)
        assert applied_in_order(await logged(store.pool)) == {"a": [1], "b": [1, 2, 3], "c": [1]}
        waiting = (await letters(store.pool, "ledger"))[2]
        assert (waiting["sequence"], waiting["detail"]) == (4, f"blocked behind dead letter {head}")

        # The fix is deployed; the operator replays the head: it and what waited, in order.
        projection.broken = False
        outcome = await deadletters.replay(store.pool, head, projections=known)
        assert outcome.replayed, outcome.reason
        assert outcome.followers == (behind, waiting["id"])
        assert [r["status"] for r in await letters(store.pool, "ledger")] == ["replayed"] * 3
        assert applied_in_order(await logged(store.pool)) == {
            "a": [1, 2, 3, 4],
            "b": [1, 2, 3],
            "c": [1],
        }

        # The stream flows again, and redelivering everything applies nothing twice.
        await publish(store, settings, [("a", 5)])
        await drain(settings, runner.group_id, runner.poll)
        fresh_group = f"{runner.group_id}.again"
        await drain(settings, fresh_group, runner.poll)
        assert applied_in_order(await logged(store.pool)) == {
            "a": [1, 2, 3, 4, 5],
            "b": [1, 2, 3],
            "c": [1],
        }
        assert len(await letters(store.pool, "ledger")) == 3


# == a policy whose handler keeps failing ==================================================


async def test_policy_sets_aside_the_failing_event_and_holds_its_stream(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = service_settings(database_url, kafka_bootstrap)
    async with open_store(database_url) as store:
        await publish(store, settings, PLAN)
        async with store.pool.acquire() as conn:
            await conn.execute(
                """CREATE TABLE effects (at bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                                         stream_id text NOT NULL, sequence integer NOT NULL)"""
            )
        broken = {"now": True}
        tries: dict[tuple[str, int], int] = {}

        async def react(session: Session, delivered: Delivered) -> None:
            key = (delivered.envelope.subject, delivered.envelope.sequence)
            tries[key] = tries.get(key, 0) + 1
            n = delivered.event.n if isinstance(delivered.event, Counted) else 0
            await session.conn.execute(
                "INSERT INTO effects (stream_id, sequence) VALUES ($1, $2::int / $3::int)",
                delivered.envelope.subject,
                delivered.envelope.sequence,
                0 if broken["now"] and n == BAD else 1,
            )

        policy = Policy("reactor", [CATALOG], react)
        runner = PolicyRunner(store, policy, settings.kafka)
        group = f"{settings.kafka.topic_prefix}reactor"
        await drain(settings, group, runner.poll)

        async def effects() -> list[asyncpg.Record]:
            async with store.pool.acquire() as conn:
                rows: list[asyncpg.Record] = await conn.fetch(
                    "SELECT stream_id, sequence FROM effects ORDER BY at"
                )
            return rows

        assert applied_in_order(await effects()) == {"a": [1], "b": [1, 2, 3]}
        rows = await letters(store.pool, "reactor")
        head, behind = assert_held_behind(rows, "DivisionByZeroError")
        assert rows[0]["reason"] == "handler_failed"
        assert tries[("a", 2)] == 3  # retried, then set aside
        assert ("a", 3) not in tries  # never ran ahead of the failing one

        broken["now"] = False
        known = {"reactor": (store, policy)}
        outcome = await deadletters.replay(store.pool, head, policies=known)
        assert outcome.replayed, outcome.reason
        assert outcome.followers == (behind,)
        assert applied_in_order(await effects()) == {"a": [1, 2, 3], "b": [1, 2, 3]}

        # Replaying again, or redelivering everything, has no further effect.
        assert not (await deadletters.replay(store.pool, head, policies=known)).replayed
        await publish(store, settings, [("a", 4)])
        await drain(settings, f"{group}.again", runner.poll)
        assert applied_in_order(await effects()) == {"a": [1, 2, 3, 4], "b": [1, 2, 3]}


# == a deadline whose handler keeps failing ================================================


async def test_failing_deadline_backs_off_then_stops_in_dead_letters(database_url: str) -> None:
    async with open_store(database_url) as store:
        start = datetime(2026, 1, 1, tzinfo=UTC)
        now = {"t": start}
        calls: list[datetime] = []
        broken = {"now": True}

        async def breach(session: Session, deadline: Deadline) -> None:
            calls.append(now["t"])
            if broken["now"]:
                raise RuntimeError("the SLA table is gone")
            await session.append(deadline.key, 0, [Counted(n=1)], context=CONTEXT)

        scheduler = Scheduler(
            store,
            {"sla": breach},
            clock=lambda: now["t"],
            max_attempts=3,
            retry_base_s=60,
            retry_cap_s=90,
        )
        async with store.session() as session:
            await session.schedule("sla", "dispute-1", start)

        async def row() -> asyncpg.Record:
            async with store.pool.acquire() as conn:
                found: asyncpg.Record = await conn.fetchrow(
                    "SELECT attempts, last_error, next_try_at, failed_at, fired_at, due_at"
                    " FROM deadlines"
                )
            return found

        await scheduler.fire_due()
        first = await row()
        assert (first["attempts"], first["next_try_at"]) == (1, start + timedelta(seconds=60))
        assert "the SLA table is gone" in first["last_error"]
        assert first["due_at"] == start  # the handler still sees when it was due

        now["t"] = start + timedelta(seconds=59)
        await scheduler.fire_due()
        assert len(calls) == 1  # backing off

        now["t"] = start + timedelta(seconds=60)
        await scheduler.fire_due()
        second = await row()
        # doubled to 120s, capped at 90s
        assert (second["attempts"], second["next_try_at"]) == (2, now["t"] + timedelta(seconds=90))

        now["t"] += timedelta(seconds=90)
        await scheduler.fire_due()
        stopped = await row()
        assert stopped["attempts"] == 3
        assert stopped["failed_at"] is not None
        assert stopped["fired_at"] is None
        [letter] = await letters(store.pool, "deadline:sla")
        assert letter["reason"] == "deadline_failed"
        assert letter["status"] == "pending"
        assert "gave up after 3 attempts" in letter["detail"]
        assert "the SLA table is gone" in letter["detail"]

        now["t"] += timedelta(days=30)
        await scheduler.fire_due()
        assert len(calls) == 3  # stopped for good

        # The fix is deployed; the operator replays the letter; the scheduler fires it.
        broken["now"] = False
        outcome = await deadletters.replay(store.pool, letter["id"])
        assert outcome.replayed, outcome.reason
        now["t"] = datetime.now(UTC) + timedelta(minutes=1)
        assert await scheduler.fire_due() == 1
        assert (await row())["fired_at"] is not None
        assert [r["status"] for r in await letters(store.pool, "deadline:sla")] == ["replayed"]
        async with store.pool.acquire() as conn:
            assert await conn.fetchval("SELECT count(*) FROM events") == 1
        assert not (await deadletters.replay(store.pool, letter["id"])).replayed


async def test_arming_a_failing_deadline_again_starts_its_tries_afresh(database_url: str) -> None:
    async with open_store(database_url) as store:
        start = datetime(2026, 1, 1, tzinfo=UTC)

        async def breach(session: Session, deadline: Deadline) -> None:
            raise RuntimeError("still broken")

        scheduler = Scheduler(store, {"sla": breach}, clock=lambda: start, max_attempts=5)
        async with store.session() as session:
            await session.schedule("sla", "dispute-2", start)
        await scheduler.fire_due()
        async with store.session() as session:
            await session.schedule("sla", "dispute-2", start + timedelta(days=7))
        async with store.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT attempts, next_try_at, failed_at FROM deadlines")
        assert tuple(row) == (0, None, None)
