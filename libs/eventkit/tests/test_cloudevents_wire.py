"""What the relay puts on Kafka is a CloudEvent: the ``cloudevents`` SDK reads real messages.

Events are appended through the kernel's store with the registry's catalogue, published by the
relay to the real broker, read back with aiokafka and handed to the SDK's Kafka binding (binary
content mode), both its current API and its 1.x one. The relay's messages are also exactly what
``anju_contracts.cloudevents.to_kafka`` writes for the same envelope, and the kernel's decoder
reads them back as they were stored.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
from aiokafka import AIOKafkaConsumer, ConsumerRecord
from cloudevents.core.bindings import kafka as sdk_kafka
from cloudevents.core.formats.json import JSONFormat
from cloudevents.v1 import kafka as sdk_v1_kafka
from pydantic import SecretStr

from anju_contracts import Actor, cloudevents as ce
from anju_contracts.registry import CATALOG, AreaPath, ResidentMovedOut, ResidentRegistered, Sex
from eventkit.messages import Decoder, Delivered
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore, RecordedEvent
from eventkit.testing.relay import relay_everything


async def read_topic(bootstrap: str, topic: str, count: int) -> list[ConsumerRecord[bytes, bytes]]:
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    records: list[ConsumerRecord[bytes, bytes]] = []
    try:
        async with asyncio.timeout(20):
            while len(records) < count:
                for batch in (await consumer.getmany(timeout_ms=200)).values():
                    records.extend(batch)
    finally:
        await consumer.stop()
    return records


EXTENSIONS = (
    "dataversion",
    "sequence",
    "position",
    "recordedtime",
    "correlationid",
    "causationid",
    "actorid",
    "actorroles",
    "area",
)


def registered(resident: uuid.UUID, area: uuid.UUID) -> ResidentRegistered:
    return ResidentRegistered(
        resident_id=resident,
        name="王秀英",
        sex=Sex.FEMALE,
        date_of_birth=datetime(1948, 3, 2).date(),
        id_number="11010519480302002X",
        path=AreaPath(community_id=uuid.uuid4(), grid_id=area),
    )


def attributes_of(stored: RecordedEvent, area: str | None) -> dict[str, Any]:
    """The CloudEvents attributes (but data) the stored event must travel with."""
    expected: dict[str, Any] = {
        "specversion": "1.0",
        "id": str(stored.id),
        "source": "registry",
        "type": stored.event.event_type,
        "time": stored.occurred_at,
        "subject": stored.stream_id,
        "datacontenttype": "application/json",
        "dataversion": str(stored.event.event_version),
        "sequence": str(stored.sequence),
        "position": str(stored.position),
        "recordedtime": ce.format_time(stored.recorded_at),
        "correlationid": stored.correlation_id,
        "actorid": stored.actor.id,
    }
    if stored.causation_id is not None:
        expected["causationid"] = stored.causation_id
    if stored.actor.roles:
        expected["actorroles"] = ",".join(stored.actor.roles)
    if area is not None:
        expected["area"] = area
    return expected


async def test_the_cloudevents_sdk_reads_what_the_relay_published(
    database_url: str, kafka_bootstrap: str
) -> None:
    settings = ServiceSettings(
        service="registry",
        database_url=database_url,
        jwt_secret=SecretStr("x" * 32),
        kafka=KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"ce{uuid.uuid4().hex[:8]}."),
    )
    resident, area = uuid.uuid4(), uuid.uuid4()
    stream = f"resident-{resident}"
    last_month = datetime.now(UTC).replace(microsecond=123456) - timedelta(days=30)
    desk = Context(
        actor=Actor(id="desk-1", roles=("desk_staff", "grid_worker")),
        causation_id="command-7",
        occurred_at=last_month,
        backdated=True,
    )
    service = Context(actor=Actor(id="registry"))
    moved_out = ResidentMovedOut(
        resident_id=resident, moved_out_on=date.today(), reason="moved to her daughter's"
    )
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        await migrate(pool)
        store = EventStore(pool, CATALOG)
        await store.append(stream, 0, [registered(resident, area)], context=desk, area=str(area))
        await store.append(stream, 1, [moved_out], context=service)
        await relay_everything(store, settings)
        records = await read_topic(kafka_bootstrap, settings.topic, 2)
        stored = (await store.load(stream)).events
    finally:
        await pool.close()
    assert len(records) == 2
    records.sort(key=lambda r: ce.from_kafka(r.value, r.headers).sequence)
    areas = [str(area), None]

    for record, event, event_area in zip(records, stored, areas, strict=True):
        assert record.key == stream.encode()
        expected = attributes_of(event, event_area)
        data = json.loads(event.event.model_dump_json())

        # the SDK's current API
        message = sdk_kafka.KafkaMessage(
            headers=dict(record.headers), key=record.key, value=record.value
        )
        read = sdk_kafka.from_binary(message, JSONFormat())
        assert read.get_specversion() == "1.0"
        assert read.get_id() == expected["id"]
        assert read.get_source() == "registry"
        assert read.get_type() == expected["type"]
        assert read.get_time() == event.occurred_at
        assert read.get_subject() == stream
        assert read.get_datacontenttype() == "application/json"
        for name in EXTENSIONS:
            assert read.get_extension(name) == expected.get(name), name
        assert read.get_extension("partitionkey") == stream  # the SDK's name for the key
        assert read.get_data() == data
        attributes = read.get_attributes()
        assert {k: v for k, v in attributes.items() if k != "partitionkey"} == expected

        # its 1.x API (``cloudevents.kafka`` before 2.0)
        old = sdk_v1_kafka.from_binary(
            sdk_v1_kafka.KafkaMessage(dict(record.headers), record.key, record.value)
        )
        assert old["specversion"] == "1.0"
        assert old["id"] == expected["id"]
        assert old["type"] == expected["type"]
        assert datetime.fromisoformat(old["time"]) == event.occurred_at
        assert old["subject"] == stream
        for name in EXTENSIONS:
            assert old.get(name) == expected.get(name), name
        assert old.data == data

        # the same message, header for header, as the published package writes it
        envelope = ce.from_kafka(record.value, record.headers)
        written = ce.to_kafka(envelope)
        assert (written.key, written.headers) == (record.key, list(record.headers))
        assert json.loads(written.value) == json.loads(record.value)

        # and the kernel reads it back as it was stored
        delivered = Decoder([CATALOG]).decode(record)
        assert isinstance(delivered, Delivered)
        assert delivered.event == event.event
        assert delivered.envelope.id == event.id
        assert delivered.envelope.occurred_at == event.occurred_at
        assert delivered.envelope.recorded_at == event.recorded_at
        assert delivered.envelope.actor == event.actor
        assert delivered.envelope.causation_id == event.causation_id
        assert delivered.envelope.area == event_area
    assert stored[0].occurred_at == last_month  # business time, not when it was recorded
