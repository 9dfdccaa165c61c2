"""Dead letters of an inbound consumer are replayed by handing the message back to its handler:
a 12345 order mediation kept refusing is dead-lettered as ``handler_failed``; once mediation
takes it, replaying the letter forwards the order (and a second replay finds nothing pending);
a letter that still cannot be read stays pending with the reason."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta

from aiokafka import AIOKafkaProducer

from anju_contracts.cloudevents import JSON_CONTENT, CloudEvent, write_binary
from anju_contracts.integration import AnjuRecord, WorkOrderReceived
from anju_contracts.registry import Location
from anju_integration.entrypoints.app import redelivery
from anju_integration.testing import IntegrationClient, running_integration
from eventkit import deadletters, kafka
from eventkit.service_calls import Refused


class Mediation:
    def __init__(self, *, refuse: bool) -> None:
        self.refuse = refuse
        self.opened: list[str] = []

    async def open(
        self, order: WorkOrderReceived, record: AnjuRecord, location: Location
    ) -> uuid.UUID:
        if self.refuse:
            raise Refused(422, "area_not_covered", "area_id is not in your areas")
        self.opened.append(order.order_id)
        return uuid.uuid4()


async def publish(service: IntegrationClient, key: str, value: bytes, *, ce: bool = True) -> None:
    settings = service.settings.kafka
    topic = f"{settings.topic_prefix}inbound.hotline12345.orders"
    producer = AIOKafkaProducer(**kafka.connection(settings))
    await producer.start()
    try:
        if not ce:
            await producer.send_and_wait(topic, value, key=key.encode())
            return
        event = CloudEvent(
            id=str(uuid.uuid4()),
            source="hotline12345",
            type="hotline12345.WorkOrderDispatched",
            subject=key,
            content_type=JSON_CONTENT,
            data=value,
        )
        message = write_binary(event, key.encode())
        await producer.send_and_wait(topic, message.value, key=message.key, headers=message.headers)
    finally:
        await producer.stop()


async def test_an_inbound_dead_letter_is_handed_back_to_its_handler(
    database_url: str, kafka_bootstrap: str
) -> None:
    refusing = Mediation(refuse=True)
    async with running_integration(database_url, kafka_bootstrap, mediation=refusing) as service:
        now = datetime.now(UTC)
        order = {
            "order_id": "R-1",
            "category": "noise",
            "area_id": service.feed.grid_id,
            "caller": {"phone": "13800000000"},
            "text": "楼上噪音",
            "dispatched_at": now.isoformat(),
            "deadline": (now + timedelta(days=3)).isoformat(),
        }
        await publish(service, "R-0", b"not an order", ce=False)
        await publish(service, "R-1", json.dumps(order).encode())
        pool = service.runtime.pool
        letters: list[deadletters.DeadLetter] = []
        for _ in range(300):
            async with pool.acquire() as conn:
                letters = await deadletters.list_dead_letters(conn)
            if len(letters) == 2:
                break
            await asyncio.sleep(0.05)
        unreadable, refused = letters
        assert (unreadable.consumer, unreadable.reason) == ("inbound_hotline12345", "undecodable")
        assert (refused.consumer, refused.reason) == ("inbound_hotline12345", "handler_failed")
        assert "area_id is not in your areas" in refused.detail

        taking = Mediation(refuse=False)  # mediation fixed
        async with redelivery(service.settings, mediation=taking) as handlers:
            outcome = await deadletters.replay(pool, refused.id, inbound=handlers)
            assert (outcome.replayed, outcome.reason) == (True, "replayed")
            again = await deadletters.replay(pool, refused.id, inbound=handlers)
            assert not again.replayed
            still = await deadletters.replay(pool, unreadable.id, inbound=handlers)
            assert not still.replayed
            assert still.reason.startswith("still undecodable")
        assert taking.opened == ["R-1"]
        async with pool.acquire() as conn:
            types = await conn.fetch(
                "SELECT type FROM events WHERE stream_id = 'order-R-1' ORDER BY sequence"
            )
            statuses = await conn.fetch("SELECT status FROM dead_letters ORDER BY id")
        assert [r["type"] for r in types] == [
            "integration.WorkOrderReceived",
            "integration.WorkOrderForwarded",
        ]
        assert [r["status"] for r in statuses] == ["pending", "replayed"]
