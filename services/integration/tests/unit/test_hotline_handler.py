"""The 12345 subscriber's handler itself, on FastStream's ``TestKafkaBroker`` with the in-memory
store and a fake of mediation's command API: a work order becomes the right mediation command,
a repeat changes nothing, a bad payload is dead-lettered with its reason; a record mediation
closed before the order's forwarding was noted is answered when it is."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, cast
from uuid import UUID, uuid4

from faststream.kafka import TestKafkaBroker
from pydantic import SecretStr

from anju_contracts.cloudevents import JSON_CONTENT, CloudEvent, write_binary
from anju_contracts.hotline12345 import TOPIC
from anju_contracts.integration import (
    CATALOG,
    AnjuRecord,
    ReplyOutcome,
    WorkOrderAnswered,
    WorkOrderReceived,
)
from anju_contracts.registry import AreaKind, AreaPath, Location
from anju_integration.application.config import IntegrationConfig
from anju_integration.application.hotline_parked import MemoryParked
from anju_integration.application.hotline_records import Closing, MemoryRecords
from anju_integration.application.registry_commands import RegistryCommands
from anju_integration.application.tenancies import Tenancies
from anju_integration.application.tenancy_tables import IdHasher, TenancyTables
from anju_integration.entrypoints.subscribers import hotline
from anju_integration.entrypoints.subscribers.inbound import Subscriber, build_broker
from anju_integration.settings import IntegrationSettings
from eventkit.known import MemoryKnown
from eventkit.memory import MemoryEventStore
from eventkit.messages import Poison
from eventkit.testing.clocks import ManualClock

SETTINGS = IntegrationSettings(
    database_url="postgresql://unused/unused",
    jwt_secret=SecretStr("integration-unit-tests-secret"),
    inbound_backoff_s=0.001,
    inbound_retries=2,
)
COMMUNITY, GRID = uuid4(), uuid4()
PLACE = Location(
    area_id=GRID, kind=AreaKind.GRID, path=AreaPath(community_id=COMMUNITY, grid_id=GRID)
)


@dataclass
class FakeMediation:
    """Mediation's command API as the Idempotency-Key makes it: one record per order id."""

    opened: list[tuple[str, AnjuRecord, Location]] = field(default_factory=list)
    ids: dict[str, UUID] = field(default_factory=dict)

    async def open(self, order: WorkOrderReceived, record: AnjuRecord, location: Location) -> UUID:
        self.opened.append((order.order_id, record, location))
        return self.ids.setdefault(order.order_id, uuid4())


class Letters:
    def __init__(self) -> None:
        self.put: list[Poison] = []

    async def __call__(self, consumer: str, poison: Poison) -> None:
        assert consumer == hotline.INBOUND.name
        self.put.append(poison)


@dataclass
class Handler:
    clock: ManualClock = field(default_factory=ManualClock)
    store: MemoryEventStore = field(default_factory=lambda: MemoryEventStore(CATALOG))
    mediation: FakeMediation = field(default_factory=FakeMediation)
    records: MemoryRecords = field(default_factory=MemoryRecords)
    letters: Letters = field(default_factory=Letters)

    def __post_init__(self) -> None:
        self.store.clock = self.clock
        known = MemoryKnown()
        known.locations[GRID] = PLACE
        housing = Tenancies(  # not used by the 12345 flow
            tables=TenancyTables(),
            hasher=IdHasher(b"integration-unit-tests-hash-key"),
            registry=cast(RegistryCommands, None),
            known=known,
            clock=self.clock,
        )
        config = IntegrationConfig(
            clock=self.clock,
            known=known,
            mediation=self.mediation,
            records=self.records,
            tenancies=housing,
            parked=MemoryParked(),
        )
        handle = hotline.handle_orders(self.store, config)
        subscriber = Subscriber(hotline.INBOUND, handle, self.letters, retries=2, backoff_s=0.001)
        self.broker = build_broker(SETTINGS, [subscriber], client_id="test")

    def order(self, order_id: str, category: str = "noise", **changes: Any) -> dict[str, Any]:
        return {
            "order_id": order_id,
            "category": category,
            "area_id": str(GRID),
            "caller": {"name": "王女士", "phone": "13800000000"},
            "text": "楼上每晚装修噪音到十一点",
            "dispatched_at": self.clock().isoformat(),
            "deadline": (self.clock() + timedelta(days=3)).isoformat(),
        } | changes

    async def types(self, order_id: str) -> list[str]:
        stream = await self.store.load(f"order-{order_id}")
        return [type(e).__name__ for e in stream.payloads]


def message(
    body: dict[str, Any] | bytes, *, key: str, content_type: str | None = JSON_CONTENT
) -> dict[str, Any]:
    """What to publish: a binary-mode CloudEvent (the test broker takes headers as text; it
    decodes a value it is told is JSON to record the call, so a broken value is sent untyped)."""
    value = body if isinstance(body, bytes) else json.dumps(body).encode()
    event = CloudEvent(
        id=str(uuid4()),
        source="hotline12345",
        type="hotline12345.WorkOrderDispatched",
        subject=key,
        content_type=content_type,
        extensions={"dataversion": "1"},
        data=value,
    )
    written = write_binary(event, key.encode())
    headers = {k: v.decode() for k, v in written.headers}
    return {"message": written.value, "key": written.key, "headers": headers, "topic": TOPIC}


async def test_an_order_becomes_its_mediation_command_once_and_bad_ones_are_set_aside() -> None:
    h = Handler()
    noise, litter = h.order("A-1"), h.order("A-2", "environment")
    async with TestKafkaBroker(h.broker) as broker:
        await broker.publish(**message(noise, key="A-1"))
        await broker.publish(**message(noise, key="A-1"))  # the platform sends it again
        await broker.publish(**message(h.order("A-3", text=""), key="A-3"))
        await broker.publish(**message(b"{not json", key="A-4", content_type=None))
        await broker.publish(**message(litter, key="A-2"))

    # a complaint against someone is a dispute, anything else a signal, at the order's area
    assert h.mediation.opened == [
        ("A-1", AnjuRecord.DISPUTE, PLACE),
        ("A-2", AnjuRecord.SIGNAL, PLACE),
    ]
    assert await h.types("A-1") == ["WorkOrderReceived", "WorkOrderForwarded"]
    assert await h.types("A-2") == ["WorkOrderReceived", "WorkOrderForwarded"]
    assert h.records.rows[h.mediation.ids["A-1"]].order_id == "A-1"
    assert await h.types("A-3") == []
    assert [(p.reason, p.message.key) for p in h.letters.put] == [
        ("invalid", b"A-3"),
        ("undecodable", b"A-4"),
    ]
    assert "text" in h.letters.put[0].detail


async def test_a_record_closed_before_its_forwarding_was_noted_is_answered_then() -> None:
    h = Handler()
    order = h.order("B-1")
    # mediation opened the dispute and the mediator resolved it, while the message that asked
    # for it was still to come again (the service stopped before it noted the record)
    dispute = h.mediation.ids["B-1"] = uuid4()
    await h.records.opened(None, dispute, AnjuRecord.DISPUTE)  # type: ignore[arg-type]
    h.clock.advance(hours=2)
    closing = Closing(
        record=AnjuRecord.DISPUTE,
        record_id=dispute,
        outcome=ReplyOutcome.RESOLVED,
        text="双方约定晚八点后停止施工",
        handled_at=h.clock(),
    )
    assert await h.records.closed(None, closing) is None  # type: ignore[arg-type]

    async with TestKafkaBroker(h.broker) as broker:
        await broker.publish(**message(order, key="B-1"))

    stream = await h.store.load("order-B-1")
    *_, answered = stream.payloads
    assert await h.types("B-1") == ["WorkOrderReceived", "WorkOrderForwarded", "WorkOrderAnswered"]
    assert isinstance(answered, WorkOrderAnswered)
    assert (answered.record_id, answered.outcome, answered.on_time) == (
        dispute,
        ReplyOutcome.RESOLVED,
        True,
    )
    async with TestKafkaBroker(h.broker) as broker:  # and once only
        await broker.publish(**message(order, key="B-1"))
    assert len((await h.store.load("order-B-1")).payloads) == 3
