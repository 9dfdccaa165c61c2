"""The lost-reply edge, on PostgreSQL and the real broker: mediation opened a signal for a 12345
order, the mediator turned it into a dispute and resolved it, all before the service noted the
order's record (it stopped between mediation's answer and the note). When the order comes again
the note finds the closing the mediation policy kept, and the order is answered at once; a
record anyone else opened is not kept."""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

from aiokafka import AIOKafkaProducer

from anju_contracts import Actor, Event
from anju_contracts.cloudevents import JSON_CONTENT, CloudEvent, write_binary
from anju_contracts.integration import AnjuRecord, WorkOrderAnswered, WorkOrderReceived
from anju_contracts.mediation import (
    Category,
    Channel,
    ConflictSignalConverted,
    ConflictSignalDismissed,
    ConflictSignalReported,
    DisputeRegistered,
    DisputeResolved,
    Party,
    PartyRole,
    ReporterRole,
    Sensitivity,
    Tier,
)
from anju_contracts.registry import AreaKind, AreaPath, Location
from anju_integration.application.policies import MEDIATION_POLICY
from anju_integration.testing import IntegrationClient, running_integration
from eventkit import kafka
from eventkit.policy import handle_once
from eventkit.testing.delivery import delivered

MEDIATOR = Actor(id="mediator-1", roles=("mediator",))
INTEGRATION = Actor(id="integration", roles=("service",))


class OneSignal:
    """Mediation that had opened ``signal_id`` for the order the first time it was sent."""

    def __init__(self, signal_id: uuid.UUID) -> None:
        self.signal_id = signal_id

    async def open(
        self, order: WorkOrderReceived, record: AnjuRecord, location: Location
    ) -> uuid.UUID:
        assert record is AnjuRecord.SIGNAL
        return self.signal_id


async def deliver(service: IntegrationClient, event: Event, subject: str, actor: Actor) -> None:
    sent = delivered(event, source="mediation", subject=subject, actor=actor)
    runtime = service.runtime
    await handle_once(runtime.store, MEDIATION_POLICY, sent)


async def send_order(service: IntegrationClient, order: dict[str, Any]) -> None:
    settings = service.settings.kafka
    event = CloudEvent(
        id=str(uuid.uuid4()),
        source="hotline12345",
        type="hotline12345.WorkOrderDispatched",
        subject=order["order_id"],
        content_type=JSON_CONTENT,
        data=json.dumps(order).encode(),
    )
    message = write_binary(event, order["order_id"].encode())
    producer = AIOKafkaProducer(**kafka.connection(settings))
    await producer.start()
    try:
        await producer.send_and_wait(
            f"{settings.topic_prefix}inbound.hotline12345.orders",
            message.value,
            key=message.key,
            headers=message.headers,
        )
    finally:
        await producer.stop()


async def test_a_record_closed_before_the_note_is_answered_at_the_note(
    database_url: str, kafka_bootstrap: str
) -> None:
    signal, dispute, stranger = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    async with running_integration(
        database_url, kafka_bootstrap, mediation=OneSignal(signal)
    ) as service:
        grid = uuid.UUID(service.feed.grid_id)
        community = uuid.UUID(service.feed.community_id)
        place = Location(
            area_id=grid, kind=AreaKind.GRID, path=AreaPath(community_id=community, grid_id=grid)
        )
        now = datetime.now(UTC)
        for record_id, actor in ((signal, INTEGRATION), (stranger, MEDIATOR)):
            reported = ConflictSignalReported(
                signal_id=record_id,
                reporter_id=actor.id,
                reporter_role=ReporterRole.DESK_STAFF,
                location=place,
                category=Category.OTHER,
                description="12345 C-1: 小区垃圾清运不及时",
                reported_at=now,
            )
            await deliver(service, reported, f"signal-{record_id}", actor)
        converted = ConflictSignalConverted(signal_id=signal, dispute_id=dispute)
        await deliver(service, converted, f"signal-{signal}", MEDIATOR)
        registered = DisputeRegistered(
            dispute_id=dispute,
            signal_id=signal,
            channel=Channel.GRID_PATROL,
            category=Category.OTHER,
            description="垃圾清运",
            location=place,
            parties=[Party(party_id=uuid.uuid4(), role=PartyRole.APPLICANT, name="王女士")],
            sensitivity=Sensitivity.STANDARD,
            tier=Tier.GRID,
            registered_at=now,
            sla_due_by=now + timedelta(days=7),
        )
        await deliver(service, registered, f"dispute-{dispute}", MEDIATOR)
        resolved = DisputeResolved(
            dispute_id=dispute,
            tier=Tier.GRID,
            outcome="物业已加派清运车次",
            resolved_at=now,
            reopen_until=now + timedelta(days=30),
            on_time=True,
        )
        await deliver(service, resolved, f"dispute-{dispute}", MEDIATOR)
        dismissed = ConflictSignalDismissed(signal_id=stranger, reason="不属实")
        await deliver(service, dismissed, f"signal-{stranger}", MEDIATOR)

        await send_order(
            service,
            {
                "order_id": "C-1",
                "category": "environment",
                "area_id": str(grid),
                "caller": {"phone": "13800000000"},
                "text": "小区垃圾清运不及时",
                "dispatched_at": now.isoformat(),
                "deadline": (now + timedelta(days=3)).isoformat(),
            },
        )
        rows: list[Any] = []
        async with service.runtime.pool.acquire() as conn:
            for _ in range(300):
                rows = await conn.fetch(
                    "SELECT type, data FROM events WHERE stream_id = 'order-C-1' ORDER BY sequence"
                )
                if len(rows) == 3:
                    break
                await asyncio.sleep(0.1)
            kept = await conn.fetch("SELECT record_id FROM hotline_records ORDER BY record")
        stored = await service.runtime.store.load("order-C-1")
    assert [r["type"] for r in rows] == [
        "integration.WorkOrderReceived",
        "integration.WorkOrderForwarded",
        "integration.WorkOrderAnswered",
    ]
    assert "物业已加派清运车次" not in rows[2]["data"]  # the reply's text is sealed in the store
    answered = stored.payloads[2]
    assert isinstance(answered, WorkOrderAnswered)
    assert answered.record == "dispute"
    assert answered.record_id == dispute
    assert (answered.outcome, answered.text) == ("resolved", "物业已加派清运车次")
    assert {r["record_id"] for r in kept} == {dispute, signal}  # not the stranger's signal
