"""The operator commands against a running stack: real PostgreSQL, the shared broker, both apps.

One module-scoped world: the registry app (event store, relay) and the query app (the
``residents`` projection), each on a database of its own, publishing and consuming under a topic
prefix of their own. Each test drives ``anju`` exactly as an operator would — environment
variables and argv — and reads what it prints.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from fastapi import FastAPI
from pydantic import SecretStr

from anju_cli.main import main
from anju_cli.operate import catalogue_topics, event_services
from anju_contracts import Envelope
from anju_contracts.cloudevents import to_kafka
from anju_contracts.registry import AreaPath, ResidentRegistered, Sex
from anju_query.entrypoints.app import create_app as create_query_app
from anju_query.settings import QuerySettings
from anju_registry.testing import SECRET, RegistryClient, id_number_for, running_registry
from eventkit import kafka
from eventkit.auth import issue_token
from eventkit.relay import MESSAGE_SQL, message_of
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, topic_for
from eventkit.testing.infra import create_database, database_url_for

pytestmark = pytest.mark.timeout(120)

QUERY_ADMIN = {"Authorization": f"Bearer {issue_token(SECRET, 'operator', ['admin'])}"}


@dataclass
class World:
    registry: RegistryClient
    query_app: FastAPI
    query: httpx.AsyncClient
    registry_url: str
    query_url: str
    bootstrap: str
    prefix: str
    # Every other event-sourced service: a migrated, empty store the operator commands can read.
    others: dict[str, str] = field(default_factory=dict)
    residents: list[str] = field(default_factory=list)
    # Residents that reached the read model only by a replayed dead letter, never via Kafka.
    injected: set[str] = field(default_factory=set)

    @property
    def topic(self) -> str:
        return topic_for("registry", self.prefix)

    async def register(self, name: str) -> str:
        resident = await self.registry.register(name=name)
        self.residents.append(resident)
        return resident

    async def settled(self, timeout_s: float = 20) -> None:
        """Wait until the relay has published everything and the projection applied it."""
        registry = await asyncpg.connect(self.registry_url)
        query = await asyncpg.connect(self.query_url)
        try:
            await until(lambda: _settled(registry, query, self.topic), timeout_s)
        finally:
            await registry.close()
            await query.close()


async def _settled(registry: asyncpg.Connection, query: asyncpg.Connection, topic: str) -> bool:
    lag = await registry.fetchval(
        """SELECT count(*) FROM events e, relay_cursor c
           WHERE c.topic = $1 AND (e.xid, e.position) > (c.xid, c.position)""",
        topic,
    )
    if lag != 0 or not await registry.fetchval(
        "SELECT published > 0 FROM relay_cursor WHERE topic = $1", topic
    ):
        return False
    versions = {
        r["stream_id"]: r["version"]
        for r in await registry.fetch(
            "SELECT stream_id, max(sequence) AS version FROM events GROUP BY 1"
        )
    }
    applied = {
        r["stream_id"]: r["version"]
        for r in await query.fetch("SELECT stream_id, version FROM residents.stream_versions")
    }
    return all(applied.get(s, 0) >= v for s, v in versions.items())


async def until(check: Callable[[], Awaitable[bool]], timeout_s: float = 20) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not reached in {timeout_s}s: {check}")
        await asyncio.sleep(0.05)


async def _drop(server_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1].split("?")[0]
    conn = await asyncpg.connect(database_url_for(server_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def world(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    tag = uuid.uuid4().hex[:10]
    registry_url = await create_database(pg_server_url, f"cli_registry_{tag}")
    query_url = await create_database(pg_server_url, f"cli_query_{tag}")
    others = {}
    for service in event_services():
        if service != "registry":
            others[service] = url = await create_database(pg_server_url, f"cli_{service}_{tag}")
            conn = await asyncpg.connect(url)
            await migrate(conn)
            await conn.close()
    try:
        async with running_registry(registry_url, kafka_bootstrap) as registry:
            kafka = registry.settings.kafka
            query_app = create_query_app(
                QuerySettings(database_url=query_url, jwt_secret=SecretStr(SECRET), kafka=kafka)
            )
            async with query_app.router.lifespan_context(query_app):
                transport = httpx.ASGITransport(app=query_app)
                async with httpx.AsyncClient(transport=transport, base_url="http://query") as q:
                    world = World(
                        registry,
                        query_app,
                        q,
                        registry_url,
                        query_url,
                        kafka_bootstrap,
                        kafka.topic_prefix,
                        others,
                    )
                    for name in ("Zhang Min", "Li Hua", "Wang Fang"):
                        await world.register(name)
                    await world.settled()
                    yield world
    finally:
        urls = [registry_url, query_url, *others.values()]
        await asyncio.gather(*(_drop(pg_server_url, url) for url in urls))


@dataclass
class Ran:
    code: int
    out: str
    err: str


Anju = Callable[..., Awaitable[Ran]]


_LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \[")


@pytest.fixture
def anju(world: World, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> Anju:
    """``await anju("status")``: the CLI as an operator runs it, configured by environment."""
    monkeypatch.setenv("ANJU_REGISTRY_DATABASE_URL", world.registry_url)
    monkeypatch.setenv("ANJU_QUERY_DATABASE_URL", world.query_url)
    monkeypatch.setenv("ANJU_KAFKA_BOOTSTRAP", world.bootstrap)
    monkeypatch.setenv("ANJU_KAFKA_TOPIC_PREFIX", world.prefix)
    for service, url in world.others.items():
        monkeypatch.setenv(f"ANJU_{service.upper()}_DATABASE_URL", url)

    async def run(*argv: str) -> Ran:
        capsys.readouterr()
        # Each command calls asyncio.run(), which needs a thread without a running loop.
        code = await asyncio.to_thread(main, list(argv))
        captured = capsys.readouterr()
        # The services of the world run in this process and may log meanwhile (a projection
        # starting): those lines are theirs, not the command's.
        out = "".join(
            line for line in captured.out.splitlines(keepends=True) if not _LOG_LINE.match(line)
        )
        return Ran(code, out, captured.err)

    return run


# -- helpers --------------------------------------------------------------------------------


async def produce(
    world: World, key: bytes, value: bytes, headers: list[tuple[str, bytes]] | None = None
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=world.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(world.topic, value, key=key, headers=headers)
    finally:
        await producer.stop()


def envelope_of_unknown_type() -> tuple[bytes, list[tuple[str, bytes]]]:
    """A well-formed registry event of a type no code knows (a newer producer's event): the
    message's value and headers."""
    envelope = Envelope.model_validate(
        {
            "id": str(uuid.uuid4()),
            "type": "registry.ResidentTeleported",
            "version": 1,
            "source": "registry",
            "subject": f"resident-{uuid.uuid4()}",
            "sequence": 2,
            "position": 999_999,
            "occurred_at": "2024-05-01T09:00:00+00:00",
            "correlation_id": "cli-test",
            "causation_id": None,
            "actor": {"id": "someone", "roles": ["admin"]},
            "area": None,
            "data": {"to": "the moon"},
        }
    )
    message = to_kafka(envelope)
    return message.value, message.headers


Headers = list[tuple[str, bytes]]


async def relay_rendered_registration(
    world: World, name: str
) -> tuple[str, tuple[bytes, Headers], str]:
    """A ResidentRegistered message rendered by the relay's own SQL, for a resident whose event
    was never committed (the insert is rolled back): (resident id, (value, headers), stream id).
    """
    resident = uuid.uuid4()
    born = date(1948, 8, 8)
    event = ResidentRegistered(
        resident_id=resident,
        name=name,
        sex=Sex.MALE,
        date_of_birth=born,
        id_number=id_number_for(born, 777),
        path=AreaPath(
            community_id=uuid.UUID(world.registry.community_id),
            grid_id=uuid.UUID(world.registry.grid_id),
            unit_id=uuid.UUID(world.registry.unit_id),
        ),
    )
    stream = f"resident-{resident}"
    conn = await asyncpg.connect(world.registry_url)
    try:
        tx = conn.transaction()
        await tx.start()
        try:
            position = await conn.fetchval(
                """INSERT INTO events (id, stream_id, sequence, type, type_version, data,
                                       correlation_id, actor, area)
                   VALUES ($1, $2, 1, $3, 1, $4::jsonb, 'cli-test', $5::jsonb, $6)
                   RETURNING position""",
                uuid.uuid4(),
                stream,
                ResidentRegistered.event_type,
                event.model_dump_json(),
                json.dumps({"id": "operator", "roles": ["admin"]}),
                world.registry.grid_id,
            )
            row = await conn.fetchrow(
                f"SELECT {MESSAGE_SQL} FROM events WHERE position = $1", position
            )
        finally:
            await tx.rollback()
    finally:
        await conn.close()
    _, value, headers = message_of(row, b"registry")
    return str(resident), (value, headers), stream


async def insert_dead_letter(
    world: World, key: str, message: tuple[bytes, Headers], offset: int
) -> int:
    """A dead letter as the projection would have recorded it had it not known the type."""
    conn = await asyncpg.connect(world.query_url)
    try:
        letter_id: int = await conn.fetchval(
            """INSERT INTO dead_letters (consumer, topic, partition, "offset", key, value,
                                         headers, reason, detail)
               VALUES ('residents', $1, 0, $2, $3, $4, $5::jsonb, 'unknown_type',
                       'unknown event registry.ResidentRegistered v1')
               RETURNING id""",
            world.topic,
            offset,
            key.encode(),
            message[0],
            json.dumps([[k, v.decode()] for k, v in message[1]]),
        )
    finally:
        await conn.close()
    return letter_id


async def pending_letters(world: World, consumer: str | None = "residents") -> list[asyncpg.Record]:
    """The query's pending dead letters: of the residents projection, which these tests are
    about, by default (every projection that follows the registry sets a poison message aside
    for itself), else of every consumer (``consumer=None``)."""
    conn = await asyncpg.connect(world.query_url)
    try:
        rows: list[asyncpg.Record] = await conn.fetch(
            "SELECT id, reason, status FROM dead_letters WHERE status = 'pending'"
            " AND ($1::text IS NULL OR consumer = $1) ORDER BY id",
            consumer,
        )
    finally:
        await conn.close()
    return rows


async def read_model(world: World) -> dict[str, list[tuple[Any, ...]]]:
    """Every table of the residents read model, through its views, minus injected residents."""
    conn = await asyncpg.connect(world.query_url)
    try:
        tables = [
            r["table_name"]
            for r in await conn.fetch(
                """SELECT table_name FROM information_schema.views
                   WHERE table_schema = 'residents' AND table_name <> 'partition_offsets'
                   ORDER BY 1"""
            )
        ]
        dump = {}
        for table in tables:
            rows = await conn.fetch(f"SELECT * FROM residents.{table}")
            dump[table] = sorted(
                (tuple(str(v) for v in r.values()) for r in rows),
                key=repr,
            )
            dump[table] = [row for row in dump[table] if not any(i in row for i in world.injected)]
    finally:
        await conn.close()
    assert dump["residents"], "the read model is empty"
    return dump


async def messages_held(world: World) -> int:
    """How many messages the broker holds on the registry topic (sum of high-water marks)."""
    consumer = AIOKafkaConsumer(
        bootstrap_servers=world.bootstrap,
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=20,
        max_partition_fetch_bytes=4096,
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(world.topic, p)
            for p in sorted(consumer.partitions_for_topic(world.topic) or [])
        ]
        assert partitions
        consumer.assign(partitions)
        for tp in partitions:
            consumer.seek(tp, 0)
        marks: dict[TopicPartition, int] = {}
        deadline = time.monotonic() + 10
        while len(marks) < len(partitions) and time.monotonic() < deadline:
            await consumer.getmany(*partitions, timeout_ms=100, max_records=1)
            for tp in partitions:
                mark = consumer.highwater(tp)
                if mark is not None:
                    marks[tp] = mark
        assert len(marks) == len(partitions)
        return sum(marks.values())
    finally:
        await consumer.stop()


# -- status ---------------------------------------------------------------------------------


async def test_status_shows_relay_lag_checkpoints_and_dead_letters(
    world: World, anju: Anju
) -> None:
    await world.register("Zhao Lei")
    await world.settled()
    conn = await asyncpg.connect(world.registry_url)
    events = await conn.fetchval("SELECT count(*) FROM events")
    await conn.close()

    ran = await anju("status")

    assert ran.code == 0, ran.err
    lines = ran.out.splitlines()
    relay = next(line for line in lines if line.strip().startswith("registry "))
    assert f"events={events} " in relay
    assert f"published={events} " in relay
    assert "lag=0 " in relay
    projection = next(line for line in lines if line.strip().startswith("residents "))
    assert f"{world.topic}[" in projection
    assert re.search(r" g[0-9]+ ", projection)
    streams = int(projection.split("streams=")[1].split()[0])
    assert streams >= 4 + len(world.residents)  # four areas and every resident
    pending = await pending_letters(world)
    if not pending:
        assert "  registry: none" in lines
        assert "  query: none" in lines


async def test_status_names_a_service_it_cannot_read_and_shows_the_rest(
    world: World, anju: Anju, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("ANJU_REGISTRY_DATABASE_URL")
    monkeypatch.setattr("anju_cli.operate.stack_state", lambda root: None)  # no `make run` either

    ran = await anju("status")

    assert ran.code == 2
    assert "set ANJU_REGISTRY_DATABASE_URL" in ran.out
    assert "could not read registry" in ran.err
    assert "Traceback" not in ran.err
    assert f"{world.topic}[" in ran.out  # the projections were still read
    assert "  query: " in ran.out


# -- topics ---------------------------------------------------------------------------------


def topic_states(out: str) -> dict[str, str]:
    """``topics`` output: each line a topic and its state."""
    return {line.split()[0]: line.split(None, 1)[1] for line in out.splitlines()}


async def test_topics_reports_and_creates(world: World, anju: Anju, monkeypatch: Any) -> None:
    ran = await anju("topics")
    assert ran.code == 0, ran.err
    states = topic_states(ran.out)
    assert set(states) == set(catalogue_topics(world.prefix))
    assert states[world.topic] == "present"

    fresh = f"cli{uuid.uuid4().hex[:8]}."
    wanted = set(catalogue_topics(fresh))
    # each service's events, and the inbound and outbound topics of other systems
    assert {
        f"{fresh}registry.events",
        f"{fresh}integration.events",
        f"{fresh}inbound.hotline12345.orders",
        f"{fresh}outbound.hotline12345.replies",
    } <= wanted
    assert f"{fresh}hotline12345.events" not in wanted
    monkeypatch.setenv("ANJU_KAFKA_TOPIC_PREFIX", fresh)
    ran = await anju("topics")
    assert ran.code == 0, ran.err
    assert topic_states(ran.out) == dict.fromkeys(wanted, "missing")

    ran = await anju("topics", "--create")
    assert ran.code == 0, ran.err
    created = [line.split()[0] for line in ran.out.splitlines() if "created" in line]
    assert set(created) == wanted
    assert "created (3 partitions, keep forever)" in ran.out

    ran = await anju("topics")
    assert topic_states(ran.out) == dict.fromkeys(wanted, "present")
    client = kafka.admin(KafkaSettings(bootstrap=world.bootstrap), client_id="cli-tests")
    await client.start()
    try:
        described = await client.describe_configs(
            [ConfigResource(ConfigResourceType.TOPIC, f"{fresh}inbound.hotline12345.orders")]
        )
    finally:
        await client.close()
    configs = {c[0]: c[1] for r in described for res in r.resources for c in res[4]}
    assert configs.get("retention.ms") == "-1"


async def test_topics_rejects_a_bad_prefix_and_an_absent_broker(
    anju: Anju, monkeypatch: Any
) -> None:
    monkeypatch.setenv("ANJU_KAFKA_TOPIC_PREFIX", "Not A Prefix!")
    ran = await anju("topics")
    assert ran.code == 2
    assert "ANJU_KAFKA_TOPIC_PREFIX" in ran.err

    monkeypatch.setenv("ANJU_KAFKA_TOPIC_PREFIX", "x.")
    from eventkit.testing.infra import free_port

    monkeypatch.setenv("ANJU_KAFKA_BOOTSTRAP", f"127.0.0.1:{free_port()}")
    ran = await anju("topics")
    assert ran.code == 2
    assert "cannot reach Kafka" in ran.err


# -- dead letters ---------------------------------------------------------------------------


async def test_dead_letters_list_show_discard_and_a_replay_that_still_fails(
    world: World, anju: Anju
) -> None:
    before = {r["id"] for r in await pending_letters(world)}
    await produce(world, b"resident-bogus", *envelope_of_unknown_type())
    await produce(world, b"resident-garbled", b"\xff not json at all")

    async def two_more() -> bool:
        return len({r["id"] for r in await pending_letters(world)} - before) == 2

    await until(two_more)
    new = sorted({r["id"]: r["reason"] for r in await pending_letters(world)}.items())
    new = [(i, reason) for i, reason in new if i not in before]
    reasons = dict(new)
    assert sorted(reasons.values()) == ["undecodable", "unknown_type"]
    unknown = next(i for i, r in new if r == "unknown_type")
    garbled = next(i for i, r in new if r == "undecodable")

    ran = await anju("dead-letters", "list")
    assert ran.code == 0, ran.err
    listed = {int(line.split()[0]): line for line in ran.out.splitlines()}
    assert {unknown, garbled} <= set(listed)
    assert "pending" in listed[unknown]
    assert "residents" in listed[unknown]
    assert "unknown_type" in listed[unknown]
    assert world.topic in listed[unknown]

    ran = await anju("status")
    assert "query/residents:" in ran.out

    ran = await anju("dead-letters", "show", str(unknown))
    assert ran.code == 0, ran.err
    shown = dict(line.strip().split(": ", 1) for line in ran.out.splitlines() if ": " in line)
    assert shown["id"] == str(unknown)
    assert shown["status"] == "pending"
    assert shown["reason"] == "unknown_type"
    assert shown["topic"] == world.topic
    assert "registry.ResidentTeleported" in shown["detail"]
    assert "the moon" in shown["value"]
    assert "header: ce_type=registry.ResidentTeleported" in ran.out
    assert shown["key"] == "b'resident-bogus'"

    ran = await anju("dead-letters", "discard", str(garbled), "--reason", "producer bug, fixed")
    assert ran.code == 0, ran.err
    assert ran.out.strip() == f"discarded {garbled}"
    ran = await anju("dead-letters", "show", str(garbled))
    assert "discarded" in ran.out
    assert "producer bug, fixed" in ran.out
    ran = await anju("dead-letters", "list")
    assert str(garbled) not in [line.split()[0] for line in ran.out.splitlines()]
    ran = await anju("dead-letters", "list", "--all")
    assert garbled in [int(line.split()[0]) for line in ran.out.splitlines()]
    # Discarding twice is refused, and so is an id that does not exist.
    ran = await anju("dead-letters", "discard", str(garbled), "--reason", "again")
    assert ran.code == 2
    assert f"no pending dead letter {garbled}" in ran.err
    ran = await anju("dead-letters", "show", "987654321")
    assert ran.code == 2
    assert "no dead letter 987654321" in ran.err

    # Today's code still does not know the type: it stays pending with the reason.
    ran = await anju("dead-letters", "replay", str(unknown))
    assert ran.code != 0
    assert f"{unknown}: still unknown_type" in ran.out
    assert unknown in [r["id"] for r in await pending_letters(world)]

    # Leave the world without pending letters for the other tests: the two messages are also
    # set aside by the other projections that follow the registry.
    for letter in await pending_letters(world, None):
        ran = await anju("dead-letters", "discard", str(letter["id"]), "--reason", "never ours")
        assert ran.code == 0, ran.err


async def test_replaying_a_dead_letter_that_decodes_now(world: World, anju: Anju) -> None:
    resident, envelope, stream = await relay_rendered_registration(world, "Sun Li")
    letter = await insert_dead_letter(world, stream, envelope, offset=10_000_001)
    missing = await world.query.get(f"/residents/{resident}", headers=QUERY_ADMIN)
    assert missing.status_code == 404

    ran = await anju("dead-letters", "replay", str(letter))

    assert ran.code == 0, ran.err
    assert ran.out.strip() == f"{letter}: replayed"
    world.injected.add(resident)
    found = await world.query.get(f"/residents/{resident}", headers=QUERY_ADMIN)
    assert found.status_code == 200, found.text
    assert found.json()["resident"]["name"] == "Sun Li"
    ran = await anju("dead-letters", "show", str(letter))
    assert "status: replayed" in ran.out
    assert "resolution: replayed" in ran.out

    # A second replay is refused: the letter is no longer pending, and nothing is applied twice.
    ran = await anju("dead-letters", "replay", str(letter))
    assert ran.code != 0
    assert f"{letter}: no pending dead letter with this id" in ran.out


async def test_replay_all(world: World, anju: Anju) -> None:
    good = []
    for n, name in enumerate(("Qian Yu", "Zhou Jie")):
        resident, envelope, stream = await relay_rendered_registration(world, name)
        good.append((resident, await insert_dead_letter(world, stream, envelope, 10_000_100 + n)))
    await produce(world, b"resident-bogus-2", *envelope_of_unknown_type())

    injected = {letter for _, letter in good}

    async def poisoned() -> bool:
        return len(await pending_letters(world)) == len(injected) + 1

    await until(poisoned)
    # the unknown event, set aside by every projection that follows the registry
    bad = [r["id"] for r in await pending_letters(world, None) if r["id"] not in injected]

    ran = await anju("dead-letters", "replay", "--all")

    assert ran.code != 0  # one of them could not be replayed
    results = dict(line.split(": ", 1) for line in ran.out.splitlines() if ": " in line)
    for resident, letter in good:
        world.injected.add(resident)
        assert results[str(letter)] == "replayed"
        found = await world.query.get(f"/residents/{resident}", headers=QUERY_ADMIN)
        assert found.status_code == 200, found.text
    assert all(results[str(letter)].startswith("still unknown_type") for letter in bad)
    assert [r["id"] for r in await pending_letters(world, None)] == bad
    for letter in bad:
        ran = await anju("dead-letters", "discard", str(letter), "--reason", "never ours")
        assert ran.code == 0, ran.err

    ran = await anju("dead-letters", "replay", "--all")
    assert ran.code == 0, ran.err
    ran = await anju("dead-letters", "--service", "registry", "list")
    assert ran.code == 0, ran.err
    assert ran.out.strip() == "no dead letters"


# -- projections ----------------------------------------------------------------------------


async def test_rebuild_residents_while_running(world: World, anju: Anju) -> None:
    await world.settled()
    before = await read_model(world)
    conn = await asyncpg.connect(world.query_url)
    old = await conn.fetchval("SELECT schema FROM projections WHERE name = 'residents'")
    await conn.close()

    ran = await anju("projections", "rebuild", "residents")

    assert ran.code == 0, ran.err
    assert "residents: [" in ran.out
    assert " events, " in ran.out
    generation = int(old.rsplit("_g", 1)[1]) + 1
    assert ran.out.rstrip().endswith(f"residents: swapped in residents_g{generation}")
    assert await read_model(world) == before
    ran = await anju("status")
    assert f"residents          g{generation} " in ran.out
    # The projection keeps following: a new resident appears in the new generation.
    resident = await world.register("Wu Gang")
    await world.settled()
    found = await world.query.get(f"/residents/{resident}", headers=QUERY_ADMIN)
    assert found.status_code == 200, found.text


async def test_rebuild_unknown_projection(anju: Anju) -> None:
    ran = await anju("projections", "rebuild", "nope")
    assert ran.code == 2
    assert "unknown projection(s) ['nope']" in ran.err
    assert "residents" in ran.err


# -- reseed ---------------------------------------------------------------------------------


async def _reseed(world: World, anju: Anju) -> tuple[int, int]:
    """Run ``anju reseed`` on a settled stack; return (messages held before, events)."""
    await world.settled()
    held = await messages_held(world)
    conn = await asyncpg.connect(world.registry_url)
    try:
        events = int(await conn.fetchval("SELECT count(*) FROM events"))
        published = await conn.fetchval(
            "SELECT published FROM relay_cursor WHERE topic = $1", world.topic
        )
        assert published == events

        ran = await anju("reseed")

        assert ran.code == 0, ran.err
        assert f"{world.topic:<24} present" in ran.out
        assert f"registry: relay will republish {events} events from the start" in ran.out
        reset = await conn.fetchrow(
            "SELECT xid::text AS xid, position, published FROM relay_cursor WHERE topic = $1",
            world.topic,
        )
        republishing = reset["xid"] == "0" or reset["published"] < events
        if not republishing:  # the relay took the reset and republished everything already
            assert await messages_held(world) >= held + events
    finally:
        await conn.close()
    for service in world.others:
        assert f"{service}: relay will republish 0 events from the start" in ran.out
    return held, events


async def test_reseed_on_an_idle_stack_republishes_without_waiting_for_a_command(
    world: World, anju: Anju
) -> None:
    """The relay adopts the reset cursor on its next topic check, with nothing appended."""
    held, events = await _reseed(world, anju)

    async def republished() -> bool:
        return bool(await messages_held(world) >= held + events)

    try:
        await until(republished, timeout_s=5)
    finally:
        await world.register("Feng Yi")  # also the other way to wake a relay
        await world.settled()


async def test_reseed_republishes_the_store(world: World, anju: Anju) -> None:
    before = await read_model(world)
    held, events = await _reseed(world, anju)
    # A command arriving meanwhile: the relay's compare-and-set cursor must not lose the reset.
    resident = await world.register("Zheng Hao")

    async def republished() -> bool:
        return bool(await messages_held(world) >= held + events + 1)

    await until(republished, timeout_s=15)
    await world.settled()
    ran = await anju("status")
    relay = next(line for line in ran.out.splitlines() if line.strip().startswith("registry "))
    assert f"published={events + 1} " in relay
    assert "lag=0 " in relay
    # Consumers took the republished events as the duplicates they are.
    after = await read_model(world)
    assert [r for r in after["residents"] if resident not in r] == before["residents"]
    assert await pending_letters(world) == []
