"""Business time (``eventkit.business``): a command says when its fact happened, the kernel
checks it before any handler logic, the store keeps it apart from when it recorded the event,
the relay publishes both, and back-dating is a permission of its own and audited.

A small service of its own (one aggregate, two commands) runs on a real database and broker
behind the shared edge, driven over HTTP with a hand-moved clock.
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any, ClassVar
from uuid import UUID

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer
from fastapi import FastAPI
from pydantic import SecretStr

from anju_contracts import Actor, Envelope, Event, EventCatalog
from anju_contracts.cloudevents import from_kafka
from eventkit import audit
from eventkit.access import Guarded, Permissions
from eventkit.aggregate import Aggregate
from eventkit.app import CONFIG, CallerDep, CommandRouter, StoreDep, service_app
from eventkit.auth import Role
from eventkit.commands import Accepted, Clock, Command, StreamCommand
from eventkit.errors import NotFound
from eventkit.memory import MemoryEventStore
from eventkit.runtime import Runtime
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore
from eventkit.testing.clocks import ManualClock
from eventkit.testing.service import ServiceClient, serving

# -- the service -------------------------------------------------------------------------------

COMMUNITY = uuid.uuid4()


class Opened(Event):
    event_type = "ledgerdemo.Opened"
    visit_id: UUID
    at: datetime


class Noted(Event):
    event_type = "ledgerdemo.Noted"
    visit_id: UUID
    text: str
    at: datetime


CATALOG = EventCatalog("ledgerdemo", [Opened, Noted])


class Visit:
    def __init__(self, visit_id: UUID) -> None:
        self.id = visit_id
        self.community_id = COMMUNITY
        self.grid_id: UUID | None = None


def fold(visit_id: UUID, events: Sequence[Event]) -> Visit | None:
    return Visit(visit_id) if events else None


class NoSuchVisit(NotFound):
    code = "visit_not_found"


PERMISSIONS = Permissions.of(
    "ledgerdemo",
    {
        "open": ((Role.DESK_STAFF, Role.DOCTOR, Role.DIRECTOR), "open a visit"),
        "note": ((Role.DESK_STAFF, Role.DOCTOR, Role.DIRECTOR), "note on a visit"),
        "backdate": ((Role.DOCTOR, Role.DIRECTOR), "record a visit dated in the past"),
    },
)

VISITS: Aggregate[Visit] = Aggregate(
    name="visit",
    source="ledgerdemo",
    permissions=PERMISSIONS,
    fold=fold,
    guard=lambda v: Guarded.at(v),
    not_found=NoSuchVisit,
)


class Open(Command):
    pass


class Note(StreamCommand):
    text: str


ClockDep = Annotated[Clock, CONFIG]
commands = CommandRouter()


@commands.post("/visits", status_code=201)
async def open_visit(cmd: Open, store: StoreDep, caller: CallerDep, clock: ClockDep) -> Accepted:
    async with VISITS.create(store, caller, "open") as w:
        w.emit([Opened(visit_id=w.id, at=caller.now(clock))])
    return w.accepted


@commands.post("/visits/{visit_id}/notes", status_code=201)
async def note(
    visit_id: UUID, cmd: Note, store: StoreDep, caller: CallerDep, clock: ClockDep
) -> Accepted:
    return await VISITS.act(
        store,
        visit_id,
        caller,
        "note",
        cmd.expected_version,
        lambda v: [Noted(visit_id=v.id, text=cmd.text, at=caller.now(clock))],
    )


class LedgerClient(ServiceClient):
    secret: ClassVar[str] = "ledger-tests-secret-0123456789-0123"

    def staff(self, role: str, sub: str = "staff-1") -> dict[str, str]:
        return self.auth(role, sub=sub, areas=[str(COMMUNITY)])


@asynccontextmanager
async def running(
    database_url: str, kafka_bootstrap: str, clock: ManualClock
) -> AsyncIterator[tuple[LedgerClient, ServiceSettings]]:
    settings = ServiceSettings(
        service="ledgerdemo",
        database_url=database_url,
        jwt_secret=SecretStr(LedgerClient.secret),
        kafka=KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:10]}."),
        relay_idle_poll_s=0.02,
        scheduler_poll_s=3600,
    )
    runtime = Runtime(settings, catalog=CATALOG, clock=clock)
    app: FastAPI = service_app(
        runtime, [], commands=[commands], config=clock, permissions=PERMISSIONS
    )
    async with serving(app, "ledgerdemo") as client:
        yield LedgerClient(app, client, clock), settings


def iso(at: datetime) -> str:
    return at.isoformat()


def error_code(response: httpx.Response) -> str:
    code: str = response.json()["error"]["code"]
    return code


def store_of(client: LedgerClient) -> EventStore:
    return client.runtime.store


# -- the checks before any handler logic -------------------------------------------------------


async def test_business_time_is_checked_before_the_handler(
    database_url: str, kafka_bootstrap: str
) -> None:
    clock = ManualClock()
    now = clock.now
    async with running(database_url, kafka_bootstrap, clock) as (svc, settings):
        director = svc.staff("director")
        ahead = await svc.post(
            "/visits", {"occurred_at": iso(now + timedelta(minutes=5))}, director
        )
        assert ahead.status_code == 422, ahead.text
        assert error_code(ahead) == "occurred_in_future"
        too_old = now - timedelta(days=settings.backdate_limit_days + 1)
        old = await svc.post("/visits", {"occurred_at": iso(too_old)}, director)
        assert old.status_code == 422, old.text
        assert error_code(old) == "occurred_too_long_ago"
        naive = await svc.post("/visits", {"occurred_at": "2024-04-01T09:00:00"}, director)
        assert naive.status_code == 422, naive.text
        assert error_code(naive) == "validation_failed"
        assert await store_of(svc).head() == 0  # nothing written by any of them

        # Within the clock skew either way: not back-dated, so any role that may open may.
        for skewed in (now + timedelta(seconds=60), now - timedelta(seconds=60)):
            answer = await svc.accepted(
                "/visits", {"occurred_at": iso(skewed)}, svc.staff("desk_staff")
            )
            stream = await store_of(svc).load(f"visit-{answer['id']}")
            assert stream.events[0].occurred_at == skewed
            assert await audit.backdates_of(store_of(svc).pool, stream.id) == []


async def test_back_dating_needs_its_permission_and_is_audited(
    database_url: str, kafka_bootstrap: str
) -> None:
    clock = ManualClock()
    last_month = clock.now - timedelta(days=30)
    async with running(database_url, kafka_bootstrap, clock) as (svc, _):
        body = {"occurred_at": iso(last_month)}
        refused = await svc.post("/visits", body, svc.staff("desk_staff"))
        assert refused.status_code == 403, refused.text
        assert error_code(refused) == "forbidden"
        assert refused.json()["error"]["details"]["action"] == "backdate"
        # The same key spelled with a JSON escape is the same field, and as refused.
        escaped = '{"occurred\\u005fat": "' + iso(last_month) + '"}'
        sneaked = await svc.client.post(
            "/visits",
            content=escaped,
            headers={**svc.staff("desk_staff"), "Content-Type": "application/json"},
        )
        assert sneaked.status_code == 403, sneaked.text
        assert await store_of(svc).head() == 0

        # The service grants it to doctors; directors have it from the kernel.
        answer = await svc.accepted("/visits", body, svc.staff("doctor", sub="dr-1"))
        stream = await store_of(svc).load(f"visit-{answer['id']}")
        (opened,) = stream.events
        assert opened.occurred_at == last_month
        assert opened.recorded_at > last_month
        assert isinstance(opened.event, Opened)
        assert opened.event.at == last_month  # the decider's now is the business time
        (row,) = await audit.backdates_of(store_of(svc).pool, stream.id)
        assert row["sub"] == "dr-1"
        assert row["roles"] == ["doctor"]
        assert row["types"] == ["ledgerdemo.Opened"]
        assert row["occurred_at"] == last_month
        assert row["recorded_at"] == opened.recorded_at
        assert PERMISSIONS.roles("backdate") == {Role.DOCTOR, Role.DIRECTOR}


async def test_a_fact_may_not_predate_its_record(database_url: str, kafka_bootstrap: str) -> None:
    clock = ManualClock()
    opened_at = clock.now - timedelta(days=10)
    async with running(database_url, kafka_bootstrap, clock) as (svc, _):
        director = svc.staff("director")
        visit = await svc.accepted("/visits", {"occurred_at": iso(opened_at)}, director)
        url = f"/visits/{visit['id']}/notes"
        before = await svc.post(
            url, {"text": "x", "occurred_at": iso(opened_at - timedelta(days=1))}, director
        )
        assert before.status_code == 422, before.text
        assert error_code(before) == "occurred_before_record"
        after = opened_at + timedelta(days=1)
        await svc.accepted(url, {"text": "y", "occurred_at": iso(after)}, director)
        await svc.accepted(url, {"text": "z"}, director)  # no business time: now
        stream = await store_of(svc).load(f"visit-{visit['id']}")
        assert [e.occurred_at for e in stream.events][:2] == [opened_at, after]
        noted = stream.events[2].event
        assert isinstance(noted, Noted)
        assert noted.at == clock.now


# -- the store, the migration and the envelope ---------------------------------------------------


async def test_the_memory_store_audits_back_dated_appends() -> None:
    clock = ManualClock()
    store = MemoryEventStore(CATALOG, clock=clock)
    actor = Actor(id="dr-1", roles=("doctor",))
    visit_id = uuid.uuid4()
    at = clock.now - timedelta(days=3)
    dated = Context(actor=actor, occurred_at=at, backdated=True)
    await store.append("visit-1", 0, [Opened(visit_id=visit_id, at=at)], context=dated)
    await store.append(
        "visit-2", 0, [Opened(visit_id=visit_id, at=clock.now)], context=Context(actor=actor)
    )
    (row,) = store.backdates
    assert (row.actor, row.stream_id, row.types) == (actor, "visit-1", ("ledgerdemo.Opened",))
    assert (row.occurred_at, row.recorded_at) == (at, clock.now)


async def test_migration_gives_existing_events_their_record_time(database_url: str) -> None:
    """A database from before the split: its events keep ``occurred_at`` and are recorded then."""
    then = datetime(2023, 5, 6, 7, 8, 9, tzinfo=UTC)
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await migrate(pool)
        async with pool.acquire() as conn:
            await conn.execute("ALTER TABLE events DROP COLUMN recorded_at")
            await conn.execute(
                "INSERT INTO events (id, stream_id, sequence, type, type_version, data,"
                " occurred_at, correlation_id, actor)"
                " VALUES ($1, 'visit-old', 1, 'ledgerdemo.Noted', 1, $2::jsonb, $3, 'c', $4::jsonb)",
                uuid.uuid4(),
                json.dumps({"visit_id": str(uuid.uuid4()), "text": "old", "at": then.isoformat()}),
                then,
                Actor(id="old").model_dump_json(),
            )
        await migrate(pool)
        await migrate(pool)  # idempotent
        store = EventStore(pool, CATALOG)
        (old,) = (await store.load("visit-old")).events
        assert old.occurred_at == old.recorded_at == then
        await store.append(
            "visit-new",
            0,
            [Noted(visit_id=uuid.uuid4(), text="new", at=then)],
            context=Context(actor=Actor(id="new")),
        )
        (new,) = (await store.load("visit-new")).events
        assert new.recorded_at == new.occurred_at > then
    finally:
        await pool.close()


async def read_envelopes(bootstrap: str, topic: str, count: int) -> list[Envelope]:
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    try:
        found: list[Envelope] = []
        deadline = time.monotonic() + 20
        while len(found) < count and time.monotonic() < deadline:
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                found.extend(from_kafka(r.value, r.headers) for r in records)
        return found
    finally:
        await consumer.stop()


async def test_the_envelope_carries_both_times(database_url: str, kafka_bootstrap: str) -> None:
    clock = ManualClock()
    last_week = clock.now - timedelta(days=7)
    async with running(database_url, kafka_bootstrap, clock) as (svc, settings):
        await svc.accepted("/visits", {"occurred_at": iso(last_week)}, svc.staff("director"))
        await svc.accepted("/visits", {}, svc.staff("director"))
        # The service's own relay publishes them.
        by_position: dict[int, Any] = {
            e.position: e for e in await read_envelopes(kafka_bootstrap, settings.topic, 2)
        }
    dated, current = (by_position[p] for p in sorted(by_position))
    assert dated.occurred_at == last_week
    assert dated.recorded_at is not None
    assert dated.recorded_at > last_week
    assert current.recorded_at == current.occurred_at
    # A message from before the split (no recorded_at) still decodes.
    old = dated.model_dump(mode="json")
    del old["recorded_at"]
    assert Envelope.model_validate(old).recorded_at is None


def test_every_permission_table_has_backdate_for_directors() -> None:
    table = Permissions.of("other", {"do": ((Role.DESK_STAFF,), "do it")})
    assert table.roles("backdate") == {Role.DIRECTOR}
    assert PERMISSIONS.roles("backdate") == {Role.DOCTOR, Role.DIRECTOR}
