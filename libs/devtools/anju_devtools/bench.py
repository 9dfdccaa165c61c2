"""``make bench``: the kernel's throughput and latency, each beside a raw baseline of the same run.

The machines are shared and noisy, so every number is printed next to what plain asyncpg or
plain aiokafka achieves on the same database and broker at the same moment, and the ratio is
what to compare across runs.

1. appends: single-event commands through ``EventStore.append`` with 1 and 8 writers,
   against plain ``INSERT`` + ``COMMIT`` of the same payload;
2. health: check-ups through health's own ``record_encounter`` handler (the resident's record
   and clinical chart, two streams, in one transaction, with the overdue deadline of the next
   visit) with 1 and 8 doctors, against the same plain ``INSERT`` + ``COMMIT``;
   volunteering: a request's check-out through volunteering's own ``check_out`` handler (the
   request's stream and the ledgers of the two volunteers who came, three streams, in one
   transaction) with 1 and 8 writers, against the same plain ``INSERT`` + ``COMMIT``;
3. relay: publishing the store to Kafka, against aiokafka producing the same bytes in batches;
4. projection: catching up from a cold start over the registry's resident directory, against
   aiokafka consuming the same messages;
5. end to end: ``POST /residents`` to a registry process until the query process answers
   ``GET /residents/{id}`` with it (read-your-writes, with the command's consistency token), at a
   steady rate, against the plain HTTP round trip of the registry's ``GET /healthz``; p50 and
   p99. Both services run as real processes (``python -m``);
6. mediation: ``POST /disputes`` to a mediation process until the dispute is on the query's
   board, likewise;
7. station: ``POST /receptions`` to a station process (a visit logged at the desk, answered
   once committed) at 50/s, against the station's ``GET /healthz``;
8. city (only when asked: ``--scale city``, ``--scale district``, or ``--only city`` with
   ``--communities N --residents-per-community M``): a generated city loaded into every
   service's store, published, every read model rebuilt and the hot queries timed on it
   (:mod:`anju_devtools.bench_city`).

Each part hands back its figures, declared with their targets in
:mod:`anju_devtools.bench_figures`; the run ends with a table of them all (value, target, met,
the raw numbers) and writes them with the machine's facts to ``--json`` (``bench-results.json``).
``--compare OLD NEW`` tells what changed between two such files (exit 1 when a figure got worse
than its tolerance), ``--readme RESULTS...`` rewrites the README's table from them.

Everything it creates — databases, service processes, and the broker unless
``KAFKA_BOOTSTRAP_SERVERS`` names one — is removed at the end, also when a step fails.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import math
import os
import secrets
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from pydantic import SecretStr

from anju_contracts import Actor, Event, EventCatalog
from anju_devtools.bench_city import SCALES, bench_city, shape_of
from anju_devtools.bench_figures import CITY, FIGURES, Measured
from anju_devtools.bench_results import (
    Run,
    compare,
    compare_report,
    machine_facts,
    progress_line,
    readme_block,
    replace_block,
    table,
)
from anju_devtools.bench_stages import StageProbe, as_json, lines
from anju_devtools.demo import CHECK, WEIGHTS
from eventkit import collector
from eventkit.auth import Role, issue_token
from eventkit.kafka import connection
from eventkit.projection import Projection, ProjectionRunner, ensure_projection
from eventkit.relay import MESSAGE_SQL, Relay, message_of
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore
from eventkit.testing.infra import (
    TansuBroker,
    create_database,
    database_url_for,
    free_port,
    postgres_url,
)


class Ticked(Event):
    """Benchmark payload: about the size of a small registry fact."""

    event_type: ClassVar[str] = "bench.Ticked"
    resident_id: uuid.UUID
    note: str


BENCH = EventCatalog("bench", [Ticked])
CONTEXT = Context(actor=Actor(id="bench", roles=("admin",)))


def ran(writers: int, seconds: float) -> dict[str, Any]:
    """The conditions of an in-process command part's measurement."""
    return {"writers": writers, "seconds": seconds}


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1) of a non-empty list."""
    ranked = sorted(values)
    return ranked[max(0, math.ceil(q * len(ranked)) - 1)]


# -- 1. appends ---------------------------------------------------------------------------


async def _run_writers(
    writers: int, seconds: float, one: Callable[[int], Awaitable[bool | None]]
) -> float:
    """Commands per second of ``writers`` calling ``one(w * 1_000_000 + i)`` for ``seconds``; a
    writer whose ``one`` answers ``False`` has run out of work and stops early."""
    done = 0
    stop_at = time.perf_counter() + seconds

    async def writer(w: int) -> None:
        nonlocal done
        i = 0
        while time.perf_counter() < stop_at:
            if await one(w * 1_000_000 + i) is False:
                return
            i += 1
            done += 1

    started = time.perf_counter()
    await asyncio.gather(*(writer(w) for w in range(writers)))
    return done / (time.perf_counter() - started)


def raw_insert(pool: asyncpg.Pool, payload: str) -> Callable[[int], Awaitable[None]]:
    """The baseline of an in-process command part: one plain INSERT + COMMIT of ``payload``
    (the command's JSON) into ``raw_inserts``."""

    async def raw(_: int) -> None:
        async with pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO raw_inserts VALUES ($1, $2::jsonb)", uuid.uuid4(), payload
            )

    return raw


async def bench_appends(url: str, seconds: float) -> list[Measured]:
    pool = await asyncpg.create_pool(url, min_size=8, max_size=8)
    await migrate(pool)
    await pool.execute("CREATE TABLE IF NOT EXISTS raw_inserts (id uuid PRIMARY KEY, data jsonb)")
    store = EventStore(pool, BENCH)
    payload = Ticked(resident_id=uuid.uuid4(), note="visited; all well").model_dump_json()

    raw = raw_insert(pool, payload)

    async def append(i: int) -> None:
        event = Ticked(resident_id=uuid.uuid4(), note="visited; all well")
        await store.append(f"bench-{uuid.uuid4()}", 0, [event], context=CONTEXT, area="g1")

    out = []
    for writers in (1, 8):
        baseline = await _run_writers(writers, seconds, raw)
        ours = await _run_writers(writers, seconds, append)
        out.append(Measured(f"appends_{writers}", ours, baseline, ran(writers, seconds)))
    await pool.close()
    return out


# -- 2. health check-ups (the appends' writers and baseline) ----------------------------


async def bench_health(url: str, seconds: float) -> list[Measured]:
    """Check-ups per second through the health service's handler, in process: what a check-up
    costs, without the HTTP edge. Each check-up is the first of a resident aged 65+ whom health
    enrolled in the elderly programme through its registry policy, on learning their
    registration; every run has fresh residents, so that both meet records of the same length
    (a command folds its streams, and a longer history costs more)."""
    # The workspace's services are installed beside the dev tools (the other parts run them
    # as processes); only this part imports one.
    from anju_contracts.health import CATALOG, Observations, Programme
    from anju_health.application import glass
    from anju_health.application.aggregates import records_aggregate
    from anju_health.application.commands import RecordEncounter
    from anju_health.application.reactions import registry_reaction
    from anju_health.application.records import HealthConfig, record_encounter
    from anju_health.domain.records import Schedule
    from eventkit import audit, known
    from eventkit.auth import Principal
    from eventkit.commands import Caller, utcnow
    from eventkit.testing.registry import RegistryFeed

    pool = await asyncpg.create_pool(url, min_size=8, max_size=8)
    await migrate(pool, known.DDL, glass.DDL, audit.DDL)
    await pool.execute("CREATE TABLE IF NOT EXISTS raw_inserts (id uuid PRIMARY KEY, data jsonb)")
    store = EventStore(pool, CATALOG)
    schedule = Schedule()
    config = HealthConfig(
        clock=utcnow,
        schedule=schedule,
        known=known.PostgresKnown(),
        glass=glass.PostgresGlass(),
        health_station="社区卫生服务站",
        records=records_aggregate(schedule),
    )
    feed = RegistryFeed(store, known.registry_policy("health_registry", registry_reaction(config)))
    await feed.build_tree(residents=0)

    async def enrolled(n: int) -> list[uuid.UUID]:
        born = date(1950, 3, 1)
        return [
            uuid.UUID(r)
            for r in await asyncio.gather(*(feed.resident(born=born) for _ in range(n)))
        ]

    doctor = Principal(sub="doctor-bench", roles=(Role.DOCTOR,), areas=(feed.community_id,))
    caller = Caller(
        principal=doctor, context=Context(actor=Actor(id=doctor.sub, roles=("doctor",)))
    )
    check_up = RecordEncounter(
        programme=Programme.ELDERLY_ANNUAL,
        occurred_on=utcnow().date(),
        observations=Observations(
            systolic_mmhg=136, diastolic_mmhg=84, heart_rate_bpm=72, height_cm=162, weight_kg=61
        ),
        findings="血压偏高",
        guidance="低盐饮食，两周后复测血压",
    )
    payload = check_up.model_dump_json()

    raw = raw_insert(pool, payload)

    out = []
    for writers in (1, 8):
        baseline = await _run_writers(writers, seconds, raw)
        # more residents than the run will check up on this machine (else some get a second)
        residents = await enrolled(max(500, int(seconds * 500)))
        turns = itertools.cycle(residents)

        async def one(_: int, turns: Iterator[uuid.UUID] = turns) -> None:
            await record_encounter(store, next(turns), check_up, caller, config)

        ours = await _run_writers(writers, seconds, one)
        out.append(Measured(f"health_{writers}", ours, baseline, ran(writers, seconds)))
    await pool.close()
    return out


# -- 2b. volunteering check-outs (the appends' writers and baseline) -----------------------

REQUESTS_PER_VOLUNTEER = 10
"""Each pair of volunteers serves this many of a run's requests, so ledgers stay short and the
same length in every run (a check-out folds the ledgers it writes)."""


async def bench_volunteering(url: str, seconds: float) -> list[Measured]:
    """Check-outs per second through the volunteering service's handler, in process: what
    finishing a request costs, without the HTTP edge. Each request was raised, given to a
    volunteer who accepted it and checked in with a helper three hours before (by the same
    handlers, before the clock starts); its check-out appends to the request's stream and
    credits both volunteers' ledgers, in one transaction. Each writer finishes the requests of
    its own volunteers (two check-outs crediting one ledger at once would conflict, and a user
    would retry), and every run has fresh volunteers."""
    # The workspace's services are installed beside the dev tools (the other parts run them
    # as processes); only this part and the health part import one.
    from anju_contracts.registry import OrganisationKind
    from anju_contracts.volunteering import CATALOG, RequestKind, VolunteerKind
    from anju_volunteering.application import people, work
    from anju_volunteering.application.commands import (
        AcceptRequest,
        AssignRequest,
        CheckIn,
        CheckOut,
        RaiseRequest,
        RegisterVolunteer,
    )
    from anju_volunteering.application.people import VolunteeringConfig
    from anju_volunteering.application.policies import registry_policy
    from eventkit import known
    from eventkit.auth import Principal
    from eventkit.commands import Caller, utcnow
    from eventkit.testing.registry import RegistryFeed

    pool = await asyncpg.create_pool(url, min_size=8, max_size=8)
    await migrate(pool, known.DDL)
    await pool.execute("CREATE TABLE IF NOT EXISTS raw_inserts (id uuid PRIMARY KEY, data jsonb)")
    store = EventStore(pool, CATALOG)
    earlier = [timedelta(0)]  # how far behind now the handlers' clock runs

    def clock() -> datetime:
        return utcnow() - earlier[0]

    config = VolunteeringConfig(
        clock=clock, known=known.PostgresKnown(), response=timedelta(hours=48)
    )
    feed = RegistryFeed(store, registry_policy(config))
    await feed.build_tree(residents=1)
    resident = uuid.UUID(feed.residents[0])
    employer = uuid.UUID(await feed.organisation(OrganisationKind.EMPLOYER, "安和建设集团有限公司"))

    def caller_as(role: Role, area: str) -> Caller:
        principal = Principal(sub=f"{role}-bench", roles=(role,), areas=(area,))
        return Caller(
            principal=principal, context=Context(actor=Actor(id=principal.sub, roles=(role,)))
        )

    coordinator = caller_as(Role.VOLUNTEER_COORDINATOR, feed.community_id)
    grid_worker = caller_as(Role.GRID_WORKER, feed.grid_id)
    grid = uuid.UUID(feed.grid_id)

    async def volunteer() -> uuid.UUID:
        joined = RegisterVolunteer(
            kind=VolunteerKind.IN_SERVICE_PARTY_MEMBER,
            name="王建国",
            area_id=grid,
            organisation_id=employer,
            skills=["保洁"],
        )
        return uuid.UUID((await people.register(store, joined, coordinator, config)).id)

    async def ready(accepts: uuid.UUID, helper: uuid.UUID) -> uuid.UUID:
        """A request the two volunteers are at: raised, given, accepted and checked in."""
        raised = RaiseRequest(
            resident_id=resident, kind=RequestKind.HOME_CLEANING, description="入户清扫"
        )
        request = uuid.UUID((await work.raise_request(store, raised, grid_worker, config)).id)
        await work.assign(store, request, AssignRequest(volunteer_id=accepts), coordinator, config)
        await work.accept(store, request, AcceptRequest(volunteer_id=accepts), grid_worker, config)
        await work.check_in(store, request, CheckIn(volunteer_ids=[helper]), grid_worker, config)
        return request

    async def prepare(writers: int, per_writer: int) -> list[list[uuid.UUID]]:
        """Each writer's ready requests, their volunteers the writer's own, three hours ago."""
        earlier[0] = timedelta(hours=3)
        gate = asyncio.Semaphore(8)

        async def pair_of_requests(n: int) -> list[uuid.UUID]:
            async with gate:
                accepts, helper = await volunteer(), await volunteer()
                return [await ready(accepts, helper) for _ in range(n)]

        queues = []
        for _ in range(writers):
            sizes = [REQUESTS_PER_VOLUNTEER] * (per_writer // REQUESTS_PER_VOLUNTEER)
            batches = await asyncio.gather(*(pair_of_requests(n) for n in sizes))
            queues.append([r for batch in batches for r in batch])
        earlier[0] = timedelta(0)
        return queues

    checkout = CheckOut()
    payload = checkout.model_dump_json()

    raw = raw_insert(pool, payload)

    out = []
    for writers in (1, 8):
        baseline = await _run_writers(writers, seconds, raw)
        # more than this machine checks out in the run; a writer that runs out stops early
        total = max(400, int(seconds * 800))
        queues = await prepare(writers, max(REQUESTS_PER_VOLUNTEER, total // writers))

        async def one(i: int, queues: list[list[uuid.UUID]] = queues) -> bool:
            mine = queues[i // 1_000_000]
            if not mine:
                return False
            await work.check_out(store, mine.pop(), checkout, grid_worker, config)
            return True

        ours = await _run_writers(writers, seconds, one)
        note = () if all(queues) else ("a writer ran out of ready requests",)
        out.append(Measured(f"volunteering_{writers}", ours, baseline, ran(writers, seconds), note))
    await pool.close()
    return out


ITEMS_PER_WRITER = 40
"""The work items each writer of the governance part reports on in turn."""


async def bench_governance(url: str, seconds: float) -> list[Measured]:
    """Progress reports per second through governance's work-item command path, in process:
    the role checked, the item loaded and checked visible to the owner's liaison (its
    organisations against the token's), the report decided and appended. Each writer reports on
    items of its own, in turn (two reports on one item at once would conflict, and a user would
    retry), so that no item's history grows long in a run."""
    # The workspace's services are installed beside the dev tools (see bench_volunteering).
    from anju_contracts.governance import CATALOG
    from anju_contracts.registry import OrganisationKind
    from anju_governance.application import items, meetings, mirror
    from anju_governance.application.config import GovernanceConfig
    from anju_governance.application.reactions import policies
    from anju_governance.settings import GovernanceSettings
    from eventkit import known
    from eventkit.auth import Principal
    from eventkit.commands import Caller, utcnow
    from eventkit.testing.registry import RegistryFeed

    pool = await asyncpg.create_pool(url, min_size=8, max_size=8)
    await migrate(pool, known.DDL, mirror.DDL)
    await pool.execute("CREATE TABLE IF NOT EXISTS raw_inserts (id uuid PRIMARY KEY, data jsonb)")
    store = EventStore(pool, CATALOG)
    config = GovernanceConfig(
        clock=utcnow, known=known.PostgresKnown(), meeting_kinds=GovernanceSettings.kinds_of([])
    )
    feed = RegistryFeed(store, policies(config)[0])
    await feed.build_tree(residents=0)
    owner = await feed.organisation(OrganisationKind.PROPERTY_COMPANY, "安居物业服务有限公司")

    def as_(role: Role, organisations: tuple[str, ...] = ()) -> Caller:
        principal = Principal(
            sub=f"{role}-bench",
            roles=(role,),
            areas=(feed.community_id,),
            organisations=organisations,
        )
        return Caller(principal, Context(actor=Actor(id=principal.sub, roles=(role,))))

    director, liaison = as_(Role.DIRECTOR), as_(Role.LIAISON, (owner,))
    called = meetings.CallMeeting(
        kind="joint_party_building",
        title="党建联席会",
        area_id=uuid.UUID(feed.community_id),
        held_on=date.today(),
    )
    meeting = uuid.UUID((await meetings.call_meeting(store, called, director, config)).id)
    decided = meetings.RecordDecision(text="物业限期整改")
    answer = await meetings.record_decision(store, meeting, decided, director, config)
    decision = uuid.UUID(str(answer.sub_id))

    async def item() -> uuid.UUID:
        opened = meetings.OpenItem(
            title="修好屋顶",
            owner_organisation_id=uuid.UUID(owner),
            deadline=utcnow() + timedelta(days=30),
        )
        made = await meetings.open_decision_item(store, meeting, decision, opened, director, config)
        item_id = uuid.UUID(made.id)
        await items.receive(store, item_id, items.ReceiveItem(), liaison, config)
        return item_id

    report = items.ReportProgress(note="已进场施工", percent=50)
    payload = report.model_dump_json()

    raw = raw_insert(pool, payload)

    out = []
    for writers in (1, 8):
        baseline = await _run_writers(writers, seconds, raw)
        mine = [[await item() for _ in range(ITEMS_PER_WRITER)] for _ in range(writers)]

        async def one(i: int, mine: list[list[uuid.UUID]] = mine) -> None:
            turn = mine[i // 1_000_000][i % ITEMS_PER_WRITER]
            await items.report_progress(store, turn, report, liaison, config)

        ours = await _run_writers(writers, seconds, one)
        out.append(Measured(f"governance_{writers}", ours, baseline, ran(writers, seconds)))
    await pool.close()
    return out


# -- 3. relay -----------------------------------------------------------------------------


async def fill_store(store: EventStore, count: int, streams: int = 1000) -> None:
    """Append ``count`` events quickly (many per command) across ``streams`` streams."""
    per_stream = count // streams
    ids = [uuid.uuid4() for _ in range(streams)]
    batch = 10

    async def stream(resident: uuid.UUID) -> None:
        version = 0
        while version < per_stream:
            n = min(batch, per_stream - version)
            events = [Ticked(resident_id=resident, note="visited; all well") for _ in range(n)]
            await store.append(f"bench-{resident}", version, events, context=CONTEXT, area="g1")
            version += n

    gate = asyncio.Semaphore(8)

    async def guarded(resident: uuid.UUID) -> None:
        async with gate:
            await stream(resident)

    await asyncio.gather(*(guarded(r) for r in ids))


async def bench_relay(url: str, bootstrap: str, count: int) -> tuple[list[Measured], str]:
    pool = await asyncpg.create_pool(url, min_size=2, max_size=10)
    await migrate(pool)
    store = EventStore(pool, BENCH)
    await fill_store(store, count)
    total = int(await pool.fetchval("SELECT count(*) FROM events"))
    prefix = f"bench{uuid.uuid4().hex[:6]}."
    settings = ServiceSettings(
        service="bench",
        database_url=url,
        jwt_secret=SecretStr("bench-secret-not-used-for-anything"),
        kafka=KafkaSettings(bootstrap=bootstrap, topic_prefix=prefix),
        relay_batch=5000,
    )
    # Baseline: the same messages (key, value and headers), produced in batches by plain aiokafka.
    rows = await pool.fetch(f"SELECT {MESSAGE_SQL} FROM events ORDER BY position")
    messages = [message_of(r, b"bench") for r in rows]
    producer = AIOKafkaProducer(**connection(settings.kafka), acks="all", linger_ms=5)
    await producer.start()
    baseline_topic = f"{prefix}baseline"
    await producer.send_and_wait(baseline_topic, b"warm-up")
    partitions = sorted(await producer.partitions_for(baseline_topic))
    started = time.perf_counter()
    futures = []
    batches = {p: producer.create_batch() for p in partitions}
    for i, (key, value, headers) in enumerate(messages):
        p = partitions[i % len(partitions)]
        if batches[p].append(key=key, value=value, timestamp=None, headers=headers) is None:
            futures.append(await producer.send_batch(batches[p], baseline_topic, partition=p))
            batches[p] = producer.create_batch()
            batches[p].append(key=key, value=value, timestamp=None, headers=headers)
    for p, b in batches.items():
        futures.append(await producer.send_batch(b, baseline_topic, partition=p))
    await asyncio.gather(*futures)
    baseline = len(messages) / (time.perf_counter() - started)
    await producer.stop()

    relay = Relay(store, settings)
    await relay.start()
    started = time.perf_counter()
    published = 0
    while published < total:
        published += await relay.publish_batch()
    ours = total / (time.perf_counter() - started)
    await relay.close()
    await pool.close()
    return [Measured("relay", ours, baseline, {"events": total})], prefix


# -- 4. projection ------------------------------------------------------------------------


class TickCounts:
    """A read model like the follow-up board's: one row per resident, upserted per event."""

    name = "bench_ticks"
    catalogs = (BENCH,)
    ddl = "CREATE TABLE ticks (resident_id uuid PRIMARY KEY, visits integer NOT NULL);"

    async def apply(self, conn: asyncpg.Connection, batch: object) -> None:
        counts: dict[uuid.UUID, int] = {}
        for d in batch:  # type: ignore[attr-defined]
            rid = d.event.resident_id
            counts[rid] = counts.get(rid, 0) + 1
        await conn.execute(
            """INSERT INTO ticks SELECT * FROM unnest($1::uuid[], $2::int[])
               ON CONFLICT (resident_id) DO UPDATE SET visits = ticks.visits + EXCLUDED.visits""",
            list(counts),
            list(counts.values()),
        )


async def bench_projection(url: str, bootstrap: str, prefix: str, count: int) -> list[Measured]:
    topic = f"{prefix}bench.events"
    consumer = AIOKafkaConsumer(
        **connection(KafkaSettings(bootstrap=bootstrap)),
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=20,
        max_partition_fetch_bytes=4 << 20,
    )
    await consumer.start()
    partitions = [
        TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
    ]
    if not partitions:
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])
        ]
    consumer.assign(partitions)
    await consumer.seek_to_beginning(*partitions)
    started = time.perf_counter()
    seen = 0
    while seen < count:
        fetched = await consumer.getmany(timeout_ms=1000, max_records=5000)
        seen += sum(len(v) for v in fetched.values())
    baseline = seen / (time.perf_counter() - started)
    await consumer.stop()

    pool = await asyncpg.create_pool(url, min_size=2, max_size=4)
    await migrate(pool, store=False)
    projection: Projection = TickCounts()  # type: ignore[assignment]
    await ensure_projection(pool, projection)
    kafka = KafkaSettings(bootstrap=bootstrap, topic_prefix=prefix, max_batch=5000)
    runner = ProjectionRunner(pool, projection, kafka)
    stop = asyncio.Event()
    task = asyncio.create_task(runner.run(stop))
    # The clock starts once the runner's consumer has joined its group, as the baseline's starts
    # once its consumer is assigned: the join waits out the broker's rebalance delay (a second
    # on the dev broker), which is no part of the catch-up rate.
    while not runner.state.running:
        await asyncio.sleep(0.001)
        if task.done():
            task.result()
    started = time.perf_counter()
    while runner.state.applied < count:
        await asyncio.sleep(0.01)
        if task.done():
            task.result()
    ours = count / (time.perf_counter() - started)
    stop.set()
    await task
    await pool.close()
    return [Measured("projection", ours, baseline, {"events": count})]


# -- 5. end to end ------------------------------------------------------------------------


@dataclass
class Service:
    name: str
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


@contextlib.asynccontextmanager
async def service_process(
    module: str, prefix: str, env: dict[str, str], log_dir: Path
) -> AsyncIterator[Service]:
    """``python -m <module>`` on a free port, ready (``/readyz``) when yielded; stopped after."""
    name = module.removeprefix("anju_")
    port = free_port()
    log = log_dir / f"{name}.log"
    settings = {f"{prefix}{k}": v for k, v in {**env, "PORT": str(port)}.items()}
    process = _spawn(module, settings, log)
    service = Service(name, port, process, log)
    try:
        deadline = time.monotonic() + 60
        async with httpx.AsyncClient(base_url=service.url, timeout=2) as client:
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"{module} exited ({process.returncode}):\n{service.tail()}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/readyz")).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{module} not ready in 60 s:\n{service.tail()}")
                await asyncio.sleep(0.1)
        yield service
    finally:
        _stop(process)


def _spawn(module: str, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """Start ``python -m <module>`` in a session of its own (Popen returns at once)."""
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", module],
            env={**os.environ, **env},
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def _stop(process: subprocess.Popen[bytes], timeout: float = 10) -> None:
    """SIGTERM to the process (its own session), SIGKILL after ``timeout`` seconds."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()


class LeanHttp:
    """A minimal HTTP/1.1 keep-alive client for the measured requests.

    On a two-core machine httpx spends about 2 ms of CPU per request — at 200 commands/s (two
    requests each) most of a core taken from the services being measured. This does the least
    HTTP/1.1 there is (Content-Length bodies, connections reused), for both our requests and the
    baseline's, so the client distorts neither.
    """

    def __init__(self, port: int, headers: dict[str, str], host: str = "127.0.0.1") -> None:
        self.host = host
        self.port = port
        self._headers = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
        self._idle: list[tuple[asyncio.StreamReader, asyncio.StreamWriter]] = []

    async def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, dict[str, str], Any]:
        """Send one request; return status, headers (lower-case names) and the JSON body."""
        data = b"" if body is None else json.dumps(body).encode()
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        head = (
            f"{method} {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\n{self._headers}"
            f"{extra}Content-Type: application/json\r\nContent-Length: {len(data)}\r\n\r\n"
        )
        while True:
            reused = bool(self._idle)
            reader, writer = (
                self._idle.pop() if reused else await asyncio.open_connection(self.host, self.port)
            )
            try:
                try:
                    writer.write(head.encode() + data)
                    status_line = await reader.readline()
                except ConnectionResetError:
                    if not reused:
                        raise
                    status_line = b""
                if not status_line and reused:
                    # The server closed this idle connection (uvicorn does after 5 s) before
                    # reading the request: nothing was processed, send it on a new one.
                    writer.close()
                    continue
                status = int(status_line.split()[1])
                answer: dict[str, str] = {}
                while (line := await reader.readline()) not in (b"\r\n", b""):
                    name, _, value = line.decode("latin-1").partition(":")
                    answer[name.strip().lower()] = value.strip()
                if "content-length" not in answer:
                    raise RuntimeError(f"{method} {path}: no Content-Length in the answer")
                content = await reader.readexactly(int(answer["content-length"]))
            except BaseException:
                writer.close()
                raise
            break
        if answer.get("connection", "").lower() == "close":
            writer.close()
        else:
            self._idle.append((reader, writer))
        return status, answer, json.loads(content) if content else None

    async def close(self) -> None:
        for _, writer in self._idle:
            writer.close()
        self._idle.clear()


def bench_id_number(i: int) -> tuple[date, str]:
    """The ``i``-th of many distinct valid identity numbers, with its date of birth."""
    born = date(1940, 1, 1) + timedelta(days=i // 1000)
    body = f"330106{born:%Y%m%d}{i % 1000:03d}"
    return born, body + CHECK[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


@dataclass
class Steady:
    """Outcomes of one steady-rate run."""

    latencies: list[float] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)
    sent: int = 0
    send_seconds: float = 0.0


async def steady(rate: float, seconds: float, one: Callable[[int], Awaitable[float]]) -> Steady:
    """Start ``one(i)`` at ``rate`` per second for ``seconds`` (an open loop: a slow answer does
    not delay the next send) and collect the seconds each took."""
    result = Steady()

    async def timed(i: int) -> None:
        try:
            result.latencies.append(await one(i))
        except Exception as error:
            result.failures.append(repr(error))

    count = int(rate * seconds)
    tasks = []
    started = time.perf_counter()
    for i in range(count):
        delay = started + i / rate - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(timed(i)))
    result.send_seconds = time.perf_counter() - started
    result.sent = count
    await asyncio.gather(*tasks)
    return result


POSTED = "command: POST answered (HTTP, decide, append, commit)"
READ = "query: GET with the token answered (HTTP, wait, read)"


async def _end_to_end_runs(
    write: LeanHttp, read: LeanHttp, rate: float, seconds: float, probe: StageProbe
) -> tuple[Steady, Steady]:
    """The baseline run and ours, against running services: (healthz, command to visible);
    ``probe`` reads where the time went during ours."""

    async def post(path: str, body: dict[str, Any]) -> dict[str, Any]:
        status, _, accepted = await write.request("POST", path, body)
        if status != 201:
            raise RuntimeError(f"POST {path}: {status} {accepted}")
        result: dict[str, Any] = accepted
        return result

    parent = None
    for kind in ("community", "grid", "building", "unit"):
        parent = (await post("/areas", {"kind": kind, "name": kind, "parent_id": parent}))["id"]

    async def command_to_visible(i: int) -> float:
        born, id_number = bench_id_number(i)
        person = {
            "name": f"居民{i}",
            "sex": "male" if i % 2 else "female",
            "date_of_birth": born.isoformat(),
            "id_number": id_number,
            "unit_id": parent,
        }
        started = time.perf_counter()
        accepted = await post("/residents", person)
        posted = time.perf_counter()
        status, headers, profile = await read.request(
            "GET",
            f"/residents/{accepted['id']}",
            headers={"X-Consistency-Token": accepted["consistency_token"]},
        )
        elapsed = time.perf_counter() - started
        probe.record(POSTED, posted - started)
        probe.record(READ, elapsed - (posted - started))
        if status != 200:
            raise RuntimeError(f"GET /residents/{{id}}: {status} {profile}")
        if headers.get("x-consistency") != "fresh":
            raise RuntimeError("not visible within the consistency wait")
        return elapsed

    async def healthz(_: int) -> float:
        started = time.perf_counter()
        status, _headers, body = await write.request("GET", "/healthz")
        if status != 200:
            raise RuntimeError(f"GET /healthz: {status} {body}")
        return time.perf_counter() - started

    # Warm up: the projection's consumer group has joined, connections are open.
    warm = 1_000_000
    deadline = time.monotonic() + 60
    while True:
        try:
            await command_to_visible(warm)
            break
        except RuntimeError:
            if time.monotonic() > deadline:
                raise
            warm += 1
    await steady(rate, 1.0, lambda i: command_to_visible(2_000_000 + i))
    baseline = await steady(rate, min(seconds, 3.0), healthz)
    await probe.start()
    ours = await steady(rate, seconds, command_to_visible)
    await probe.finish()
    for run in (baseline, ours):
        if not run.latencies:
            raise RuntimeError(f"nothing succeeded: {run.failures[:3]}")
    return baseline, ours


async def bench_end_to_end(
    registry_url: str, query_url: str, bootstrap: str, rate: float, seconds: float
) -> list[Measured]:
    secret = secrets.token_urlsafe(32)
    admin = {"Authorization": f"Bearer {issue_token(secret, 'bench', [Role.ADMIN])}"}
    common = {
        "JWT_SECRET": secret,
        "KAFKA__BOOTSTRAP": bootstrap,
        "KAFKA__TOPIC_PREFIX": f"bench{uuid.uuid4().hex[:6]}.",
        "LOG_LEVEL": "warning",
        "LOG_FORMAT": "json",
    }
    with tempfile.TemporaryDirectory(prefix="anju-bench-") as logs:
        log_dir = Path(logs)
        async with (
            service_process(
                "anju_registry",
                "ANJU_REGISTRY_",
                {**common, "DATABASE_URL": registry_url},
                log_dir,
            ) as registry,
            service_process(
                "anju_query", "ANJU_QUERY_", {**common, "DATABASE_URL": query_url}, log_dir
            ) as query,
        ):
            write, read = LeanHttp(registry.port, admin), LeanHttp(query.port, admin)
            probe = StageProbe({"writer": registry.url, "query": query.url})
            try:
                baseline, ours = await _end_to_end_runs(write, read, rate, seconds, probe)
            finally:
                await write.close()
                await read.close()

    return with_breakdown(latency_measured("e2e", rate, seconds, baseline, ours), probe)


def with_breakdown(measured: list[Measured], probe: StageProbe) -> list[Measured]:
    """Print where the time went (``probe``'s rows) and add it to the figures' conditions."""
    print("\n".join(lines(probe.rows, f"where the time goes ({measured[0].key[:-4]})")))
    breakdown = as_json(probe.rows)
    return [
        Measured(m.key, m.ours, m.baseline, {**m.conditions, "breakdown": breakdown}, m.notes)
        for m in measured
    ]


@dataclass
class Stack:
    """Service processes of one measurement, each with a lean HTTP client speaking as an admin."""

    clients: dict[str, LeanHttp]
    urls: dict[str, str] = field(default_factory=dict)

    async def post(self, service: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        status, _, answer = await self.clients[service].request("POST", path, body)
        if status != 201:
            raise RuntimeError(f"POST {path} on {service}: {status} {answer}")
        accepted: dict[str, Any] = answer
        return accepted

    async def fresh(self, path: str, accepted: dict[str, Any]) -> None:
        """Read ``path`` on the query service with the command's consistency token; fail unless
        it answers with what the command wrote."""
        status, headers, seen = await self.clients["query"].request(
            "GET", path, headers={"X-Consistency-Token": accepted["consistency_token"]}
        )
        if status != 200 or headers.get("x-consistency") != "fresh":
            raise RuntimeError(f"GET {path}: {status} {seen}")

    async def areas(self, *kinds: str) -> str:
        """An area tree on the registry, from the community down to the last of ``kinds``."""
        parent = None
        for kind in kinds:
            body = {"kind": kind, "name": kind, "parent_id": parent}
            parent = (await self.post("registry", "/areas", body))["id"]
        assert parent is not None
        return str(parent)


async def command_path(
    urls: dict[str, str],
    bootstrap: str,
    *,
    measured: str,
    rate: float,
    seconds: float,
    one: Callable[[Stack, int], Awaitable[float]],
    probe: StageProbe | None = None,
) -> tuple[Steady, Steady]:
    """Run the services of ``urls`` (name → database) as processes; warm up until ``one``
    succeeds (the services learnt from each other's events, consumer groups joined); then the
    baseline (``GET /healthz`` on ``measured``) and ``one`` at a steady rate, with ``probe``
    (its ``urls`` filled in: ``measured`` writes, ``query`` reads) reading where the time went."""
    secret = secrets.token_urlsafe(32)
    admin = {"Authorization": f"Bearer {issue_token(secret, 'bench', [Role.ADMIN])}"}
    common = {
        "JWT_SECRET": secret,
        "KAFKA__BOOTSTRAP": bootstrap,
        "KAFKA__TOPIC_PREFIX": f"bench{uuid.uuid4().hex[:6]}.",
        "LOG_LEVEL": "warning",
        "LOG_FORMAT": "json",
    }
    with tempfile.TemporaryDirectory(prefix="anju-bench-") as logs:
        async with contextlib.AsyncExitStack() as running:
            stack = Stack({})
            for name, url in urls.items():
                env = {**common, "DATABASE_URL": url}
                process = await running.enter_async_context(
                    service_process(f"anju_{name}", f"ANJU_{name.upper()}_", env, Path(logs))
                )
                stack.clients[name] = LeanHttp(process.port, admin)
                stack.urls[name] = process.url
            try:

                async def healthz(_: int) -> float:
                    started = time.perf_counter()
                    status, _headers, body = await stack.clients[measured].request(
                        "GET", "/healthz"
                    )
                    if status != 200:
                        raise RuntimeError(f"GET /healthz: {status} {body}")
                    return time.perf_counter() - started

                deadline = time.monotonic() + 60
                while True:
                    try:
                        await one(stack, -1)
                        break
                    except RuntimeError:
                        if time.monotonic() > deadline:
                            raise
                        await asyncio.sleep(0.2)
                baseline = await steady(rate, min(seconds, 3.0), healthz)
                if probe is not None:
                    probe.urls = {"writer": stack.urls[measured], "query": stack.urls["query"]}
                    await probe.start()
                ours = await steady(rate, seconds, lambda i: one(stack, i))
                if probe is not None:
                    await probe.finish()
            finally:
                for client in stack.clients.values():
                    await client.close()
    if not ours.latencies or not baseline.latencies:
        raise RuntimeError(f"nothing succeeded: {ours.failures[:3]}")
    return baseline, ours


def latency_measured(
    key: str, rate: float, seconds: float, baseline: Steady, ours: Steady
) -> list[Measured]:
    """p50 and p99 of a steady run beside its baseline's (the ``key``'s two figures), with how
    many were sent, how many failed and the rate achieved."""
    achieved = ours.sent / ours.send_seconds if ours.send_seconds else 0.0
    conditions = {
        "rate": rate,
        "seconds": seconds,
        "sent": ours.sent,
        "failed": len(ours.failures),
        "achieved_rate": round(achieved, 1),
    }
    notes = []
    if ours.failures:
        notes.append(f"first failure: {ours.failures[0]}")
    if achieved < rate * 0.95:
        notes.append(f"sent at {achieved:,.0f}/s of {rate:,.0f}/s")
    return [
        Measured(
            f"{key}_p{round(q * 100)}",
            percentile(ours.latencies, q) * 1000,
            percentile(baseline.latencies, q) * 1000,
            conditions,
            tuple(notes),
        )
        for q in (0.50, 0.99)
    ]


async def bench_mediation(
    urls: dict[str, str], bootstrap: str, rate: float, seconds: float
) -> list[Measured]:
    """The mediation command path: ``POST /disputes`` on mediation until the dispute is on the
    board in the query API, at a steady rate; the registry supplies the area it happens in."""
    building: list[str] = []
    probe = StageProbe({})

    async def dispute_to_board(stack: Stack, i: int) -> float:
        if not building:
            building.append(await stack.areas("community", "grid", "building"))
        body = {
            "channel": "grid_patrol",
            "category": "noise",
            "description": f"楼上装修噪音 {i}",
            "area_id": building[0],
            "parties": [
                {"role": "applicant", "name": f"甲{i}", "contact": "13800000000"},
                {"role": "respondent", "name": f"乙{i}", "contact": "13900000000"},
            ],
        }
        started = time.perf_counter()
        accepted = await stack.post("mediation", "/disputes", body)
        posted = time.perf_counter()
        await stack.fresh(f"/disputes/{accepted['id']}", accepted)
        elapsed = time.perf_counter() - started
        probe.record(POSTED, posted - started)
        probe.record(READ, elapsed - (posted - started))
        return elapsed

    baseline, ours = await command_path(
        urls,
        bootstrap,
        measured="mediation",
        rate=rate,
        seconds=seconds,
        one=dispute_to_board,
        probe=probe,
    )
    return with_breakdown(latency_measured("mediation", rate, seconds, baseline, ours), probe)


async def bench_station(
    urls: dict[str, str], bootstrap: str, rate: float, seconds: float
) -> list[Measured]:
    """The desk's command path: ``POST /receptions`` on the station (one request, answered when
    committed — the clerk waits for nothing else), at a steady rate, against the station's own
    ``GET /healthz`` (the target: bench_figures)."""
    community: list[str] = []

    async def reception(stack: Stack, i: int) -> float:
        if not community:
            community.append(await stack.areas("community"))
        body = {
            "area_id": community[0],
            "purposes": ["consultation", "convenience_service"][: 1 + i % 2],
            "referred_by": "grid_worker" if i % 3 else "self",
        }
        started = time.perf_counter()
        await stack.post("station", "/receptions", body)
        return time.perf_counter() - started

    baseline, ours = await command_path(
        urls, bootstrap, measured="station", rate=rate, seconds=seconds, one=reception
    )
    return latency_measured("station", rate, seconds, baseline, ours)


# -- main ---------------------------------------------------------------------------------


@contextlib.contextmanager
def broker() -> Iterator[str]:
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        yield os.environ["KAFKA_BOOTSTRAP_SERVERS"]
        return
    with TansuBroker() as broker:
        yield broker.bootstrap


PARTS = tuple(dict.fromkeys(figure.part for figure in FIGURES))
"""The parts ``--only`` names, in the order they run: those of the declared figures."""


async def main_async(args: argparse.Namespace, run: Run) -> None:
    """Run the parts asked for, adding each figure to ``run`` as it is measured."""
    city = bool(args.scale or args.communities or args.residents_per_community)
    # a city takes minutes to load: only when asked, and then alone unless --only adds parts
    parts = set(args.only or ([] if city else [p for p in PARTS if p != CITY]))
    if city:
        parts.add(CITY)
    if "projection" in parts:
        parts.add("relay")  # the projection catches up over what the relay published
    with postgres_url() as server, broker() as bootstrap:
        name = f"bench_{uuid.uuid4().hex[:8]}"
        created: list[str] = []

        async def database(suffix: str) -> str:
            created.append(name + suffix)
            return await create_database(server, name + suffix)

        def show(measured: list[Measured]) -> None:
            for one in measured:
                run.add(one)
                print(progress_line(one), flush=True)

        conn = await asyncpg.connect(database_url_for(server, "postgres"))
        try:
            postgresql = str(await conn.fetchval("SHOW server_version"))
        finally:
            await conn.close()
        given = "KAFKA_BOOTSTRAP_SERVERS" in os.environ
        run.machine = machine_facts(postgresql, "given broker" if given else "tansu (dev broker)")
        print(
            f"anju bench — {run.machine['date']} — {run.machine['cores']} cores,"
            f" PostgreSQL {postgresql}, {run.machine['broker']}",
            flush=True,
        )
        try:
            if "appends" in parts:
                show(await bench_appends(await database(""), args.seconds))
            if "health" in parts:
                show(await bench_health(await database("_health"), args.seconds))
            if "volunteering" in parts:
                show(await bench_volunteering(await database("_volunteering"), args.seconds))
            if "governance" in parts:
                show(await bench_governance(await database("_governance"), args.seconds))
            if "relay" in parts:
                measured, prefix = await bench_relay(
                    await database("_relay"), bootstrap, args.events
                )
                show(measured)
            if "projection" in parts:
                url = await database("_read")
                show(await bench_projection(url, bootstrap, prefix, args.events))
            if "e2e" in parts:
                registry, query = await database("_e2e_registry"), await database("_e2e_query")
                show(
                    await bench_end_to_end(
                        registry, query, bootstrap, args.e2e_rate, args.e2e_seconds
                    )
                )
            if "mediation" in parts:
                urls = {
                    service: await database(f"_m_{service}")
                    for service in ("registry", "mediation", "query")
                }
                show(await bench_mediation(urls, bootstrap, args.mediation_rate, args.e2e_seconds))
            if "station" in parts:
                urls = {
                    service: await database(f"_s_{service}") for service in ("registry", "station")
                }
                show(await bench_station(urls, bootstrap, args.station_rate, args.e2e_seconds))
            if CITY in parts:
                shape = shape_of(
                    args.scale,
                    args.communities,
                    args.residents_per_community,
                    args.seed,
                    args.as_of,
                )
                show(
                    await bench_city(
                        shape, database, bootstrap, calls=args.calls, rebuilds=args.rebuilds
                    )
                )
        finally:
            conn = await asyncpg.connect(database_url_for(server, "postgres"))
            try:
                for db in created:
                    await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
            finally:
                await conn.close()


def measure(args: argparse.Namespace, command: str) -> int:
    """Run the bench; end with the table and write the JSON (also with what was measured
    before a part failed, which then fails the command)."""
    settings = {
        k: getattr(args, k)
        for k in ("seconds", "events", "e2e_rate", "e2e_seconds", "mediation_rate", "station_rate")
    }
    settings["only"] = args.only or []
    for k in ("scale", "communities", "residents_per_community", "seed", "calls"):
        settings[k] = getattr(args, k)
    settings["as_of"] = args.as_of.isoformat() if args.as_of else None
    run = Run(machine={}, command=command, settings=settings)
    # The kernel's parts measured in this process (appends, relay, projection, the city's
    # rebuild) run with the garbage collector set up as a service process sets it up.
    collector.tune()
    try:
        asyncio.run(main_async(args, run))
    finally:
        if run.measured:
            print("\n" + table(run), flush=True)
            run.write(args.json)
            print(f"results written to {args.json}", flush=True)
    return 0


def cmd_compare(old: Path, new: Path, tolerance: float | None) -> int:
    """Print what changed between two results files; 1 when a figure got worse."""
    before, after = Run.read(old), Run.read(new)
    changes = compare(before, after, tolerance)
    print(compare_report(changes, before, after))
    return 1 if any(change.worse for change in changes) else 0


def cmd_readme(results: list[Path], readme: Path) -> int:
    """Rewrite the README's generated benchmark block from ``results`` (later files' figures
    replace earlier ones')."""
    block = readme_block([(str(path), Run.read(path)) for path in results])
    readme.write_text(replace_block(readme.read_text(), block))
    print(f"{readme}: benchmark table rewritten from {len(results)} results file(s)")
    return 0


def parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="anju-bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--seconds",
        type=float,
        default=5.0,
        help="per append, check-up or check-out measurement",
    )
    parser.add_argument("--events", type=int, default=100_000, help="relay/projection volume")
    parser.add_argument("--e2e-rate", type=float, default=200.0, help="commands per second")
    parser.add_argument("--e2e-seconds", type=float, default=10.0, help="end-to-end duration")
    parser.add_argument(
        "--mediation-rate", type=float, default=100.0, help="disputes per second (mediation)"
    )
    parser.add_argument(
        "--station-rate", type=float, default=50.0, help="receptions per second (station)"
    )
    parser.add_argument("--only", action="append", choices=PARTS, help="run only these parts")
    parser.add_argument(
        "--scale",
        choices=sorted(SCALES),
        help="run the city part at this size (communities × residents: "
        + ", ".join(f"{k} {c}×{r:,}" for k, (c, r) in SCALES.items())
        + "); alone, only that part",
    )
    parser.add_argument("--communities", type=int, help="the city's communities")
    parser.add_argument(
        "--residents-per-community", type=int, help="residents in each of the city's communities"
    )
    parser.add_argument("--seed", type=int, default=17, help="the city generator's seed")
    parser.add_argument(
        "--as-of",
        type=date.fromisoformat,
        help="the city's history is the year before this day (default: today, UTC)",
    )
    parser.add_argument("--calls", type=int, default=400, help="timed calls per city query")
    parser.add_argument(
        "--rebuilds",
        type=int,
        choices=(1, 2),
        default=2,
        help="rebuild the city's read models once, or (default) again longest first by the first"
        " one's times",
    )
    parser.add_argument(
        "--json",
        type=Path,
        default=Path("bench-results.json"),
        metavar="PATH",
        help="where to write the run's results (default: bench-results.json)",
    )
    parser.add_argument(
        "--compare",
        nargs=2,
        type=Path,
        metavar=("OLD", "NEW"),
        help="measure nothing: print what changed between two results files, exit 1 when a"
        " figure got worse than its tolerance",
    )
    parser.add_argument(
        "--tolerance",
        type=float,
        metavar="FRACTION",
        help="with --compare: the relative change the wrong way every figure may make"
        " (default: each figure's own, 0.15 for ratios, 0.30 for latencies)",
    )
    parser.add_argument(
        "--readme",
        nargs="+",
        type=Path,
        metavar="RESULTS",
        help="measure nothing: rewrite the README's benchmark table from these results files"
        " (a later file's figures replace an earlier one's)",
    )
    parser.add_argument(
        "--readme-file", type=Path, default=Path("README.md"), help="the README to rewrite"
    )
    return parser


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == ["compare"]:  # ``anju bench compare OLD NEW``
        given = ["--compare", *given[1:]]
    elif given[:1] == ["readme"]:
        given = ["--readme", *given[1:]]
    args = parser().parse_args(given)
    if args.compare:
        old, new = args.compare
        return cmd_compare(old, new, args.tolerance)
    if args.readme:
        return cmd_readme(args.readme, args.readme_file)
    return measure(args, " ".join(["anju bench", *given]))


if __name__ == "__main__":
    sys.exit(main())
