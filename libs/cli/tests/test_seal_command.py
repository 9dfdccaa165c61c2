"""``anju seal``: a store written before personal fields were sealed (v1 rows, clear, inserted
as the old version wrote them) sealed in place, on real PostgreSQL with the session's key store:
the same rows and event ids at v2 with every personal value sealed, loading back equal; run
again, nothing changes; dry, nothing is written; a person erased since reads as erased."""

from __future__ import annotations

import json
import os
import uuid
from collections.abc import AsyncIterator
from datetime import date
from pathlib import Path

import asyncpg
import pytest
import pytest_asyncio

from anju_cli.operate import OperatorError
from anju_cli.seal import seal, seal_store
from anju_contracts import Actor, Event
from anju_contracts.registry import (
    CATALOG,
    AreaPath,
    FollowUpVisitRecorded,
    OrganisationRegistered,
    ResidentRegistered,
    Sex,
)
from eventkit.keys import CachedKeyStore, PostgresKeyStore, master_key_from
from eventkit.personal import ERASED_TEXT, FieldCipher, resident_subject
from eventkit.schema import migrate
from eventkit.store import Context, EventStore
from eventkit.testing.examples import example_payload

NAME, ID_NUMBER, ERRAND, LIAISON = "王秀英", "11010519480302002X", "代缴水费", "李明"
CLEAR = (NAME, ID_NUMBER, "1948-03-02", "13800000000", ERRAND, LIAISON)
CONTEXT = Context(actor=Actor(id="desk-1", roles=("desk_staff",)))


@pytest_asyncio.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    await migrate(pool)
    try:
        yield pool
    finally:
        await pool.close()


@pytest_asyncio.fixture
async def cipher(key_store: str) -> AsyncIterator[FieldCipher]:
    """The session's key store (the one every service of the tests seals with)."""
    keys_pool = await asyncpg.create_pool(key_store, min_size=1, max_size=2)
    store = PostgresKeyStore(keys_pool, master_key_from(os.environ["KEYS__MASTER_KEY"]))
    await store.migrate()
    try:
        yield FieldCipher(CachedKeyStore(store))
    finally:
        await keys_pool.close()


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


def organisation() -> OrganisationRegistered:
    payload = example_payload(OrganisationRegistered)
    liaison = {"name": LIAISON, "role": "党委办公室主任", "phone": "13900000000"}
    return OrganisationRegistered.model_validate({**payload, "liaisons": [liaison]})


async def write_v1(pool: asyncpg.Pool, stream_id: str, events: list[Event]) -> list[uuid.UUID]:
    """Append as the version before sealing did: type version 1, every field in clear."""
    ids = []
    for sequence, event in enumerate(events, start=1):
        event_id = uuid.uuid4()
        await pool.execute(
            """
            INSERT INTO events (id, stream_id, sequence, type, type_version, data,
                                correlation_id, actor)
            VALUES ($1, $2, $3, $4, 1, $5::jsonb, 'c-1', $6::jsonb)
            """,
            event_id,
            stream_id,
            sequence,
            event.event_type,
            event.model_dump_json(),
            CONTEXT.actor.model_dump_json(),
        )
        ids.append(event_id)
    return ids


async def rows(pool: asyncpg.Pool) -> dict[uuid.UUID, asyncpg.Record]:
    found = await pool.fetch("SELECT id, position, type_version, data::text FROM events")
    return {r["id"]: r for r in found}


async def test_the_history_is_sealed_in_place_and_loads_back_equal(
    pool: asyncpg.Pool,
    cipher: FieldCipher,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    resident, organisation_id = uuid.uuid4(), uuid.uuid4()
    person_ids = await write_v1(
        pool, f"resident-{resident}", [registered(resident), visited(resident)]
    )
    org = organisation().model_copy(update={"organisation_id": organisation_id})
    await write_v1(pool, f"organisation-{organisation_id}", [org])
    store = EventStore(pool, CATALOG, cipher=cipher)
    # appended by this version: sealed already, left as it is
    newer = uuid.uuid4()
    await store.append(f"resident-{newer}", 0, [registered(newer)], context=CONTEXT)
    before = await rows(pool)
    assert sum(NAME in r["data"] for r in before.values()) == 1  # the clear v1 row

    monkeypatch.setenv("ANJU_REGISTRY_DATABASE_URL", database_url)
    monkeypatch.setenv("ANJU_KEYS__DATABASE_URL", os.environ["KEYS__DATABASE_URL"])
    monkeypatch.setenv("ANJU_KEYS__MASTER_KEY", os.environ["KEYS__MASTER_KEY"])

    dry = await seal(tmp_path, "registry", dry_run=True)
    assert dry.total == 3
    assert await rows(pool) == before  # nothing written
    assert "would seal 3 events" in capsys.readouterr().out

    report = await seal(tmp_path, "registry", dry_run=False, batch=2)  # two batches
    assert dict(report.sealed) == {
        ("registry.ResidentRegistered", 1, 2): 1,
        ("registry.FollowUpVisitRecorded", 1, 2): 1,
        ("registry.OrganisationRegistered", 1, 2): 1,
    }
    out = capsys.readouterr().out
    assert "registry.ResidentRegistered v1 -> v2: 1" in out
    assert "sealed 3 events in place" in out
    assert "anju reseed --service registry" in out

    after = await rows(pool)
    assert after.keys() == before.keys()  # same events, same ids, same positions
    for event_id, row in after.items():
        assert row["position"] == before[event_id]["position"]
        assert row["type_version"] == 2
        for clear in CLEAR:
            assert clear not in row["data"]
        assert '"pd1:' in row["data"]
    appended = await pool.fetchval(
        "SELECT id FROM events WHERE stream_id = $1", f"resident-{newer}"
    )
    assert after[appended] == before[appended]

    # each loads back as what was recorded (the sealed values open under the event's own id)
    assert (await store.load(f"resident-{resident}")).payloads == [
        registered(resident),
        visited(resident),
    ]
    assert (await store.load(f"organisation-{organisation_id}")).payloads == [org]
    assert [e.id for e in (await store.load(f"resident-{resident}")).events] == person_ids

    again = await seal(tmp_path, "registry", dry_run=False)
    assert again.total == 0
    assert "nothing left in clear" in capsys.readouterr().out
    assert await rows(pool) == after

    # an erasure reaches the rewritten rows: they were sealed under the person's key
    await cipher.keys.destroy(resident_subject(resident))
    person = (
        await EventStore(pool, CATALOG, cipher=FieldCipher(cipher.keys)).load(
            f"resident-{resident}"
        )
    ).payloads[0]
    assert isinstance(person, ResidentRegistered)
    assert (person.name, person.id_number) == (ERASED_TEXT, None)


async def test_a_person_erased_before_sealing_reads_as_erased(
    pool: asyncpg.Pool, cipher: FieldCipher
) -> None:
    resident = uuid.uuid4()
    await write_v1(pool, f"resident-{resident}", [registered(resident)])
    # erased once sealing was wired, before the history was sealed: their v1 key is gone
    await cipher.keys.obtain(resident_subject(resident))
    await cipher.keys.destroy(resident_subject(resident))

    report = await seal_store(pool, CATALOG, cipher)
    assert report.total == 1
    assert report.erased_subjects == {resident_subject(resident)}
    [data] = [r["data"] for r in (await rows(pool)).values()]
    assert NAME not in data
    assert ID_NUMBER not in data
    [person] = (
        await EventStore(pool, CATALOG, cipher=cipher).load(f"resident-{resident}")
    ).payloads
    assert isinstance(person, ResidentRegistered)
    assert (person.name, person.id_number, person.date_of_birth) == (ERASED_TEXT, None, None)
    assert person.resident_id == resident
    assert person.sex == Sex.FEMALE


async def test_without_a_key_store_it_refuses_but_a_dry_run_counts(pool: asyncpg.Pool) -> None:
    resident = uuid.uuid4()
    await write_v1(pool, f"resident-{resident}", [registered(resident)])
    with pytest.raises(OperatorError, match="no key store"):
        await seal_store(pool, CATALOG, None)
    assert (await seal_store(pool, CATALOG, None, dry_run=True)).total == 1
    [data] = [r["data"] for r in (await rows(pool)).values()]
    assert json.loads(data)["name"] == NAME


async def test_an_event_that_does_not_read_stops_it_with_its_position(
    pool: asyncpg.Pool, cipher: FieldCipher
) -> None:
    resident = uuid.uuid4()
    await write_v1(pool, f"resident-{resident}", [registered(resident)])
    await pool.execute("UPDATE events SET data = data - 'sex'")
    with pytest.raises(OperatorError, match="position"):
        await seal_store(pool, CATALOG, cipher)
