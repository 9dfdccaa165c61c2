"""The volunteering read models: volunteering and registry events through the real relays and
broker into the query API — service requests with ages and counts per grid, statistics,
approved hours per volunteer, team and organisation, the active-volunteer rule, a host
organisation's quarter, the profile's services, scoping, read-your-writes and redelivery.

The world (today T, now = T 12:00 UTC, Qs the first day of this quarter), community C with
grids G1 and G2, community C2 with grid G3; host organisation ORG employs V1, V3 and V4:

- V1 张伟 (G1, in-service, ORG): approved 3h (request R1, T), 2h (shift S1, T), 8h (T-200);
  5h pending; 4h rejected. Finished R1 and R9 today, attended S1 today.
- V2 李娜 (G1, resident volunteer): approved 6h (T-60), 4h (T-100), 1h (T), 20h (T-400);
  paused and resumed; signed up for S1 and withdrew.
- V3 王强 (C2/G3, in-service, ORG): approved 6h (T); attended S2 today.
- V4 赵敏 (G2, party member, ORG): approved 20h (Qs-5); left on Qs-1.
- V5 孙丽 (G2 → G1, resident volunteer): paused; a no-show on S1.
- TEAM1 (G1, cleaning): leader V1 (then V2), V2 joined. TEAM2 (G1, patrol): leader V2; V1 joined
  and left.
- Requests: R1 陈一 G1 delivered (5), R2 林二 G1 open and overdue, R3 林二 G1 assigned after a
  decline, R4 周三 G2 cancelled, R5 周三 G2 delivered last quarter (3), R6 钱六 G3 open past its
  respond_by, R7 孙七 G1 in progress, R8 陈一 G1 accepted, R9 孙七 G1 finished.
- Cleaning plans: 陈一 active; 钱六 started and stopped.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from anju_contracts import Actor, Event
from anju_contracts.registry import (
    CATALOG as REGISTRY_CATALOG,
    AreaCreated,
    AreaKind,
    AreaPath,
    ResidentRegistered,
    Sex,
)
from anju_contracts.volunteering import (
    CATALOG,
    CertificateIssued,
    CleaningPlanStarted,
    CleaningPlanStopped,
    DeclineReason,
    HoursApproved,
    HoursRecorded,
    HoursRejected,
    HoursSource,
    PlanStopReason,
    RaisedBy,
    RequestCancelReason,
    RequestKind,
    ServiceRequestAccepted,
    ServiceRequestAssigned,
    ServiceRequestCancelled,
    ServiceRequestDeclined,
    ServiceRequestDelivered,
    ServiceRequestFinished,
    ServiceRequestRaised,
    ServiceRequestResponseOverdue,
    ServiceRequestStarted,
    Shift,
    ShiftAttendanceRecorded,
    ShiftSignedUp,
    ShiftSignUpWithdrawn,
    TeamFormed,
    TeamLeaderChanged,
    TeamMemberJoined,
    TeamMemberLeft,
    TeamPurpose,
    VolunteerActivityKind,
    VolunteerActivityScheduled,
    VolunteerChanged,
    VolunteerConsentGiven,
    VolunteerConsentPurpose,
    VolunteerConsentWithdrawn,
    VolunteerJoined,
    VolunteerKind,
    VolunteerLeft,
    VolunteerPaused,
    VolunteerResumed,
)
from anju_query.application.scope import Scope
from anju_query.application.volunteers import VolunteerFilter, list_volunteers
from anju_query.settings import QuerySettings
from anju_query.testing import Source, caught_up, consumed_to_end, read_side, write_side
from eventkit.auth import Principal, Role, issue_token
from eventkit.consent import consent_id
from eventkit.settings import KafkaSettings
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import databases

SECRET = "query-tests-secret-0123456789abcdef"
ACTOR = Actor(id="coord-1", roles=("volunteer_coordinator",))
T = datetime.now(UTC).date()
NOW = datetime.combine(T, time(12), UTC)
QS = date(T.year, 3 * ((T.month - 1) // 3) + 1, 1)
QUARTER = (T.month + 2) // 3
DQ = (QS - T).days
"""Days from today back to the first day of the quarter (R5 was done before it began)."""
MONTHLY_HOURS = 1.0
"""The world's rule: an active volunteer served at least 12 approved hours in the last year."""
TABLES = (
    *("volunteers", "teams", "team_members", "requests", "request_volunteers"),
    *("cleaning_plans", "activities", "shifts", "sign_ups", "hours", "certificates"),
)


def token(*roles: Role, areas: tuple[uuid.UUID, ...] = (), sub: str = "staff-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, roles, [str(a) for a in areas])}"}


ADMIN = token(Role.ADMIN)


def at(days: int, hour: int = 9) -> datetime:
    """``hour`` o'clock UTC, ``days`` from today."""
    return datetime.combine(T + timedelta(days=days), time(hour), UTC)


def day(days: int) -> date:
    return T + timedelta(days=days)


@dataclass
class World:
    volunteering: Source
    registry: Source
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    kafka: KafkaSettings
    ids: dict[str, uuid.UUID]

    def __getitem__(self, key: str) -> uuid.UUID:
        return self.ids[key]


async def _seed_registry(reg: Source, ids: dict[str, uuid.UUID]) -> dict[str, AreaPath]:
    c, g1, g2, c2, g3 = ids["c"], ids["g1"], ids["g2"], ids["c2"], ids["g3"]
    paths = {
        "c": AreaPath(community_id=c),
        "g1": AreaPath(community_id=c, grid_id=g1),
        "g2": AreaPath(community_id=c, grid_id=g2),
        "c2": AreaPath(community_id=c2),
        "g3": AreaPath(community_id=c2, grid_id=g3),
    }
    for key, kind, name, parent in [
        ("c", AreaKind.COMMUNITY, "安居社区", None),
        ("g1", AreaKind.GRID, "一网格", c),
        ("g2", AreaKind.GRID, "二网格", c),
        ("c2", AreaKind.COMMUNITY, "乐业社区", None),
        ("g3", AreaKind.GRID, "三网格", c2),
    ]:
        area_id = ids[key]
        await reg.emit(
            f"area-{area_id}",
            AreaCreated(area_id=area_id, kind=kind, name=name, parent_id=parent, path=paths[key]),
            area=area_id,
        )
    people = {"chen": ("陈一", "g1"), "lin": ("林二", "g1"), "zhou": ("周三", "g2")}
    people |= {"sun": ("孙七", "g1"), "qian": ("钱六", "g3")}
    for n, (key, (name, home)) in enumerate(people.items()):
        rid, path = ids[key], paths[home]
        assert path.grid_id is not None
        await reg.emit(
            f"resident-{rid}",
            ResidentRegistered(
                resident_id=rid,
                name=name,
                sex=Sex.FEMALE,
                date_of_birth=date(1940 + n, 1, 1),
                id_number=f"110101{1940 + n}0101{n:04d}",
                path=path,
            ),
            area=path.grid_id,
        )
    return paths


def _raised(
    ids: dict[str, uuid.UUID],
    key: str,
    resident: str,
    kind: RequestKind,
    path: AreaPath,
    *,
    days: int,
    respond_in: int,
) -> ServiceRequestRaised:
    planned = resident == "chen" and kind == RequestKind.HOME_CLEANING
    return ServiceRequestRaised(
        request_id=ids[key],
        resident_id=ids[resident],
        kind=kind,
        description="需要帮助",
        path=path,
        raised_by=RaisedBy.ELDERLY_ALONE_PLAN if planned else RaisedBy.STAFF,
        staff_id=None if planned else "grid-1",
        period=f"{at(days):%Y-%m}" if planned else None,
        raised_at=at(days),
        respond_by=at(days + respond_in),
    )


async def _seed_volunteers(
    v: Source, ids: dict[str, uuid.UUID], paths: dict[str, AreaPath]
) -> None:
    org = ids["org"]
    joined = [
        ("v1", VolunteerKind.IN_SERVICE_PARTY_MEMBER, "张伟", org, "g1"),
        ("v2", VolunteerKind.RESIDENT_VOLUNTEER, "李娜", None, "g1"),
        ("v3", VolunteerKind.IN_SERVICE_PARTY_MEMBER, "王强", org, "g3"),
        ("v4", VolunteerKind.REGISTERED_PARTY_MEMBER, "赵敏", org, "g2"),
        ("v5", VolunteerKind.RESIDENT_VOLUNTEER, "孙丽", None, "g2"),
    ]
    for key, kind, name, organisation, home in joined:
        path = paths[home]
        assert path.grid_id is not None
        await v.emit(
            f"volunteer-{ids[key]}",
            VolunteerJoined(
                volunteer_id=ids[key],
                kind=kind,
                name=name,
                organisation_id=organisation,
                path=path,
                skills=["清扫"],
                availability="周末",
                joined_on=day(-400),
            ),
            area=path.grid_id,
        )
    g1, g2 = ids["g1"], ids["g2"]
    v2, v4, v5 = ids["v2"], ids["v4"], ids["v5"]
    await v.emit(
        f"volunteer-{v2}",
        VolunteerPaused(volunteer_id=v2, paused_on=day(-50)),
        VolunteerResumed(volunteer_id=v2, resumed_on=day(-45)),
        area=g1,
    )
    await v.emit(
        f"volunteer-{v4}",
        VolunteerLeft(volunteer_id=v4, left_on=QS - timedelta(days=1)),
        area=g2,
    )
    await v.emit(
        f"volunteer-{v5}",
        VolunteerChanged(volunteer_id=v5, skills=["维修", "陪伴"], path=paths["g1"]),
        VolunteerPaused(volunteer_id=v5, paused_on=day(-1)),
        area=g1,
    )


async def _seed_teams(v: Source, ids: dict[str, uuid.UUID], paths: dict[str, AreaPath]) -> None:
    g1, v1, v2 = ids["g1"], ids["v1"], ids["v2"]
    await v.emit(
        f"team-{ids['team1']}",
        TeamFormed(
            team_id=ids["team1"],
            name="清扫服务队",
            purpose=TeamPurpose.CLEANING,
            path=paths["g1"],
            leader_id=v1,
            partner_organisation_ids=[ids["org"]],
        ),
        TeamMemberJoined(team_id=ids["team1"], volunteer_id=v1),  # the leader already is one
        TeamMemberJoined(team_id=ids["team1"], volunteer_id=v2),
        TeamLeaderChanged(team_id=ids["team1"], leader_id=v2),
        area=g1,
    )
    await v.emit(
        f"team-{ids['team2']}",
        TeamFormed(
            team_id=ids["team2"],
            name="巡逻队",
            purpose=TeamPurpose.PATROL,
            path=paths["g1"],
            leader_id=v2,
        ),
        TeamMemberJoined(team_id=ids["team2"], volunteer_id=v1),
        TeamMemberLeft(team_id=ids["team2"], volunteer_id=v1),
        area=g1,
    )


async def _seed_requests(v: Source, ids: dict[str, uuid.UUID], paths: dict[str, AreaPath]) -> None:
    g1, g2, g3 = ids["g1"], ids["g2"], ids["g3"]
    v1, v2 = ids["v1"], ids["v2"]
    k = RequestKind

    def assigned(key: str, days: int, *, team: str | None = None) -> Event:
        return ServiceRequestAssigned(
            request_id=ids[key],
            team_id=None if team is None else ids[team],
            volunteer_id=None if team is not None else v1,
            assigned_at=at(days),
        )

    def accepted(key: str, days: int) -> Event:
        return ServiceRequestAccepted(request_id=ids[key], volunteer_id=v1, accepted_at=at(days))

    def started(key: str, days: int, hour: int) -> Event:
        return ServiceRequestStarted(
            request_id=ids[key], volunteer_ids=[v1], checked_in_at=at(days, hour)
        )

    def finished(key: str, days: int, hour: int, hours: float, *who: uuid.UUID) -> Event:
        return ServiceRequestFinished(
            request_id=ids[key], volunteer_ids=list(who), checked_out_at=at(days, hour), hours=hours
        )

    def delivered(key: str, days: int, satisfaction: int) -> Event:
        return ServiceRequestDelivered(
            request_id=ids[key],
            satisfaction=satisfaction,
            feedback="很好",
            delivered_at=at(days, 10),
        )

    g1p, g2p, g3p = paths["g1"], paths["g2"], paths["g3"]
    streams: list[tuple[str, uuid.UUID, list[Event]]] = [
        (
            "r1",
            g1,
            [
                _raised(ids, "r1", "chen", k.HOME_CLEANING, g1p, days=-10, respond_in=3),
                assigned("r1", -9, team="team1"),
                accepted("r1", -9),
                started("r1", 0, 8),
                finished("r1", 0, 9, 3, v1),
                delivered("r1", 0, 5),
            ],
        ),
        (
            "r2",
            g1,
            [
                _raised(ids, "r2", "lin", k.HARDSHIP_AID, g1p, days=-5, respond_in=2),
                ServiceRequestResponseOverdue(request_id=ids["r2"], respond_by=at(-3)),
            ],
        ),
        (
            "r3",
            g1,
            [
                _raised(ids, "r3", "lin", k.ERRAND, g1p, days=-2, respond_in=3),
                ServiceRequestAssigned(request_id=ids["r3"], volunteer_id=v2, assigned_at=at(-2)),
                ServiceRequestDeclined(
                    request_id=ids["r3"],
                    volunteer_id=v2,
                    reason=DeclineReason.UNAVAILABLE,
                    declined_at=at(-1),
                ),
                assigned("r3", -1),
            ],
        ),
        (
            "r4",
            g2,
            [
                _raised(ids, "r4", "zhou", k.COMPANIONSHIP, g2p, days=-20, respond_in=2),
                ServiceRequestCancelled(
                    request_id=ids["r4"],
                    reason=RequestCancelReason.NO_LONGER_NEEDED,
                    cancelled_at=at(-19),
                ),
            ],
        ),
        (
            "r5",
            g2,
            [
                _raised(ids, "r5", "zhou", k.REPAIR, g2p, days=DQ - 40, respond_in=2),
                assigned("r5", DQ - 39),
                accepted("r5", DQ - 39),
                started("r5", DQ - 35, 8),
                finished("r5", DQ - 35, 10, 2, v1),
                delivered("r5", DQ - 34, 3),
            ],
        ),
        ("r6", g3, [_raised(ids, "r6", "qian", k.HOME_CLEANING, g3p, days=-3, respond_in=2)]),
        (
            "r7",
            g1,
            [
                _raised(ids, "r7", "sun", k.POLICY_EXPLANATION, g1p, days=-1, respond_in=3),
                assigned("r7", -1),
                accepted("r7", -1),
                started("r7", 0, 8),
            ],
        ),
        (
            "r8",
            g1,
            [
                _raised(ids, "r8", "chen", k.ERRAND, g1p, days=-1, respond_in=3),
                assigned("r8", -1),
                accepted("r8", -1),
            ],
        ),
        (
            "r9",
            g1,
            [
                _raised(ids, "r9", "sun", k.COMPANIONSHIP, g1p, days=-4, respond_in=3),
                assigned("r9", -4),
                accepted("r9", -4),
                started("r9", 0, 7),
                finished("r9", 0, 9, 1, v1, v2),
            ],
        ),
    ]
    for key, area, events in streams:
        await v.emit(f"request-{ids[key]}", *events, area=area)
    chen, qian = ids["chen"], ids["qian"]
    await v.emit(
        f"plan-{chen}",
        CleaningPlanStarted(resident_id=chen, path=g1p, started_on=day(-30)),
        area=g1,
    )
    await v.emit(
        f"plan-{qian}",
        CleaningPlanStarted(resident_id=qian, path=g3p, started_on=day(-30)),
        CleaningPlanStopped(
            resident_id=qian, reason=PlanStopReason.FLAG_CLEARED, stopped_on=day(-2)
        ),
        area=g3,
    )


async def _seed_activities(
    v: Source, ids: dict[str, uuid.UUID], paths: dict[str, AreaPath]
) -> None:
    g1, g3 = ids["g1"], ids["g3"]
    a1, a2, s1, s1b, s2 = ids["a1"], ids["a2"], ids["s1"], ids["s1b"], ids["s2"]
    await v.emit(
        f"activity-{a1}",
        VolunteerActivityScheduled(
            activity_id=a1,
            kind=VolunteerActivityKind.PRACTICAL_THINGS_DAY,
            title="我为群众办实事",
            path=paths["g1"],
            team_id=ids["team1"],
            shifts=[
                Shift(shift_id=s1, starts_at=at(0, 8), ends_at=at(0, 10), capacity=10),
                Shift(shift_id=s1b, starts_at=at(7, 8), ends_at=at(7, 10), capacity=5),
            ],
        ),
        ShiftSignedUp(activity_id=a1, shift_id=s1, volunteer_id=ids["v1"]),
        ShiftSignedUp(activity_id=a1, shift_id=s1, volunteer_id=ids["v2"]),
        ShiftSignedUp(activity_id=a1, shift_id=s1, volunteer_id=ids["v5"]),
        ShiftSignUpWithdrawn(activity_id=a1, shift_id=s1, volunteer_id=ids["v2"]),
        ShiftAttendanceRecorded(
            activity_id=a1, shift_id=s1, volunteer_id=ids["v1"], attended=True, hours=2
        ),
        ShiftAttendanceRecorded(
            activity_id=a1, shift_id=s1, volunteer_id=ids["v5"], attended=False, hours=0
        ),
        area=g1,
    )
    await v.emit(
        f"activity-{a2}",
        VolunteerActivityScheduled(
            activity_id=a2,
            kind=VolunteerActivityKind.PATROL,
            title="夜间巡逻",
            path=paths["c2"],
            shifts=[Shift(shift_id=s2, starts_at=at(0, 7), ends_at=at(0, 9), capacity=4)],
        ),
        ShiftSignedUp(activity_id=a2, shift_id=s2, volunteer_id=ids["v3"]),
        ShiftAttendanceRecorded(
            activity_id=a2, shift_id=s2, volunteer_id=ids["v3"], attended=True, hours=2
        ),
        area=g3,
    )


def _recorded(
    ids: dict[str, uuid.UUID], entry: str, who: str, hours: float, served_on: date
) -> HoursRecorded:
    org = ids["org"] if who in ("v1", "v3", "v4") else None
    source = HoursSource.REQUEST if entry == "e1" else HoursSource.SHIFT
    return HoursRecorded(
        entry_id=ids[entry],
        volunteer_id=ids[who],
        source=source,
        source_id=ids["r1"] if entry == "e1" else ids["a1"],
        hours=hours,
        served_on=served_on,
        organisation_id=org,
    )


LEDGER: dict[str, list[tuple[str, float, int | None, str]]] = {
    "v1": [
        ("e1", 3, 0, "approved"),
        ("e2", 2, 0, "approved"),
        ("e3", 5, 0, "pending"),
        ("e4", 4, 0, "rejected"),
        ("e5", 8, -200, "approved"),
    ],
    "v2": [
        ("e6", 6, -60, "approved"),
        ("e7", 4, -100, "approved"),
        ("e8", 1, 0, "approved"),
        ("e9", 20, -400, "approved"),
    ],
    "v3": [("e10", 6, 0, "approved")],
    "v4": [("e11", 20, None, "approved")],
}
"""Per volunteer: entry, hours, served (days from today; ``None``: five days before Qs), state."""


async def _seed_hours(v: Source, ids: dict[str, uuid.UUID]) -> None:
    for who, entries in LEDGER.items():
        events: list[Event] = []
        for entry, hours, days, state in entries:
            served = QS - timedelta(days=5) if days is None else day(days)
            events.append(_recorded(ids, entry, who, hours, served))
            if state == "approved":
                events.append(
                    HoursApproved(
                        entry_id=ids[entry],
                        volunteer_id=ids[who],
                        approved_by="coord-1",
                        approved_on=T,
                    )
                )
            elif state == "rejected":
                events.append(
                    HoursRejected(
                        entry_id=ids[entry],
                        volunteer_id=ids[who],
                        rejected_by="coord-1",
                        reason="重复登记",
                    )
                )
        await v.emit(f"ledger-{ids[who]}", *events, area=ids["g3" if who == "v3" else "g1"])
    await v.emit(
        f"certificate-{ids['cert']}",
        CertificateIssued(
            certificate_id=ids["cert"],
            number="ANJU-V-2025-0A1B2C3D",
            volunteer_id=ids["v1"],
            path=AreaPath(community_id=ids["c"], grid_id=ids["g1"]),
            period_from=date(T.year - 1, 1, 1),
            period_to=date(T.year - 1, 12, 31),
            hours=40.5,
            services=12,
            content="志愿服务证明",
            issuer="安居社区",
            issued_on=T,
        ),
        area=ids["g1"],
    )


KEYS = (
    *("c", "g1", "g2", "c2", "g3", "chen", "lin", "zhou", "sun", "qian", "org"),
    *("v1", "v2", "v3", "v4", "v5", "team1", "team2", "a1", "a2", "s1", "s1b", "s2", "cert"),
    *(f"r{n}" for n in range(1, 10)),
    *(f"e{n}" for n in range(1, 12)),
)


@asynccontextmanager
async def world_of(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"v{uuid.uuid4().hex[:10]}.")
    ids = {key: uuid.uuid4() for key in KEYS}
    async with (
        databases(pg_server_url, "volunteering", "registry", "read") as urls,
        write_side(
            "volunteering", urls[0], kafka, CATALOG, secret=SECRET, actor=ACTOR
        ) as volunteering,
        write_side(
            "registry", urls[1], kafka, REGISTRY_CATALOG, secret=SECRET, actor=ACTOR
        ) as registry,
    ):
        paths = await _seed_registry(registry, ids)
        await _seed_volunteers(volunteering, ids, paths)
        await _seed_teams(volunteering, ids, paths)
        await _seed_requests(volunteering, ids, paths)
        await _seed_activities(volunteering, ids, paths)
        await _seed_hours(volunteering, ids)
        await registry.publish()
        await volunteering.publish()
        async with read_side(
            urls[2],
            kafka,
            SECRET,
            clock=ManualClock(NOW),
            active_volunteer_monthly_hours=MONTHLY_HOURS,
        ) as query:
            await caught_up(query.pool, registry, "residents")
            await caught_up(query.pool, volunteering, "volunteering")
            yield World(volunteering, registry, query.client, query.pool, kafka, ids)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def world(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    async with world_of(pg_server_url, kafka_bootstrap) as seeded:
        yield seeded


async def _get(world: World, url: str, headers: dict[str, str], **params: Any) -> Any:
    response = await world.client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def coordinator(world: World, area: str = "c") -> dict[str, str]:
    return token(Role.VOLUNTEER_COORDINATOR, areas=(world[area],), sub=f"coord-{area}")


# -- the projection -------------------------------------------------------------------------


async def test_every_event_type_lands_in_its_row(world: World) -> None:
    w = world
    async with w.pool.acquire() as conn:
        rows = {table: await conn.fetch(f"SELECT * FROM volunteering.{table}") for table in TABLES}
    volunteers = {r["volunteer_id"]: r for r in rows["volunteers"]}
    assert volunteers[w["v1"]]["status"] == "active"
    assert volunteers[w["v1"]]["organisation_id"] == w["org"]
    assert (volunteers[w["v2"]]["status"], volunteers[w["v2"]]["paused_on"]) == ("active", None)
    assert (volunteers[w["v4"]]["status"], volunteers[w["v4"]]["left_on"]) == (
        "left",
        QS - timedelta(days=1),
    )
    v5 = volunteers[w["v5"]]
    assert (v5["status"], v5["paused_on"], v5["grid_id"]) == ("paused", day(-1), w["g1"])
    assert v5["availability"] == "周末"  # unchanged: the change did not name it
    teams = {r["team_id"]: r for r in rows["teams"]}
    assert teams[w["team1"]]["leader_id"] == w["v2"]
    members = sorted(
        (r["team_id"] == w["team1"], r["volunteer_id"] == w["v1"], r["left_at"] is None)
        for r in rows["team_members"]
    )
    # team1: V1 (once, though named twice) and V2; team2: V2, and V1 who left
    assert members == [
        (False, False, True),
        (False, True, False),
        (True, False, True),
        (True, True, True),
    ]
    requests = {r["request_id"]: r for r in rows["requests"]}
    status = {key: requests[w[key]]["status"] for key in (f"r{n}" for n in range(1, 10))}
    assert status == {
        "r1": "delivered",
        "r2": "open",
        "r3": "assigned",
        "r4": "cancelled",
        "r5": "delivered",
        "r6": "open",
        "r7": "in_progress",
        "r8": "accepted",
        "r9": "finished",
    }
    r1, r3 = requests[w["r1"]], requests[w["r3"]]
    assert (r1["team_id"], r1["volunteer_id"], r1["satisfaction"]) == (w["team1"], w["v1"], 5)
    assert (r1["hours"], r1["raised_by"]) == (3, "elderly_alone_plan")
    assert (r3["volunteer_id"], r3["declines"]) == (w["v1"], 1)
    assert requests[w["r2"]]["response_overdue"] is True
    assert requests[w["r4"]]["cancel_reason"] == "no_longer_needed"
    assert requests[w["r7"]]["started_at"] == at(0, 8)
    finishers = sorted((r["request_id"], r["volunteer_id"]) for r in rows["request_volunteers"])
    assert finishers == sorted(
        [(w["r1"], w["v1"]), (w["r5"], w["v1"]), (w["r9"], w["v1"]), (w["r9"], w["v2"])]
    )
    plans = {r["resident_id"]: r for r in rows["cleaning_plans"]}
    assert plans[w["chen"]]["active"] is True
    qian = plans[w["qian"]]
    assert (qian["active"], qian["stopped_on"], qian["stop_reason"]) == (
        False,
        day(-2),
        "flag_cleared",
    )
    assert {r["activity_id"]: r["team_id"] for r in rows["activities"]} == {
        w["a1"]: w["team1"],
        w["a2"]: None,
    }
    assert {r["shift_id"] for r in rows["shifts"]} == {w["s1"], w["s1b"], w["s2"]}
    sign_ups = {(r["shift_id"], r["volunteer_id"]): r for r in rows["sign_ups"]}
    assert sign_ups[(w["s1"], w["v2"])]["signed_up"] is False
    assert (sign_ups[(w["s1"], w["v1"])]["attended"], sign_ups[(w["s1"], w["v1"])]["hours"]) == (
        True,
        2,
    )
    assert sign_ups[(w["s1"], w["v5"])]["attended"] is False
    hours = {r["entry_id"]: r for r in rows["hours"]}
    states = {key: hours[w[key]]["state"] for key in ("e1", "e3", "e4")}
    assert states == {"e1": "approved", "e3": "pending", "e4": "rejected"}
    assert hours[w["e4"]]["reject_reason"] == "重复登记"
    assert hours[w["e1"]]["organisation_id"] == w["org"]
    [certificate] = rows["certificates"]
    assert (certificate["number"], certificate["hours"]) == ("ANJU-V-2025-0A1B2C3D", 40.5)


async def _snapshot(pool: asyncpg.Pool) -> dict[str, list[str]]:
    async with pool.acquire() as conn:
        return {
            table: [
                r[0]
                for r in await conn.fetch(f"SELECT x::text FROM volunteering.{table} x ORDER BY 1")
            ]
            for table in (*TABLES, "stream_versions")
        }


async def test_redelivered_volunteering_events_change_nothing(world: World) -> None:
    await consumed_to_end(world.pool, world.volunteering, "volunteering")
    before = await _snapshot(world.pool)
    await world.volunteering.publish_again()
    await consumed_to_end(world.pool, world.volunteering, "volunteering")
    assert await _snapshot(world.pool) == before


# -- requests -------------------------------------------------------------------------------


def _by_resident(body: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    items: dict[str, list[dict[str, Any]]] = {}
    for item in body["items"]:
        items.setdefault(item["resident_name"], []).append(item)
    return items


async def test_requests_with_their_residents_ages_and_counts_per_grid(world: World) -> None:
    w = world
    body = await _get(w, "/volunteering/requests", coordinator(w))
    assert body["total"] == 8
    assert str(w["r6"]) not in {i["id"] for i in body["items"]}  # the other community's
    items = {i["id"]: i for i in body["items"]}
    r2 = items[str(w["r2"])]
    assert (r2["resident_name"], r2["resident_id"]) == ("林二", str(w["lin"]))
    assert (r2["status"], r2["age_days"], r2["response_overdue"]) == ("open", 5, True)
    assert r2["grid_name"] == "一网格"
    r1 = items[str(w["r1"])]
    assert (r1["team_name"], r1["volunteer_name"], r1["age_days"]) == ("清扫服务队", "张伟", 10)
    assert (r1["satisfaction"], r1["response_overdue"]) == (5, False)
    r3 = items[str(w["r3"])]
    assert (r3["status"], r3["declines"], r3["response_overdue"]) == ("assigned", 1, False)
    # oldest first
    assert body["items"][0]["id"] == str(w["r5"])
    groups = {g["grid_name"]: g for g in body["groups"]}
    assert groups["一网格"] == {
        "grid_id": str(w["g1"]),
        "grid_name": "一网格",
        "requests": 6,
        "open": 1,
        "overdue": 1,
        "oldest_open_age_days": 5,
    }
    assert (groups["二网格"]["requests"], groups["二网格"]["open"]) == (2, 0)
    assert groups["二网格"]["oldest_open_age_days"] is None


async def test_request_filters(world: World) -> None:
    w = world
    who = coordinator(w)
    open_ = await _get(w, "/volunteering/requests", who, status="open")
    assert [i["id"] for i in open_["items"]] == [str(w["r2"])]
    kinds = await _get(w, "/volunteering/requests", who, kind="companionship")
    assert {i["id"] for i in kinds["items"]} == {str(w["r4"]), str(w["r9"])}
    overdue = await _get(w, "/volunteering/requests", ADMIN, overdue="true")
    # R2 was marked; R6 is still open past its respond_by though the scheduler has not said so
    assert {i["id"] for i in overdue["items"]} == {str(w["r2"]), str(w["r6"])}
    assert {g["grid_name"]: g["overdue"] for g in overdue["groups"]} == {"一网格": 1, "三网格": 1}
    on_time = await _get(w, "/volunteering/requests", who, overdue="false")
    assert on_time["total"] == 7
    grid2 = await _get(w, "/volunteering/requests", who, area_id=str(w["g2"]))
    assert {i["id"] for i in grid2["items"]} == {str(w["r4"]), str(w["r5"])}
    page = await _get(w, "/volunteering/requests", who, limit=3, offset=6)
    assert (len(page["items"]), page["total"]) == (2, 8)


async def test_requests_are_scoped_to_the_callers_areas(world: World) -> None:
    w = world
    other = await _get(w, "/volunteering/requests", coordinator(w, "c2"))
    assert [(i["id"], i["resident_name"]) for i in other["items"]] == [(str(w["r6"]), "钱六")]
    asked = await _get(w, "/volunteering/requests", coordinator(w, "c2"), area_id=str(w["g1"]))
    assert (asked["items"], asked["groups"], asked["total"]) == ([], [], 0)
    worker = token(Role.GRID_WORKER, areas=(w["g2"],))
    mine = await _get(w, "/volunteering/requests", worker)
    assert {i["id"] for i in mine["items"]} == {str(w["r4"]), str(w["r5"])}
    desk = await _get(w, "/volunteering/requests", token(Role.DESK_STAFF, areas=(w["g3"],)))
    assert desk["total"] == 1
    nobody = await _get(w, "/volunteering/requests", token(Role.VOLUNTEER_COORDINATOR))
    assert nobody["total"] == 0


async def test_statistics_of_delivered_requests(world: World) -> None:
    w = world
    body = await _get(w, "/volunteering/requests/statistics", coordinator(w))
    assert (body["delivered"], body["mean_satisfaction"]) == (2, 4.0)
    assert {k["kind"]: (k["delivered"], k["mean_satisfaction"]) for k in body["by_kind"]} == {
        "home_cleaning": (1, 5.0),
        "repair": (1, 3.0),
    }
    assert [(m["month"], m["kind"]) for m in body["by_month"]] == [
        (f"{day(DQ - 34):%Y-%m}", "repair"),
        (f"{T:%Y-%m}", "home_cleaning"),
    ]
    recent = await _get(
        w, "/volunteering/requests/statistics", ADMIN, **{"from": str(day(-7)), "to": str(T)}
    )
    assert (recent["delivered"], recent["period_from"]) == (1, str(day(-7)))
    grid2 = await _get(w, "/volunteering/requests/statistics", coordinator(w), area_id=str(w["g2"]))
    assert (grid2["delivered"], grid2["mean_satisfaction"]) == (1, 3.0)
    other = await _get(w, "/volunteering/requests/statistics", coordinator(w, "c2"))
    assert (other["delivered"], other["mean_satisfaction"], other["by_month"]) == (0, None, [])


# -- hours ----------------------------------------------------------------------------------


async def test_only_approved_hours_count(world: World) -> None:
    w = world
    body = await _get(w, "/volunteering/hours", ADMIN)
    per = {i["name"]: (i["hours"], i["entries"]) for i in body["items"]}
    # V1: 3 + 2 + 8 approved; 5 pending and 4 rejected never count
    assert per == {"张伟": (13.0, 3), "李娜": (31.0, 4), "王强": (6.0, 1), "赵敏": (20.0, 1)}
    assert [i["name"] for i in body["items"]] == ["李娜", "赵敏", "张伟", "王强"]
    assert (body["total"], body["hours"], body["entries"]) == (4, 70.0, 9)
    assert body["items"][0]["kind"] == "resident_volunteer"
    assert body["organisations"] == [
        {"organisation_id": str(w["org"]), "hours": 39.0, "volunteers": 3}
    ]
    one = await _get(w, "/volunteering/hours", ADMIN, volunteer_id=str(w["v1"]))
    assert (one["hours"], one["total"]) == (13.0, 1)


async def test_hours_in_a_period_and_per_team(world: World) -> None:
    w = world
    today = await _get(w, "/volunteering/hours", coordinator(w), **{"from": str(T), "to": str(T)})
    assert {i["name"]: i["hours"] for i in today["items"]} == {"张伟": 5.0, "李娜": 1.0}
    teams = {t["name"]: (t["hours"], t["members"]) for t in today["teams"]}
    # members' hours while members: both joined today (V1 left team2 today, after serving)
    assert teams == {"清扫服务队": (6.0, 2), "巡逻队": (6.0, 2)}
    year = await _get(w, "/volunteering/hours", coordinator(w), team_id=str(w["team1"]))
    # what they served before joining is not the team's
    assert {i["name"]: i["hours"] for i in year["items"]} == {"张伟": 5.0, "李娜": 1.0}
    assert [t["name"] for t in year["teams"]] == ["清扫服务队"]
    org = await _get(w, "/volunteering/hours", coordinator(w), organisation_id=str(w["org"]))
    assert {i["name"]: i["hours"] for i in org["items"]} == {"张伟": 13.0, "赵敏": 20.0}
    page = await _get(w, "/volunteering/hours", coordinator(w), limit=1, offset=1)
    assert ([i["name"] for i in page["items"]], page["total"]) == (["赵敏"], 3)


async def test_hours_are_scoped_to_where_volunteers_serve(world: World) -> None:
    w = world
    other = await _get(w, "/volunteering/hours", coordinator(w, "c2"))
    assert [(i["name"], i["hours"]) for i in other["items"]] == [("王强", 6.0)]
    assert other["teams"] == []
    assert other["organisations"] == [
        {"organisation_id": str(w["org"]), "hours": 6.0, "volunteers": 1}
    ]
    grid2 = await _get(w, "/volunteering/hours", coordinator(w), area_id=str(w["g2"]))
    assert [i["name"] for i in grid2["items"]] == ["赵敏"]


@pytest.mark.parametrize(
    ("url", "role"),
    [
        ("/volunteering/hours", Role.GRID_WORKER),
        ("/volunteering/hours", Role.DESK_STAFF),
        ("/volunteering/requests/statistics", Role.GRID_WORKER),
        ("/volunteering/volunteers", Role.DESK_STAFF),
        ("/volunteering/requests", Role.DOCTOR),
        ("/volunteering/requests", Role.MEDIATOR),
    ],
)
async def test_roles_without_the_right_are_forbidden(world: World, url: str, role: Role) -> None:
    response = await world.client.get(url, headers=token(role, areas=(world["c"],)))
    assert response.status_code == 403, response.text
    summary = await world.client.get(
        f"/volunteering/host-units/{world['org']}/summary",
        headers=token(Role.GRID_WORKER, areas=(world["c"],)),
    )
    assert summary.status_code == 403


# -- volunteers and the active-volunteer rule -----------------------------------------------


async def test_volunteers_with_their_hours_of_the_last_year(world: World) -> None:
    w = world
    body = await _get(w, "/volunteering/volunteers", coordinator(w))
    assert body["monthly_hours"] == MONTHLY_HOURS
    assert body["window_from"] == str(T.replace(year=T.year - 1) + timedelta(days=1))
    listed = {
        i["name"]: (i["status"], i["hours_last_12_months"], i["active_volunteer"])
        for i in body["items"]
    }
    assert listed == {
        "张伟": ("active", 13.0, True),  # 13 >= 12
        "李娜": ("active", 11.0, False),  # 20 more, but more than a year ago
        "赵敏": ("left", 20.0, False),  # enough hours, but left
        "孙丽": ("paused", 0.0, False),
    }
    assert (body["total"], body["active_volunteers"]) == (4, 1)
    active = await _get(w, "/volunteering/volunteers", coordinator(w), active="true")
    assert [i["name"] for i in active["items"]] == ["张伟"]
    others = await _get(w, "/volunteering/volunteers", coordinator(w), active="false")
    assert others["total"] == 3
    party = await _get(
        w, "/volunteering/volunteers", coordinator(w), kind="in_service_party_member"
    )
    assert [i["name"] for i in party["items"]] == ["张伟"]
    worker = await _get(w, "/volunteering/volunteers", token(Role.GRID_WORKER, areas=(w["g2"],)))
    assert [i["name"] for i in worker["items"]] == ["赵敏"]  # 孙丽 serves in G1 now
    there = await _get(w, "/volunteering/volunteers", coordinator(w, "c2"))
    assert [(i["name"], i["grid_name"]) for i in there["items"]] == [("王强", "三网格")]


async def test_the_active_volunteer_rule_follows_its_setting(world: World) -> None:
    assert QuerySettings.model_fields["active_volunteer_monthly_hours"].default == 8.0
    everyone = Scope.of(Principal(sub="admin", roles=(Role.ADMIN,), areas=()))
    async with world.pool.acquire() as conn:

        async def active(monthly_hours: float) -> list[str]:
            found = await list_volunteers(
                conn,
                everyone,
                VolunteerFilter(active=True),
                monthly_hours=monthly_hours,
                limit=50,
                offset=0,
                today=T,
            )
            return sorted(i.name for i in found.items)

        assert await active(8.0) == []  # Sahana's 8 a month: 96 hours a year
        assert await active(0.9) == ["张伟", "李娜"]  # 10.8 a year
        assert await active(0.5) == ["张伟", "李娜", "王强"]


# -- the host organisation's quarter --------------------------------------------------------


async def test_the_host_unit_summary_of_the_quarter(world: World) -> None:
    w = world
    url = f"/volunteering/host-units/{w['org']}/summary"
    body = await _get(w, url, ADMIN)
    assert (body["year"], body["quarter"]) == (T.year, QUARTER)
    assert body["period_from"] == str(QS)
    members = {
        m["name"]: (m["hours"], m["requests_finished"], m["shifts_attended"], m["services"])
        for m in body["members"]
    }
    # V1: 3 + 2 approved (pending and rejected do not count, nor the 8 of T-200); R1, R9, S1.
    # V4 left before the quarter began.
    assert members == {"张伟": (5.0, 2, 1, 3), "王强": (6.0, 0, 1, 1)}
    assert (body["hours"], body["services"]) == (11.0, 4)
    previous = (T.year, QUARTER - 1) if QUARTER > 1 else (T.year - 1, 4)
    earlier = await _get(w, url, ADMIN, year=previous[0], quarter=previous[1])
    assert {m["name"]: m["hours"] for m in earlier["members"]}["赵敏"] == 20.0


async def test_a_coordinator_sees_only_the_members_serving_in_their_areas(world: World) -> None:
    w = world
    url = f"/volunteering/host-units/{w['org']}/summary"
    mine = await _get(w, url, coordinator(w))
    assert [m["name"] for m in mine["members"]] == ["张伟"]
    assert (mine["hours"], mine["services"]) == (5.0, 3)
    theirs = await _get(w, url, coordinator(w, "c2"))
    assert [m["name"] for m in theirs["members"]] == ["王强"]
    assert "张伟" not in str(theirs)
    nowhere = await _get(w, url, token(Role.DIRECTOR, areas=(uuid.uuid4(),)))
    assert (nowhere["members"], nowhere["hours"], nowhere["services"]) == ([], 0, 0)
    unknown = await _get(w, f"/volunteering/host-units/{uuid.uuid4()}/summary", ADMIN)
    assert unknown["members"] == []


# -- the profile ----------------------------------------------------------------------------


async def test_the_profile_has_the_services_the_resident_received(world: World) -> None:
    w = world
    director = token(Role.DIRECTOR, areas=(w["c"],))
    profile = await _get(w, f"/residents/{w['chen']}", director)
    services = profile["services"]
    assert [(s["id"], s["kind"], s["status"]) for s in services["requests"]] == [
        (str(w["r8"]), "errand", "accepted"),
        (str(w["r1"]), "home_cleaning", "delivered"),
    ]
    assert services["requests"][1]["satisfaction"] == 5
    assert services["requests"][1]["delivered_at"] is not None
    assert services["cleaning_plan"]["active"] is True
    assert profile["health"] is None  # nothing broke beside it
    assert profile["resident"]["name"] == "陈一"
    worker = token(Role.GRID_WORKER, areas=(w["g3"],))
    qian = await _get(w, f"/residents/{w['qian']}", worker)
    assert qian["services"]["cleaning_plan"]["stop_reason"] == "flag_cleared"
    assert [s["status"] for s in qian["services"]["requests"]] == ["open"]
    hidden = await w.client.get(f"/residents/{w['qian']}", headers=director)
    assert hidden.status_code == 404
    doctor = await _get(w, f"/residents/{w['chen']}", token(Role.DOCTOR, areas=(w["c"],)))
    assert doctor["services"] is None
    nothing = await _get(w, f"/residents/{w['zhou']}", director)
    assert [s["status"] for s in nothing["services"]["requests"]] == ["cancelled", "delivered"]
    assert nothing["services"]["cleaning_plan"] is None


# -- read your writes (last: it changes the world) -------------------------------------------


async def test_a_volunteering_token_waits_for_the_volunteering_read_model(world: World) -> None:
    w = world
    v1 = w["v1"]
    written = await w.volunteering.emit(
        f"ledger-{v1}",
        HoursApproved(entry_id=w["e3"], volunteer_id=v1, approved_by="coord-1", approved_on=T),
        area=w["g1"],
    )
    assert written.startswith(f"volunteering:ledger-{v1}:")

    async def publish_later() -> None:
        await asyncio.sleep(0.3)
        await w.volunteering.publish()

    publishing = asyncio.create_task(publish_later())
    response = await w.client.get(
        "/volunteering/hours",
        params={"consistency_token": written, "volunteer_id": str(v1)},
        headers=ADMIN,
    )
    await publishing
    assert response.headers["x-consistency"] == "fresh"
    assert response.json()["hours"] == 18.0  # the pending 5 counts once approved


async def test_a_volunteer_who_withdraws_consent_to_their_profile_is_not_shown_by_name(
    world: World,
) -> None:
    w = world
    v3, g3 = w["v3"], w["g3"]
    path = AreaPath(community_id=w["c2"], grid_id=g3)
    profile = VolunteerConsentPurpose.PROFILE

    async def listed(token_: str) -> list[tuple[str, list[str]]]:
        response = await w.client.get(
            "/volunteering/volunteers",
            params={"consistency_token": token_},
            headers=coordinator(w, "c2"),
        )
        return [(i["name"], i.get("skills", [])) for i in response.json()["items"]]

    withdrawn = await w.volunteering.emit(
        f"consent-{consent_id(v3, profile)}",
        VolunteerConsentWithdrawn(volunteer_id=v3, purpose=profile, withdrawn_on=T, path=path),
        area=g3,
    )
    await w.volunteering.publish()
    assert await listed(withdrawn) == [("", [])]
    given = await w.volunteering.emit(
        f"consent-{consent_id(v3, profile)}",
        VolunteerConsentGiven(volunteer_id=v3, purpose=profile, given_on=T, path=path),
        area=g3,
    )
    await w.volunteering.publish()
    assert [name for name, _ in await listed(given)] == ["王强"]
    async with w.pool.acquire() as conn:
        row = await conn.fetchrow(
            "SELECT skills, availability, hidden_profile FROM volunteering.volunteers"
            " WHERE volunteer_id = $1",
            v3,
        )
    assert (row["availability"], row["hidden_profile"]) == ("周末", None)
