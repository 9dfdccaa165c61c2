"""Across services, on the real broker: a 12345 work order published on
``inbound.hotline12345.orders`` becomes one dispute in mediation (sent twice, still one), the
mediator resolves it, and the reply comes out on ``outbound.hotline12345.replies`` before the
order's deadline; a poison message is dead-lettered and the next order is still handled. An
order whose address names no area is parked, a desk clerk places it, its dispute opens and its
reply goes out the same way.

Mediation and the integration service run their real lifespans on databases of their own and
one topic prefix; the integration service calls mediation's HTTP command API in process.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from anju_contracts.cloudevents import JSON_CONTENT, CloudEvent, read_binary, write_binary
from anju_contracts.registry import AreaCreated, AreaKind, AreaPath
from anju_integration.adapters.mediation import HttpMediation
from anju_integration.testing import IntegrationClient, running_integration
from anju_mediation.testing import SECRET as MEDIATION_SECRET, MediationClient, running_mediation
from eventkit import kafka
from eventkit.testing.infra import databases

WAIT_S = 30.0

Stack = tuple[MediationClient, IntegrationClient]


@pytest_asyncio.fixture
async def stack(
    database_url: str, pg_server_url: str, kafka_bootstrap: str
) -> AsyncIterator[Stack]:
    async with (
        databases(pg_server_url, "integration") as (integration_db,),
        running_mediation(database_url, kafka_bootstrap) as mediation,
    ):
        client = HttpMediation(
            "http://mediation",
            MEDIATION_SECRET,
            transport=httpx.ASGITransport(app=mediation.app),
        )
        async with running_integration(
            integration_db,
            kafka_bootstrap,
            topic_prefix=mediation.settings.kafka.topic_prefix,
            feed_tree=False,
            mediation=client,
        ) as integration:
            # the integration service learns the same areas as mediation (as from registry.events)
            community = uuid.UUID(mediation.feed.community_id)
            grid = uuid.UUID(mediation.feed.grid_id)
            for area, kind, path in (
                (community, AreaKind.COMMUNITY, AreaPath(community_id=community)),
                (grid, AreaKind.GRID, AreaPath(community_id=community, grid_id=grid)),
            ):
                created = AreaCreated(
                    area_id=area, kind=kind, name=f"安居{kind}", parent_id=None, path=path
                )
                await integration.feed.learn(created, subject=f"area-{area}", area=area)
            yield mediation, integration


def order(order_id: str, area_id: str, deadline: datetime) -> dict[str, Any]:
    return {
        "order_id": order_id,
        "category": "noise",
        "area_id": area_id,
        "caller": {"name": "王女士", "phone": "13800000000"},
        "text": "楼上每晚装修噪音到十一点",
        "dispatched_at": datetime.now(UTC).isoformat(),
        "deadline": deadline.isoformat(),
    }


async def send(integration: IntegrationClient, value: bytes, *, key: str, ce: bool = True) -> None:
    settings = integration.settings.kafka
    producer = AIOKafkaProducer(**kafka.connection(settings))
    await producer.start()
    try:
        topic = f"{settings.topic_prefix}inbound.hotline12345.orders"
        if not ce:
            await producer.send_and_wait(topic, value, key=key.encode())
            return
        event = CloudEvent(
            id=str(uuid.uuid4()),
            source="hotline12345",
            type="hotline12345.WorkOrderDispatched",
            time=datetime.now(UTC),
            subject=key,
            content_type=JSON_CONTENT,
            extensions={"dataversion": "1"},
            data=value,
        )
        message = write_binary(event, key.encode())
        await producer.send_and_wait(topic, message.value, key=message.key, headers=message.headers)
    finally:
        await producer.stop()


async def recorded(
    integration: IntegrationClient, order_id: str, event_type: str
) -> dict[str, Any]:
    """The data of the order's ``event_type`` event, once the integration service has recorded it."""
    for _ in range(int(WAIT_S / 0.1)):
        async with integration.runtime.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT data FROM events WHERE stream_id = $1 AND type = $2",
                f"order-{order_id}",
                event_type,
            )
        if row is not None:
            found: dict[str, Any] = json.loads(row["data"])
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"order {order_id} has no {event_type}")


async def forwarded(integration: IntegrationClient, order_id: str) -> dict[str, Any]:
    return await recorded(integration, order_id, "integration.WorkOrderForwarded")


async def first_reply(integration: IntegrationClient) -> tuple[bytes | None, CloudEvent]:
    """The first reply on ``outbound.hotline12345.replies``: its key and its event."""
    settings = integration.settings.kafka
    consumer = AIOKafkaConsumer(
        f"{settings.topic_prefix}outbound.hotline12345.replies",
        **kafka.connection(settings),
        auto_offset_reset="earliest",
        group_id=None,
    )
    await consumer.start()
    try:
        reply = await asyncio.wait_for(consumer.getone(), WAIT_S)
    finally:
        await consumer.stop()
    return reply.key, read_binary(reply.value, reply.headers)


async def test_a_work_order_round_trip(stack: Stack) -> None:
    mediation, integration = stack
    deadline = datetime.now(UTC) + timedelta(days=3)
    body = json.dumps(order("A2026-0001", mediation.feed.grid_id, deadline)).encode()

    await send(integration, b"\x00 not an order", key="A2026-poison", ce=False)
    await send(integration, body, key="A2026-0001")
    record = await forwarded(integration, "A2026-0001")
    assert record["record"] == "dispute"
    await send(integration, body, key="A2026-0001")  # the platform sends it again
    await send(
        integration,
        json.dumps(order("A2026-0002", mediation.feed.grid_id, deadline)).encode(),
        key="A2026-0002",
    )
    await forwarded(integration, "A2026-0002")  # handled after the repeat: the repeat is done

    async with mediation.runtime.pool.acquire() as conn:
        registered = await conn.fetchval(
            "SELECT count(*) FROM events WHERE type = 'mediation.DisputeRegistered'"
        )
    assert registered == 2  # one per order id
    async with integration.runtime.pool.acquire() as conn:
        letters = await conn.fetch("SELECT consumer, reason FROM dead_letters")
    assert [tuple(r) for r in letters] == [("inbound_hotline12345", "undecodable")]

    dispute_id = record["record_id"]
    resolved = await mediation.post(
        f"/disputes/{dispute_id}/resolution", {"outcome": "双方约定晚八点后停止施工"}
    )
    assert resolved.status_code == 201, resolved.text

    key, event = await first_reply(integration)
    assert event.type == "integration.WorkOrderAnswered"
    assert key == b"order-A2026-0001"
    data = json.loads(event.data)
    assert data["order_id"] == "A2026-0001"
    assert data["outcome"] == "resolved"
    assert data["record_id"] == dispute_id
    assert data["on_time"] is True
    assert datetime.fromisoformat(data["handled_at"]) < deadline


async def test_a_parked_order_placed_by_a_desk_clerk_round_trip(stack: Stack) -> None:
    mediation, integration = stack
    deadline = datetime.now(UTC) + timedelta(days=3)
    unplaced = order("B2026-0001", mediation.feed.grid_id, deadline)
    unplaced.pop("area_id")
    unplaced["address"] = "城南某路 17 号（不在登记的小区里）"
    await send(integration, json.dumps(unplaced).encode(), key="B2026-0001")
    await recorded(integration, "B2026-0001", "integration.WorkOrderParked")

    clerk = integration.auth("desk_staff", sub="desk-1", areas=[mediation.feed.community_id])
    [listed] = (await integration.get("/parked-orders", headers=clerk)).json()
    assert (listed["order_id"], listed["caller"]["phone"]) == ("B2026-0001", "13800000000")
    placed = await integration.post(
        "/orders/B2026-0001/placement", {"area_id": mediation.feed.grid_id}, headers=clerk
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["status"] == "forwarded"
    dispute_id = placed.json()["record_id"]
    async with mediation.runtime.pool.acquire() as conn:
        opened = await conn.fetchval(
            "SELECT count(*) FROM events WHERE stream_id = $1 AND type = 'mediation.DisputeRegistered'",
            f"dispute-{dispute_id}",
        )
    assert opened == 1

    resolved = await mediation.post(f"/disputes/{dispute_id}/resolution", {"outcome": "已协调商铺"})
    assert resolved.status_code == 201, resolved.text
    key, event = await first_reply(integration)
    assert key == b"order-B2026-0001"
    data = json.loads(event.data)
    assert (data["record_id"], data["outcome"], data["on_time"]) == (dispute_id, "resolved", True)
