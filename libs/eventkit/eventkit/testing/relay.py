"""Driving a relay by hand in tests, and reading what it published."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping, Sequence
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import SecretStr

from anju_contracts import Actor, Event, EventCatalog
from anju_contracts.cloudevents import from_kafka
from eventkit import kafka
from eventkit.messages import RawMessage
from eventkit.relay import Relay
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore


async def publish_everything(relay: Relay, *, timeout_s: float = 20.0) -> int:
    """Publish until nothing committed is left behind the cursor; return how many went out.

    One ``publish_batch`` is not enough: the relay never reads past the oldest transaction still
    running anywhere on the PostgreSQL server, so other work can hold it back for a moment.
    """
    published = 0
    deadline = time.monotonic() + timeout_s
    while True:
        published += await relay.publish_batch()
        if await relay.lag() == 0:
            return published
        if time.monotonic() > deadline:
            raise TimeoutError(f"relay still {await relay.lag()} events behind after {timeout_s}s")
        await asyncio.sleep(0.02)


async def relay_everything(store: EventStore, settings: ServiceSettings) -> int:
    """Start a relay for ``store``, publish everything it holds (:func:`publish_everything`)
    and close it; return how many went out."""
    relay = Relay(store, settings)
    await relay.start()
    try:
        return await publish_everything(relay)
    finally:
        await relay.close()


async def appended_and_published(
    database_url: str,
    catalog: EventCatalog,
    streams: Mapping[str, Sequence[Event]],
    kafka: KafkaSettings,
    *,
    relay_batch: int = 1000,
) -> None:
    """Append each stream's events to a fresh store in ``database_url`` and publish them all
    with the relay, ``relay_batch`` at a time (each batch is one Kafka batch)."""
    settings = ServiceSettings(
        service=catalog.source,
        database_url=database_url,
        jwt_secret=SecretStr("x" * 32),
        kafka=kafka,
        relay_batch=relay_batch,
    )
    context = Context(actor=Actor(id="tester", roles=("admin",)))
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        await migrate(pool)
        store = EventStore(pool, catalog)
        for stream, events in streams.items():
            await store.append(stream, 0, events, context=context)
        await relay_everything(store, settings)
    finally:
        await pool.close()


def envelope_json(record: RawMessage) -> dict[str, Any]:
    """A message of an Anju topic (a consumer record: its value and headers) as its envelope,
    in JSON form (``type``, ``subject``, ``data``...)."""
    return from_kafka(record.value, record.headers).model_dump(mode="json")


def on_the_wire(record: RawMessage) -> bytes:
    """Everything a message carries, key, headers and value, to check what is (not) on it."""
    parts = [record.key or b"", *(name.encode() + b"=" + v for name, v in record.headers)]
    return b"\n".join([*parts, record.value or b""])


async def read_topic(bootstrap: str, topic: str, timeout_s: float = 20.0) -> list[Any]:
    """Every message on ``topic`` right now, in offset order per partition, read with a plain
    consumer (no group, no decoding)."""
    consumer = AIOKafkaConsumer(
        **kafka.connection(KafkaSettings(bootstrap=bootstrap)), group_id=None, fetch_max_wait_ms=20
    )
    await consumer.start()
    try:
        await consumer.topics()
        partitions = sorted(consumer.partitions_for_topic(topic) or ())
        assert partitions, f"topic {topic} does not exist"
        tps = [TopicPartition(topic, p) for p in partitions]
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        records: list[Any] = []
        deadline = time.monotonic() + timeout_s
        while any([await consumer.position(tp) < end[tp] for tp in tps]):
            assert time.monotonic() < deadline, f"could not read {topic} to its end"
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
        return sorted(records, key=lambda r: (r.partition, r.offset))
    finally:
        await consumer.stop()
