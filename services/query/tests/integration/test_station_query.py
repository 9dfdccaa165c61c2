"""The station read models: station and registry events through the real relays and broker into
the query API — receptions counted per day, week and month, the convenience services with their
summary, the profile's station section, scoping, read-your-writes and redelivery.

The world: community C with grids G1 and G2, community C2; 陈一 lives in G1, 林二 in G2, both in
C; the registry knows the agency 户籍科 serving C. Receptions (UTC):

- r1 2025-03-03 09:00 陈一 at G1, convenience service + consultation, came by themself;
- r2 2025-03-03 15:00 anonymous at C, consultation, sent by the 12345 hotline;
- r3 2025-03-05 10:00 林二 at G2, elderly window, sent by their grid worker;
- r4 2025-03-12 09:00 anonymous at G1, complaint, sent by a partner;
- r5 2025-04-01 01:00 +08:00 (2025-03-31 17:00 UTC) 陈一 at G1, certificate;
- r6 2025-04-02 10:00 陈一 at G1, certificate;
- r7 2025-03-03 11:00 anonymous at C2, lecture; r8 2025-03-04 陈一 at C2's desk, consultation.

Services: s1 陈一's residence certificate at G1 — a one-time notice, accepted, handed off to 户籍科,
completed 72 h after receipt, satisfaction 5; s2 林二's residence certificate at G2, completed
after 2 h, satisfaction 3; s3 an anonymous elderly-window bill help (electricity) at G1,
completed after 1 h; s4 林二's residence certificate handed off and overdue; s5 陈一's residence
certificate overdue and completed after 144 h; s6 an anonymous pension certification refused;
s7 a bill help received at C2.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from anju_contracts import Actor, Event
from anju_contracts.registry import (
    CATALOG as REGISTRY_CATALOG,
    AreaPath,
    OrganisationKind,
    OrganisationRegistered,
    ResidentRegistered,
    Sex,
)
from anju_contracts.station import (
    CATALOG,
    BillType,
    CallbackRecorded,
    HandOffOverdue,
    OneTimeNoticeIssued,
    Outcome,
    Purpose,
    ReceptionLogged,
    Referral,
    ServiceAccepted,
    ServiceCompleted,
    ServiceHandedOff,
    ServiceReceived,
    ServiceRefused,
)
from anju_query.testing import Source, area_tree, caught_up, consumed_to_end, read_side, write_side
from eventkit.auth import Role, issue_token
from eventkit.settings import KafkaSettings
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import databases

SECRET = "query-tests-secret-0123456789abcdef"
ACTOR = Actor(id="desk-1", roles=("desk_staff",))


def token(*roles: Role, areas: tuple[uuid.UUID, ...] = (), sub: str = "staff-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, roles, [str(a) for a in areas])}"}


ADMIN = token(Role.ADMIN)
T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
"""Monday 3 March 2025, 09:00 UTC: the first reception."""
PLUS_8 = timezone(timedelta(hours=8))


@dataclass
class World:
    station: Source
    registry: Source
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    kafka: KafkaSettings
    ids: dict[str, uuid.UUID]


async def _seed_registry(reg: Source) -> tuple[dict[str, uuid.UUID], dict[str, AreaPath]]:
    ids, paths = await area_tree(reg)
    c = ids["c"]
    for n, (key, name, grid) in enumerate([("chen", "陈一", "g1"), ("lin", "林二", "g2")]):
        rid = ids[key] = uuid.uuid4()
        await reg.emit(
            f"resident-{rid}",
            ResidentRegistered(
                resident_id=rid,
                name=name,
                sex=Sex.FEMALE,
                date_of_birth=date(1950, 1, 1),
                id_number=f"11010119500101{n:04d}",
                path=paths[grid],
            ),
            area=ids[grid],
        )
    oid = ids["agency"] = uuid.uuid4()
    await reg.emit(
        f"organisation-{oid}",
        OrganisationRegistered(
            organisation_id=oid, kind=OrganisationKind.OTHER, name="户籍科", community_ids=[c]
        ),
        area=c,
    )
    return ids, paths


def _reception(
    ids: dict[str, uuid.UUID],
    key: str,
    who: str | None,
    at: datetime,
    purposes: list[Purpose],
    referral: Referral,
    outcome: Outcome,
    path: AreaPath,
) -> ReceptionLogged:
    rid = ids[key] = uuid.uuid4()
    return ReceptionLogged(
        reception_id=rid,
        resident_id=None if who is None else ids[who],
        purposes=purposes,
        referred_by=referral,
        outcome=outcome,
        path=path,
        staff_id="desk-1",
        logged_at=at,
        note="来访者的私事" if who else None,
    )


def _received(
    ids: dict[str, uuid.UUID],
    key: str,
    kind: str,
    who: str | None,
    at: datetime,
    path: AreaPath,
    bill: BillType | None = None,
) -> ServiceReceived:
    sid = ids[key] = uuid.uuid4()
    return ServiceReceived(
        service_id=sid,
        service_type=kind,
        resident_id=None if who is None else ids[who],
        path=path,
        staff_id="desk-1",
        received_at=at,
        bill_type=bill,
    )


def _hand_off(ids: dict[str, uuid.UUID], key: str, at: datetime, due: datetime) -> Event:
    return ServiceHandedOff(
        service_id=ids[key], organisation_id=ids["agency"], handed_off_at=at, due_by=due
    )


async def _seed_station(s: Source, ids: dict[str, uuid.UUID], paths: dict[str, AreaPath]) -> None:
    h = timedelta(hours=1)
    d = timedelta(days=1)
    CS, CONS, ELD = Purpose.CONVENIENCE_SERVICE, Purpose.CONSULTATION, Purpose.ELDERLY_WINDOW
    receptions = [
        ("r1", "chen", T0, [CS, CONS], Referral.SELF, Outcome.SERVICE_STARTED, "g1"),
        ("r2", None, T0 + 6 * h, [CONS], Referral.HOTLINE_12345, Outcome.ANSWERED, "c"),
        ("r3", "lin", T0 + 2 * d + h, [ELD], Referral.GRID_WORKER, Outcome.SERVICE_STARTED, "g2"),
        ("r4", None, T0 + 9 * d, [Purpose.COMPLAINT], Referral.PARTNER, Outcome.REFERRED, "g1"),
        (
            "r5",
            "chen",
            datetime(2025, 4, 1, 1, 0, tzinfo=PLUS_8),
            [Purpose.CERTIFICATE],
            Referral.SELF,
            Outcome.APPOINTMENT,
            "g1",
        ),
        (
            "r6",
            "chen",
            datetime(2025, 4, 2, 10, 0, tzinfo=UTC),
            [Purpose.CERTIFICATE],
            Referral.SELF,
            Outcome.ANSWERED,
            "g1",
        ),
        ("r7", None, T0 + 2 * h, [Purpose.LECTURE], Referral.SELF, Outcome.ANSWERED, "c2"),
        ("r8", "chen", T0 + d, [CONS], Referral.OTHER, Outcome.ANSWERED, "c2"),
    ]
    for key, who, at, purposes, referral, outcome, where in receptions:
        event = _reception(ids, key, who, at, purposes, referral, outcome, paths[where])
        await s.emit(f"reception-{event.reception_id}", event, area=paths[where].community_id)

    async def service(key: str, area: uuid.UUID, *events: Event) -> None:
        await s.emit(f"service-{ids[key]}", *events, area=area)

    cert = "residence_certificate"
    t1 = T0 + timedelta(minutes=10)
    received = _received(ids, "s1", cert, "chen", t1, paths["g1"])
    await service(
        "s1",
        ids["g1"],
        received.model_copy(update={"reception_id": ids["r1"]}),
        OneTimeNoticeIssued(
            service_id=ids["s1"],
            notice_number="N-001",
            missing=["户口本复印件"],
            issued_at=t1 + h,
        ),
        ServiceAccepted(service_id=ids["s1"], accepted_at=t1 + d),
        _hand_off(ids, "s1", t1 + d + h, t1 + 7 * d),
        ServiceCompleted(service_id=ids["s1"], completed_at=t1 + 3 * d, outcome="已办结"),
        CallbackRecorded(service_id=ids["s1"], satisfaction=5, called_at=t1 + 4 * d),
    )
    t2 = T0 + 2 * d + h
    await service(
        "s2",
        ids["g2"],
        _received(ids, "s2", cert, "lin", t2, paths["g2"]),
        ServiceAccepted(service_id=ids["s2"], accepted_at=t2),
        ServiceCompleted(service_id=ids["s2"], completed_at=t2 + 2 * h),
        CallbackRecorded(service_id=ids["s2"], satisfaction=3, called_at=t2 + d, note="慢"),
    )
    await service(
        "s3",
        ids["g1"],
        _received(ids, "s3", "bill_help", None, t2, paths["g1"], BillType.ELECTRICITY),
        ServiceAccepted(service_id=ids["s3"], accepted_at=t2),
        ServiceCompleted(service_id=ids["s3"], completed_at=t2 + h),
    )
    await service(
        "s4",
        ids["g2"],
        _received(ids, "s4", cert, "lin", t2 + h, paths["g2"]),
        ServiceAccepted(service_id=ids["s4"], accepted_at=t2 + h),
        _hand_off(ids, "s4", t2 + 2 * h, t2 + 3 * d),
        HandOffOverdue(service_id=ids["s4"], organisation_id=ids["agency"], due_by=t2 + 3 * d),
    )
    await service(
        "s5",
        ids["g1"],
        _received(ids, "s5", cert, "chen", t1 - d, paths["g1"]),
        ServiceAccepted(service_id=ids["s5"], accepted_at=t1 - d),
        _hand_off(ids, "s5", t1 - d, t1 + 2 * d),
        HandOffOverdue(service_id=ids["s5"], organisation_id=ids["agency"], due_by=t1 + 2 * d),
        ServiceCompleted(service_id=ids["s5"], completed_at=t1 + 5 * d),
    )
    await service(
        "s6",
        ids["c"],
        _received(ids, "s6", "pension_certification", None, T0 + 10 * d, paths["c"]),
        ServiceRefused(service_id=ids["s6"], refused_at=T0 + 10 * d + h, reason="不符合条件"),
    )
    await service("s7", ids["c2"], _received(ids, "s7", "bill_help", None, T0, paths["c2"]))


@asynccontextmanager
async def world_of(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"s{uuid.uuid4().hex[:10]}.")
    async with (
        databases(pg_server_url, "station", "registry", "read") as urls,
        write_side("station", urls[0], kafka, CATALOG, secret=SECRET, actor=ACTOR) as station,
        write_side(
            "registry", urls[1], kafka, REGISTRY_CATALOG, secret=SECRET, actor=ACTOR
        ) as registry,
    ):
        ids, paths = await _seed_registry(registry)
        await _seed_station(station, ids, paths)
        await registry.publish()
        await station.publish()
        clock = ManualClock(T0 + timedelta(days=60))
        async with read_side(urls[2], kafka, SECRET, clock=clock) as query:
            await caught_up(query.pool, registry, "residents")
            await caught_up(query.pool, station, "station")
            yield World(station, registry, query.client, query.pool, kafka, ids)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def world(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    async with world_of(pg_server_url, kafka_bootstrap) as seeded:
        yield seeded


async def _get(world: World, url: str, headers: dict[str, str], **params: Any) -> Any:
    response = await world.client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def desk(world: World, area: str = "c") -> dict[str, str]:
    return token(Role.DESK_STAFF, areas=(world.ids[area],), sub=f"desk-{area}")


# -- the projection -------------------------------------------------------------------------


async def test_every_event_type_lands_in_its_row(world: World) -> None:
    ids = world.ids
    async with world.pool.acquire() as conn:
        receptions = {
            r["reception_id"]: r for r in await conn.fetch("SELECT * FROM station.receptions")
        }
        services = {r["service_id"]: r for r in await conn.fetch("SELECT * FROM station.services")}
    r1 = receptions[ids["r1"]]
    assert r1["purposes"] == ["convenience_service", "consultation"]
    assert (r1["referred_by"], r1["outcome"], r1["resident_id"]) == (
        "self",
        "service_started",
        ids["chen"],
    )
    assert (r1["community_id"], r1["grid_id"]) == (ids["c"], ids["g1"])
    assert receptions[ids["r2"]]["resident_id"] is None
    # logged at 01:00 on 1 April in UTC+8: 31 March in UTC
    assert receptions[ids["r5"]]["logged_on"] == date(2025, 3, 31)
    s1 = services[ids["s1"]]
    assert (s1["status"], s1["notices"], s1["last_notice"]) == ("completed", 1, "N-001")
    assert s1["reception_id"] == ids["r1"]
    assert s1["organisation_id"] == ids["agency"]
    assert s1["due_by"] == T0 + timedelta(minutes=10, days=7)
    assert s1["accepted_at"] == T0 + timedelta(minutes=10, days=1)
    assert (s1["satisfaction"], s1["overdue"]) == (5, False)
    assert services[ids["s3"]]["bill_type"] == "electricity"
    assert (services[ids["s4"]]["status"], services[ids["s4"]]["overdue"]) == ("handed_off", True)
    # completed late: still marked overdue
    assert (services[ids["s5"]]["status"], services[ids["s5"]]["overdue"]) == ("completed", True)
    s6 = services[ids["s6"]]
    assert (s6["status"], s6["refused_at"]) == ("refused", T0 + timedelta(days=10, hours=1))
    assert services[ids["s7"]]["status"] == "received"
    # nothing personal is kept: no note, no outcome text, no refusal reason
    columns = {c for r in (r1, s1) for c in r.keys()}  # noqa: SIM118
    assert not columns & {"note", "reason"}
    assert "已办结" not in str(list(services.values()))


async def _snapshot(pool: asyncpg.Pool) -> dict[str, list[str]]:
    async with pool.acquire() as conn:
        return {
            table: [
                r[0] for r in await conn.fetch(f"SELECT x::text FROM station.{table} x ORDER BY 1")
            ]
            for table in ("receptions", "services", "stream_versions")
        }


async def test_redelivered_station_events_change_nothing(world: World) -> None:
    await consumed_to_end(world.pool, world.station, "station")
    before = await _snapshot(world.pool)
    assert len(before["services"]) == 7
    await world.station.publish_again()
    await consumed_to_end(world.pool, world.station, "station")
    assert await _snapshot(world.pool) == before


# -- receptions -----------------------------------------------------------------------------


async def test_receptions_per_day_fill_the_days_nobody_came(world: World) -> None:
    body = await _get(
        world, "/station/receptions", desk(world), **{"from": "2025-03-03", "to": "2025-03-05"}
    )
    assert body["period"] == "day"
    assert body["total"] == 3
    days = {p["start"]: p for p in body["periods"]}
    assert list(days) == ["2025-03-03", "2025-03-04", "2025-03-05"]
    monday = days["2025-03-03"]
    assert monday["total"] == 2
    assert monday["by_purpose"]["consultation"] == 2
    assert monday["by_purpose"]["convenience_service"] == 1
    assert monday["by_purpose"]["lecture"] == 0
    assert (monday["by_referral"]["self"], monday["by_referral"]["hotline_12345"]) == (1, 1)
    assert days["2025-03-04"]["total"] == 0
    assert set(days["2025-03-04"]["by_purpose"].values()) == {0}
    assert days["2025-03-05"]["by_purpose"]["elderly_window"] == 1
    assert body["by_purpose"]["consultation"] == 2
    assert body["by_referral"]["grid_worker"] == 1


async def test_receptions_per_week_and_month(world: World) -> None:
    span = {"from": "2025-03-01", "to": "2025-04-30"}
    weeks = await _get(world, "/station/receptions", desk(world), period="week", **span)
    counts = {p["start"]: p["total"] for p in weeks["periods"]}
    assert counts["2025-02-24"] == 0  # the week 1 March falls in
    assert counts["2025-03-03"] == 3
    assert counts["2025-03-10"] == 1
    assert counts["2025-03-31"] == 2  # 31 March (UTC) and 2 April
    assert list(counts)[-1] == "2025-04-28"
    assert weeks["total"] == 6
    months = await _get(world, "/station/receptions", desk(world), period="month", **span)
    assert [(p["start"], p["total"]) for p in months["periods"]] == [
        ("2025-03-01", 5),
        ("2025-04-01", 1),
    ]
    assert months["by_purpose"]["certificate"] == 2
    assert months["by_referral"]["self"] == 3
    grid1 = await _get(
        world, "/station/receptions", desk(world), period="month", area_id=str(world.ids["g1"])
    )
    assert [(p["start"], p["total"]) for p in grid1["periods"]] == [
        ("2025-03-01", 3),
        ("2025-04-01", 1),
    ]
    # without bounds: from the first period anyone came to the last
    unbounded = await _get(world, "/station/receptions", ADMIN, period="month")
    assert [(p["start"], p["total"]) for p in unbounded["periods"]] == [
        ("2025-03-01", 7),
        ("2025-04-01", 1),
    ]


async def test_a_desk_clerk_of_another_community_sees_nothing_of_this_one(world: World) -> None:
    other = desk(world, "c2")
    theirs = await _get(world, "/station/receptions", other, period="month")
    assert theirs["total"] == 2
    assert theirs["by_purpose"]["lecture"] == 1
    asked = await _get(
        world, "/station/receptions", other, area_id=str(world.ids["c"]), period="month"
    )
    assert (asked["total"], asked["periods"]) == (0, [])
    services = await _get(world, "/station/services", other)
    assert [i["id"] for i in services["items"]] == [str(world.ids["s7"])]
    asked_services = await _get(world, "/station/services", other, area_id=str(world.ids["c"]))
    assert (asked_services["items"], asked_services["summary"], asked_services["total"]) == (
        [],
        [],
        0,
    )
    response = await world.client.get(f"/residents/{world.ids['chen']}", headers=other)
    assert response.status_code == 404
    nobody = await _get(world, "/station/receptions", token(Role.DESK_STAFF))
    assert nobody["total"] == 0


@pytest.mark.parametrize(
    "role", [Role.GRID_WORKER, Role.DOCTOR, Role.MEDIATOR, Role.VOLUNTEER_COORDINATOR]
)
async def test_roles_without_station_rights_read_no_station(world: World, role: Role) -> None:
    headers = token(role, areas=(world.ids["c"],))
    for url in ("/station/receptions", "/station/services"):
        response = await world.client.get(url, headers=headers)
        assert response.status_code == 403, (url, response.text)


async def test_a_range_that_ends_before_it_starts_is_400(world: World) -> None:
    response = await world.client.get(
        "/station/receptions",
        params={"from": "2025-03-05", "to": "2025-03-01"},
        headers=desk(world),
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_date_range"


async def test_ranges_at_the_end_of_the_calendar_or_too_long_are_answered(world: World) -> None:
    last_year = await world.client.get(
        "/station/receptions",
        params={"from": "9999-01-01", "to": "9999-12-31", "period": "month"},
        headers=desk(world),
    )
    assert last_year.status_code == 200, last_year.text
    assert len(last_year.json()["periods"]) == 12  # and no month after December 9999
    ages = await world.client.get(
        "/station/receptions",
        params={"from": "0001-01-01", "to": "9999-12-31"},
        headers=desk(world),
    )
    assert (ages.status_code, ages.json()["error"]["code"]) == (400, "too_many_periods")


# -- services -------------------------------------------------------------------------------


async def test_services_list_with_residents_agency_and_summary(world: World) -> None:
    ids = world.ids
    director = token(Role.DIRECTOR, areas=(ids["c"],))
    body = await _get(world, "/station/services", director)
    assert body["total"] == 6
    items = {i["id"]: i for i in body["items"]}
    # latest received first
    assert (body["items"][0]["id"], body["items"][-1]["id"]) == (str(ids["s6"]), str(ids["s5"]))
    s1 = items[str(ids["s1"])]
    assert (s1["resident_name"], s1["organisation_name"]) == ("陈一", "户籍科")
    assert (s1["status"], s1["satisfaction"], s1["notices"]) == ("completed", 5, 1)
    assert s1["due_by"] is not None
    assert s1["completed_at"] is not None
    s3 = items[str(ids["s3"])]
    assert (s3["resident_id"], s3["resident_name"], s3["bill_type"]) == (None, None, "electricity")
    assert items[str(ids["s4"])]["overdue"] is True
    summary = {(g["service_type"], g["status"]): g for g in body["summary"]}
    assert set(summary) == {
        ("bill_help", "completed"),
        ("pension_certification", "refused"),
        ("residence_certificate", "completed"),
        ("residence_certificate", "handed_off"),
    }
    done = summary[("residence_certificate", "completed")]
    # 72 h, 2 h and 144 h; satisfaction 5 and 3 (s5 had no callback)
    assert (done["count"], done["overdue"]) == (3, 1)
    assert done["mean_hours_to_completion"] == 72.67
    assert done["mean_satisfaction"] == 4.0
    bill = summary[("bill_help", "completed")]
    assert (bill["mean_hours_to_completion"], bill["mean_satisfaction"]) == (1.0, None)
    refused = summary[("pension_certification", "refused")]
    assert (refused["count"], refused["mean_hours_to_completion"]) == (1, None)


async def test_services_filtered_by_status_type_overdue_and_area(world: World) -> None:
    ids = world.ids
    staff = desk(world)
    overdue = await _get(world, "/station/services", staff, overdue="true")
    assert {i["id"] for i in overdue["items"]} == {str(ids["s4"]), str(ids["s5"])}
    still = await _get(world, "/station/services", staff, overdue="true", status="handed_off")
    assert [i["id"] for i in still["items"]] == [str(ids["s4"])]
    on_time = await _get(world, "/station/services", staff, overdue="false")
    assert on_time["total"] == 4
    bills = await _get(world, "/station/services", staff, service_type="bill_help")
    assert [i["id"] for i in bills["items"]] == [str(ids["s3"])]
    grid2 = await _get(world, "/station/services", staff, area_id=str(ids["g2"]))
    assert {i["resident_name"] for i in grid2["items"]} == {"林二"}
    assert grid2["total"] == 2
    page = await _get(world, "/station/services", staff, limit=2, offset=1)
    assert (len(page["items"]), page["total"]) == (2, 6)
    grid_desk = token(Role.DESK_STAFF, areas=(ids["g1"],))
    mine = await _get(world, "/station/services", grid_desk)
    assert {i["id"] for i in mine["items"]} == {str(ids[k]) for k in ("s1", "s3", "s5")}


# -- the profile ----------------------------------------------------------------------------


async def test_the_profile_has_the_station_section(world: World) -> None:
    ids = world.ids
    profile = await _get(world, f"/residents/{ids['chen']}", desk(world))
    station = profile["station"]
    # r8 was logged at C2's desk: out of this clerk's areas
    assert [r["id"] for r in station["receptions"]] == [str(ids[k]) for k in ("r6", "r5", "r1")]
    assert station["receptions"][2]["purposes"] == ["convenience_service", "consultation"]
    assert station["receptions"][2]["outcome"] == "service_started"
    assert [s["id"] for s in station["services"]] == [str(ids["s1"]), str(ids["s5"])]
    assert station["services"][0]["status"] == "completed"
    assert station["services"][1]["overdue"] is True
    # the existing sections are still there
    assert {"health", "services", "disputes", "petitions"} <= set(profile)
    everything = await _get(world, f"/residents/{ids['chen']}", ADMIN)
    assert len(everything["station"]["receptions"]) == 4
    doctor = token(Role.DOCTOR, areas=(ids["c"],))
    assert (await _get(world, f"/residents/{ids['chen']}", doctor))["station"] is None


# -- read your writes -----------------------------------------------------------------------


async def test_a_station_token_waits_for_the_station_read_model(world: World) -> None:
    sid = world.ids["s3"]
    written = await world.station.emit(
        f"service-{sid}",
        CallbackRecorded(service_id=sid, satisfaction=4, called_at=T0 + timedelta(days=4)),
        area=world.ids["g1"],
    )
    assert written.startswith(f"station:service-{sid}:")

    async def publish_later() -> None:
        await asyncio.sleep(0.3)
        await world.station.publish()

    publishing = asyncio.create_task(publish_later())
    response = await world.client.get(
        "/station/services",
        params={"consistency_token": written, "service_type": "bill_help"},
        headers=ADMIN,
    )
    await publishing
    assert response.headers["x-consistency"] == "fresh"
    bill = next(i for i in response.json()["items"] if i["id"] == str(sid))
    assert bill["satisfaction"] == 4


async def test_a_ledger_completion_by_the_due_date_was_never_overdue(
    pg_server_url: str, kafka_bootstrap: str
) -> None:
    """A hand-off from the paper ledger whose due date had passed was marked overdue by the
    scheduler at once; the ledger's completion, sent after the mark but dated before the due
    date, settles it as on time. One dated after the due date leaves the mark (as s5's)."""
    async with world_of(pg_server_url, kafka_bootstrap) as world:
        ids, d = world.ids, timedelta(days=1)
        path = AreaPath(community_id=ids["c"], grid_id=ids["g1"])
        cert = "residence_certificate"
        t = T0 - 30 * d
        for key, completed_at in (("s8", t + 2 * d), ("s9", t + 4 * d)):
            received = _received(ids, key, cert, None, t, path)
            await world.station.emit(
                f"service-{ids[key]}",
                received,
                ServiceAccepted(service_id=ids[key], accepted_at=t),
                _hand_off(ids, key, t, t + 3 * d),
                HandOffOverdue(
                    service_id=ids[key], organisation_id=ids["agency"], due_by=t + 3 * d
                ),
                ServiceCompleted(service_id=ids[key], completed_at=completed_at),
                area=ids["g1"],
            )
        await world.station.publish()
        await caught_up(world.pool, world.station, "station")
        async with world.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT service_id, overdue FROM station.services WHERE service_id = ANY($1)",
                [ids["s8"], ids["s9"]],
            )
        assert {r["service_id"]: r["overdue"] for r in rows} == {ids["s8"]: False, ids["s9"]: True}
