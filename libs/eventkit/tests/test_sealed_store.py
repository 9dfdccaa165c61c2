"""Personal fields sealed end to end (docs/personal-data.md), on real PostgreSQL and the real
broker: the store keeps them sealed and opens them on load, the relay publishes the same sealed
bytes, a consumer with the keys reads them in clear, and once the person's key is destroyed
every copy reads as erased while every other fact stays."""

from __future__ import annotations

import json
import uuid
from collections.abc import AsyncIterator
from datetime import date

import asyncpg
import pytest
import pytest_asyncio
from pydantic import SecretStr

from anju_contracts import Actor
from anju_contracts.registry import (
    CATALOG,
    AreaCreated,
    AreaKind,
    AreaPath,
    FollowUpVisitRecorded,
    ResidentRegistered,
    Sex,
)
from anju_contracts.schema import SEALED_EXAMPLES
from eventkit.keys import CachedKeyStore, PostgresKeyStore
from eventkit.messages import Decoded, Decoder, Delivered, Poison, StoredMessage
from eventkit.personal import ERASED_TEXT, FieldCipher, SealedValueInInput, resident_subject
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore
from eventkit.testing.examples import example_payload
from eventkit.testing.relay import on_the_wire, read_topic, relay_everything

MASTER = bytes(range(32))
NAME, ID_NUMBER, ERRAND = "王秀英", "11010519480302002X", "代缴水费"
CONTEXT = Context(actor=Actor(id="desk-1", roles=("desk_staff",)))


@pytest_asyncio.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=10)
    await migrate(pool)
    try:
        yield pool
    finally:
        await pool.close()


@pytest_asyncio.fixture
async def keys(pool: asyncpg.Pool) -> CachedKeyStore:
    store = PostgresKeyStore(pool, MASTER)
    await store.migrate()
    return CachedKeyStore(store)


def registered(resident: uuid.UUID) -> ResidentRegistered:
    return ResidentRegistered(
        resident_id=resident,
        name=NAME,
        sex=Sex.FEMALE,
        date_of_birth=date(1948, 3, 2),
        id_number=ID_NUMBER,
        phone="13800000000",
        path=AreaPath(community_id=uuid.uuid5(resident, "community")),
    )


def visited(resident: uuid.UUID) -> FollowUpVisitRecorded:
    payload = example_payload(FollowUpVisitRecorded)
    return FollowUpVisitRecorded.model_validate(
        {**payload, "resident_id": str(resident), "errands": [ERRAND, "陪同就医"]}
    )


def residents(read: list[Decoded]) -> dict[uuid.UUID, ResidentRegistered]:
    events = {}
    for result in read:
        assert isinstance(result, Delivered)
        assert isinstance(result.event, ResidentRegistered)
        events[result.event.resident_id] = result.event
    return events


async def test_the_store_keeps_personal_fields_sealed_and_opens_them(
    pool: asyncpg.Pool, keys: CachedKeyStore
) -> None:
    store = EventStore(pool, CATALOG, cipher=FieldCipher(keys))
    resident = uuid.uuid4()
    stream = f"resident-{resident}"
    await store.append(stream, 0, [registered(resident), visited(resident)], context=CONTEXT)

    rows = await pool.fetch("SELECT data::text FROM events WHERE stream_id = $1", stream)
    stored = "\n".join(r["data"] for r in rows)
    for clear in (NAME, ID_NUMBER, "1948-03-02", "13800000000", ERRAND):
        assert clear not in stored
    assert str(resident) in stored  # ids are not personal: figures and joins keep working

    loaded = await store.load(stream)
    assert loaded.payloads == [registered(resident), visited(resident)]

    # erasure: the person's key is destroyed, and every copy reads as erased
    assert await keys.destroy(resident_subject(resident)) == 1
    erased = (await store.load(stream)).payloads
    person = erased[0]
    assert isinstance(person, ResidentRegistered)
    assert (person.name, person.date_of_birth, person.id_number, person.phone) == (
        ERASED_TEXT,
        None,
        None,
        ERASED_TEXT,
    )
    assert (person.resident_id, person.sex, person.path) == (
        resident,
        Sex.FEMALE,
        registered(resident).path,
    )
    visit = erased[1]
    assert isinstance(visit, FollowUpVisitRecorded)
    assert visit.errands == [ERASED_TEXT, ERASED_TEXT]  # how many errands is still known
    kept = set(FollowUpVisitRecorded.model_fields) - {"errands", "findings", "actions"}
    assert visit.model_dump(include=kept) == visited(resident).model_dump(include=kept)
    assert (visit.findings, visit.actions) == (ERASED_TEXT, ERASED_TEXT)


async def test_the_wire_carries_the_sealed_bytes_and_readers_with_keys_open_them(
    pool: asyncpg.Pool, keys: CachedKeyStore, database_url: str, kafka_bootstrap: str
) -> None:
    cipher = FieldCipher(keys)
    store = EventStore(pool, CATALOG, cipher=cipher)
    settings = ServiceSettings(
        service="registry",
        database_url=database_url,
        jwt_secret=SecretStr("x" * 32),
        kafka=KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"s{uuid.uuid4().hex[:10]}."),
    )
    kept, erased = uuid.uuid4(), uuid.uuid4()
    for resident in (kept, erased):
        await store.append(f"resident-{resident}", 0, [registered(resident)], context=CONTEXT)
    assert await relay_everything(store, settings) == 2
    records = await read_topic(kafka_bootstrap, settings.topic)
    assert len(records) == 2
    for record in records:
        wire = on_the_wire(record)
        for clear in (NAME.encode(), ID_NUMBER.encode(), b"1948-03-02", b"13800000000"):
            assert clear not in wire

    read = await Decoder([CATALOG], cipher=cipher).read_batch(records)
    assert residents(read) == {kept: registered(kept), erased: registered(erased)}
    # what a consumer sets aside is the message as it came: sealed
    assert [r.message for r in read] == records

    await keys.destroy(resident_subject(erased))
    again = residents(await Decoder([CATALOG], cipher=cipher).read_batch(records))
    assert again[kept] == registered(kept)
    assert again[erased].name == ERASED_TEXT
    assert again[erased].id_number is None
    assert again[erased].path == registered(erased).path


async def test_a_sealed_value_moved_into_another_event_does_not_open(
    pool: asyncpg.Pool, keys: CachedKeyStore, database_url: str, kafka_bootstrap: str
) -> None:
    cipher = FieldCipher(keys)
    store = EventStore(pool, CATALOG, cipher=cipher)
    resident = uuid.uuid4()
    await store.append(f"resident-{resident}", 0, [registered(resident)], context=CONTEXT)
    settings = ServiceSettings(
        service="registry",
        database_url=database_url,
        jwt_secret=SecretStr("x" * 32),
        kafka=KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"m{uuid.uuid4().hex[:10]}."),
    )
    await relay_everything(store, settings)
    [record] = await read_topic(kafka_bootstrap, settings.topic)
    payload = json.loads(record.value)
    payload["phone"] = payload["name"]  # the name's sealed value, moved to another field
    moved = StoredMessage(
        record.topic,
        record.partition,
        record.offset,
        record.key,
        json.dumps(payload).encode(),
        list(record.headers),
    )
    [result] = await Decoder([CATALOG], cipher=cipher).read_batch([moved])
    assert isinstance(result, Poison)
    assert result.reason == "invalid"
    assert "phone" in result.detail
    assert result.message is moved


@pytest.mark.parametrize("cached", [True, False])
async def test_a_destroyed_key_is_forgotten_by_the_cache(pool: asyncpg.Pool, cached: bool) -> None:
    inner = PostgresKeyStore(pool, MASTER)
    await inner.migrate()
    here, elsewhere = CachedKeyStore(inner), CachedKeyStore(inner)
    key = await here.obtain("resident:x")
    assert await elsewhere.get(key.id) == key
    if cached:
        await here.destroy("resident:x")  # destroyed through this cache: gone at once here
        assert await here.get(key.id) is None
    else:
        await inner.destroy("resident:x")  # destroyed by another process
        elsewhere.forget("resident:x")  # ...which this one follows
        assert await elsewhere.get(key.id) is None


async def test_text_that_spells_a_sealed_value_is_refused(
    pool: asyncpg.Pool, keys: CachedKeyStore
) -> None:
    """Every reader would try to open it, and set the event aside when it does not open: a
    command that would record one is refused (400 ``sealed_value_not_allowed``), whether the
    field is personal or not, with or without a key store."""
    resident = uuid.uuid4()
    lookalike = SEALED_EXAMPLES["t"]
    for cipher in (FieldCipher(keys), None):
        store = EventStore(pool, CATALOG, cipher=cipher)
        for event in (
            registered(resident).model_copy(update={"name": lookalike}),
            AreaCreated(
                area_id=uuid.uuid4(),
                kind=AreaKind.COMMUNITY,
                name=lookalike,
                parent_id=None,
                path=AreaPath(community_id=resident),
            ),
        ):
            with pytest.raises(SealedValueInInput) as refused:
                await store.append(f"s-{uuid.uuid4()}", 0, [event], context=CONTEXT)
            assert refused.value.code == "sealed_value_not_allowed"
            assert refused.value.details["field"] == "name"
    assert await pool.fetchval("SELECT count(*) FROM events") == 0
