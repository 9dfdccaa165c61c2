"""The health read models: health and registry events through the real relays and broker into
the query API — the visit board (programmes for doctors only), the 65+ coverage, health
activities, the profile's health section, scoping, read-your-writes and redelivery.

The world (today T, this year Y), community C with grids G1 and G2, community C2 with grid G3:

- 陈一 (G1, 1950, doctor doc-1): elderly programme since Y-5, check-up done on Y-01-02;
- 林二 (G1, turns 65 in Y, doc-1): enrolled on turning 65, check-up due at T+10;
- 周三 (G1, 64 on 31 Dec Y, doc-1): a hypertension follow-up overdue since T-20, and a diabetes
  follow-up that was overdue and is rescheduled to T+20;
- 吴四 (G1, 1940, doc-2): check-up done on Y-01-02, died on Y-01-05: record closed, visit
  cancelled, programme left;
- 郑五 (G2, 1945, no family doctor until doc-3): check-up done last year; one visit skipped,
  the next due at T+25;
- 孙七 (G1 → G2, 1985): a hypertension follow-up done in G1, the next one open when the record
  moved to G2;
- 钱六 (C2/G3, doc-9): record closed (moved out) and reopened; a check-up due at T+1.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from anju_contracts import Actor, Event
from anju_contracts.health import (
    CATALOG,
    ActivityKind,
    CancelReason,
    CloseReason,
    EnrolmentReason,
    FamilyDoctorAssigned,
    HealthActivityHeld,
    HealthRecordClosed,
    HealthRecordOpened,
    HealthRecordRelocated,
    HealthRecordReopened,
    LeaveReason,
    Programme,
    ProgrammeEnrolled,
    ProgrammeLeft,
    RescheduleReason,
    SkipReason,
    VisitBooked,
    VisitCancelled,
    VisitCompleted,
    VisitKind,
    VisitOverdue,
    VisitRescheduled,
    VisitSkipped,
)
from anju_contracts.registry import (
    CATALOG as REGISTRY_CATALOG,
    AreaPath,
    ResidentDied,
    ResidentMoved,
    ResidentRegistered,
    Sex,
)
from anju_query.testing import Source, area_tree, caught_up, consumed_to_end, read_side, write_side
from eventkit.auth import Role, issue_token
from eventkit.settings import KafkaSettings
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import databases

SECRET = "query-tests-secret-0123456789abcdef"
ACTOR = Actor(id="doc-1", roles=("doctor",))
TODAY = datetime.now(UTC).date()
Y = TODAY.year


def token(*roles: Role, areas: tuple[uuid.UUID, ...] = (), sub: str = "staff-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, roles, [str(a) for a in areas])}"}


ADMIN = token(Role.ADMIN)
DIAGNOSES = {"hypertension", "type2_diabetes"}
"""Programme names that name a diagnosis: what only doctors may read."""


@dataclass
class World:
    health: Source
    registry: Source
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    kafka: KafkaSettings
    c: uuid.UUID
    g1: uuid.UUID
    g2: uuid.UUID
    c2: uuid.UUID
    g3: uuid.UUID
    people: dict[str, uuid.UUID]
    visits: dict[str, uuid.UUID]


async def _seed_registry(reg: Source) -> tuple[dict[str, uuid.UUID], dict[str, AreaPath]]:
    ids, paths = await area_tree(reg)
    g1, g2 = ids["g1"], ids["g2"]
    people: dict[str, uuid.UUID] = {}
    born = {
        "chen": date(1950, 3, 1),
        "lin": date(Y - 65, 11, 15),
        "zhou": date(Y - 64, 1, 1),
        "wu": date(1940, 6, 1),
        "zheng": date(1945, 2, 2),
        "sun": date(1985, 8, 8),
        "qian": date(1948, 4, 4),
    }
    names = {
        "chen": "陈一",
        "lin": "林二",
        "zhou": "周三",
        "wu": "吴四",
        "zheng": "郑五",
        "sun": "孙七",
        "qian": "钱六",
    }
    home = {"zheng": "g2", "qian": "g3"}
    for n, key in enumerate(born):
        rid = people[key] = uuid.uuid4()
        path = paths[home.get(key, "g1")]
        assert path.grid_id is not None
        await reg.emit(
            f"resident-{rid}",
            ResidentRegistered(
                resident_id=rid,
                name=names[key],
                sex=Sex.FEMALE,
                date_of_birth=born[key],
                id_number=f"110101{born[key]:%Y%m%d}{n:04d}",
                path=path,
            ),
            area=path.grid_id,
        )
    wu, sun = people["wu"], people["sun"]
    await reg.emit(f"resident-{wu}", ResidentDied(resident_id=wu, died_on=date(Y, 1, 5)), area=g1)
    await reg.emit(
        f"resident-{sun}",
        ResidentMoved(resident_id=sun, from_path=paths["g1"], to_path=paths["g2"]),
        area=g2,
    )
    return {**people, **{f"area:{k}": v for k, v in ids.items()}}, paths


def _booked(rid: uuid.UUID, vid: uuid.UUID, programme: Programme, due: date) -> VisitBooked:
    kind = VisitKind.CHECK_UP if programme == Programme.ELDERLY_ANNUAL else VisitKind.FOLLOW_UP
    return VisitBooked(resident_id=rid, visit_id=vid, programme=programme, kind=kind, due_on=due)


def _completed(rid: uuid.UUID, vid: uuid.UUID, programme: Programme, on: date) -> VisitCompleted:
    kind = VisitKind.CHECK_UP if programme == Programme.ELDERLY_ANNUAL else VisitKind.FOLLOW_UP
    return VisitCompleted(
        resident_id=rid,
        visit_id=vid,
        programme=programme,
        kind=kind,
        completed_on=on,
        doctor_id="doc-1",
    )


def _opened(rid: uuid.UUID, path: AreaPath, doctor: str | None) -> HealthRecordOpened:
    return HealthRecordOpened(
        resident_id=rid,
        opened_on=date(Y - 5, 1, 1),
        path=path,
        health_station="安居卫生站",
        family_doctor_id=doctor,
    )


def _enrolled(rid: uuid.UUID, programme: Programme, on: date, why: EnrolmentReason) -> Event:
    return ProgrammeEnrolled(resident_id=rid, programme=programme, enrolled_on=on, reason=why)


VISITS = (
    *("chen", "chen_next", "lin", "zhou_htn", "zhou_dm", "wu", "wu_next"),
    *("zheng_last", "zheng_skip", "zheng", "sun_done", "sun", "qian_old", "qian"),
)


async def _seed_health(
    h: Source, p: dict[str, uuid.UUID], paths: dict[str, AreaPath]
) -> dict[str, uuid.UUID]:
    v = {k: uuid.uuid4() for k in VISITS}
    t = TODAY
    ea, htn, dm = Programme.ELDERLY_ANNUAL, Programme.HYPERTENSION, Programme.TYPE2_DIABETES
    g1, g2, g3 = p["area:g1"], p["area:g2"], p["area:g3"]
    chen, lin, zhou, wu = p["chen"], p["lin"], p["zhou"], p["wu"]
    zheng, sun, qian = p["zheng"], p["sun"], p["qian"]
    await h.emit(
        f"record-{chen}",
        _opened(chen, paths["g1"], "doc-1"),
        _enrolled(chen, ea, date(Y - 5, 1, 1), EnrolmentReason.AGED_65_AT_REGISTRATION),
        _booked(chen, v["chen"], ea, date(Y, 1, 2)),
        _completed(chen, v["chen"], ea, date(Y, 1, 2)),
        _booked(chen, v["chen_next"], ea, date(Y + 1, 3, 1)),
        area=g1,
    )
    await h.emit(
        f"record-{lin}",
        _opened(lin, paths["g1"], "doc-1"),
        _enrolled(lin, ea, date(Y, 1, 1), EnrolmentReason.TURNED_65),
        _booked(lin, v["lin"], ea, t + timedelta(days=10)),
        area=g1,
    )
    await h.emit(
        f"record-{zhou}",
        _opened(zhou, paths["g1"], "doc-1"),
        _enrolled(zhou, htn, date(Y - 1, 1, 1), EnrolmentReason.DIAGNOSED),
        _enrolled(zhou, dm, date(Y - 1, 1, 1), EnrolmentReason.DIAGNOSED),
        _booked(zhou, v["zhou_htn"], htn, t - timedelta(days=20)),
        VisitOverdue(
            resident_id=zhou, visit_id=v["zhou_htn"], programme=htn, due_on=t - timedelta(days=20)
        ),
        _booked(zhou, v["zhou_dm"], dm, t - timedelta(days=40)),
        VisitOverdue(
            resident_id=zhou, visit_id=v["zhou_dm"], programme=dm, due_on=t - timedelta(days=40)
        ),
        VisitRescheduled(
            resident_id=zhou,
            visit_id=v["zhou_dm"],
            programme=dm,
            from_due_on=t - timedelta(days=40),
            due_on=t + timedelta(days=20),
            reason=RescheduleReason.HOSPITALISED,
        ),
        area=g1,
    )
    await h.emit(
        f"record-{wu}",
        _opened(wu, paths["g1"], "doc-2"),
        _enrolled(wu, ea, date(Y - 5, 1, 1), EnrolmentReason.AGED_65_AT_REGISTRATION),
        _booked(wu, v["wu"], ea, date(Y, 1, 2)),
        _completed(wu, v["wu"], ea, date(Y, 1, 2)),
        _booked(wu, v["wu_next"], ea, t + timedelta(days=5)),
        HealthRecordClosed(resident_id=wu, closed_on=date(Y, 1, 5), reason=CloseReason.DIED),
        VisitCancelled(
            resident_id=wu, visit_id=v["wu_next"], programme=ea, reason=CancelReason.RECORD_CLOSED
        ),
        ProgrammeLeft(
            resident_id=wu, programme=ea, left_on=date(Y, 1, 5), reason=LeaveReason.RECORD_CLOSED
        ),
        area=g1,
    )
    await h.emit(
        f"record-{zheng}",
        _opened(zheng, paths["g2"], None),
        _enrolled(zheng, ea, date(Y - 2, 1, 1), EnrolmentReason.AGED_65_AT_REGISTRATION),
        _booked(zheng, v["zheng_last"], ea, date(Y - 1, 6, 1)),
        _completed(zheng, v["zheng_last"], ea, date(Y - 1, 6, 1)),
        _booked(zheng, v["zheng_skip"], ea, t + timedelta(days=3)),
        VisitSkipped(
            resident_id=zheng,
            visit_id=v["zheng_skip"],
            programme=ea,
            skipped_on=t,
            reason=SkipReason.AWAY,
        ),
        _booked(zheng, v["zheng"], ea, t + timedelta(days=25)),
        FamilyDoctorAssigned(resident_id=zheng, health_station="二站", family_doctor_id="doc-3"),
        area=g2,
    )
    await h.emit(
        f"record-{sun}",
        _opened(sun, paths["g1"], "doc-1"),
        _enrolled(sun, htn, date(Y - 1, 1, 1), EnrolmentReason.DIAGNOSED),
        _booked(sun, v["sun_done"], htn, t - timedelta(days=1)),
        _completed(sun, v["sun_done"], htn, t - timedelta(days=1)),
        _booked(sun, v["sun"], htn, t + timedelta(days=7)),
        HealthRecordRelocated(resident_id=sun, path=paths["g2"]),
        area=g2,
    )
    await h.emit(
        f"record-{qian}",
        _opened(qian, paths["g3"], "doc-9"),
        _booked(qian, v["qian_old"], ea, t + timedelta(days=2)),
        HealthRecordClosed(resident_id=qian, closed_on=t, reason=CloseReason.MOVED_OUT),
        VisitCancelled(
            resident_id=qian,
            visit_id=v["qian_old"],
            programme=ea,
            reason=CancelReason.RECORD_CLOSED,
        ),
        HealthRecordReopened(resident_id=qian, reopened_on=t, path=paths["g3"]),
        _booked(qian, v["qian"], ea, t + timedelta(days=1)),
        area=g3,
    )
    activities = [
        (ActivityKind.FREE_CHECK_UP_DAY, date(Y, 3, 1), paths["g1"], 40),
        (ActivityKind.PREVENTION_TALK, date(Y, 4, 1), paths["c"], 25),
        (ActivityKind.ON_SITE_CONSULTATION, date(Y, 5, 1), paths["g2"], 12),
        (ActivityKind.FREE_CHECK_UP_DAY, date(Y, 3, 2), paths["c2"], 99),
    ]
    for kind, held, path, served in activities:
        aid = uuid.uuid4()
        await h.emit(
            f"activity-{aid}",
            HealthActivityHeld(
                activity_id=aid,
                kind=kind,
                held_on=held,
                path=path,
                place="社区卫生站",
                at_station=True,
                partner="市第三医院",
                staff=["doc-1", "nurse-1"],
                served=served,
                topic=None,
            ),
            area=path.grid_id or path.community_id,
        )
    return v


@asynccontextmanager
async def world_of(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"h{uuid.uuid4().hex[:10]}.")
    async with (
        databases(pg_server_url, "health", "registry", "read") as urls,
        write_side("health", urls[0], kafka, CATALOG, secret=SECRET, actor=ACTOR) as health,
        write_side(
            "registry", urls[1], kafka, REGISTRY_CATALOG, secret=SECRET, actor=ACTOR
        ) as registry,
    ):
        people, paths = await _seed_registry(registry)
        visits = await _seed_health(health, people, paths)
        await registry.publish()
        await health.publish()
        clock = ManualClock(datetime.combine(TODAY, datetime.min.time(), UTC))
        async with read_side(urls[2], kafka, SECRET, clock=clock) as query:
            await caught_up(query.pool, registry, "residents")
            await caught_up(query.pool, health, "health")
            yield World(
                health,
                registry,
                query.client,
                query.pool,
                kafka,
                people["area:c"],
                people["area:g1"],
                people["area:g2"],
                people["area:c2"],
                people["area:g3"],
                {k: v for k, v in people.items() if not k.startswith("area:")},
                visits,
            )


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def world(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    async with world_of(pg_server_url, kafka_bootstrap) as seeded:
        yield seeded


async def _get(world: World, url: str, headers: dict[str, str], **params: Any) -> Any:
    response = await world.client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


# -- the projection -------------------------------------------------------------------------


async def test_every_event_type_lands_in_its_row(world: World) -> None:
    v, p = world.visits, world.people
    async with world.pool.acquire() as conn:
        visits = {
            r["visit_id"]: r
            for r in await conn.fetch(
                "SELECT visit_id, state, overdue, due_on, grid_id, completed_on, skipped_on"
                " FROM health.visits"
            )
        }
        records = {r["resident_id"]: r for r in await conn.fetch("SELECT * FROM health.records")}
        enrolments = {
            (r["resident_id"], r["programme"]): r
            for r in await conn.fetch("SELECT * FROM health.enrolments")
        }
        activities = await conn.fetch("SELECT * FROM health.activities ORDER BY held_on")
    t = TODAY
    assert visits[v["chen"]]["state"] == "completed"
    assert visits[v["chen"]]["completed_on"] == date(Y, 1, 2)
    assert visits[v["chen_next"]]["state"] == "open"
    assert visits[v["zhou_htn"]]["overdue"] is True
    # rescheduled: moved and no longer overdue
    assert (visits[v["zhou_dm"]]["due_on"], visits[v["zhou_dm"]]["overdue"]) == (
        t + timedelta(days=20),
        False,
    )
    assert visits[v["zheng_skip"]]["state"] == "skipped"
    assert visits[v["zheng_skip"]]["skipped_on"] == t
    assert visits[v["wu_next"]]["state"] == "cancelled"
    # relocated: the open visit moved with the record, the one done in G1 stayed there
    assert visits[v["sun"]]["grid_id"] == world.g2
    assert visits[v["sun_done"]]["grid_id"] == world.g1
    assert records[p["sun"]]["grid_id"] == world.g2
    assert (records[p["wu"]]["status"], records[p["wu"]]["close_reason"]) == ("closed", "died")
    assert records[p["wu"]]["closed_on"] == date(Y, 1, 5)
    assert (records[p["qian"]]["status"], records[p["qian"]]["closed_on"]) == ("open", None)
    assert records[p["zheng"]]["family_doctor_id"] == "doc-3"
    assert records[p["zheng"]]["health_station"] == "二站"
    left = enrolments[(p["wu"], "elderly_annual")]
    assert (left["active"], left["left_on"]) == (False, date(Y, 1, 5))
    assert enrolments[(p["lin"], "elderly_annual")]["active"] is True
    assert [a["served"] for a in activities] == [40, 99, 25, 12]
    assert activities[0]["kind"] == "free_check_up_day"


async def _snapshot(pool: asyncpg.Pool) -> dict[str, list[str]]:
    async with pool.acquire() as conn:
        return {
            table: [
                r[0] for r in await conn.fetch(f"SELECT x::text FROM health.{table} x ORDER BY 1")
            ]
            for table in ("records", "enrolments", "visits", "activities", "stream_versions")
        }


async def test_redelivered_health_events_change_nothing(world: World) -> None:
    await consumed_to_end(world.pool, world.health, "health")
    before = await _snapshot(world.pool)
    await world.health.publish_again()
    await consumed_to_end(world.pool, world.health, "health")
    assert await _snapshot(world.pool) == before


# -- the visit board ------------------------------------------------------------------------


def _by_name(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    items: dict[str, list[dict[str, Any]]] = {}
    for item in body["items"]:
        items.setdefault(item["name"], []).append(item)
    return items


async def test_the_board_lists_open_visits_due_within_the_horizon_and_the_overdue(
    world: World,
) -> None:
    doctor = token(Role.DOCTOR, areas=(world.c,), sub="doc-1")
    body = await _get(world, "/health/visits", doctor)
    items = _by_name(body)
    # 陈一's next check-up is next year; 吴四's was cancelled, 郑五's skipped one is gone
    assert sorted(items) == ["周三", "孙七", "林二", "郑五"]
    assert body["due_by"] == str(TODAY + timedelta(days=30))
    zhou = {i["programme"]: i for i in items["周三"]}
    assert zhou["hypertension"]["state"] == "overdue"
    assert zhou["hypertension"]["overdue"] is True
    assert zhou["type2_diabetes"]["state"] == "due"
    assert zhou["type2_diabetes"]["due_on"] == str(TODAY + timedelta(days=20))
    assert items["林二"][0]["kind"] == "check_up"
    assert items["林二"][0]["family_doctor_id"] == "doc-1"
    assert items["林二"][0]["grid_name"] == "一网格"
    assert items["郑五"][0]["family_doctor_id"] == "doc-3"
    assert items["孙七"][0]["grid_id"] == str(world.g2)
    groups = {
        (g["grid_name"], g["family_doctor_id"]): (g["due"], g["overdue"]) for g in body["groups"]
    }
    assert groups == {
        ("一网格", "doc-1"): (2, 1),
        ("二网格", "doc-1"): (1, 0),
        ("二网格", "doc-3"): (1, 0),
    }
    assert body["total"] == 5
    soon = await _get(world, "/health/visits", doctor, within_days=10)
    assert sorted(i["name"] for i in soon["items"]) == ["周三", "孙七", "林二"]
    overdue = await _get(world, "/health/visits", doctor, state="overdue")
    assert [(i["name"], i["programme"]) for i in overdue["items"]] == [("周三", "hypertension")]
    mine = await _get(world, "/health/visits", doctor, doctor_id="doc-3")
    assert [i["name"] for i in mine["items"]] == ["郑五"]
    grid2 = await _get(world, "/health/visits", doctor, area_id=str(world.g2))
    assert sorted(i["name"] for i in grid2["items"]) == ["孙七", "郑五"]
    page = await _get(world, "/health/visits", doctor, limit=2, offset=0)
    assert (len(page["items"]), page["total"]) == (2, 5)


@pytest.mark.parametrize("role", [Role.GRID_WORKER, Role.DIRECTOR, Role.DESK_STAFF])
async def test_only_doctors_see_which_programme_a_visit_is_for(world: World, role: Role) -> None:
    body = await _get(world, "/health/visits", token(role, areas=(world.c,)))
    assert body["total"] == 5
    assert {i["programme"] for i in body["items"]} == {None}
    assert {i["kind"] for i in body["items"]} == {"check_up", "follow_up"}
    assert not DIAGNOSES & set(str(body).split("'"))
    profile = await _get(world, f"/residents/{world.people['zhou']}", token(role, areas=(world.c,)))
    assert {v["programme"] for v in profile["health"]["open_visits"]} == {None}
    assert not DIAGNOSES & set(str(profile).split("'"))


async def test_the_admin_sees_programmes_too(world: World) -> None:
    body = await _get(world, "/health/visits", ADMIN, area_id=str(world.g1))
    assert {i["programme"] for i in body["items"]} == {
        "elderly_annual",
        "hypertension",
        "type2_diabetes",
    }


async def test_a_grid_worker_sees_their_grid_only(world: World) -> None:
    g1 = await _get(world, "/health/visits", token(Role.GRID_WORKER, areas=(world.g1,)))
    assert sorted({i["name"] for i in g1["items"]}) == ["周三", "林二"]
    assert "郑五" not in {i["name"] for i in g1["items"]}
    other = token(Role.GRID_WORKER, areas=(world.g3,))
    theirs = await _get(world, "/health/visits", other)
    assert [(i["name"], i["programme"]) for i in theirs["items"]] == [("钱六", None)]
    # asking for another grid by name answers nothing, not an error
    asked = await _get(world, "/health/visits", other, area_id=str(world.g1))
    assert (asked["items"], asked["groups"], asked["total"]) == ([], [], 0)
    nobody = await _get(world, "/health/visits", token(Role.GRID_WORKER))
    assert nobody["total"] == 0


@pytest.mark.parametrize("role", [Role.MEDIATOR, Role.POLICE, Role.VOLUNTEER_COORDINATOR])
async def test_roles_without_health_rights_read_no_health(world: World, role: Role) -> None:
    headers = token(role, areas=(world.c,))
    for url in ("/health/visits", "/health/coverage", "/health/activities"):
        response = await world.client.get(url, headers=headers)
        assert response.status_code == 403, (url, response.text)


async def test_desk_staff_read_no_coverage(world: World) -> None:
    response = await world.client.get(
        "/health/coverage", headers=token(Role.DESK_STAFF, areas=(world.c,))
    )
    assert response.status_code == 403


# -- the profile ----------------------------------------------------------------------------


async def test_the_profile_has_the_health_record_and_its_open_visits(world: World) -> None:
    doctor = token(Role.DOCTOR, areas=(world.c,), sub="doc-1")
    profile = await _get(world, f"/residents/{world.people['zhou']}", doctor)
    health = profile["health"]
    assert health["status"] == "open"
    assert health["family_doctor_id"] == "doc-1"
    assert health["health_station"] == "安居卫生站"
    assert [(v["programme"], v["overdue"], v["kind"]) for v in health["open_visits"]] == [
        ("hypertension", True, "follow_up"),
        ("type2_diabetes", False, "follow_up"),
    ]
    assert profile["resident"]["name"] == "周三"
    dead = await _get(world, f"/residents/{world.people['wu']}", doctor)
    assert (dead["health"]["status"], dead["health"]["closed_on"]) == ("closed", f"{Y}-01-05")
    assert dead["health"]["open_visits"] == []


async def test_a_doctor_of_another_community_gets_404_on_the_profile(world: World) -> None:
    other = token(Role.DOCTOR, areas=(world.c2,), sub="doc-9")
    response = await world.client.get(f"/residents/{world.people['zhou']}", headers=other)
    assert response.status_code == 404
    assert str(world.c) not in response.text
    own = await _get(world, f"/residents/{world.people['qian']}", other)
    assert own["health"]["open_visits"][0]["programme"] == "elderly_annual"


async def test_a_profile_without_a_health_record_has_none(world: World) -> None:
    rid = uuid.uuid4()
    written = await world.registry.emit(
        f"resident-{rid}",
        ResidentRegistered(
            resident_id=rid,
            name="冯八",
            sex=Sex.MALE,
            date_of_birth=date(1990, 1, 1),
            id_number="110101199001019999",
            path=AreaPath(community_id=world.c, grid_id=world.g1),
        ),
        area=world.g1,
    )
    await world.registry.publish()
    response = await world.client.get(
        f"/residents/{rid}", params={"consistency_token": written}, headers=ADMIN
    )
    assert response.headers["x-consistency"] == "fresh"
    assert response.json()["health"] is None


# -- coverage -------------------------------------------------------------------------------


def _grid(body: dict[str, Any], name: str) -> dict[str, Any]:
    return next(g for g in body["grids"] if g["grid_name"] == name)


async def test_coverage_counts_the_65_plus_alive_on_the_last_day_of_the_year(world: World) -> None:
    director = token(Role.DIRECTOR, areas=(world.c,))
    body = await _get(world, "/health/coverage", director, area_id=str(world.c))
    assert body["year"] == Y
    # G1: 陈一 (checked up) and 林二 (turns 65 this year); not 周三 (64), not 吴四 (died)
    g1 = _grid(body, "一网格")
    assert (g1["aged_65_plus"], g1["enrolled"], g1["checked_up"], g1["share"]) == (2, 2, 1, 0.5)
    # G2: 郑五, checked up last year only
    g2 = _grid(body, "二网格")
    assert (g2["aged_65_plus"], g2["enrolled"], g2["checked_up"], g2["share"]) == (1, 1, 0, 0.0)
    assert (body["aged_65_plus"], body["enrolled"], body["checked_up"]) == (3, 3, 1)
    assert body["share"] == 0.3333
    # the other community is out of this one's figures
    assert {g["grid_name"] for g in body["grids"]} == {"一网格", "二网格"}


async def test_coverage_of_a_past_year(world: World) -> None:
    body = await _get(world, "/health/coverage", ADMIN, area_id=str(world.c), year=Y - 1)
    # Y-1: 林二 was 64; 吴四 was alive and enrolled on its last day; 郑五 was checked up
    g1 = _grid(body, "一网格")
    assert (g1["aged_65_plus"], g1["enrolled"], g1["checked_up"]) == (2, 2, 0)
    g2 = _grid(body, "二网格")
    assert (g2["aged_65_plus"], g2["enrolled"], g2["checked_up"], g2["share"]) == (1, 1, 1, 1.0)


async def test_coverage_of_one_grid_and_within_scope(world: World) -> None:
    worker = token(Role.GRID_WORKER, areas=(world.g2,))
    body = await _get(world, "/health/coverage", worker)
    assert [g["grid_name"] for g in body["grids"]] == ["二网格"]
    assert (body["aged_65_plus"], body["checked_up"]) == (1, 0)
    # asking for the whole community still counts only the grid the caller covers
    whole = await _get(world, "/health/coverage", worker, area_id=str(world.c))
    assert whole["aged_65_plus"] == 1
    elsewhere = token(Role.DOCTOR, areas=(world.c2,))
    none = await _get(world, "/health/coverage", elsewhere, area_id=str(world.c))
    assert (none["aged_65_plus"], none["grids"], none["share"]) == (0, [], None)


# -- activities -----------------------------------------------------------------------------


async def test_activities_list_and_summary_per_kind(world: World) -> None:
    director = token(Role.DIRECTOR, areas=(world.c,))
    body = await _get(world, "/health/activities", director)
    assert body["summary"]["count"] == 3
    assert body["summary"]["served"] == 77
    assert {k["kind"]: (k["count"], k["served"]) for k in body["summary"]["by_kind"]} == {
        "free_check_up_day": (1, 40),
        "prevention_talk": (1, 25),
        "on_site_consultation": (1, 12),
    }
    assert [i["held_on"] for i in body["items"]] == [f"{Y}-05-01", f"{Y}-04-01", f"{Y}-03-01"]
    assert body["items"][0]["staff"] == ["doc-1", "nurse-1"]
    spring = await _get(
        world, "/health/activities", director, **{"from": f"{Y}-03-15", "to": f"{Y}-04-30"}
    )
    assert (spring["summary"]["count"], spring["summary"]["served"]) == (1, 25)
    talks = await _get(world, "/health/activities", director, kind="free_check_up_day")
    assert talks["total"] == 1
    grid2 = await _get(world, "/health/activities", director, area_id=str(world.g2))
    assert [i["kind"] for i in grid2["items"]] == ["on_site_consultation"]
    page = await _get(world, "/health/activities", director, limit=1)
    assert (len(page["items"]), page["total"], page["summary"]["count"]) == (1, 3, 3)
    everywhere = await _get(world, "/health/activities", ADMIN)
    assert (everywhere["summary"]["count"], everywhere["summary"]["served"]) == (4, 176)
    worker = await _get(world, "/health/activities", token(Role.GRID_WORKER, areas=(world.g1,)))
    assert [i["served"] for i in worker["items"]] == [40]


# -- read your writes -----------------------------------------------------------------------


async def test_a_health_token_waits_for_the_health_read_model(world: World) -> None:
    lin = world.people["lin"]
    written = await world.health.emit(
        f"record-{lin}",
        _completed(lin, world.visits["lin"], Programme.ELDERLY_ANNUAL, TODAY),
        area=world.g1,
    )
    assert written.startswith(f"health:record-{lin}:")

    async def publish_later() -> None:
        await asyncio.sleep(0.3)
        await world.health.publish()

    publishing = asyncio.create_task(publish_later())
    response = await world.client.get(
        "/health/coverage",
        params={"consistency_token": written, "area_id": str(world.g1)},
        headers=ADMIN,
    )
    await publishing
    assert response.headers["x-consistency"] == "fresh"
    assert response.json()["checked_up"] == 2
    board = await world.client.get(
        "/health/visits", headers={**ADMIN, "X-Consistency-Token": written}
    )
    assert board.headers["x-consistency"] == "fresh"
    assert "林二" not in {i["name"] for i in board.json()["items"]}
