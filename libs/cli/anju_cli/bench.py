"""``make bench``: the kernel's throughput and latency, each beside a raw baseline of the same run.

The machines are shared and noisy, so every number is printed next to what plain asyncpg or
plain aiokafka achieves on the same database and broker at the same moment, and the ratio is
what to compare across runs.

1. appends: single-event commands through ``EventStore.append`` with 1 and 8 writers,
   against plain ``INSERT`` + ``COMMIT`` of the same payload;
2. relay: publishing the store to Kafka, against aiokafka producing the same bytes in batches;
3. projection: catching up from a cold start over the registry's resident directory, against
   aiokafka consuming the same messages;
4. end to end: HTTP command to the registry until visible in the query API, at a steady rate.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from datetime import date
from typing import ClassVar

import asyncpg
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import SecretStr

from anju_contracts import Actor, Event, EventCatalog
from eventkit.projection import Projection, ProjectionRunner, ensure_projection
from eventkit.relay import ENVELOPE_SQL, Relay
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore
from eventkit.testing.infra import (
    TansuBroker,
    create_database,
    postgres_url,
)


class Ticked(Event):
    """Benchmark payload: about the size of a small registry fact."""

    event_type: ClassVar[str] = "bench.Ticked"
    resident_id: uuid.UUID
    note: str


BENCH = EventCatalog("bench", [Ticked])
CONTEXT = Context(actor=Actor(id="bench", roles=("admin",)))


def line(name: str, ours: float, baseline: float, unit: str, target: float | None) -> str:
    ratio = ours / baseline if baseline else 0.0
    verdict = ""
    if target is not None:
        verdict = "  ok" if ratio >= target else f"  below target {target:.0%}"
    return (
        f"{name:<34} {ours:>10,.0f} {unit:<9} baseline {baseline:>10,.0f}"
        f"  ratio {ratio:6.1%}{verdict}"
    )


# -- 1. appends ---------------------------------------------------------------------------


async def _run_writers(
    writers: int, seconds: float, one: Callable[[int], Awaitable[None]]
) -> float:
    done = 0
    stop_at = time.perf_counter() + seconds

    async def writer(w: int) -> None:
        nonlocal done
        i = 0
        while time.perf_counter() < stop_at:
            await one(w * 1_000_000 + i)
            i += 1
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    return done / (time.perf_counter() - started)


async def bench_appends(url: str, seconds: float) -> list[str]:
    pool = await asyncpg.create_pool(url, min_size=8, max_size=8)
    await migrate(pool)
    await pool.execute("CREATE TABLE IF NOT EXISTS raw_inserts (id uuid PRIMARY KEY, data jsonb)")
    store = EventStore(pool, BENCH)
    payload = Ticked(resident_id=uuid.uuid4(), note="visited; all well").model_dump_json()

    async def raw(_: int) -> None:
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO raw_inserts VALUES ($1, $2::jsonb)", uuid.uuid4(), payload
            )

    async def append(i: int) -> None:
        event = Ticked(resident_id=uuid.uuid4(), note="visited; all well")
        await store.append(f"bench-{uuid.uuid4()}", 0, [event], context=CONTEXT, area="g1")

    out = []
    for writers in (1, 8):
        baseline = await _run_writers(writers, seconds, raw)
        ours = await _run_writers(writers, seconds, append)
        target = 0.6 if writers == 8 else None
        out.append(line(f"appends, {writers} writer(s)", ours, baseline, "events/s", target))
    await pool.close()
    return out


# -- 2. relay -----------------------------------------------------------------------------


async def fill_store(store: EventStore, count: int, streams: int = 1000) -> None:
    """Append ``count`` events quickly (many per command) across ``streams`` streams."""
    per_stream = count // streams
    ids = [uuid.uuid4() for _ in range(streams)]
    batch = 10

    async def stream(resident: uuid.UUID) -> None:
        version = 0
        while version < per_stream:
            n = min(batch, per_stream - version)
            events = [Ticked(resident_id=resident, note="visited; all well") for _ in range(n)]
            await store.append(f"bench-{resident}", version, events, context=CONTEXT, area="g1")
            version += n

    gate = asyncio.Semaphore(8)

    async def guarded(resident: uuid.UUID) -> None:
        async with gate:
            await stream(resident)

    await asyncio.gather(*(guarded(r) for r in ids))


async def bench_relay(url: str, bootstrap: str, count: int) -> tuple[list[str], str]:
    pool = await asyncpg.create_pool(url, min_size=2, max_size=10)
    await migrate(pool)
    store = EventStore(pool, BENCH)
    await fill_store(store, count)
    total = int(await pool.fetchval("SELECT count(*) FROM events"))
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    settings = ServiceSettings(
        service="bench",
        database_url=url,
        jwt_secret=SecretStr("bench-secret-not-used-for-anything"),
        kafka=KafkaSettings(bootstrap=bootstrap, topic_prefix=prefix),
        relay_batch=5000,
    )
    # Baseline: the same bytes, produced in batches by plain aiokafka.
    rows = await pool.fetch(
        f"SELECT stream_id, {ENVELOPE_SQL} FROM events WHERE $1::text IS NOT NULL"
        " ORDER BY position",
        "bench",
    )
    messages = [(r["stream_id"].encode(), r["envelope"].encode()) for r in rows]
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, acks="all", linger_ms=5)
    await producer.start()
    baseline_topic = f"{prefix}baseline"
    await producer.send_and_wait(baseline_topic, b"warm-up")
    partitions = sorted(await producer.partitions_for(baseline_topic))
    started = time.perf_counter()
    futures = []
    batches = {p: producer.create_batch() for p in partitions}
    for i, (key, value) in enumerate(messages):
        p = partitions[i % len(partitions)]
        if batches[p].append(key=key, value=value, timestamp=None) is None:
            futures.append(await producer.send_batch(batches[p], baseline_topic, partition=p))
            batches[p] = producer.create_batch()
            batches[p].append(key=key, value=value, timestamp=None)
    for p, b in batches.items():
        futures.append(await producer.send_batch(b, baseline_topic, partition=p))
    await asyncio.gather(*futures)
    baseline = len(messages) / (time.perf_counter() - started)
    await producer.stop()

    relay = Relay(store, settings)
    await relay.start()
    started = time.perf_counter()
    published = 0
    while published < total:
        published += await relay.publish_batch()
    ours = total / (time.perf_counter() - started)
    await relay.close()
    await pool.close()
    return [line(f"relay ({total:,} events)", ours, baseline, "events/s", 0.3)], prefix


# -- 3. projection ------------------------------------------------------------------------


class TickCounts:
    """A read model like the follow-up board's: one row per resident, upserted per event."""

    name = "bench_ticks"
    catalogs = (BENCH,)
    ddl = "CREATE TABLE ticks (resident_id uuid PRIMARY KEY, visits integer NOT NULL);"

    async def apply(self, conn: asyncpg.Connection, batch: object) -> None:
        counts: dict[uuid.UUID, int] = {}
        for d in batch:  # type: ignore[attr-defined]
            rid = d.event.resident_id
            counts[rid] = counts.get(rid, 0) + 1
        await conn.execute(
            """INSERT INTO ticks SELECT * FROM unnest($1::uuid[], $2::int[])
               ON CONFLICT (resident_id) DO UPDATE SET visits = ticks.visits + EXCLUDED.visits""",
            list(counts),
            list(counts.values()),
        )


async def bench_projection(url: str, bootstrap: str, prefix: str, count: int) -> list[str]:
    topic = f"{prefix}bench.events"
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=20,
        max_partition_fetch_bytes=4 << 20,
    )
    await consumer.start()
    partitions = [
        TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
    ]
    if not partitions:
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    started = time.perf_counter()
    seen = 0
    while seen < count:
        fetched = await consumer.getmany(timeout_ms=1000, max_records=5000)
        seen += sum(len(v) for v in fetched.values())
    baseline = seen / (time.perf_counter() - started)
    await consumer.stop()

    pool = await asyncpg.create_pool(url, min_size=2, max_size=4)
    await migrate(pool, store=False)
    projection: Projection = TickCounts()  # type: ignore[assignment]
    await ensure_projection(pool, projection)
    kafka = KafkaSettings(bootstrap=bootstrap, topic_prefix=prefix, max_batch=5000)
    runner = ProjectionRunner(pool, projection, kafka)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    started = time.perf_counter()
    while runner.state.applied < count:
        await asyncio.sleep(0.01)
        if task.done():
            task.result()
    ours = count / (time.perf_counter() - started)
    stop.set()
    await task
    await pool.close()
    return [line(f"projection catch-up ({count:,})", ours, baseline, "events/s", 0.2)]


# -- main ---------------------------------------------------------------------------------


@contextlib.contextmanager
def broker() -> Iterator[str]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    with TansuBroker() as tansu:
        yield tansu.bootstrap


async def main_async(args: argparse.Namespace) -> None:
    with postgres_url() as server, broker() as bootstrap:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        url = await create_database(server, name)
        print(f"anju bench — {date.today()} — PostgreSQL and broker on this machine", flush=True)
        for text in await bench_appends(url, args.seconds):
            print(text, flush=True)
        url2 = await create_database(server, name + "_relay")
        lines, prefix = await bench_relay(url2, bootstrap, args.events)
        for text in lines:
            print(text, flush=True)
        url3 = await create_database(server, name + "_read")
        for text in await bench_projection(url3, bootstrap, prefix, args.events):
            print(text, flush=True)
        conn = await asyncpg.connect(server)
        for db in (name, name + "_relay", name + "_read"):
            await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        await conn.close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="anju-bench", description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="per append measurement")
    parser.add_argument("--events", type=int, default=100_000, help="relay/projection volume")
    args = parser.parse_args(argv)
    asyncio.run(main_async(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
