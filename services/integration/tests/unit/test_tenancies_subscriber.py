"""The ``inbound.housing.tenancies`` subscriber's wiring with FastStream's ``TestKafkaBroker``: a
tenancy change in binary-mode CloudEvents reaches the flow with its message id; anything else is
dead-lettered with the reason, and the next message is still handled."""

from __future__ import annotations

from datetime import date
from typing import Any

from faststream.kafka import TestKafkaBroker
from pydantic import SecretStr

from anju_contracts import housing
from anju_contracts.cloudevents import KafkaMessage
from anju_integration.application.tenancies import TenancyMessage
from anju_integration.entrypoints.subscribers import tenancies
from anju_integration.entrypoints.subscribers.inbound import Record, Subscriber, build_broker
from anju_integration.settings import IntegrationSettings
from anju_integration.testing_housing import ended, started, tenant
from eventkit.messages import Poison

SETTINGS = IntegrationSettings(
    database_url="postgresql://unused/unused",
    jwt_secret=SecretStr("integration-unit-tests-secret"),
    inbound_backoff_s=0.001,
    inbound_retries=2,
)
TOPIC = housing.TOPIC


class Letters:
    def __init__(self) -> None:
        self.put: list[Poison] = []

    async def __call__(self, consumer: str, poison: Poison) -> None:
        assert consumer == tenancies.INBOUND.name
        self.put.append(poison)


def _with(message: KafkaMessage, **headers: str) -> dict[str, Any]:
    """What to publish for ``message``, some headers replaced (FastStream's test broker takes
    headers as text)."""
    kept = {k: v.decode() for k, v in message.headers}
    return {"message": message.value, "headers": kept | headers, "key": message.key}


async def test_tenancy_changes_reach_the_flow_and_bad_messages_are_dead_lettered() -> None:
    received: list[tuple[str, TenancyMessage]] = []

    async def handle(record: Record) -> None:
        received.append(tenancies.read(record))

    letters = Letters()
    subscriber = Subscriber(tenancies.INBOUND, handle, letters, retries=2, backoff_s=0.001)
    broker = build_broker(SETTINGS, [subscriber], client_id="test")
    wang = tenant("王芳")
    moved_in = started([wang])
    moved_out = ended(moved_in.tenancy_id, [wang])
    good = housing.to_kafka("hs-0001", moved_in)
    bad_payload = housing.to_kafka("hs-0003", moved_in)

    async with TestKafkaBroker(broker) as test:
        await test.publish(b'{"not": "a cloudevent"}', TOPIC, key=b"ZL-1")
        await test.publish(**_with(good, ce_type="housing.TenancyRenamed"), topic=TOPIC)
        await test.publish(**_with(good, ce_id="no spaces allowed"), topic=TOPIC)
        await test.publish(
            **_with(bad_payload) | {"message": b'{"tenancy_id": "ZL-1"}'}, topic=TOPIC
        )
        await test.publish(**_with(good, ce_dataversion="9"), topic=TOPIC)
        await test.publish(**_with(good), topic=TOPIC)
        out = housing.to_kafka("hs-0002", moved_out)
        await test.publish(**_with(out), topic=TOPIC)

    assert [(message_id, type(m).__name__) for message_id, m in received] == [
        ("hs-0001", "TenancyStarted"),
        ("hs-0002", "TenancyEnded"),
    ]
    assert received[0][1] == moved_in
    assert [p.reason for p in letters.put] == [
        "undecodable",
        "unknown_type",
        "invalid",
        "invalid",
        "unknown_type",
    ]
    assert "ce_specversion" in letters.put[0].detail
    assert "unit" in letters.put[3].detail  # the field it lacks


def test_a_tenancy_change_is_read_with_an_older_producer_s_extra_fields_ignored() -> None:
    change = started([tenant("李伟", date(1980, 5, 2))])
    message = housing.to_kafka("hs-0009", change)
    enriched = message.value[:-1] + b', "lease_no": "A-17"}'

    class Raw:
        topic, partition, offset, key = TOPIC, 0, 1, message.key
        value = enriched
        headers = message.headers

    message_id, read = tenancies.read(Raw())
    assert (message_id, read) == ("hs-0009", change)
