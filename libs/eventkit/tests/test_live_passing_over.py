"""A live read model writes nothing for a batch of events it does not read, as a policy writes
nothing for them; a batch with anything it reads is written as always. Its offsets reach Kafka
with the next commit (or after a while), so a new owner of the partition starts after them."""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from anju_contracts import Event
from eventkit import kafka, projection as projections
from eventkit.projection import ProjectionRunner, ensure_projection
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings
from eventkit.testing.demo import CATALOG, Counted, Noted, TotalsProjection
from eventkit.testing.relay import appended_and_published


@dataclass
class Live:
    """A runner of a read model that reads only the counts, on a topic of one partition."""

    settings: KafkaSettings
    runner: ProjectionRunner
    consumer: AIOKafkaConsumer
    pool: asyncpg.Pool
    schema: str

    async def publish(self, database_url: str, streams: dict[str, list[Event]]) -> None:
        await appended_and_published(database_url, CATALOG, streams, self.settings)

    async def applied_until(self, count: int) -> None:
        deadline = time.monotonic() + 30
        done = 0
        while done < count:
            done += await self.runner.poll(self.consumer)
            assert time.monotonic() < deadline, f"applied {done} of {count}"

    async def committed(self) -> int | None:
        partition: TopicPartition = next(iter(self.consumer.assignment()))
        offset: int | None = await self.consumer.committed(partition)
        return offset

    async def rows(self, table: str) -> list[asyncpg.Record]:
        rows: list[asyncpg.Record] = await self.pool.fetch(
            f"SELECT * FROM {self.schema}.{table} ORDER BY 1"
        )
        return rows


@asynccontextmanager
async def live(
    database_url: str, bootstrap: str, first: dict[str, list[Event]]
) -> AsyncIterator[Live]:
    """``first`` published, then the runner started on the topic."""
    settings = KafkaSettings(
        bootstrap=bootstrap, topic_prefix=f"l{uuid.uuid4().hex[:8]}.", partitions=1
    )
    await appended_and_published(database_url, CATALOG, first, settings)
    projection = TotalsProjection("live_counted", reads=frozenset({Counted.event_type}))
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    runner = ProjectionRunner(pool, projection, settings)
    topic = f"{settings.topic_prefix}demo.events"
    consumer = kafka.consumer(settings, topic, group_id=runner.group_id, client_id="live")
    try:
        await migrate(pool, store=False)
        schema = await ensure_projection(pool, projection)
        await consumer.start()
        yield Live(settings, runner, consumer, pool, schema)
    finally:
        await consumer.stop()
        await pool.close()


async def test_a_batch_of_nothing_read_writes_nothing(
    database_url: str, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projections, "PASSED_COMMIT_EVERY_S", 3600.0)
    notes: dict[str, list[Event]] = {"notes": [Noted(text=str(k)) for k in range(4)]}
    async with live(database_url, kafka_bootstrap, notes) as model:
        await model.applied_until(4)
        # Nothing written: no stream version, no checkpoint, and no offset committed yet.
        assert await model.rows("stream_versions") == []
        assert await model.rows("partition_offsets") == []
        assert await model.committed() is None

        await model.publish(database_url, {"mixed": [Noted(text="a"), Counted(n=5)]})
        await model.applied_until(2)
        # The batch it read is written whole; the passed-over offsets went with its commit.
        versions = await model.rows("stream_versions")
        assert [(r["stream_id"], r["version"]) for r in versions] == [("mixed", 2)]
        assert [tuple(r) for r in await model.rows("totals")] == [("mixed", 5)]
        assert await model.committed() == 6


async def test_what_is_passed_over_reaches_kafka_after_a_while(
    database_url: str, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(projections, "PASSED_COMMIT_EVERY_S", 0.0)
    notes: dict[str, list[Event]] = {"notes": [Noted(text=str(k)) for k in range(3)]}
    async with live(database_url, kafka_bootstrap, notes) as model:
        await model.applied_until(3)
        assert await model.committed() == 3
