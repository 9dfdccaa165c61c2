"""The query service end to end: registry events through the real relay and broker, read back
over HTTP.

One module-scoped world: a registry event store publishing with the real relay onto a topic
prefix of its own, and the query app (projection runner + API) on a read database of its own.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr

from anju_contracts import Actor, Event
from anju_contracts.registry import (
    CATALOG,
    AreaCreated,
    AreaKind,
    AreaPath,
    FlagType,
    FollowUpVisitOverdue,
    FollowUpVisitPlanned,
    FollowUpVisitRecorded,
    HouseholdFormed,
    HouseholdMemberAdded,
    Liaison,
    OrganisationChanged,
    OrganisationKind,
    OrganisationRegistered,
    OrganisationRetired,
    Relation,
    ResidentDetailsCorrected,
    ResidentMovedOut,
    ResidentRegistered,
    RiskTier,
    RiskTierChanged,
    Sex,
    SpecialGroupFlagRaised,
    SpecialGroupFlagReviewed,
)
from anju_query.entrypoints.app import create_app
from anju_query.projections import ResidentsProjection
from anju_query.settings import QuerySettings
from anju_query.testing import consumed_to_end
from eventkit.auth import Role, issue_token
from eventkit.commands import Clock, utcnow
from eventkit.projection import rebuild, wait_for_stream
from eventkit.relay import Relay
from eventkit.runtime import Runtime
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import databases
from eventkit.testing.relay import publish_everything

SECRET = "query-tests-secret-0123456789abcdef"


@dataclass
class Registry:
    """The write side, as far as these tests need it: append events, publish them."""

    store: EventStore
    relay: Relay
    versions: dict[str, int] = field(default_factory=dict)
    published: int = 0  # messages put on the topic, redeliveries included

    async def emit(self, stream: str, *events: Event, area: uuid.UUID | None = None) -> str:
        """Append to ``stream``; return the consistency token of the result."""
        result = await self.store.append(
            stream,
            self.versions.get(stream, 0),
            events,
            context=Context(actor=Actor(id="tester", roles=("admin",))),
            area=None if area is None else str(area),
        )
        self.versions[stream] = result.version
        return f"registry:{stream}:{result.version}"

    async def publish(self) -> None:
        # not just until a batch comes back empty: the relay waits for older transactions
        # anywhere on the server, so a busy server would leave events behind
        self.published += await publish_everything(self.relay)


@dataclass
class QueryApp:
    app: FastAPI
    client: httpx.AsyncClient
    kafka: KafkaSettings

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    async def caught_up(self, registry: Registry, timeout_s: float = 30) -> None:
        for stream, version in registry.versions.items():
            reached = await wait_for_stream(
                self.runtime.pool, "residents", "registry", stream, version, timeout_s=timeout_s
            )
            assert reached, (
                f"projection did not reach {stream}@{version}",
                self.runtime.projection_runners[0].state,
            )


def token(*roles: Role, areas: tuple[uuid.UUID, ...] = (), sub: str = "staff-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, roles, [str(a) for a in areas])}"}


ADMIN = token(Role.ADMIN)


@asynccontextmanager
async def registry_and_read_db(
    pg_server_url: str, kafka_bootstrap: str
) -> AsyncIterator[tuple[Registry, str, KafkaSettings]]:
    """A registry event store with its relay started, and an empty read database.

    Both use a topic prefix of their own, so tests sharing the broker do not meet.
    """
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"q{uuid.uuid4().hex[:10]}.")
    async with databases(pg_server_url, "registry", "read") as (registry_url, read_url):
        pool = await asyncpg.create_pool(registry_url, min_size=1, max_size=4)
        relay: Relay | None = None
        try:
            await migrate(pool)
            store = EventStore(pool, CATALOG)
            settings = ServiceSettings(
                service="registry",
                database_url=registry_url,
                jwt_secret=SecretStr(SECRET),
                kafka=kafka,
            )
            relay = Relay(store, settings)
            await relay.start()
            yield Registry(store, relay), read_url, kafka
        finally:
            if relay is not None:
                await relay.close()
            await pool.close()


@asynccontextmanager
async def running_app(
    read_url: str, kafka: KafkaSettings, *, consistency_wait_s: float = 2.0, clock: Clock = utcnow
) -> AsyncIterator[QueryApp]:
    """The query app with its lifespan entered (pool, projection runners) and an ASGI client."""
    app = create_app(
        QuerySettings(
            database_url=read_url,
            jwt_secret=SecretStr(SECRET),
            kafka=kafka,
            consistency_wait_s=consistency_wait_s,
        ),
        clock=clock,
    )
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://query") as client:
            yield QueryApp(app, client, kafka)


# -- the world -------------------------------------------------------------------------------


def _id_number(n: int, born: date) -> str:
    return f"110101{born:%Y%m%d}{n:04d}"


@dataclass
class World:
    registry: Registry
    query: QueryApp
    community: uuid.UUID
    grid1: uuid.UUID
    grid2: uuid.UUID
    unit1: uuid.UUID
    unit2: uuid.UUID
    people: dict[str, uuid.UUID]
    clock: ManualClock = field(default_factory=lambda: ManualClock(datetime.now(UTC)))
    """The query app's clock; a test that moves it puts it back."""
    organisations: dict[str, uuid.UUID] = field(default_factory=dict)
    other_community: uuid.UUID = field(default_factory=uuid.uuid4)

    @property
    def client(self) -> httpx.AsyncClient:
        return self.query.client


async def _seed(reg: Registry) -> World:
    c, g1, g2, b1, b2, u1, u2 = (uuid.uuid4() for _ in range(7))
    tree = [
        (c, AreaKind.COMMUNITY, "安居社区", None, AreaPath(community_id=c)),
        (g1, AreaKind.GRID, "一网格", c, AreaPath(community_id=c, grid_id=g1)),
        (g2, AreaKind.GRID, "二网格", c, AreaPath(community_id=c, grid_id=g2)),
        (b1, AreaKind.BUILDING, "1号楼", g1, AreaPath(community_id=c, grid_id=g1)),
        (b2, AreaKind.BUILDING, "2号楼", g2, AreaPath(community_id=c, grid_id=g2)),
        (u1, AreaKind.UNIT, "1单元", b1, AreaPath(community_id=c, grid_id=g1, building_id=b1)),
        (u2, AreaKind.UNIT, "2单元", b2, AreaPath(community_id=c, grid_id=g2, building_id=b2)),
    ]
    for area_id, kind, name, parent, path in tree:
        await reg.emit(
            f"area-{area_id}",
            AreaCreated(area_id=area_id, kind=kind, name=name, parent_id=parent, path=path),
            area=path.grid_id or c,
        )
    at1 = AreaPath(community_id=c, grid_id=g1, building_id=b1, unit_id=u1)
    at2 = AreaPath(community_id=c, grid_id=g2, building_id=b2, unit_id=u2)
    people: dict[str, uuid.UUID] = {}

    async def register(key: str, name: str, n: int, born: date, path: AreaPath) -> uuid.UUID:
        rid = people[key] = uuid.uuid4()
        await reg.emit(
            f"resident-{rid}",
            ResidentRegistered(
                resident_id=rid,
                name=name,
                sex=Sex.MALE if n % 2 else Sex.FEMALE,
                date_of_birth=born,
                id_number=_id_number(n, born),
                phone="13800000000",
                path=path,
            ),
            area=path.grid_id,
        )
        return rid

    zhang = await register("zhang", "张三", 1234, date(1950, 3, 1), at1)
    son = await register("son", "张小明", 2, date(1980, 5, 6), at1)
    wang = await register("wang", "王五", 3, date(1960, 1, 1), at1)
    gone = await register("gone", "赵六", 5, date(1970, 1, 1), at1)
    li = await register("li", "李四", 4, date(1975, 7, 7), at2)
    for i in range(25):
        await register(f"t{i}", f"测试居民{i:02d}", 100 + i, date(1990, 1, 1), at2)
    await reg.emit(
        f"resident-{gone}", ResidentMovedOut(resident_id=gone, moved_out_on=date(2024, 1, 1))
    )

    household = uuid.uuid4()
    await reg.emit(
        f"household-{household}",
        HouseholdFormed(household_id=household, head_resident_id=zhang, path=at1),
        HouseholdMemberAdded(household_id=household, resident_id=son, relation=Relation.CHILD),
        area=g1,
    )
    now = datetime.now(UTC)
    # 张三: elderly alone, red; the visit was due yesterday and the registry said it is overdue
    await reg.emit(
        f"care-{zhang}",
        SpecialGroupFlagRaised(resident_id=zhang, flag=FlagType.ELDERLY_ALONE, tier=RiskTier.RED),
        FollowUpVisitPlanned(
            resident_id=zhang, due_by=now - timedelta(days=1), interval_days=7, grid_id=g1
        ),
        FollowUpVisitOverdue(resident_id=zhang, due_by=now - timedelta(days=1), grid_id=g1),
        area=g1,
    )
    # 王五: low income, blue → yellow on review, then reviewed; due in two days, nobody visited
    await reg.emit(
        f"care-{wang}",
        SpecialGroupFlagRaised(resident_id=wang, flag=FlagType.LOW_INCOME, tier=RiskTier.BLUE),
        RiskTierChanged(
            resident_id=wang,
            flag=FlagType.LOW_INCOME,
            from_tier=RiskTier.BLUE,
            to_tier=RiskTier.YELLOW,
            reason="lost job",
        ),
        SpecialGroupFlagReviewed(resident_id=wang, flag=FlagType.LOW_INCOME),
        FollowUpVisitPlanned(
            resident_id=wang, due_by=now + timedelta(days=2), interval_days=14, grid_id=g1
        ),
        area=g1,
    )
    # 李四: planned, visited by gw-2 (fulfils the plan), next visit planned in a week
    await reg.emit(
        f"care-{li}",
        SpecialGroupFlagRaised(resident_id=li, flag=FlagType.MENTAL_DISORDER, tier=RiskTier.YELLOW),
        FollowUpVisitPlanned(
            resident_id=li, due_by=now + timedelta(days=1), interval_days=7, grid_id=g2
        ),
        area=g2,
    )
    await reg.emit(
        f"care-{li}",
        FollowUpVisitRecorded(
            resident_id=li,
            visit_id=uuid.uuid4(),
            visited_at=datetime.now(UTC) + timedelta(seconds=1),
            grid_worker_id="gw-2",
            findings="doing well",
            actions="checked medication",
            errands=["pick up prescription"],
        ),
        FollowUpVisitPlanned(
            resident_id=li, due_by=now + timedelta(days=7), interval_days=7, grid_id=g2
        ),
        area=g2,
    )
    seeded = World(reg, None, c, g1, g2, u1, u2, people)  # type: ignore[arg-type]
    await _seed_organisations(reg, seeded)
    await reg.publish()
    return seeded


async def _seed_organisations(reg: Registry, world: World) -> None:
    """Partners of the community, one shared with a second community, one of that community
    alone, one retired (the second community's area is left out: the area tree tests count
    one community)."""
    c, other = world.community, world.other_community
    liaison = Liaison(name="李明", role="党委办公室主任", phone="13800000000")

    async def register(key: str, kind: OrganisationKind, name: str, *served: uuid.UUID) -> str:
        oid = world.organisations[key] = uuid.uuid4()
        return await reg.emit(
            f"organisation-{oid}",
            OrganisationRegistered(
                organisation_id=oid,
                kind=kind,
                name=name,
                community_ids=list(served),
                liaisons=[liaison],
            ),
            area=served[0],
        )

    await register("tax", OrganisationKind.PAIRED_UNIT, "市税务局", c)
    await register("clinic", OrganisationKind.HEALTH_CENTRE, "卫生服务中心", other, c)
    await reg.emit(
        f"organisation-{world.organisations['clinic']}",
        OrganisationChanged(
            organisation_id=world.organisations["clinic"],
            name="社区卫生服务中心",
            liaisons=[liaison, Liaison(name="王芳", role="家庭医生")],
        ),
        area=other,
    )
    await register("police", OrganisationKind.POLICE_STATION, "和平派出所", other)
    await register("estate", OrganisationKind.PROPERTY_COMPANY, "安居物业", c)
    await reg.emit(
        f"organisation-{world.organisations['estate']}",
        OrganisationRetired(organisation_id=world.organisations["estate"], reason="合同到期"),
        area=c,
    )


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def world(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    async with registry_and_read_db(pg_server_url, kafka_bootstrap) as (registry, read_url, kafka):
        seeded = await _seed(registry)
        async with running_app(read_url, kafka, clock=seeded.clock) as query:
            await query.caught_up(registry)
            seeded.query = query
            yield seeded


def _names(body: dict) -> list[str]:  # type: ignore[type-arg]
    return [item["name"] for item in body["items"]]


# -- the directory ---------------------------------------------------------------------------


async def test_every_route_needs_a_token(world: World) -> None:
    for path in (
        "/residents",
        f"/residents/{world.people['zhang']}",
        "/follow-ups",
        "/areas",
        "/organisations",
    ):
        response = await world.client.get(path)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"


@pytest.mark.parametrize(
    ("path", "name"),
    [("/residents", "q"), ("/follow-ups", "worker"), ("/disputes", "mediator")],
)
async def test_a_nul_in_a_query_parameter_is_a_422_naming_it(
    world: World, path: str, name: str
) -> None:
    response = await world.client.get(path, params={name: "a\x00b"}, headers=ADMIN)
    assert response.status_code == 422, response.text
    fields = response.json()["error"]["details"]["fields"]
    assert [f["field"] for f in fields] == [name]


async def test_an_offset_beyond_any_page_is_a_422(world: World) -> None:
    for offset in (str(2**64), "100001"):
        response = await world.client.get("/residents", params={"offset": offset}, headers=ADMIN)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "validation_failed"


async def test_search_by_name_is_a_case_insensitive_substring(world: World) -> None:
    body = (await world.client.get("/residents", params={"q": "张"}, headers=ADMIN)).json()
    assert body["total"] == 2
    assert _names(body) == ["张三", "张小明"]
    zhang = body["items"][0]
    assert zhang["id_number"] == "110101195003011234"
    assert zhang["age"] >= 74
    assert zhang["status"] == "active"
    assert zhang["flags"] == [{"type": "elderly_alone", "tier": "red"}]
    assert zhang["location"]["grid_name"] == "一网格"
    assert zhang["location"]["community_name"] == "安居社区"
    assert zhang["location"]["building_name"] == "1号楼"
    assert zhang["location"]["unit_name"] == "1单元"


async def test_search_by_id_suffix_and_unit(world: World) -> None:
    body = (
        await world.client.get("/residents", params={"id_suffix": "1234"}, headers=ADMIN)
    ).json()
    assert _names(body) == ["张三"]
    body = (
        await world.client.get("/residents", params={"unit_id": str(world.unit1)}, headers=ADMIN)
    ).json()
    assert sorted(_names(body)) == sorted(["张三", "张小明", "王五", "赵六"])
    gone = next(i for i in body["items"] if i["name"] == "赵六")
    assert gone["status"] == "moved_out"


async def test_a_masked_caller_searches_by_no_more_than_the_mask_shows(world: World) -> None:
    worker = token(Role.GRID_WORKER, areas=(world.community,))
    shown = await world.client.get("/residents", params={"id_suffix": "1234"}, headers=worker)
    assert _names(shown.json()) == ["张三"]
    # Each further digit would be an oracle for the hidden part of the number.
    longer = await world.client.get("/residents", params={"id_suffix": "01234"}, headers=worker)
    assert longer.status_code == 422
    assert longer.json()["error"]["code"] == "id_suffix_too_long"
    director = token(Role.DIRECTOR, areas=(world.community,))
    full = await world.client.get("/residents", params={"id_suffix": "01234"}, headers=director)
    assert full.status_code == 200


@pytest.mark.parametrize("role", [Role.POLICE, Role.VOLUNTEER_COORDINATOR, Role.MEDIATOR])
async def test_roles_without_resident_rights_read_no_residents(world: World, role: Role) -> None:
    headers = token(role, areas=(world.community,))
    for url in (
        "/residents",
        f"/residents/{world.people['zhang']}",
        "/follow-ups",
        "/areas/summary",
    ):
        response = await world.client.get(url, headers=headers)
        assert response.status_code == 403, (url, response.text)
    assert (await world.client.get("/areas", headers=headers)).status_code == 200


async def test_pagination_is_stable_and_counts_the_total(world: World) -> None:
    seen: list[str] = []
    for offset in (0, 10, 20):
        response = await world.client.get(
            "/residents", params={"q": "测试", "limit": 10, "offset": offset}, headers=ADMIN
        )
        body = response.json()
        assert body["total"] == 25
        seen += _names(body)
    assert seen == [f"测试居民{i:02d}" for i in range(25)]


# -- the profile -----------------------------------------------------------------------------


async def test_profile_has_household_flags_and_follow_up(world: World) -> None:
    response = await world.client.get(f"/residents/{world.people['zhang']}", headers=ADMIN)
    assert response.status_code == 200
    profile = response.json()
    assert profile["resident"]["name"] == "张三"
    household = profile["household"]
    assert household["head_resident_id"] == str(world.people["zhang"])
    assert [(m["name"], m["relation"], m["is_head"]) for m in household["members"]] == [
        ("张三", "head", True),
        ("张小明", "child", False),
    ]
    assert [(f["type"], f["tier"], f["active"]) for f in profile["flags"]] == [
        ("elderly_alone", "red", True)
    ]
    assert profile["follow_up"]["state"] == "overdue"
    assert profile["follow_up"]["grid_worker_id"] is None
    assert profile["visits"] == []


async def test_profile_visit_history_and_next_visit(world: World) -> None:
    profile = (await world.client.get(f"/residents/{world.people['li']}", headers=ADMIN)).json()
    [visit] = profile["visits"]
    assert visit["grid_worker_id"] == "gw-2"
    assert visit["errands"] == ["pick up prescription"]
    assert visit["actions"] == "checked medication"
    follow_up = profile["follow_up"]
    assert follow_up["state"] == "due"
    assert follow_up["interval_days"] == 7
    assert follow_up["grid_worker_id"] == "gw-2"
    wang = (await world.client.get(f"/residents/{world.people['wang']}", headers=ADMIN)).json()
    [flag] = wang["flags"]
    assert (flag["tier"], flag["last_review_at"] is not None) == ("yellow", True)


async def test_unknown_resident_is_404(world: World) -> None:
    response = await world.client.get(f"/residents/{uuid.uuid4()}", headers=ADMIN)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


# -- the follow-up board ---------------------------------------------------------------------


async def test_follow_up_board_due_and_overdue(world: World) -> None:
    board = (await world.client.get("/follow-ups", headers=ADMIN)).json()
    assert [(i["name"], i["state"]) for i in board["items"]] == [
        ("张三", "overdue"),
        ("王五", "due"),
        ("李四", "due"),
    ]
    groups = {
        (g["grid_name"], g["grid_worker_id"]): (g["due"], g["overdue"]) for g in board["groups"]
    }
    assert groups == {("一网格", None): (1, 1), ("二网格", "gw-2"): (1, 0)}

    async def names(**params: str) -> list[str]:
        body = (await world.client.get("/follow-ups", params=params, headers=ADMIN)).json()
        return [i["name"] for i in body["items"]]

    assert await names(state="overdue") == ["张三"]
    assert await names(state="due") == ["王五", "李四"]
    assert await names(grid_id=str(world.grid2)) == ["李四"]
    assert await names(worker="gw-2") == ["李四"]
    assert await names(worker="unassigned") == ["张三", "王五"]
    assert await names(flag="low_income", tier="yellow") == ["王五"]
    assert await names(tier="red") == ["张三"]


async def test_due_overdue_and_ages_follow_the_clock(world: World) -> None:
    async def board() -> dict[str, str]:
        body = (await world.client.get("/follow-ups", headers=ADMIN)).json()
        return {i["name"]: i["state"] for i in body["items"]}

    async def profile(key: str) -> dict:  # type: ignore[type-arg]
        path = f"/residents/{world.people[key]}"
        body: dict = (await world.client.get(path, headers=ADMIN)).json()  # type: ignore[type-arg]
        return body

    started = world.clock.now
    try:
        assert await board() == {"张三": "overdue", "王五": "due", "李四": "due"}
        assert (await profile("wang"))["follow_up"]["state"] == "due"
        world.clock.advance(days=3)  # 王五 was due in two days, 李四 is due in a week
        assert await board() == {"张三": "overdue", "王五": "overdue", "李四": "due"}
        assert (await profile("wang"))["follow_up"]["state"] == "overdue"
        # 张三 was born on 1 March 1950
        world.clock.now = datetime(2030, 2, 28, 12, tzinfo=UTC)
        assert (await profile("zhang"))["resident"]["age"] == 79
        world.clock.now = datetime(2030, 3, 1, 12, tzinfo=UTC)
        assert (await profile("zhang"))["resident"]["age"] == 80
    finally:
        world.clock.now = started


# -- the area summary ------------------------------------------------------------------------


async def test_area_summary_counts_per_grid(world: World) -> None:
    summary = (await world.client.get("/areas/summary", headers=ADMIN)).json()
    grids = {g["grid_name"]: g for g in summary["grids"]}
    assert grids["一网格"]["residents"] == 3  # 赵六 moved out
    assert grids["一网格"]["households"] == 1
    assert {(f["type"], f["tier"], f["count"]) for f in grids["一网格"]["flags"]} == {
        ("elderly_alone", "red", 1),
        ("low_income", "yellow", 1),
    }
    assert grids["二网格"]["residents"] == 26
    assert grids["二网格"]["households"] == 0
    assert grids["二网格"]["community_name"] == "安居社区"
    only = (
        await world.client.get(
            "/areas/summary", params={"grid_id": str(world.grid2)}, headers=ADMIN
        )
    ).json()
    assert [g["grid_name"] for g in only["grids"]] == ["二网格"]


async def test_area_tree(world: World) -> None:
    [community] = (await world.client.get("/areas", headers=ADMIN)).json()
    assert community["name"] == "安居社区"
    assert [g["name"] for g in community["children"]] == ["一网格", "二网格"]
    grid_worker = token(Role.GRID_WORKER, areas=(world.grid1,))
    [grid] = (await world.client.get("/areas", headers=grid_worker)).json()
    assert grid["name"] == "一网格"
    assert grid["children"][0]["children"][0]["name"] == "1单元"


# -- scoping and masking ---------------------------------------------------------------------


async def test_grid_worker_sees_their_grid_only_and_masked(world: World) -> None:
    headers = token(Role.GRID_WORKER, areas=(world.grid1,), sub="gw-1")
    other = await world.client.get(f"/residents/{world.people['li']}", headers=headers)
    assert other.status_code == 404
    own = await world.client.get(f"/residents/{world.people['zhang']}", headers=headers)
    assert own.status_code == 200
    assert own.json()["resident"]["id_number"] == "**************1234"
    listed = (await world.client.get("/residents", headers=headers, params={"limit": 200})).json()
    assert listed["total"] == 4
    assert {i["location"]["grid_id"] for i in listed["items"]} == {str(world.grid1)}
    board = (await world.client.get("/follow-ups", headers=headers)).json()
    assert [i["name"] for i in board["items"]] == ["张三", "王五"]
    summary = (await world.client.get("/areas/summary", headers=headers)).json()
    assert [g["grid_name"] for g in summary["grids"]] == ["一网格"]


async def test_director_sees_their_community_in_full(world: World) -> None:
    headers = token(Role.DIRECTOR, areas=(world.community,))
    body = (await world.client.get("/residents", params={"q": "张三"}, headers=headers)).json()
    assert body["items"][0]["id_number"] == "110101195003011234"
    assert (await world.client.get("/residents", headers=headers)).json()["total"] == 30
    elsewhere = token(Role.DIRECTOR, areas=(uuid.uuid4(),))
    assert (await world.client.get("/residents", headers=elsewhere)).json()["total"] == 0
    response = await world.client.get(f"/residents/{world.people['zhang']}", headers=elsewhere)
    assert response.status_code == 404


# -- partner organisations -------------------------------------------------------------------


def _org_names(body: dict) -> list[str]:  # type: ignore[type-arg]
    return [item["name"] for item in body["items"]]


async def test_organisations_are_listed_by_name_active_unless_asked(world: World) -> None:
    body = (await world.client.get("/organisations", headers=ADMIN)).json()
    assert _org_names(body) == ["和平派出所", "市税务局", "社区卫生服务中心"]
    assert body["total"] == 3
    clinic = next(i for i in body["items"] if i["id"] == str(world.organisations["clinic"]))
    assert clinic["kind"] == "health_centre"
    assert clinic["community_ids"] == [str(world.other_community), str(world.community)]
    assert clinic["liaisons"] == [
        {"name": "李明", "role": "党委办公室主任", "phone": "13800000000"},
        {"name": "王芳", "role": "家庭医生", "phone": None},
    ]
    assert clinic["status"] == "active"
    retired = await world.client.get("/organisations", params={"status": "retired"}, headers=ADMIN)
    [estate] = retired.json()["items"]
    assert (estate["name"], estate["status"], estate["retired_reason"]) == (
        "安居物业",
        "retired",
        "合同到期",
    )


async def test_organisations_filter_by_community_and_kind(world: World) -> None:
    other = {"community_id": str(world.other_community)}
    body = (await world.client.get("/organisations", params=other, headers=ADMIN)).json()
    assert _org_names(body) == ["和平派出所", "社区卫生服务中心"]
    body = (
        await world.client.get(
            "/organisations", params={**other, "kind": "police_station"}, headers=ADMIN
        )
    ).json()
    assert _org_names(body) == ["和平派出所"]
    bad = await world.client.get("/organisations", params={"kind": "bank"}, headers=ADMIN)
    assert bad.status_code == 422


@pytest.mark.parametrize(
    "role",
    [
        Role.DESK_STAFF,
        Role.GRID_WORKER,
        Role.MEDIATOR,
        Role.POLICE,
        Role.VOLUNTEER_COORDINATOR,
        Role.DOCTOR,
        Role.PETITION_AGENT,
    ],
)
async def test_staff_see_their_communitys_partners_without_phones(world: World, role: Role) -> None:
    headers = token(role, areas=(world.community,))
    body = (await world.client.get("/organisations", headers=headers)).json()
    assert _org_names(body) == ["市税务局", "社区卫生服务中心"]
    assert {x["phone"] for item in body["items"] for x in item["liaisons"]} == {None}
    hidden = await world.client.get(
        f"/organisations/{world.organisations['police']}", headers=headers
    )
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "organisation_not_found")


async def test_directors_see_phones_and_the_other_community_only_what_it_shares(
    world: World,
) -> None:
    director = token(Role.DIRECTOR, areas=(world.community,))
    tax = (
        await world.client.get(f"/organisations/{world.organisations['tax']}", headers=director)
    ).json()
    assert tax["liaisons"] == [{"name": "李明", "role": "党委办公室主任", "phone": "13800000000"}]
    retired = await world.client.get(
        f"/organisations/{world.organisations['estate']}", headers=director
    )
    assert retired.json()["status"] == "retired"

    theirs = token(Role.DIRECTOR, areas=(world.other_community,))
    body = (await world.client.get("/organisations", headers=theirs)).json()
    assert _org_names(body) == ["和平派出所", "社区卫生服务中心"]
    hidden = await world.client.get(f"/organisations/{world.organisations['tax']}", headers=theirs)
    assert hidden.status_code == 404
    # a token naming only a grid covers no community, and a token naming no area nothing at all
    for areas in ((world.grid1,), ()):
        nothing = await world.client.get(
            "/organisations", headers=token(Role.DIRECTOR, areas=areas)
        )
        assert nothing.json()["total"] == 0


async def test_an_organisations_change_is_read_with_its_token(world: World) -> None:
    tax = world.organisations["tax"]
    written = await world.registry.emit(
        f"organisation-{tax}",
        OrganisationChanged(
            organisation_id=tax, community_ids=[world.community, world.other_community]
        ),
        area=world.community,
    )
    await world.registry.publish()
    theirs = token(Role.DESK_STAFF, areas=(world.other_community,))
    response = await world.client.get(
        f"/organisations/{tax}", params={"consistency_token": written}, headers=theirs
    )
    assert response.headers["x-consistency"] == "fresh"
    assert response.json()["community_ids"] == [str(world.community), str(world.other_community)]
    assert response.json()["name"] == "市税务局"


# -- read your writes ------------------------------------------------------------------------


async def test_consistency_token_waits_for_the_write(world: World) -> None:
    son = world.people["son"]
    written = await world.registry.emit(
        f"resident-{son}",
        ResidentDetailsCorrected(resident_id=son, name="张晓明", reason="typo"),
        area=world.grid1,
    )

    async def publish_later() -> None:
        await asyncio.sleep(0.3)
        await world.registry.publish()

    publishing = asyncio.create_task(publish_later())
    response = await world.client.get(
        f"/residents/{son}", params={"consistency_token": written}, headers=ADMIN
    )
    await publishing
    assert response.status_code == 200
    assert response.headers["x-consistency"] == "fresh"
    assert response.json()["resident"]["name"] == "张晓明"
    by_header = await world.client.get(
        "/residents", headers={**ADMIN, "X-Consistency-Token": written}, params={"q": "晓明"}
    )
    assert by_header.headers["x-consistency"] == "fresh"
    assert _names(by_header.json()) == ["张晓明"]


async def test_consistency_token_timeout_answers_stale(world: World) -> None:
    response = await world.client.get(
        "/residents", params={"consistency_token": "registry:resident-nobody:7"}, headers=ADMIN
    )
    assert response.status_code == 200
    assert response.headers["x-consistency"] == "stale"


@pytest.mark.parametrize("bad", ["nonsense", "registry:resident-x:v2", "nobody:request-1:3"])
async def test_bad_consistency_token_is_400(world: World, bad: str) -> None:
    response = await world.client.get(
        "/follow-ups", params={"consistency_token": bad}, headers=ADMIN
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_consistency_token"


# -- exactly-once effects and rebuilds -------------------------------------------------------


async def _snapshot(pool: asyncpg.Pool) -> dict[str, list[str]]:
    async with pool.acquire() as conn:
        tables = await conn.fetch(
            "SELECT table_name FROM information_schema.views WHERE table_schema = 'residents'"
        )
        return {
            t["table_name"]: [
                r[0]
                for r in await conn.fetch(
                    f"SELECT x::text FROM residents.{t['table_name']} x ORDER BY 1"
                )
            ]
            for t in tables
            if t["table_name"] != "partition_offsets"
        }


async def test_redelivered_events_change_nothing(world: World) -> None:
    await consumed_to_end(world.query.runtime.pool, world.registry, "residents")
    before = await _snapshot(world.query.runtime.pool)
    relay = world.registry.relay
    await relay.save_cursor(type(await relay.cursor())())  # publish everything once more
    await world.registry.publish()
    await consumed_to_end(world.query.runtime.pool, world.registry, "residents")
    assert await _snapshot(world.query.runtime.pool) == before


async def test_rebuild_equals_the_live_tables(world: World) -> None:
    await consumed_to_end(world.query.runtime.pool, world.registry, "residents")
    before = await _snapshot(world.query.runtime.pool)
    schema = await rebuild(world.query.runtime.pool, ResidentsProjection(), world.query.kafka)
    assert schema.startswith("residents_g")
    assert await _snapshot(world.query.runtime.pool) == before
    # and the live runner keeps writing into the new generation
    son = world.people["son"]
    written = await world.registry.emit(
        f"resident-{son}",
        ResidentDetailsCorrected(resident_id=son, name="张小明", reason="back"),
        area=world.grid1,
    )
    await world.registry.publish()
    response = await world.client.get(
        f"/residents/{son}", params={"consistency_token": written}, headers=ADMIN
    )
    assert response.headers["x-consistency"] == "fresh"
    assert response.json()["resident"]["name"] == "张小明"
