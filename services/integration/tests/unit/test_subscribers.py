"""The inbound subscribers' wiring with FastStream's ``TestKafkaBroker``: a message reaches its
topic's handler, a message the handler cannot take is dead-lettered with the reason and the
next one is still handled, and a failing one comes again until it is dead-lettered."""

from __future__ import annotations

from uuid import uuid4

from faststream.kafka import TestKafkaBroker
from pydantic import SecretStr

from anju_integration.entrypoints.subscribers.inbound import (
    BadMessage,
    Handle,
    Inbound,
    Record,
    Running,
    Subscriber,
    build_broker,
)
from anju_integration.settings import IntegrationSettings
from eventkit.messages import Poison, StoredMessage

SETTINGS = IntegrationSettings(
    database_url="postgresql://unused/unused",
    jwt_secret=SecretStr("integration-unit-tests-secret"),
    inbound_backoff_s=0.001,
    inbound_retries=3,
)


class Letters:
    def __init__(self) -> None:
        self.put: list[tuple[str, Poison]] = []

    async def __call__(self, consumer: str, poison: Poison) -> None:
        self.put.append((consumer, poison))


def inbound(topic: str, handle: Handle) -> Inbound:
    def build(_: Running) -> Handle:
        return handle

    return Inbound(name="inbound_test", topic=topic, description="a test topic", handler=build)


async def test_a_message_reaches_its_handler_and_poison_is_set_aside() -> None:
    seen: list[bytes | None] = []

    async def handle(record: Record) -> None:
        if record.value == b"poison":
            raise BadMessage("undecodable", "not JSON")
        seen.append(record.value)

    topic = f"inbound.test.{uuid4().hex[:8]}"
    letters = Letters()
    spec = inbound(topic, handle)
    subscriber = Subscriber(spec, handle, letters, retries=3, backoff_s=0.001)
    broker = build_broker(SETTINGS, [subscriber], client_id="test")
    async with TestKafkaBroker(broker) as test_broker:
        await test_broker.publish(b"poison", topic, key=b"order-1")
        await test_broker.publish(b"good", topic, key=b"order-2")

    assert seen == [b"good"]
    [(consumer, poison)] = letters.put
    assert (consumer, poison.reason, poison.detail) == ("inbound_test", "undecodable", "not JSON")
    assert poison.message.value == b"poison"


async def test_a_failing_handler_is_retried_then_dead_lettered() -> None:
    tries = 0

    async def handle(record: Record) -> None:
        nonlocal tries
        tries += 1
        raise RuntimeError("mediation said no")

    letters = Letters()
    spec = inbound("inbound.test.failing", handle)
    subscriber = Subscriber(spec, handle, letters, retries=3, backoff_s=0.001)
    for _ in range(3):  # the broker would deliver it again after each failure
        try:
            await subscriber(_record(b"order"))
        except RuntimeError:
            continue
    assert tries == 3
    [(_, poison)] = letters.put
    assert poison.reason == "handler_failed"
    assert "mediation said no" in poison.detail


def _record(value: bytes) -> Record:
    return StoredMessage("inbound.test.failing", 0, 7, b"k", value, [])
