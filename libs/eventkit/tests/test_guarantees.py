"""The kernel's guarantees (DESIGN.md, "The kernel"), proven against real PostgreSQL and Kafka.

Every test has a database of its own (``database_url``) and a topic prefix of its own on the
shared broker; the broker-restart test starts a broker of its own. Nothing asserts on time:
everything that happens in the background is polled for, with generous timeouts.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from collections import Counter as Tally
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.conn import AIOKafkaConnection
from pydantic import SecretStr, ValidationError

from anju_contracts import Actor, Envelope, Event, EventCatalog, cloudevents as ce
from eventkit import kafka
from eventkit.messages import Decoder, Delivered, Poison
from eventkit.policy import Policy, PolicyRunner, handle_once
from eventkit.projection import ProjectionRunner, ensure_projection, rebuild
from eventkit.relay import Relay
from eventkit.runtime import Runtime
from eventkit.scheduler import Deadline, Scheduler
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import ConcurrencyError, Context, EventStore, Session
from eventkit.testing.demo import CATALOG, Counted, Noted
from eventkit.testing.infra import TansuBroker
from eventkit.testing.relay import envelope_json

TIMEOUT_S = 20.0

# -- a tiny event catalogue of our own ------------------------------------------------------


CONTEXT = Context(actor=Actor(id="tester", roles=("admin",)))


def unique(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:10]}"


def service_settings(database_url: str, bootstrap: str, *, partitions: int = 3) -> ServiceSettings:
    """Settings for one test: the demo service on a topic prefix nobody else uses."""
    return ServiceSettings(
        service="demo",
        database_url=database_url,
        jwt_secret=SecretStr("x" * 32),
        kafka=KafkaSettings(
            bootstrap=bootstrap,
            topic_prefix=unique("t") + ".",
            partitions=partitions,
            session_timeout_ms=2000,
            heartbeat_interval_ms=300,
            fetch_max_wait_ms=20,
        ),
        topic_check_interval_s=0.5,
    )


@asynccontextmanager
async def open_store(
    database_url: str, catalog: EventCatalog = CATALOG
) -> AsyncIterator[EventStore]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=10)
    try:
        await migrate(pool)
        yield EventStore(pool, catalog)
    finally:
        await pool.close()


@asynccontextmanager
async def started(relay: Relay) -> AsyncIterator[Relay]:
    await relay.start()
    try:
        yield relay
    finally:
        await relay.close()


async def eventually(
    check: Callable[[], Awaitable[bool]], what: str, timeout: float = TIMEOUT_S
) -> None:
    """Poll ``check`` until it holds; fail naming ``what`` after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while not await check():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for: {what}")
        await asyncio.sleep(0.05)


async def publish_all(relay: Relay, store: EventStore, timeout: float = TIMEOUT_S) -> None:
    """Drive the relay until everything committed is published (other transactions on the
    server may hold the xmin horizon back for a moment, hence the polling)."""

    async def done() -> bool:
        await relay.publish_batch()
        async with store.pool.acquire() as conn:
            left = await conn.fetchval(
                "SELECT count(*) FROM events WHERE (xid, position) > ($1::text::xid8, $2)"
                " AND type <> ALL($3::text[])",
                relay._cursor.xid,
                relay._cursor.position,
                sorted(store.catalog.restricted),
            )
        return int(left) == 0

    await eventually(done, "the relay to publish every committed event", timeout)


async def read_topic(bootstrap: str, topic: str) -> list[Any]:
    """Every message on ``topic`` right now, partition by partition, in offset order."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    try:
        await consumer.topics()
        partitions = consumer.partitions_for_topic(topic) or set()
        assert partitions, f"topic {topic} does not exist"
        tps = [TopicPartition(topic, p) for p in sorted(partitions)]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        records: list[Any] = []
        deadline = time.monotonic() + TIMEOUT_S
        while True:
            positions = [await consumer.position(tp) for tp in tps]
            if all(pos >= end[tp] for pos, tp in zip(positions, tps, strict=True)):
                break
            assert time.monotonic() < deadline, "could not read the topic to its end"
            fetched = await consumer.getmany(timeout_ms=200)
            for batch in fetched.values():
                records.extend(batch)
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()


async def drain(
    consumer: AIOKafkaConsumer,
    poll: Callable[[AIOKafkaConsumer], Awaitable[int]],
    partitions: int,
) -> None:
    """Call ``poll`` until the group consumer has every partition and has read to the end."""

    async def caught_up() -> bool:
        await poll(consumer)
        assigned = list(consumer.assignment())
        if len(assigned) < partitions:
            return False
        end = await consumer.end_offsets(assigned)
        return all([await consumer.position(tp) >= end[tp] for tp in assigned])

    await eventually(caught_up, "a consumer to read its topic to the end")


def envelopes(records: Sequence[Any]) -> list[dict[str, Any]]:
    return [envelope_json(r) for r in records]


# -- a counting projection: every application is a row, so a duplicate would show ----------


@dataclass
class CountingProjection:
    name: str = "tally"
    catalogs: Sequence[EventCatalog] = (CATALOG,)
    ddl: str = """
        CREATE TABLE applied (
            event_id  uuid NOT NULL,
            stream_id text NOT NULL,
            sequence  integer NOT NULL,
            n         integer NOT NULL
        );
        CREATE TABLE totals (stream_id text PRIMARY KEY, total bigint NOT NULL);
    """

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        rows = [
            (d.envelope.id, d.envelope.subject, d.envelope.sequence, _n(d.event)) for d in batch
        ]
        await conn.executemany("INSERT INTO applied VALUES ($1, $2, $3, $4)", rows)
        await conn.executemany(
            """
            INSERT INTO totals VALUES ($1, $2)
            ON CONFLICT (stream_id) DO UPDATE SET total = totals.total + EXCLUDED.total
            """,
            [(stream, n) for _, stream, _, n in rows],
        )


def _n(event: Event) -> int:
    return event.n if isinstance(event, Counted) else 0


async def store_rows(pool: asyncpg.Pool) -> list[tuple[str, str, int, int]]:
    """The store's events as (id, stream, sequence, n), sorted: what a read model must equal."""
    async with pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT id, stream_id, sequence, coalesce((data->>'n')::int, 0) AS n FROM events"
        )
    return sorted((str(r["id"]), r["stream_id"], r["sequence"], r["n"]) for r in rows)


async def applied_rows(
    pool: asyncpg.Pool, schema: str = "tally"
) -> list[tuple[str, str, int, int]]:
    async with pool.acquire() as conn:
        rows = await conn.fetch(f"SELECT event_id, stream_id, sequence, n FROM {schema}.applied")
    return sorted((str(r["event_id"]), r["stream_id"], r["sequence"], r["n"]) for r in rows)


async def append_counts(store: EventStore, streams: Sequence[str], per_stream: int) -> None:
    """Append ``per_stream`` events to each stream, interleaving the streams."""
    versions = dict.fromkeys(streams, 0)
    for i in range(per_stream):
        for stream in streams:
            await store.append(stream, versions[stream], [Counted(n=i + 1)], context=CONTEXT)
            versions[stream] += 1


# == 1. optimistic concurrency ============================================================
#
# Proven for every store by the store contract suite (eventkit.testing.store_contract, run in
# test_store_contract.py): two sessions that loaded the same version, exactly one appends;
# a stale or future expected version is refused.


# == 2. atomic commands ===================================================================


async def test_failure_after_first_append_leaves_nothing(database_url: str) -> None:
    async with open_store(database_url) as store:
        await store.append("other", 0, [Counted(n=1)], context=CONTEXT)

        async def second_append_conflicts() -> None:
            async with store.session() as session:
                await session.append("a", 0, [Counted(n=1), Counted(n=2)], context=CONTEXT)
                await session.append("other", 0, [Counted(n=3)], context=CONTEXT)

        async def later_statement_fails() -> None:
            async with store.session() as session:
                await session.append("a", 0, [Counted(n=1)], context=CONTEXT)
                await session.append("b", 0, [Counted(n=1)], context=CONTEXT)
                await session.schedule("k", "x", datetime.now(UTC))
                await session.conn.execute(
                    "INSERT INTO deadlines (kind, key, due_at) VALUES ('k', 'x', now())"
                )

        async def command_raises() -> None:
            async with store.session() as session:
                await session.append("a", 0, [Counted(n=1)], context=CONTEXT)
                raise RuntimeError("decided to fail")

        async def joined_transaction_fails() -> None:
            async with store.pool.acquire() as conn, conn.transaction():
                await Session(store, conn).append("a", 0, [Counted(n=1)], context=CONTEXT)
                await conn.execute("UPDATE events SET sequence = 0 WHERE stream_id = 'a'")

        # A second append of the same command conflicts: the first must not survive.
        with pytest.raises(ConcurrencyError):
            await second_append_conflicts()
        # A later statement of the command fails (unique violation), after two appends.
        with pytest.raises(asyncpg.UniqueViolationError):
            await later_statement_fails()
        # The command's code raises after appending.
        with pytest.raises(RuntimeError):
            await command_raises()
        # A statement after the append, in the caller's own transaction, is refused.
        with pytest.raises(asyncpg.CheckViolationError):
            await joined_transaction_fails()

        async with store.pool.acquire() as conn:
            rows = await conn.fetch("SELECT stream_id, sequence FROM events ORDER BY position")
            assert [(r["stream_id"], r["sequence"]) for r in rows] == [("other", 1)]
            assert await conn.fetchval("SELECT count(*) FROM deadlines") == 0
        assert not (await store.load("a")).exists


# == 3. no skipped events: out-of-order commit ==============================================


async def test_relay_does_not_skip_a_transaction_that_commits_late(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = service_settings(database_url, kafka_bootstrap)
    async with open_store(database_url) as store, started(Relay(store, settings)) as relay:
        sent: list[str] = []  # stream ids, in the order the relay sends them
        publish = relay._publish

        async def recording(rows: list[asyncpg.Record]) -> None:
            await publish(rows)
            sent.extend(row["stream_id"] for row in rows)

        relay._publish = recording  # type: ignore[method-assign]
        await store.append("early", 0, [Counted(n=1)], context=CONTEXT)
        await publish_all(relay, store)

        # Transaction A takes a position and stays open.
        conn_a = await asyncpg.connect(database_url)
        tx_a = conn_a.transaction()
        await tx_a.start()
        result_a = await Session(store, conn_a).append(
            "stream-a", 0, [Counted(n=10)], context=CONTEXT
        )
        # Transaction B takes a later position and commits first.
        result_b = await store.append("stream-b", 0, [Counted(n=20)], context=CONTEXT)
        assert result_b.positions[0] > result_a.positions[0]

        # B is committed, but publishing it now would skip A for good: nothing goes out.
        for _ in range(5):
            assert await relay.publish_batch() == 0
        assert relay._cursor.position < result_a.positions[0]

        await tx_a.commit()
        await conn_a.close()
        await publish_all(relay, store)

        # A commit order in which A came last, and after it more events, still all arrive.
        await store.append("stream-b", 1, [Counted(n=21)], context=CONTEXT)
        await publish_all(relay, store)

        records = await read_topic(kafka_bootstrap, settings.topic)
        seen = envelopes(records)
        ids = Tally(e["id"] for e in seen)
        assert set(ids) == {r[0] for r in await store_rows(store.pool)}
        assert all(count == 1 for count in ids.values()), ids
        # Sent once each, A before B (A's transaction began first), after "early".
        assert sent == ["early", "stream-a", "stream-b", "stream-b"]
        for stream in ("early", "stream-a", "stream-b"):
            sequences = [e["sequence"] for e in seen if e["subject"] == stream]
            assert sequences == list(range(1, len(sequences) + 1))


async def test_relay_orders_transaction_ids_as_numbers_not_text(
    database_url: str, kafka_bootstrap: str
) -> None:
    """Transaction ids 9, 10, 100 sort as text as "10" < "100" < "9": the relay must not."""
    settings = service_settings(database_url, kafka_bootstrap)
    async with open_store(database_url) as store:
        async with store.pool.acquire() as conn:
            for sequence, xid in ((1, 9), (2, 10), (3, 100)):
                await conn.execute(
                    """
                    INSERT INTO events (xid, id, stream_id, sequence, type, type_version, data,
                                        correlation_id, actor)
                    VALUES ($1::text::xid8, $2, 'old', $3, 'demo.Counted', 1, $4::jsonb, 'c',
                            '{"id": "tester", "roles": []}')
                    """,
                    str(xid),
                    uuid.uuid4(),
                    sequence,
                    json.dumps({"n": sequence}),
                )
        async with started(Relay(store, settings)) as relay:
            await publish_all(relay, store)
            assert relay._cursor.xid == "100"
        records = await read_topic(kafka_bootstrap, settings.topic)
        assert [e["sequence"] for e in envelopes(records)] == [1, 2, 3]


async def test_relay_reseeds_a_topic_that_was_recreated_empty(
    database_url: str, kafka_bootstrap: str
) -> None:
    """A broker that creates topics on demand may hand back an empty topic after losing its
    data (a consumer's metadata request re-created it): the relay must still re-seed."""
    settings = service_settings(database_url, kafka_bootstrap)
    async with open_store(database_url) as store:
        await append_counts(store, ["a", "b", "c"], 3)
        async with started(Relay(store, settings)) as relay:
            await publish_all(relay, store)
            assert not await relay.check_topic(force=True)
        # The same store now meets a topic of the same name that holds nothing.
        empty = settings.model_copy(
            update={"kafka": settings.kafka.model_copy(update={"topic_prefix": unique("e") + "."})}
        )
        async with store.pool.acquire() as conn:
            await conn.execute("UPDATE relay_cursor SET topic = $1", empty.topic)
        client = kafka.admin(empty.kafka, client_id="test")
        await client.start()
        await kafka.ensure_topics(client, [empty.topic], empty.kafka)
        await client.close()
        async with started(Relay(store, empty)) as relay:
            await publish_all(relay, store)
        records = await read_topic(kafka_bootstrap, empty.topic)
        assert len(records) == 9


class Kept(Event):
    """A fact the demo service stores but never publishes (as health keeps its clinical facts)."""

    event_type = "demo.Kept"
    secret: str


CATALOG_WITH_KEPT = EventCatalog("demo", [Counted, Noted], restricted=[Kept])


async def test_restricted_events_stay_in_the_store(database_url: str, kafka_bootstrap: str) -> None:
    """A catalogue's restricted types are stored and read back, never published, and do not
    count as lag; a re-seed publishes the same as the first time."""
    settings = service_settings(database_url, kafka_bootstrap)
    async with open_store(database_url, CATALOG_WITH_KEPT) as store:
        for i in range(3):
            await store.append(f"chart-{i}", 0, [Kept(secret=f"s{i}")], context=CONTEXT)
            await store.append(f"open-{i}", 0, [Counted(n=i)], context=CONTEXT)
        assert (await store.load("chart-1")).payloads == [Kept(secret="s1")]
        async with started(Relay(store, settings)) as relay:
            await publish_all(relay, store)
            assert await relay.lag() == 0
            await relay.save_cursor(type(relay._cursor)())  # an operator's reseed
            await publish_all(relay, store)
        records = await read_topic(kafka_bootstrap, settings.topic)
    types = [envelope_json(r)["type"] for r in records]
    assert types == ["demo.Counted"] * 6  # twice the three, never a Kept
    assert CATALOG_WITH_KEPT.models == (Counted, Noted)
    assert CATALOG_WITH_KEPT.knows("demo.Kept")


async def test_per_stream_order_holds_when_an_older_transaction_appends_later(
    database_url: str, kafka_bootstrap: str
) -> None:
    """A transaction that got its transaction id early (it wrote something first, like a
    policy's inbox row) and appends to a stream *after* a younger transaction committed to it:
    the relay, which reads in transaction-id order, must still publish the stream in order."""
    settings = service_settings(database_url, kafka_bootstrap)
    async with open_store(database_url) as store, started(Relay(store, settings)) as relay:
        conn_old = await asyncpg.connect(database_url)
        try:
            tx_old = conn_old.transaction()
            await tx_old.start()
            # The older transaction writes first, so it has the lower transaction id ...
            await conn_old.execute(
                "INSERT INTO inbox (consumer, event_id) VALUES ('p', $1)", uuid.uuid4()
            )
            # ... a younger one creates the stream and commits ...
            await store.append("shared", 0, [Counted(n=1)], context=CONTEXT)
            # ... and the older one, seeing version 1, appends version 2 (or is refused).
            session = Session(store, conn_old)
            loaded = await session.load("shared")
            assert loaded.version == 1
            try:
                await session.append("shared", 1, [Counted(n=2)], context=CONTEXT)
            except ConcurrencyError:
                await tx_old.rollback()
            else:
                await tx_old.commit()
        finally:
            await conn_old.close()
        # Whatever the store did, retrying the command in a new transaction succeeds.
        if (await store.load("shared")).version == 1:
            await store.append("shared", 1, [Counted(n=2)], context=CONTEXT)

        await publish_all(relay, store)
        records = await read_topic(kafka_bootstrap, settings.topic)
        sequences = [e["sequence"] for e in envelopes(records) if e["subject"] == "shared"]
        assert sequences == [1, 2]


# == 4. at-least-once out, exactly-once effects in =========================================


class RelayCrash(Exception):
    pass


async def test_duplicates_from_a_relay_crash_have_their_effect_once(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = service_settings(database_url, kafka_bootstrap)
    async with open_store(database_url) as store:
        streams = [f"s{i}" for i in range(5)]
        await append_counts(store, streams, 4)
        total = len(streams) * 4

        # The relay publishes, then dies before it can save its cursor.
        first = Relay(store, settings)
        async with started(first):
            publish = first._publish

            async def publish_then_die(rows: list[asyncpg.Record]) -> None:
                await publish(rows)  # the broker has acknowledged the batch ...
                raise RelayCrash  # ... and the process dies before the cursor is saved

            first._publish = publish_then_die  # type: ignore[method-assign]

            async def crashed() -> bool:
                try:
                    await first.publish_batch()  # 0 while another transaction holds xmin
                except RelayCrash:
                    return True
                return False

            await eventually(crashed, "the relay to publish and crash")
        # Its successor starts from the saved cursor: everything goes out again.
        second = Relay(store, settings)
        async with started(second):
            assert (await second.cursor()).position == 0
            await publish_all(second, store)
        records = await read_topic(kafka_bootstrap, settings.topic)
        assert len(records) == 2 * total
        assert all(n == 2 for n in Tally(e["id"] for e in envelopes(records)).values())

        # A projection applies each event once.
        projection = CountingProjection()
        runner = ProjectionRunner(store.pool, projection, settings.kafka)
        await ensure_projection(store.pool, projection)
        consumer = kafka.consumer(
            settings.kafka, settings.topic, group_id=runner.group_id, client_id="p"
        )
        await consumer.start()
        try:
            await drain(consumer, runner.poll, settings.kafka.partitions)
        finally:
            await consumer.stop()
        assert await applied_rows(store.pool) == await store_rows(store.pool)

        # A policy has its effect once: here, it counts in a table of the service.
        async with store.pool.acquire() as conn:
            await conn.execute("CREATE TABLE effects (event_id uuid NOT NULL, n int NOT NULL)")

        async def react(session: Session, delivered: Delivered) -> None:
            await session.conn.execute(
                "INSERT INTO effects VALUES ($1, $2)", delivered.envelope.id, _n(delivered.event)
            )
            # and it appends to a stream of its own, like a command would
            stream = f"reaction-{delivered.envelope.id}"
            await session.append(stream, 0, [Noted(text="seen")], context=CONTEXT)

        policy = Policy("counter", [CATALOG], react)
        policy_runner = PolicyRunner(store, policy, settings.kafka)
        consumer = kafka.consumer(
            settings.kafka,
            settings.topic,
            group_id=f"{settings.kafka.topic_prefix}policy",
            client_id="policy",
        )
        await consumer.start()
        try:
            await drain(consumer, policy_runner.poll, settings.kafka.partitions)
        finally:
            await consumer.stop()
        assert policy_runner.handled == total
        async with store.pool.acquire() as conn:
            effects = await conn.fetch("SELECT event_id FROM effects")
            reactions = await conn.fetchval(
                "SELECT count(*) FROM events WHERE stream_id LIKE 'reaction-%'"
            )
            dead = await conn.fetchval("SELECT count(*) FROM dead_letters")
        assert sorted(str(r["event_id"]) for r in effects) == sorted(
            r[0] for r in await store_rows(store.pool) if not r[1].startswith("reaction-")
        )
        assert len({r["event_id"] for r in effects}) == total
        assert reactions == total
        assert dead == 0

        # handle_once directly: the second delivery of the same event is a no-op.
        decoded = Decoder([CATALOG]).decode(records[0])
        assert isinstance(decoded, Delivered)
        assert not await handle_once(store, policy, decoded)


# == 5. per-stream order on Kafka ==========================================================


async def test_many_interleaved_streams_keep_their_order_per_partition(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = service_settings(database_url, kafka_bootstrap, partitions=4)
    async with open_store(database_url) as store, started(Relay(store, settings)) as relay:
        streams = [f"resident-{i}" for i in range(50)]
        per_stream = 8
        # Concurrent writers, each taking streams in its own order, and the relay publishing
        # in between: commit order interleaves the streams thoroughly.
        sem = asyncio.Semaphore(8)

        async def write(stream: str) -> None:
            for i in range(per_stream):
                async with sem:
                    await store.append(stream, i, [Counted(n=i + 1)], context=CONTEXT)
                await asyncio.sleep(0)

        async def relay_meanwhile(stop: asyncio.Event) -> None:
            while not stop.is_set():
                await relay.publish_batch()
                await asyncio.sleep(0.01)

        stop = asyncio.Event()
        relaying = asyncio.create_task(relay_meanwhile(stop))
        await asyncio.gather(*(write(s) for s in streams))
        stop.set()
        await relaying
        await publish_all(relay, store)

        records = await read_topic(kafka_bootstrap, settings.topic)
        assert len(records) == len(streams) * per_stream
        partitions_of: dict[str, set[int]] = {}
        sequences: dict[str, list[int]] = {}
        for record in records:
            envelope = envelope_json(record)
            assert record.key == envelope["subject"].encode()
            partitions_of.setdefault(envelope["subject"], set()).add(record.partition)
            sequences.setdefault(envelope["subject"], []).append(envelope["sequence"])
        assert set(sequences) == set(streams)
        assert all(len(p) == 1 for p in partitions_of.values())
        assert len({p for ps in partitions_of.values() for p in ps}) > 1
        for stream, seq in sequences.items():
            assert seq == list(range(1, per_stream + 1)), stream


# == 6. poison messages don't stop the line ================================================


async def test_poison_messages_are_dead_lettered_and_the_projection_goes_on(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = service_settings(database_url, kafka_bootstrap, partitions=3)
    async with open_store(database_url) as store, started(Relay(store, settings)) as relay:
        await append_counts(store, ["a", "b", "c"], 2)
        await publish_all(relay, store)

        # a real message to spoil
        good = envelope_json((await read_topic(kafka_bootstrap, settings.topic))[0])

        def spoiled(**changes: Any) -> tuple[bytes, list[tuple[str, bytes]]]:
            envelope = dict(good, id=str(uuid.uuid4()), subject="poison", sequence=1)
            envelope.update(changes)
            message = ce.to_kafka(Envelope.model_validate(envelope))
            return message.value, message.headers

        value, headers = spoiled()
        no_id = [(k, v) for k, v in headers if k != ce.ID]
        before = [("type", b"?")]  # as messages from before CloudEvents were routed
        poison = {
            "garbage": (b"\xff\xfe not json {", before, "undecodable"),
            "not-an-envelope": (b'{"hello": "world"}', before, "undecodable"),
            "no-id": (value, no_id, "undecodable"),
            "not-json": (b"{", headers, "undecodable"),
            "unknown": (*spoiled(type="demo.NeverHeardOf"), "unknown_type"),
            "future": (*spoiled(version=99), "unknown_type"),
            "invalid": (*spoiled(data={"n": "many"}), "invalid"),
            "other-source": (*spoiled(source="elsewhere"), "unknown_type"),
        }
        producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
        await producer.start()
        try:
            for key, (value, headers, _) in poison.items():
                # on every partition, so poison sits before valid events everywhere
                for partition in range(settings.kafka.partitions):
                    await producer.send_and_wait(
                        settings.topic,
                        value,
                        key=key.encode(),
                        partition=partition,
                        headers=headers,
                    )
        finally:
            await producer.stop()
        await append_counts(store, ["d", "e", "f"], 2)
        await store.append("a", 2, [Counted(n=3)], context=CONTEXT)
        await publish_all(relay, store)

        projection = CountingProjection()
        runner = ProjectionRunner(store.pool, projection, settings.kafka)
        stop = asyncio.Event()
        task = asyncio.create_task(runner.run(stop))
        try:

            async def applied_everything() -> bool:
                try:
                    return await applied_rows(store.pool) == await store_rows(store.pool)
                except asyncpg.UndefinedTableError:
                    return False

            await eventually(applied_everything, "the projection to apply every valid event")

            async def all_dead_lettered() -> bool:
                async with store.pool.acquire() as conn:
                    n = await conn.fetchval("SELECT count(*) FROM dead_letters")
                return int(n) == len(poison) * settings.kafka.partitions

            await eventually(all_dead_lettered, "every poison message in dead_letters")
        finally:
            stop.set()
            await task

        async with store.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT consumer, topic, key, value, reason, detail, status, headers::text"
                " FROM dead_letters"
            )
        by_key: dict[bytes, list[asyncpg.Record]] = {}
        for row in rows:
            by_key.setdefault(row["key"], []).append(row)
        for key, (value, headers, reason) in poison.items():
            found = by_key[key.encode()]
            assert len(found) == settings.kafka.partitions
            for row in found:
                assert row["value"] == value  # the raw bytes, untouched
                assert row["reason"] == reason, (key, row["detail"])
                assert row["detail"]
                assert row["consumer"] == "tally"
                assert row["topic"] == settings.topic
                assert row["status"] == "pending"
                assert json.loads(row["headers"]) == [[k, v.decode()] for k, v in headers]


# == 7. schema evolution ===================================================================


class NamedV1(Event):
    event_type = "evo.Named"
    event_version = 1
    name: str


class NamedV2(Event):
    event_type = "evo.Named"
    event_version = 2
    first: str
    last: str


def _split_name(data: dict[str, Any]) -> dict[str, Any]:
    first, _, last = data["name"].partition(" ")
    return {"first": first, "last": last}


CATALOG_V1 = EventCatalog("evo", [NamedV1])
CATALOG_V2 = EventCatalog("evo", [NamedV2], upcasters={("evo.Named", 1): _split_name})


@dataclass(frozen=True)
class Message:
    """A Kafka message built by hand (what the Decoder needs of one)."""

    value: bytes | None
    key: bytes | None = b"k"
    topic: str = "t"
    partition: int = 0
    offset: int = 0
    headers: Sequence[tuple[str, bytes]] = field(default_factory=list)


def _message(row: Any) -> Message:
    """The Kafka message of a stored event row, as the relay publishes it."""
    sent = ce.to_kafka(Envelope.model_validate_json(_envelope(row)))
    return Message(sent.value, sent.key, headers=sent.headers)


def _envelope(row: Any) -> bytes:
    """The Kafka message value of a stored event row, as the relay published it before
    CloudEvents (the whole envelope)."""
    return (
        Envelope(
            id=row["id"],
            type=row["type"],
            version=row["type_version"],
            source="evo",
            subject=row["stream_id"],
            sequence=row["sequence"],
            position=row["position"],
            occurred_at=row["occurred_at"],
            correlation_id=row["correlation_id"],
            actor=CONTEXT.actor,
            data=json.loads(row["data"]),
        )
        .model_dump_json()
        .encode()
    )


async def test_old_versions_are_upcast_on_read(database_url: str) -> None:
    async with open_store(database_url, CATALOG_V1) as old_code:
        await old_code.append("person-1", 0, [NamedV1(name="Li Wei")], context=CONTEXT)
        async with old_code.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT *, data::text AS data FROM events")
        assert row["type_version"] == 1
        assert json.loads(row["data"]) == {"name": "Li Wei"}

        new_code = EventStore(old_code.pool, CATALOG_V2)
        stream = await new_code.load("person-1")
        assert [e.event for e in stream.events] == [NamedV2(first="Li", last="Wei")]
        # New writes are v2, and both read back as v2.
        await new_code.append("person-1", 1, [NamedV2(first="Wang", last="Fang")], context=CONTEXT)
        stream = await new_code.load("person-1")
        assert [type(e.event) for e in stream.events] == [NamedV2, NamedV2]

        # On Kafka: a v1 event, as the relay writes it (and wrote it before), decodes to v2.
        v2_row = dict(row, type_version=2, data='{"first": "A", "last": "B"}')
        for message, v2_message in (
            (_message(row), _message(v2_row)),
            (Message(_envelope(row)), Message(_envelope(v2_row))),
        ):
            decoded = Decoder([CATALOG_V2]).decode(message)
            assert isinstance(decoded, Delivered)
            assert decoded.envelope.version == 1
            assert decoded.event == NamedV2(first="Li", last="Wei")
            # Old code meeting a v2 event sets it aside rather than misreading it.
            poison = Decoder([CATALOG_V1]).decode(v2_message)
            assert isinstance(poison, Poison)
            assert poison.reason == "unknown_type"


class NamedV2Enriched(Event):
    """evo.Named v2 as a newer producer writes it: an optional field added, same version."""

    event_type = "evo.Named"
    event_version = 2
    first: str
    last: str
    nickname: str | None = None


CATALOG_V2_ENRICHED = EventCatalog("evo", [NamedV2Enriched])


async def test_fields_a_newer_producer_added_are_ignored_on_read(database_url: str) -> None:
    """Consumers are tolerant readers: an event enriched with a field this code does not know
    (in the payload or the envelope) is read with the field ignored, never set aside; what this
    code builds stays strict, so it never publishes a field its contract does not name."""
    async with open_store(database_url, CATALOG_V2_ENRICHED) as newer_code:
        enriched = NamedV2Enriched(first="Li", last="Wei", nickname="Xiao Li")
        await newer_code.append("person-9", 0, [enriched], context=CONTEXT)
        async with newer_code.pool.acquire() as conn:
            row = await conn.fetchrow("SELECT *, data::text AS data FROM events")

        stream = await EventStore(newer_code.pool, CATALOG_V2).load("person-9")
        assert [e.event for e in stream.events] == [NamedV2(first="Li", last="Wei")]

        current = _message(row)
        # an attribute this code does not know either
        binary = Message(current.value, headers=[*current.headers, ("ce_tenant", b"bj")])
        value = json.loads(_envelope(row))
        value["specversion"] = "1.0"  # likewise in a message from before CloudEvents
        raw = json.dumps(value).encode()
        routed = [("type", b"evo.Named"), ("version", b"2")]
        # fast paths and the careful one
        for message in (binary, Message(raw, headers=routed), Message(raw)):
            decoded = Decoder([CATALOG_V2]).decode(message)
            assert isinstance(decoded, Delivered), decoded
            assert decoded.event == NamedV2(first="Li", last="Wei")

    with pytest.raises(ValidationError, match="nickname"):
        NamedV2(first="Li", last="Wei", nickname="Xiao Li")  # type: ignore[call-arg]
    with pytest.raises(ValidationError, match="specversion"):
        Envelope.model_validate(value, extra="forbid")
    with pytest.raises(ValidationError, match="specversion"):
        Envelope(**value)


# == 8. rebuildable read models =============================================================


async def test_rebuild_while_live_equals_live_and_swaps(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = service_settings(database_url, kafka_bootstrap)
    async with open_store(database_url) as store:
        relay = Relay(store, settings)
        projection = CountingProjection()
        runner = ProjectionRunner(store.pool, projection, settings.kafka)
        stop = asyncio.Event()
        tasks = [asyncio.create_task(relay.run(stop)), asyncio.create_task(runner.run(stop))]
        try:
            streams = [f"r{i}" for i in range(10)]
            await append_counts(store, streams, 10)

            async def live_matches_store() -> bool:
                try:
                    return await applied_rows(store.pool) == await store_rows(store.pool)
                except asyncpg.UndefinedTableError:
                    return False

            await eventually(live_matches_store, "the live projection to catch up")
            async with store.pool.acquire() as conn:
                assert await conn.fetchval("SELECT schema FROM projections") == "tally_g1"

            # Writes keep coming while the rebuild runs.
            async def keep_writing() -> None:
                await append_counts(store, [f"late{i}" for i in range(5)], 6)

            reports: list[int] = []

            def progress(p: Any) -> None:
                reports.append(p.events)

            writing = asyncio.create_task(keep_writing())
            new_schema = await rebuild(store.pool, projection, settings.kafka, progress=progress)
            await writing
            assert new_schema == "tally_g2"
            assert reports
            assert reports == sorted(reports)

            # The live runner goes on, into the new generation, and it equals the store.
            await eventually(live_matches_store, "the rebuilt projection to equal the store")
            async with store.pool.acquire() as conn:
                assert await conn.fetchval("SELECT schema FROM projections") == "tally_g2"
                assert await conn.fetchval("SELECT generation FROM projections") == 2
                views = await conn.fetch(
                    "SELECT viewname, definition FROM pg_views WHERE schemaname = 'tally'"
                )
                assert {v["viewname"] for v in views} >= {"applied", "totals", "stream_versions"}
                assert all("tally_g2." in v["definition"] for v in views)
                schemas = {
                    r["nspname"]
                    for r in await conn.fetch(
                        "SELECT nspname FROM pg_namespace WHERE nspname LIKE 'tally%'"
                    )
                }
                assert schemas == {"tally", "tally_g2"}
                # swapped in settled: vacuumed and analysed, not planned blind
                settled = await conn.fetch(
                    """SELECT relname, last_vacuum IS NOT NULL AND last_analyze IS NOT NULL AS ok
                       FROM pg_stat_user_tables WHERE schemaname = 'tally_g2'"""
                )
                assert {r["relname"] for r in settled} >= {"applied", "stream_versions"}
                assert all(r["ok"] for r in settled), settled
                # filled unlogged, swapped in logged: a crash after the swap loses nothing
                unlogged = await conn.fetchval(
                    """SELECT count(*) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                       WHERE n.nspname = 'tally_g2' AND c.relpersistence <> 'p'"""
                )
                assert unlogged == 0
                totals = await conn.fetch("SELECT stream_id, total FROM tally.totals")
                expected = await conn.fetch(
                    "SELECT stream_id, sum((data->>'n')::int) AS total FROM events GROUP BY 1"
                )
            assert sorted(map(tuple, totals)) == sorted(map(tuple, expected))

            # And it keeps going after the swap.
            await store.append("r0", 10, [Counted(n=5)], context=CONTEXT)
            await eventually(live_matches_store, "the live runner to apply into the new generation")
        finally:
            stop.set()
            await asyncio.gather(*tasks)


async def test_a_rebuild_that_fails_midway_swaps_nothing_in(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = service_settings(database_url, kafka_bootstrap)
    small = settings.kafka.model_copy(update={"max_batch": 10})

    class Unreachable(CountingProjection):
        batches = 0

        async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
            self.batches += 1
            if self.batches == 3:
                raise ConnectionResetError("the database went away")  # transient: raised
            await super().apply(conn, batch)

    async with open_store(database_url) as store:
        await append_counts(store, [f"s{i}" for i in range(6)], 10)
        async with started(Relay(store, settings)) as relay:
            await publish_all(relay, store)
        projection = Unreachable()
        active = await ensure_projection(store.pool, projection)
        with pytest.raises(ConnectionResetError):
            await rebuild(store.pool, projection, small, idle_timeout_ms=300)
        assert projection.batches == 3  # nothing applied after the failure
        assert await ensure_projection(store.pool, projection) == active


async def test_a_projection_whose_tables_changed_is_rebuilt_on_start(
    database_url: str, kafka_bootstrap: str
) -> None:
    """New code with new read-model tables: the runner rebuilds before it goes live."""
    settings = service_settings(database_url, kafka_bootstrap)
    async with open_store(database_url) as store:
        relay = Relay(store, settings)
        stop = asyncio.Event()
        relay_task = asyncio.create_task(relay.run(stop))
        try:
            await append_counts(store, ["a", "b"], 3)
            old = ProjectionRunner(store.pool, CountingProjection(), settings.kafka)
            old_stop = asyncio.Event()
            old_task = asyncio.create_task(old.run(old_stop))
            await eventually(
                lambda: _matches_store(store.pool),
                "the first version of the projection to catch up",
            )
            old_stop.set()
            await old_task

            changed = CountingProjection(
                ddl=CountingProjection.ddl + "CREATE TABLE notes (stream_id text PRIMARY KEY);"
            )
            new = ProjectionRunner(store.pool, changed, settings.kafka)
            new_task = asyncio.create_task(new.run(stop))

            async def rebuilt() -> bool:
                async with store.pool.acquire() as conn:
                    schema = await conn.fetchval("SELECT schema FROM projections")
                    has_notes = await conn.fetchval(
                        "SELECT count(*) FROM pg_views WHERE schemaname = 'tally'"
                        " AND viewname = 'notes'"
                    )
                return bool(schema == "tally_g2" and has_notes)

            await eventually(rebuilt, "the changed projection to be rebuilt and swapped in")
            await store.append("a", 3, [Counted(n=9)], context=CONTEXT)
            await eventually(
                lambda: _matches_store(store.pool), "the rebuilt projection to go on live"
            )
            stop.set()
            await new_task
        finally:
            stop.set()
            await relay_task


async def _matches_store(pool: asyncpg.Pool) -> bool:
    try:
        return await applied_rows(pool) == await store_rows(pool)
    except asyncpg.UndefinedTableError:
        return False


# == 9. the event stores are the source of truth ============================================


@pytest.mark.slow
async def test_broker_that_lost_everything_is_reseeded(database_url: str) -> None:
    with TansuBroker() as broker:
        settings = service_settings(database_url, broker.bootstrap)
        projection = CountingProjection()
        async with Runtime(settings, catalog=CATALOG, projections=[projection]) as runtime:
            store = runtime.store

            async def read_model_equals_store() -> bool:
                try:
                    return await applied_rows(runtime.pool) == await store_rows(runtime.pool)
                except asyncpg.UndefinedTableError:
                    return False

            await append_counts(store, [f"h{i}" for i in range(6)], 5)
            await eventually(read_model_equals_store, "the read model to catch up")

            await asyncio.to_thread(broker.restart_empty)

            await append_counts(store, [f"after{i}" for i in range(4)], 3)
            await eventually(read_model_equals_store, "the read model to equal the store again")

            async def topic_reseeded() -> bool:
                try:
                    records = await read_topic(broker.bootstrap, settings.topic)
                except AssertionError:
                    return False
                ids = {e["id"] for e in envelopes(records)}
                return ids == {r[0] for r in await store_rows(runtime.pool)}

            await eventually(topic_reseeded, "the new broker to hold every event of the store")
            assert runtime.relay is not None
            assert runtime.relay.active


async def insert_counts(pool: asyncpg.Pool, start: int, count: int) -> None:
    """``count`` events straight into the store in one transaction, spread over 1000 streams."""
    async with pool.acquire() as conn:
        await conn.execute(
            """
            INSERT INTO events (id, stream_id, sequence, type, type_version, data,
                                correlation_id, actor)
            SELECT gen_random_uuid(), 'bulk' || (i % 1000), i / 1000 + 1, 'demo.Counted', 1,
                   jsonb_build_object('n', i), 'c', '{"id": "tester", "roles": []}'
            FROM generate_series($1::int, $1::int + $2::int - 1) AS i
            """,
            start,
            count,
        )


@pytest.mark.slow
async def test_the_topic_check_costs_the_same_whatever_the_topic_holds(
    database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The relay checks its topic every second for as long as it runs: what the broker sends
    for one check must be small and the same at 1,000 events as at 100,000 (it was the
    topic's whole history). Counted on the wire: every response frame the process receives."""
    received = 0
    handle_frame = AIOKafkaConnection._handle_frame

    def counting(connection: AIOKafkaConnection, frame: bytes) -> None:
        nonlocal received
        received += 4 + len(frame)  # the size prefix, then the frame
        handle_frame(connection, frame)

    monkeypatch.setattr(AIOKafkaConnection, "_handle_frame", counting)

    async def bytes_per_check(relay: Relay) -> int:
        nonlocal received
        received = 0  # the first check asks from the marks before what was just published
        checks = 5
        for _ in range(checks):
            assert not await relay.check_topic(force=True)
        return received // checks

    # A broker of its own: the check also lists the topics, and the shared broker holds the
    # topics of every other test.
    with TansuBroker() as broker:
        settings = service_settings(database_url, broker.bootstrap)
        async with open_store(database_url) as store, started(Relay(store, settings)) as relay:
            await insert_counts(store.pool, 0, 1_000)
            await publish_all(relay, store)
            small = await bytes_per_check(relay)

            await insert_counts(store.pool, 1_000, 99_000)
            await publish_all(relay, store, timeout=180)  # ~50 MB for a shared, busy machine
            assert await relay.messages_held() == 100_000
            large = await bytes_per_check(relay)

    assert large < 2_000, f"{large} bytes per check of a topic of 100,000 events"
    # Equal but for a fetch the broker answered empty and that was asked again.
    assert large < 2 * small, f"{small} bytes per check at 1,000 events, {large} at 100,000"


# == scheduler: each deadline fires once ====================================================


async def test_two_schedulers_fire_each_due_deadline_once(database_url: str) -> None:
    async with open_store(database_url) as store:
        keys = [f"visit-{i}" for i in range(10)]
        async with store.session() as session:
            for key in keys:
                await session.schedule("overdue", key, datetime.now(UTC) - timedelta(seconds=1))
            await session.schedule("overdue", "later", datetime.now(UTC) + timedelta(hours=1))

        async def mark_overdue(session: Session, deadline: Deadline) -> None:
            stream = await session.load(deadline.key)
            await asyncio.sleep(0.02)  # widen the window in which the other replica could race
            await session.append(
                deadline.key, stream.version, [Noted(text="overdue")], context=CONTEXT
            )

        async with open_store(database_url) as other_replica:
            one = Scheduler(store, {"overdue": mark_overdue})
            two = Scheduler(other_replica, {"overdue": mark_overdue})
            fired = await asyncio.gather(one.fire_due(), two.fire_due(), one.fire_due())
        assert sum(fired) == len(keys)
        async with store.pool.acquire() as conn:
            counts = await conn.fetch("SELECT stream_id, count(*) AS n FROM events GROUP BY 1")
            pending = await conn.fetchval("SELECT count(*) FROM deadlines WHERE fired_at IS NULL")
        assert {r["stream_id"]: r["n"] for r in counts} == dict.fromkeys(keys, 1)
        assert pending == 1
        assert await Scheduler(store, {"overdue": mark_overdue}).fire_due() == 0


async def test_a_deadline_its_handler_re_arms_fires_again(database_url: str) -> None:
    """An SLA breach that escalates arms the next tier's SLA under the same key."""
    async with open_store(database_url) as store:
        start = datetime(2026, 1, 1, tzinfo=UTC)
        now = {"t": start}
        fired: list[datetime] = []

        async def breach(session: Session, deadline: Deadline) -> None:
            fired.append(deadline.due_at)
            if len(fired) == 1:
                await session.schedule("sla", deadline.key, deadline.due_at + timedelta(days=7))

        scheduler = Scheduler(store, {"sla": breach}, clock=lambda: now["t"])
        async with store.session() as session:
            await session.schedule("sla", "dispute-1", start + timedelta(days=3))
        now["t"] = start + timedelta(days=4)
        assert await scheduler.fire_due() == 1
        assert await scheduler.fire_due() == 0
        now["t"] = start + timedelta(days=11)
        assert await scheduler.fire_due() == 1
        assert fired == [start + timedelta(days=3), start + timedelta(days=10)]
