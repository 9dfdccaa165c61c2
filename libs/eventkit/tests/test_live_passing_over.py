"""A live read model writes nothing for a batch of events it does not read, as a policy writes
nothing for them; a batch with anything it reads is written as always. Its offsets reach Kafka
with the next commit (or after a while), so a new owner of the partition starts after them."""

from __future__ import annotations

import time
import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer

from anju_contracts import Event
from eventkit import kafka, projection as projections
from eventkit.projection import ProjectionRunner, ensure_projection
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings
from eventkit.testing.demo import CATALOG, Counted, Noted, TotalsProjection
from eventkit.testing.relay import appended_and_published


async def applied_until(runner: ProjectionRunner, consumer: AIOKafkaConsumer, count: int) -> None:
    deadline = time.monotonic() + 30
    done = 0
    while done < count:
        done += await runner.poll(consumer)
        assert time.monotonic() < deadline, f"applied {done} of {count}"


async def test_a_batch_of_nothing_read_writes_nothing(
    database_url: str, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projections, "PASSED_COMMIT_EVERY_S", 3600.0)
    settings = KafkaSettings(
        bootstrap=kafka_bootstrap, topic_prefix=f"l{uuid.uuid4().hex[:8]}.", partitions=1
    )
    notes: dict[str, list[Event]] = {"notes": [Noted(text=str(k)) for k in range(4)]}
    await appended_and_published(database_url, CATALOG, notes, settings)
    projection = TotalsProjection("live_counted", reads=frozenset({Counted.event_type}))
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    runner = ProjectionRunner(pool, projection, settings)
    topic = f"{settings.topic_prefix}demo.events"
    consumer = kafka.consumer(settings, topic, group_id=runner.group_id, client_id="live")
    try:
        await migrate(pool, store=False)
        schema = await ensure_projection(pool, projection)
        await consumer.start()
        await applied_until(runner, consumer, 4)
        # Nothing written: no stream version, no checkpoint, and no offset committed yet.
        assert await pool.fetch(f"SELECT * FROM {schema}.stream_versions") == []
        assert await pool.fetch(f"SELECT * FROM {schema}.partition_offsets") == []
        partition = next(iter(consumer.assignment()))
        assert await consumer.committed(partition) is None

        mixed: dict[str, list[Event]] = {"mixed": [Noted(text="a"), Counted(n=5)]}
        await appended_and_published(database_url, CATALOG, mixed, settings)
        await applied_until(runner, consumer, 2)
        versions = await pool.fetch(f"SELECT stream_id, version FROM {schema}.stream_versions")
        totals = await pool.fetch(f"SELECT stream_id, total FROM {schema}.totals")
        # The batch it read is written whole; the passed-over offsets went with its commit.
        assert {r["stream_id"]: r["version"] for r in versions} == {"mixed": 2}
        assert {r["stream_id"]: r["total"] for r in totals} == {"mixed": 5}
        assert await consumer.committed(partition) == 6
    finally:
        await consumer.stop()
        await pool.close()


async def test_what_is_passed_over_reaches_kafka_after_a_while(
    database_url: str, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projections, "PASSED_COMMIT_EVERY_S", 0.0)
    settings = KafkaSettings(
        bootstrap=kafka_bootstrap, topic_prefix=f"l{uuid.uuid4().hex[:8]}.", partitions=1
    )
    notes: dict[str, list[Event]] = {"notes": [Noted(text=str(k)) for k in range(3)]}
    await appended_and_published(database_url, CATALOG, notes, settings)
    projection = TotalsProjection("live_noted", reads=frozenset({Counted.event_type}))
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    runner = ProjectionRunner(pool, projection, settings)
    topic = f"{settings.topic_prefix}demo.events"
    consumer = kafka.consumer(settings, topic, group_id=runner.group_id, client_id="live")
    try:
        await migrate(pool, store=False)
        await ensure_projection(pool, projection)
        await consumer.start()
        await applied_until(runner, consumer, 3)
        assert await consumer.committed(next(iter(consumer.assignment()))) == 3
    finally:
        await consumer.stop()
        await pool.close()
