"""``anju bench --scale city``: a city's worth of events, the read models rebuilt from them, and
the hot queries timed on them.

1. **Generate** (reproducible from ``--seed`` and ``--as-of``): communities of residents in
   grids, buildings and units, living in households; special-group flags with risk tiers and
   the grid workers' follow-up visits at the tier's rhythm; visits to the station's desk;
   health records with the over-65s' annual check-up and the hypertension patients' quarterly
   follow-ups; volunteers with their monthly hours; disputes between neighbours, most resolved.
   About ten events a resident over the year before ``--as-of``, built as the contracts' events
   and written into each service's own store with the kernel's bulk path
   (:func:`eventkit.store.bulk_append`), not through HTTP.
2. **Publish** every store to Kafka with the kernel's relay (its throughput is a figure).
3. **Rebuild** every read model of the query service with the kernel's rebuild
   (:func:`eventkit.projection.rebuild`), timed per projection and for all, against plain
   aiokafka reading the same topics; the time is also scaled to ten million events (the
   issue's target).
4. **Query** the loaded read models through the query service's HTTP app in process (httpx over
   ASGI, the routes' own code): the directory by part of a name and by the ID number's last
   digits, the follow-up board filtered by flag, a resident's profile, the follow-up board, the
   dispute board and the dashboard, each many times with random arguments, as the staff of one
   community (a director; a grid worker for the follow-up board) would; p50 and p99, against the
   app's ``GET /healthz`` at the same moment.
5. **Disk**: the events tables' size (``pg_total_relation_size``) per million events, and the
   read models' size.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import secrets
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time as daytime, timedelta
from typing import Any

import asyncpg
import httpx
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import SecretStr

from anju_contracts import (
    Actor,
    Event,
    EventCatalog,
    health as H,
    mediation as M,
    registry as R,
    station as S,
    volunteering as V,
)
from anju_devtools.bench_figures import Measured
from anju_devtools.demo import CHECK, GIVEN, REGIONS, SURNAMES, WEIGHTS
from eventkit.auth import Role, issue_token
from eventkit.kafka import connection, prepare_topics
from eventkit.keys import MemoryKeyStore
from eventkit.personal import FieldCipher
from eventkit.projection import Projection, topics_of
from eventkit.rebuilds import KeysInMemory, RebuildJob, rebuild_side_by_side
from eventkit.relay import Relay
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore, Loaded, bulk_append

TEN_MILLION = 10_000_000


@dataclass(frozen=True)
class Shape:
    """How big a city: ``communities`` × ``residents`` each, from ``seed``, as of ``as_of``."""

    communities: int
    residents: int
    seed: int = 17
    as_of: date = field(default_factory=lambda: datetime.now(UTC).date())

    RESIDENTS_PER_GRID = 1000
    UNITS_PER_BUILDING = 40
    BUILDINGS_PER_GRID = 10


SCALES = {"city": (100, 10_000), "district": (10, 10_000), "estate": (4, 1_000)}
"""``--scale`` names: communities × residents per community (the city is about 1M residents)."""


# -- the generator --------------------------------------------------------------------------

STAFF = {
    "registry": Actor(id="grid-worker-city", roles=("grid_worker",)),
    "station": Actor(id="desk-city", roles=("desk_staff",)),
    "health": Actor(id="doctor-city", roles=("doctor",)),
    "volunteering": Actor(id="coordinator-city", roles=("volunteer_coordinator",)),
    "mediation": Actor(id="mediator-city", roles=("mediator",)),
}
CATALOGS: dict[str, EventCatalog] = {
    "registry": R.CATALOG,
    "station": S.CATALOG,
    "health": H.CATALOG,
    "volunteering": V.CATALOG,
    "mediation": M.CATALOG,
}
SOURCES = tuple(CATALOGS)

FLAGGED_SHARE = 0.12
FLAGS = (
    (R.FlagType.ELDERLY_ALONE, 5),
    (R.FlagType.LOW_INCOME, 4),
    (R.FlagType.DISABILITY, 3),
    (R.FlagType.MENTAL_DISORDER, 1),
)
TIERS = ((R.RiskTier.RED, 1, 14), (R.RiskTier.YELLOW, 3, 30), (R.RiskTier.BLUE, 6, 90))
"""Tier, weight, days between follow-up visits."""
RECEPTIONS_PER_RESIDENT = 2.0
HEALTH_RECORD_SHARE = 0.4
HYPERTENSION_SHARE = 0.08
VOLUNTEER_SHARE = 0.03
DISPUTE_SHARE = 0.015
FINDINGS = (
    "身体状况良好",
    "独居，情绪稳定",
    "家中整洁，按时服药",
    "行动不便，需要代办",
    "血压偏高，已提醒复诊",
)
ERRANDS = ("代缴水电费", "代购药品", "联系社区医生", "申请临时救助")


def id_number(rng: random.Random, born: date, sex: R.Sex) -> str:
    serial = rng.randrange(0, 500) * 2 + (1 if sex is R.Sex.MALE else 0)
    body = f"{rng.choice(REGIONS)}{born:%Y%m%d}{serial:03d}"
    return body + CHECK[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


class Streams:
    """One service's events of a community, each with the next sequence of its stream."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.actor = STAFF[source]
        self.versions: Counter[str] = Counter()
        self.events: list[Loaded] = []

    def add(self, stream: str, at: datetime, area: str | None, *events: Event) -> None:
        context = Context(actor=self.actor, occurred_at=at)
        for event in events:
            self.versions[stream] += 1
            self.events.append(Loaded(stream, self.versions[stream], event, context, area))

    def recorded(self) -> list[Loaded]:
        """The events in the order a store records them: by when they happened, as each
        stream's come one after another over the year — not stream by stream, as they were
        made up (a rebuild would then find a resident's year of visits side by side in one
        batch, which no store holds). Each stream keeps its own order: an event is placed no
        earlier than the one before it in its stream."""
        since: dict[str, datetime] = {}
        keyed: list[tuple[datetime, int, Loaded]] = []
        for n, loaded in enumerate(self.events):
            at = loaded.context.occurred_at or datetime.min.replace(tzinfo=UTC)
            at = since[loaded.stream_id] = max(at, since.get(loaded.stream_id, at))
            keyed.append((at, n, loaded))
        keyed.sort(key=lambda k: k[:2])
        return [loaded for _, _, loaded in keyed]


def community_events(shape: Shape, index: int) -> dict[str, list[Loaded]]:
    """Every service's events of community ``index``: the same for the same shape and seed."""
    rng = random.Random(f"{shape.seed}:{index}")

    def uid() -> uuid.UUID:
        return uuid.UUID(int=rng.getrandbits(128), version=4)

    end = datetime.combine(shape.as_of, daytime(), tzinfo=UTC)
    start = end - timedelta(days=365)

    def moment(after: datetime = start, before: datetime = end) -> datetime:
        span = max(1, int((before - after).total_seconds()))
        return after + timedelta(seconds=rng.randrange(span))

    out = {source: Streams(source) for source in SOURCES}
    reg, station, health, vol, med = (out[s] for s in SOURCES)
    founded = start - timedelta(days=30)

    def area(
        own: uuid.UUID, kind: R.AreaKind, name: str, parent: uuid.UUID | None, path: R.AreaPath
    ) -> uuid.UUID:
        event = R.AreaCreated(area_id=own, kind=kind, name=name, parent_id=parent, path=path)
        reg.add(f"area-{own}", founded, str(path.grid_id or path.community_id), event)
        return own

    community = uid()
    area(
        community,
        R.AreaKind.COMMUNITY,
        f"第{index + 1}社区",
        None,
        R.AreaPath(community_id=community),
    )
    units: list[R.AreaPath] = []
    grids = max(1, shape.residents // shape.RESIDENTS_PER_GRID)
    households = max(1, int(shape.residents / 2.5))
    buildings = max(1, -(-households // shape.UNITS_PER_BUILDING))
    for g in range(grids):
        grid = area(
            uid(), R.AreaKind.GRID, f"第{g + 1}网格", community, R.AreaPath(community_id=community)
        )
        for b in range(-(-buildings // grids)):
            path = R.AreaPath(community_id=community, grid_id=grid)
            building = area(uid(), R.AreaKind.BUILDING, f"{g + 1}-{b + 1}幢", grid, path)
            for u in range(shape.UNITS_PER_BUILDING):
                if len(units) == households:
                    break
                path = R.AreaPath(community_id=community, grid_id=grid, building_id=building)
                own = area(uid(), R.AreaKind.UNIT, f"{u + 1:02d}室", building, path)
                units.append(R.AreaPath(**{**path.model_dump(), "unit_id": own}))

    residents: list[tuple[uuid.UUID, R.AreaPath, date]] = []
    left = shape.residents
    for n, unit in enumerate(units):
        size = left if n == len(units) - 1 else min(left, rng.choice((1, 1, 2, 2, 3, 3, 4, 5)))
        if size <= 0:
            break
        left -= size
        household = uid()
        grid_area = str(unit.grid_id)
        for m in range(size):
            person, at = uid(), moment(founded, start)
            sex = rng.choice((R.Sex.FEMALE, R.Sex.MALE))
            age = rng.choice((rng.randint(18, 64), rng.randint(0, 17), rng.randint(65, 95)))
            if m == 0 and age < 18:
                age += 30
            born = shape.as_of - timedelta(days=age * 365 + rng.randrange(365))
            given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
            registered = R.ResidentRegistered(
                resident_id=person,
                name=rng.choice(SURNAMES) + given,
                sex=sex,
                date_of_birth=born,
                id_number=id_number(rng, born, sex),
                phone=f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
                path=unit,
            )
            reg.add(f"resident-{person}", at, grid_area, registered)
            if m == 0:
                formed = R.HouseholdFormed(
                    household_id=household, head_resident_id=person, path=unit
                )
                reg.add(f"household-{household}", at, grid_area, formed)
            else:
                relation = rng.choice((R.Relation.SPOUSE, R.Relation.CHILD, R.Relation.PARENT))
                added = R.HouseholdMemberAdded(
                    household_id=household, resident_id=person, relation=relation
                )
                reg.add(f"household-{household}", at, grid_area, added)
            residents.append((person, unit, born))

    for person, unit, born in residents:
        grid_area, aged = str(unit.grid_id), (shape.as_of - born).days >= 65 * 365
        assert unit.grid_id is not None
        if rng.random() < FLAGGED_SHARE:
            flag = rng.choices([f for f, _ in FLAGS], [w for _, w in FLAGS])[0]
            tier, _, interval = rng.choices(TIERS, [w for _, w, _ in TIERS])[0]
            at = moment(start, start + timedelta(days=60))
            care = f"care-{person}"
            reg.add(
                care,
                at,
                grid_area,
                R.SpecialGroupFlagRaised(resident_id=person, flag=flag, tier=tier),
                R.FollowUpVisitPlanned(
                    resident_id=person,
                    due_by=at + timedelta(days=interval),
                    interval_days=interval,
                    grid_id=unit.grid_id,
                ),
            )
            worker = f"grid-worker-{unit.grid_id}"
            while True:
                at += timedelta(days=interval * rng.uniform(0.6, 1.1))
                if at >= end:
                    break
                reg.add(
                    care,
                    at,
                    grid_area,
                    R.FollowUpVisitRecorded(
                        resident_id=person,
                        visit_id=uid(),
                        visited_at=at,
                        grid_worker_id=worker,
                        findings=rng.choice(FINDINGS),
                        errands=rng.sample(ERRANDS, rng.choice((0, 0, 1, 2))),
                    ),
                    R.FollowUpVisitPlanned(
                        resident_id=person,
                        due_by=at + timedelta(days=interval),
                        interval_days=interval,
                        grid_id=unit.grid_id,
                    ),
                )

        for _ in range(int(RECEPTIONS_PER_RESIDENT) + (rng.random() < RECEPTIONS_PER_RESIDENT % 1)):
            reception, at = uid(), moment()
            logged = S.ReceptionLogged(
                reception_id=reception,
                resident_id=person if rng.random() < 0.85 else None,
                purposes=rng.sample(list(S.Purpose), rng.choice((1, 1, 2))),
                referred_by=rng.choice(list(S.Referral)),
                outcome=rng.choice(list(S.Outcome)),
                path=R.AreaPath(community_id=unit.community_id, grid_id=unit.grid_id),
                staff_id="desk-city",
                logged_at=at,
            )
            station.add(f"reception-{reception}", at, grid_area, logged)

        hypertensive = rng.random() < HYPERTENSION_SHARE
        if aged or hypertensive or rng.random() < HEALTH_RECORD_SHARE:
            record, chart = f"record-{person}", f"chart-{person}"
            at = moment(start - timedelta(days=200), start)
            opened = H.HealthRecordOpened(
                resident_id=person, opened_on=at.date(), path=unit, health_station="社区卫生服务站"
            )
            health.add(record, at, grid_area, opened)
            programmes = [(H.Programme.ELDERLY_ANNUAL, 365)] if aged else []
            if hypertensive:
                programmes.append((H.Programme.HYPERTENSION, 91))
            for programme, every in programmes:
                reason = H.EnrolmentReason.DIAGNOSED
                if programme is H.Programme.ELDERLY_ANNUAL:
                    reason = H.EnrolmentReason.AGED_65_AT_REGISTRATION
                enrolled = H.ProgrammeEnrolled(
                    resident_id=person, programme=programme, enrolled_on=at.date(), reason=reason
                )
                health.add(record, at, grid_area, enrolled)
                kind = H.VisitKind.CHECK_UP if every > 100 else H.VisitKind.FOLLOW_UP
                due = at + timedelta(days=rng.randrange(every))
                while True:
                    visit = uid()
                    booked = H.VisitBooked(
                        resident_id=person,
                        visit_id=visit,
                        programme=programme,
                        kind=kind,
                        due_on=due.date(),
                    )
                    health.add(record, min(due, end), grid_area, booked)
                    if due >= end:
                        break
                    done = H.VisitCompleted(
                        resident_id=person,
                        visit_id=visit,
                        programme=programme,
                        kind=kind,
                        completed_on=due.date(),
                        doctor_id="doctor-city",
                    )
                    health.add(record, due, grid_area, done)
                    encounter = H.EncounterRecorded(
                        resident_id=person,
                        encounter_id=uid(),
                        visit_id=visit,
                        programme=programme,
                        occurred_on=due.date(),
                        doctor_id="doctor-city",
                        observations=H.Observations(
                            systolic_mmhg=rng.randint(110, 160), diastolic_mmhg=rng.randint(70, 95)
                        ),
                    )
                    health.add(chart, due, grid_area, encounter)
                    due += timedelta(days=every)

        if rng.random() < VOLUNTEER_SHARE:
            volunteer, at = uid(), moment(start - timedelta(days=100), start)
            joined = V.VolunteerJoined(
                volunteer_id=volunteer,
                kind=V.VolunteerKind.RESIDENT_VOLUNTEER,
                name="志愿者",
                resident_id=person,
                path=R.AreaPath(community_id=unit.community_id, grid_id=unit.grid_id),
                skills=["保洁"],
                joined_on=at.date(),
            )
            vol.add(f"volunteer-{volunteer}", at, grid_area, joined)
            for month in range(12):
                served = start + timedelta(days=30 * month + rng.randrange(28))
                entry = uid()
                vol.add(
                    f"ledger-{volunteer}",
                    served,
                    grid_area,
                    V.HoursRecorded(
                        entry_id=entry,
                        volunteer_id=volunteer,
                        source=V.HoursSource.SHIFT,
                        source_id=uid(),
                        hours=rng.choice((1.0, 2.0, 2.5, 3.0)),
                        served_on=served.date(),
                    ),
                    V.HoursApproved(
                        entry_id=entry,
                        volunteer_id=volunteer,
                        approved_by="coordinator-city",
                        approved_on=served.date(),
                    ),
                )

        if rng.random() < DISPUTE_SHARE:
            dispute, at = uid(), moment()
            other = rng.choice(residents)[0]
            level = rng.choice((M.Tier.BUILDING, M.Tier.GRID, M.Tier.COMMUNITY))
            assert unit.building_id is not None
            registered_d = M.DisputeRegistered(
                dispute_id=dispute,
                channel=rng.choice((M.Channel.GRID_PATROL, M.Channel.WALK_IN)),
                category=rng.choice(list(M.Category)),
                description="邻里纠纷",
                location=M.Location(area_id=unit.building_id, kind=R.AreaKind.BUILDING, path=unit),
                parties=[
                    M.Party(party_id=uid(), role=M.PartyRole.APPLICANT, resident_id=person),
                    M.Party(party_id=uid(), role=M.PartyRole.RESPONDENT, resident_id=other),
                ],
                sensitivity=M.Sensitivity.SENSITIVE
                if rng.random() < 0.05
                else M.Sensitivity.STANDARD,
                tier=level,
                registered_at=at,
                sla_due_by=at + timedelta(days=15),
            )
            stream = f"dispute-{dispute}"
            assigned = M.MediatorAssigned(
                dispute_id=dispute, mediator_id="mediator-city", role=M.MediatorRole.GRID_WORKER
            )
            med.add(stream, at, grid_area, registered_d, assigned)
            resolved_at = at + timedelta(days=rng.uniform(1, 20))
            if resolved_at < end and rng.random() < 0.85:
                resolved = M.DisputeResolved(
                    dispute_id=dispute,
                    tier=level,
                    outcome="双方达成一致",
                    resolved_at=resolved_at,
                    reopen_until=resolved_at + timedelta(days=30),
                    on_time=resolved_at <= at + timedelta(days=15),
                )
                med.add(stream, resolved_at, grid_area, resolved)
    return {source: streams.recorded() for source, streams in out.items()}


# -- loading, publishing, rebuilding ----------------------------------------------------------


@dataclass
class LoadedCity:
    events: Counter[str] = field(default_factory=Counter)
    residents: int = 0
    seconds: float = 0.0


async def load(
    shape: Shape, urls: dict[str, str], cipher: FieldCipher, *, say: Callable[[str], None]
) -> LoadedCity:
    """Generate the city community by community and write each service's events into its
    store (their personal fields sealed, as every store seals them), one transaction per
    service and community."""
    pools = {s: await asyncpg.create_pool(urls[s], min_size=1, max_size=2) for s in SOURCES}
    done = LoadedCity()
    started = time.perf_counter()
    try:
        for pool in pools.values():
            await migrate(pool)
        for index in range(shape.communities):
            events = await asyncio.to_thread(community_events, shape, index)
            done.residents += shape.residents

            async def write(source: str, events: dict[str, list[Loaded]] = events) -> None:
                async with pools[source].acquire() as conn, conn.transaction():
                    store = EventStore(pools[source], CATALOGS[source], cipher=cipher)
                    done.events[source] += await bulk_append(conn, store, events[source])

            await asyncio.gather(*(write(s) for s in SOURCES))
            if index % max(1, shape.communities // 10) == 0 or index == shape.communities - 1:
                total = sum(done.events.values())
                say(
                    f"  generated {index + 1}/{shape.communities} communities, {total:,} events,"
                    f" {total / (time.perf_counter() - started):,.0f}/s"
                )
        for pool in pools.values():
            await pool.execute("ANALYZE events")
    finally:
        for pool in pools.values():
            await pool.close()
    done.seconds = time.perf_counter() - started
    return done


async def publish(
    urls: dict[str, str], kafka: KafkaSettings, cipher: FieldCipher
) -> tuple[int, float]:
    """Publish every store with the kernel's relay; (events published, seconds)."""
    published, started = 0, time.perf_counter()
    for source in SOURCES:
        pool = await asyncpg.create_pool(urls[source], min_size=1, max_size=4)
        settings = ServiceSettings(
            service=source,
            database_url=urls[source],
            jwt_secret=SecretStr("bench-secret-not-used-for-anything"),
            kafka=kafka,
            relay_batch=5000,
        )
        relay = Relay(EventStore(pool, CATALOGS[source], cipher=cipher), settings)
        await relay.start()
        try:
            while (n := await relay.publish_batch()) > 0:
                published += n
        finally:
            await relay.close()
            await pool.close()
    return published, time.perf_counter() - started


async def consume_all(kafka: KafkaSettings, topics: Sequence[str]) -> tuple[int, float]:
    """The baseline of a rebuild: plain aiokafka reading the same topics from the start."""
    consumer = AIOKafkaConsumer(
        **connection(kafka),
        group_id=None,
        enable_auto_commit=False,
        fetch_max_wait_ms=20,
        max_partition_fetch_bytes=4 << 20,
    )
    await consumer.start()
    try:
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(t, p) for t in topics for p in consumer.partitions_for_topic(t) or ()
        ]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        total = sum(ends.values())
        seen, started = 0, time.perf_counter()
        while seen < total:
            fetched = await consumer.getmany(timeout_ms=1000, max_records=5000)
            seen += sum(len(v) for v in fetched.values())
        return seen, time.perf_counter() - started
    finally:
        await consumer.stop()


async def rebuild_all(
    url: str,
    projections: Sequence[Projection],
    kafka: KafkaSettings,
    keys: MemoryKeyStore,
    say: Callable[[str], None],
    *,
    processes: int,
) -> tuple[dict[str, float], float]:
    """Rebuild every projection from the start of its topics with the kernel's rebuild, side
    by side in ``processes`` processes: seconds per projection, and in all."""
    from eventkit import audit

    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        await migrate(pool, audit.DDL, store=False)
    finally:
        await pool.close()
    jobs = [
        RebuildJob(url, projection, kafka, KeysInMemory(keys), idle_timeout_ms=200)
        for projection in projections
    ]
    started = time.perf_counter()
    rebuilt = await rebuild_side_by_side(
        jobs,
        processes=processes,
        done=lambda r: say(f"  rebuilt {r.projection} in {r.seconds:,.1f} s"),
    )
    took = {r.projection: r.seconds for r in rebuilt}
    return {p.name: took[p.name] for p in projections}, time.perf_counter() - started


# -- the hot queries ------------------------------------------------------------------------


@dataclass(frozen=True)
class Samples:
    """What the random calls pick from: the read model's own rows."""

    communities: list[uuid.UUID]
    grids: list[tuple[uuid.UUID, uuid.UUID]]
    residents: list[tuple[uuid.UUID, uuid.UUID, str, str]]
    """(resident, community, name, id number)"""


async def samples(conn: asyncpg.Connection, rng: random.Random) -> Samples:
    communities = [
        r[0]
        for r in await conn.fetch("SELECT area_id FROM residents.areas WHERE kind = 'community'")
    ]
    grids = [
        (r[0], r[1])
        for r in await conn.fetch(
            "SELECT area_id, community_id FROM residents.areas WHERE kind = 'grid'"
        )
    ]
    rows = await conn.fetch(
        "SELECT resident_id, community_id, name, id_number FROM residents.residents"
        " ORDER BY md5(resident_id::text || $1) LIMIT 2000",
        str(rng.randrange(1 << 30)),
    )
    return Samples(communities, grids, [(r[0], r[1], r[2], r[3]) for r in rows])


Call = Callable[[random.Random], tuple[str, dict[str, str]]]


def hot_queries(secret: str, s: Samples, as_of: date) -> dict[str, Call]:
    """Each hot query as a random GET on the query API, as the staff who make it."""

    def director(community: uuid.UUID) -> dict[str, str]:
        token = issue_token(secret, "director-city", [Role.DIRECTOR], [str(community)])
        return {"Authorization": f"Bearer {token}"}

    def grid_worker(grid: uuid.UUID) -> dict[str, str]:
        token = issue_token(secret, "grid-worker-city", [Role.GRID_WORKER], [str(grid)])
        return {"Authorization": f"Bearer {token}"}

    def by_name(rng: random.Random) -> tuple[str, dict[str, str]]:
        _, community, name, _ = rng.choice(s.residents)
        return f"/residents?q={name[:2]}", director(community)

    def by_id_suffix(rng: random.Random) -> tuple[str, dict[str, str]]:
        _, community, _, number = rng.choice(s.residents)
        return f"/residents?id_suffix={number[-4:]}", director(community)

    def by_flag(rng: random.Random) -> tuple[str, dict[str, str]]:
        flag = rng.choice([f for f, _ in FLAGS]).value
        return f"/follow-ups?flag={flag}&limit=50", director(rng.choice(s.communities))

    def profile(rng: random.Random) -> tuple[str, dict[str, str]]:
        resident, community, _, _ = rng.choice(s.residents)
        return f"/residents/{resident}", director(community)

    def follow_ups(rng: random.Random) -> tuple[str, dict[str, str]]:
        grid, _ = rng.choice(s.grids)
        return "/follow-ups?limit=50", grid_worker(grid)

    def disputes(rng: random.Random) -> tuple[str, dict[str, str]]:
        return "/disputes?limit=50", director(rng.choice(s.communities))

    def dashboard(rng: random.Random) -> tuple[str, dict[str, str]]:
        community = rng.choice(s.communities)
        first = as_of - timedelta(days=rng.choice((30, 91, 365)))
        path = f"/dashboard?from={first}&to={as_of}&community_id={community}"
        return path, director(community)

    return {
        "city_name": by_name,
        "city_id_suffix": by_id_suffix,
        "city_flag": by_flag,
        "city_profile": profile,
        "city_follow_ups": follow_ups,
        "city_disputes": disputes,
        "city_dashboard": dashboard,
    }


def percentile(values: list[float], q: float) -> float:
    ranked = sorted(values)
    return ranked[max(0, int(q * len(ranked) + 0.999999) - 1)]


async def timed(client: httpx.AsyncClient, rng: random.Random, call: Call, n: int) -> list[float]:
    """Seconds of ``n`` calls one after the other (each checked: 200 with a body)."""
    took = []
    for _ in range(n):
        path, headers = call(rng)
        started = time.perf_counter()
        answer = await client.get(path, headers=headers)
        took.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise RuntimeError(f"GET {path}: {answer.status_code} {answer.text[:300]}")
    return took


async def measure_queries(
    url: str, kafka: KafkaSettings, as_of: date, calls: int, seed: int, at: dict[str, Any]
) -> list[Measured]:
    """p50/p99 of each hot query through the query app in process, against ``GET /healthz``.
    The app follows an empty topic prefix: its runners have nothing to apply while it is timed
    (the read models are the rebuilt ones)."""
    from anju_query.testing import running_query

    rng = random.Random(seed)
    secret = secrets.token_urlsafe(32)
    quiet = KafkaSettings(bootstrap=kafka.bootstrap, topic_prefix=f"idle{uuid.uuid4().hex[:6]}.")
    conn = await asyncpg.connect(url)
    try:
        picked = await samples(conn, rng)
        # The rebuilds just wrote about a gigabyte of WAL: the checkpoint it calls for would write
        # their pages out while the lookups are timed. Done first, the lookups time the read
        # models (one run without it timed the name search at p99 58 ms, the runs before 12-14).
        with contextlib.suppress(asyncpg.InsufficientPrivilegeError):
            await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    out = []
    async with running_query(url, quiet, secret) as client:
        health: Call = lambda _: ("/healthz", {})  # noqa: E731
        for key, call in hot_queries(secret, picked, as_of).items():
            await timed(client, rng, call, max(5, calls // 20))  # warm: plans, pool, caches
            baseline = await timed(client, rng, health, max(20, calls // 4))
            ours = await timed(client, rng, call, calls)
            conditions = {**at, "calls": calls}
            for q in (0.50, 0.99):
                out.append(
                    Measured(
                        f"{key}_p{round(q * 100)}",
                        percentile(ours, q) * 1000,
                        percentile(baseline, q) * 1000,
                        conditions,
                    )
                )
    return out


async def sizes(urls: dict[str, str], read_url: str) -> tuple[int, int]:
    """Bytes of the events tables (indexes included) of every store, and of the read models."""
    events = 0
    for source in SOURCES:
        conn = await asyncpg.connect(urls[source])
        try:
            events += int(await conn.fetchval("SELECT pg_total_relation_size('events')"))
        finally:
            await conn.close()
    conn = await asyncpg.connect(read_url)
    try:
        read = int(
            await conn.fetchval(
                """
                SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
                JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'r' AND n.nspname ~ '_g[0-9]+$'
                """
            )
        )
    finally:
        await conn.close()
    return events, read


# -- the part -------------------------------------------------------------------------------


async def bench_city(
    shape: Shape,
    database: Callable[[str], Awaitable[str]],
    bootstrap: str,
    *,
    calls: int,
    rebuilds: int = 2,
    say: Callable[[str], None] = print,
) -> list[Measured]:
    """Load, publish, rebuild (``rebuilds`` times: the second goes longest first by the
    first's times), query and weigh a city of ``shape``; its figures."""
    from anju_query.projections import projections

    urls = {source: await database(f"_city_{source}") for source in SOURCES}
    read_url = await database("_city_query")
    say(
        f"city: {shape.communities} communities × {shape.residents:,} residents,"
        f" seed {shape.seed}, as of {shape.as_of}"
    )
    # the keys of a million residents, in memory: what the key store's cache holds
    keys = MemoryKeyStore()
    cipher = FieldCipher(keys)
    loaded = await load(shape, urls, cipher, say=say)
    total = sum(loaded.events.values())
    share = ", ".join(f"{s} {n:,}" for s, n in loaded.events.items())
    say(f"  loaded {total:,} events in {loaded.seconds:,.0f} s ({share})")
    kafka = KafkaSettings(
        bootstrap=bootstrap, topic_prefix=f"city{uuid.uuid4().hex[:6]}.", max_batch=5000
    )
    published, publish_s = await publish(urls, kafka, cipher)
    say(f"  relayed {published:,} events in {publish_s:,.1f} s")
    chosen = projections()
    topics = sorted({t for p in chosen for t in topics_of(p, kafka)})
    await prepare_topics(kafka, topics, client_id="bench-city")
    seen, consume_s = await consume_all(kafka, topics)
    processes = os.cpu_count() or 1
    took, rebuild_s = await rebuild_all(read_url, chosen, kafka, keys, say, processes=processes)
    again: dict[str, float] = {}
    again_s = 0.0
    if rebuilds > 1:
        say("  again, the longest first:")
        again, again_s = await rebuild_all(read_url, chosen, kafka, keys, say, processes=processes)
    scale = TEN_MILLION / total
    events_bytes, read_bytes = await sizes(urls, read_url)
    at = {
        "communities": shape.communities,
        "residents": loaded.residents,
        "events": total,
        "seed": shape.seed,
        "as_of": shape.as_of.isoformat(),
    }
    out = [
        Measured(
            "city_rebuild",
            rebuild_s * scale,
            consume_s * scale,
            {**at, "rebuild_s": round(rebuild_s, 1), "published": published},
            (
                f"measured {rebuild_s:,.0f} s for {total:,} events ({published:,} published),"
                f" scaled ×{scale:,.1f} to 10M",
                f"side by side in {processes} processes; per projection: "
                + ", ".join(f"{name} {s:,.1f} s" for name, s in took.items()),
            ),
        ),
        *(
            [
                Measured(
                    "city_rebuild_again",
                    again_s * scale,
                    consume_s * scale,
                    {**at, "rebuild_s": round(again_s, 1)},
                    (
                        f"measured {again_s:,.0f} s, scaled ×{scale:,.1f} to 10M; per projection: "
                        + ", ".join(f"{name} {s:,.1f} s" for name, s in again.items()),
                    ),
                )
            ]
            if again
            else []
        ),
        Measured(
            "city_projection",
            published / rebuild_s if rebuild_s else 0.0,
            seen / consume_s if consume_s else 0.0,
            {**at, "projections": len(chosen)},
            ("events applied per second over the rebuilds (each source feeds one projection)",),
        ),
        Measured("city_relay", published / publish_s if publish_s else 0.0, 0.0, at),
        Measured(
            "city_disk",
            events_bytes / total * 1_000_000 / 2**20,
            0.0,
            {**at, "events_bytes": events_bytes, "read_model_bytes": read_bytes},
            (f"read models: {read_bytes / 2**20:,.0f} MiB for {loaded.residents:,} residents",),
        ),
    ]
    out += await measure_queries(read_url, kafka, shape.as_of, calls, shape.seed, at)
    return out


def shape_of(
    scale: str | None, communities: int | None, residents: int | None, seed: int, as_of: date | None
) -> Shape:
    base_c, base_r = SCALES[scale or "district"]
    return Shape(
        communities=communities or base_c,
        residents=residents or base_r,
        seed=seed,
        as_of=as_of or datetime.now(UTC).date(),
    )
