"""The inbound subscribers on the real broker, started and stopped with the service: a message
is handled once its service runs, poison goes to the ``dead_letters`` table and the next message
is still handled."""

from __future__ import annotations

import asyncio
from uuid import uuid4

import asyncpg
from aiokafka import AIOKafkaProducer

from anju_integration.entrypoints.subscribers.inbound import (
    BadMessage,
    Handle,
    Inbound,
    Record,
    Running,
)
from anju_integration.testing import running_integration
from eventkit import kafka


async def test_subscribers_run_with_the_service(database_url: str, kafka_bootstrap: str) -> None:
    seen: list[bytes | None] = []

    def build(_: Running) -> Handle:
        async def handle(record: Record) -> None:
            if record.value == b"poison":
                raise BadMessage("undecodable", "not what this topic carries")
            seen.append(record.value)

        return handle

    topic = f"inbound.test.{uuid4().hex[:8]}"
    spec = Inbound(name="inbound_test", topic=topic, description="test", handler=build)
    async with running_integration(database_url, kafka_bootstrap, inbounds=[spec]) as service:
        settings = service.settings
        producer = AIOKafkaProducer(**kafka.connection(settings.kafka))
        await producer.start()
        try:
            full = f"{settings.kafka.topic_prefix}{topic}"
            await producer.send_and_wait(full, b"poison", key=b"a")
            await producer.send_and_wait(full, b"good", key=b"a")
        finally:
            await producer.stop()
        for _ in range(200):
            if seen:
                break
            await asyncio.sleep(0.05)
    assert seen == [b"good"]
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch("SELECT consumer, reason, value FROM dead_letters")
    finally:
        await conn.close()
    assert [tuple(r) for r in rows] == [("inbound_test", "undecodable", b"poison")]
