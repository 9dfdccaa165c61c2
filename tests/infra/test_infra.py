"""The test infrastructure itself: a fresh database per test and a real Kafka-protocol broker."""

from __future__ import annotations

import uuid

import asyncpg
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient, NewTopic

from eventkit.testing.infra import KAFKA_TEST_CONSUMER_SETTINGS, TansuBroker


async def test_fresh_database_is_usable_and_empty(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        tables = await conn.fetchval(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
        )
        assert tables == 0
        await conn.execute("CREATE TABLE t (id int PRIMARY KEY, body jsonb NOT NULL)")
        await conn.execute("INSERT INTO t VALUES (1, '{\"a\": 1}')")
        assert await conn.fetchval("SELECT body->>'a' FROM t WHERE id = 1") == "1"
    finally:
        await conn.close()


async def test_each_test_gets_its_own_database(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        # The table created by the previous test does not exist here.
        assert await conn.fetchval("SELECT to_regclass('public.t')") is None
        assert (await conn.fetchval("SELECT current_database()")).startswith("test_")
    finally:
        await conn.close()


async def _topics(bootstrap: str) -> set[str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        return set(await admin.list_topics())
    finally:
        await admin.close()


async def _create_topic(bootstrap: str, topic: str, partitions: int = 3) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.create_topics(
            [NewTopic(name=topic, num_partitions=partitions, replication_factor=1)]
        )
    finally:
        await admin.close()


async def test_broker_round_trip_with_consumer_group(kafka_bootstrap: str) -> None:
    topic = f"infra-{uuid.uuid4().hex[:8]}"
    await _create_topic(kafka_bootstrap, topic)
    assert topic in await _topics(kafka_bootstrap)

    producer = AIOKafkaProducer(bootstrap_servers=kafka_bootstrap)
    await producer.start()
    try:
        for i in range(10):
            await producer.send_and_wait(
                topic, f"value-{i}".encode(), key=b"k", headers=[("ce_type", b"test")]
            )
    finally:
        await producer.stop()

    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=kafka_bootstrap,
        group_id=f"g-{topic}",
        auto_offset_reset="earliest",
        enable_auto_commit=False,
        **KAFKA_TEST_CONSUMER_SETTINGS,
    )
    await consumer.start()
    try:
        received: list[bytes] = []
        while len(received) < 10:
            batch = await consumer.getmany(timeout_ms=5000)
            assert batch, "no messages within 5 s"
            for records in batch.values():
                received.extend(r.value for r in records if r.value is not None)
        await consumer.commit()
    finally:
        await consumer.stop()
    # One key -> one partition -> produced order.
    assert received == [f"value-{i}".encode() for i in range(10)]


@pytest.mark.slow
async def test_restart_empty_loses_all_topics() -> None:
    with TansuBroker() as broker:
        port = broker.port
        await _create_topic(broker.bootstrap, "doomed", partitions=1)
        assert "doomed" in await _topics(broker.bootstrap)

        broker.restart_empty()

        assert broker.port == port
        assert broker.is_running()
        assert "doomed" not in await _topics(broker.bootstrap)
    assert not broker.is_running()
