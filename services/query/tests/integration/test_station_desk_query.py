"""The station's certificates, gatherings, opinion log and duty roster: station, registry and
mediation events through the real relays and broker into the query API — every event type,
redelivery, the opinion ↔ conflict signal link in both arrival orders, the holder's name only
for who may see the resident, scoping and read-your-writes.

The world: community C with grids G1 and G2, community C2; 陈一 lives in G1, 林二 in G2 (she
moves to C2 after her certificate was issued), 周三 in C2; the registry knows the party school
党校 serving C.

- Certificates: k1 陈一's at G1, valid; k2 林二's at G2, revoked; k3 周三's at C2.
- Gatherings: a1 a theory lecture at C on 5 March 2025 (40, by 王书记 with 党校); a2 a policy
  explanation at G1 on 20 March (25); a3 the opinion-gathering session at C on 2 April (30);
  a4 a civilisation-practice activity at C on 10 April (15); a5 a theory lecture at C2 on
  6 March (60).
- Opinions at a3: o1 open; o2 answered; o3 referred to mediation — its signal s3 reached the
  query service *before* the station's events and was converted into dispute d3; o4 referred to
  mediation — the station's events first, then its signal s4, dismissed; o5 referred to
  governance; o6 referred to mediation, no signal yet. o7 at a5 (C2), open.
- Roster (C): 3 March set twice, the later set wins; 4 March set twice, the one appended later
  set earlier (set_at) loses; 5 March once at G1; C2 on 3 March.
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

from anju_contracts import Actor
from anju_contracts.mediation import (
    CATALOG as MEDIATION_CATALOG,
    Category,
    ConflictSignalConverted,
    ConflictSignalDismissed,
    ConflictSignalReported,
    ReporterRole,
    SignalOrigin,
)
from anju_contracts.registry import (
    CATALOG as REGISTRY_CATALOG,
    AreaCreated,
    AreaKind,
    AreaPath,
    Location,
    OrganisationKind,
    OrganisationRegistered,
    ResidentMoved,
    ResidentRegistered,
    Sex,
)
from anju_contracts.station import (
    CATALOG,
    DutyRosterSet,
    GatheringHeld,
    GatheringKind,
    OpinionAnswered,
    OpinionDestination,
    OpinionRaised,
    OpinionReferred,
    ResidenceCertificateIssued,
    ResidenceCertificateRevoked,
)
from anju_query.testing import Source, caught_up, consumed_to_end, read_side, write_side
from eventkit.auth import Role, issue_token
from eventkit.settings import KafkaSettings
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import databases

SECRET = "query-tests-secret-0123456789abcdef"
DESK_ACTOR = Actor(id="desk-1", roles=("desk_staff",))
T0 = datetime(2025, 3, 3, 8, 0, tzinfo=UTC)


def token(*roles: Role, areas: tuple[uuid.UUID, ...] = (), sub: str = "staff-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, roles, [str(a) for a in areas])}"}


ADMIN = token(Role.ADMIN)


@dataclass
class World:
    station: Source
    registry: Source
    mediation: Source
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    kafka: KafkaSettings
    ids: dict[str, uuid.UUID]
    paths: dict[str, AreaPath]

    def __getitem__(self, key: str) -> uuid.UUID:
        return self.ids[key]


KEYS = (
    *("c", "g1", "g2", "c2", "chen", "lin", "zhou", "school"),
    *("k1", "k2", "k3", "a1", "a2", "a3", "a4", "a5"),
    *(f"o{n}" for n in range(1, 8)),
    *("s3", "s4", "d3", "ro1", "ro2", "ro3", "ro4", "ro5", "ro6"),
)


async def _seed_registry(reg: Source, ids: dict[str, uuid.UUID]) -> dict[str, AreaPath]:
    c, g1, g2, c2 = ids["c"], ids["g1"], ids["g2"], ids["c2"]
    paths = {
        "c": AreaPath(community_id=c),
        "g1": AreaPath(community_id=c, grid_id=g1),
        "g2": AreaPath(community_id=c, grid_id=g2),
        "c2": AreaPath(community_id=c2),
    }
    for key, kind, name, parent in [
        ("c", AreaKind.COMMUNITY, "安居社区", None),
        ("g1", AreaKind.GRID, "一网格", c),
        ("g2", AreaKind.GRID, "二网格", c),
        ("c2", AreaKind.COMMUNITY, "乐业社区", None),
    ]:
        area_id = ids[key]
        await reg.emit(
            f"area-{area_id}",
            AreaCreated(area_id=area_id, kind=kind, name=name, parent_id=parent, path=paths[key]),
            area=area_id,
        )
    for n, (key, name, where) in enumerate([("chen", "陈一", "g1"), ("lin", "林二", "g2")]):
        await reg.emit(
            f"resident-{ids[key]}",
            _resident(ids[key], name, n, paths[where]),
            area=paths[where].grid_id or c,
        )
    await reg.emit(
        f"resident-{ids['zhou']}", _resident(ids["zhou"], "周三", 3, paths["c2"]), area=c2
    )
    # 林二 moves to C2 after her certificate was issued at G2's desk
    await reg.emit(
        f"resident-{ids['lin']}",
        ResidentMoved(resident_id=ids["lin"], from_path=paths["g2"], to_path=paths["c2"]),
        area=c2,
    )
    await reg.emit(
        f"organisation-{ids['school']}",
        OrganisationRegistered(
            organisation_id=ids["school"],
            kind=OrganisationKind.OTHER,
            name="党校",
            community_ids=[c],
        ),
        area=c,
    )
    return paths


def _resident(rid: uuid.UUID, name: str, n: int, path: AreaPath) -> ResidentRegistered:
    return ResidentRegistered(
        resident_id=rid,
        name=name,
        sex=Sex.FEMALE,
        date_of_birth=date(1960, 1, 1),
        id_number=f"11010119600101{n:04d}",
        path=path,
    )


def _certificate(
    ids: dict[str, uuid.UUID], key: str, who: str, number: str, path: AreaPath, issued: date
) -> ResidenceCertificateIssued:
    return ResidenceCertificateIssued(
        certificate_id=ids[key],
        number=number,
        resident_id=ids[who],
        holder_name="印在证明上的名字",
        address="安居社区 3栋 2单元 501",
        community_name="安居社区",
        living_since=date(2019, 6, 1),
        purpose="子女入学",
        path=path,
        issued_by="desk-1",
        issued_on=issued,
    )


async def _seed_certificates(
    s: Source, ids: dict[str, uuid.UUID], paths: dict[str, AreaPath]
) -> None:
    await s.emit(
        f"certificate-{ids['k1']}",
        _certificate(ids, "k1", "chen", "ANJU-R-2025-0000000A", paths["g1"], date(2025, 3, 3)),
        area=ids["g1"],
    )
    await s.emit(
        f"certificate-{ids['k2']}",
        _certificate(ids, "k2", "lin", "ANJU-R-2025-0000000B", paths["g2"], date(2025, 3, 4)),
        ResidenceCertificateRevoked(
            certificate_id=ids["k2"],
            number="ANJU-R-2025-0000000B",
            reason="发证有误",
            revoked_by="desk-2",
            revoked_at=T0 + timedelta(days=2),
        ),
        area=ids["g2"],
    )
    await s.emit(
        f"certificate-{ids['k3']}",
        _certificate(ids, "k3", "zhou", "ANJU-R-2025-0000000C", paths["c2"], date(2025, 3, 5)),
        area=ids["c2"],
    )


def _gathering(
    ids: dict[str, uuid.UUID],
    key: str,
    kind: GatheringKind,
    topic: str,
    held_on: date,
    attendance: int,
    path: AreaPath,
    *,
    speaker: str | None = None,
    partner: uuid.UUID | None = None,
) -> GatheringHeld:
    return GatheringHeld(
        gathering_id=ids[key],
        kind=kind,
        topic=topic,
        speaker=speaker,
        held_on=held_on,
        attendance=attendance,
        partner_id=partner,
        path=path,
        recorded_by="desk-1",
        recorded_at=datetime.combine(held_on, datetime.min.time(), UTC) + timedelta(hours=18),
    )


async def _seed_gatherings(
    s: Source, ids: dict[str, uuid.UUID], paths: dict[str, AreaPath]
) -> None:
    gatherings = [
        _gathering(
            ids,
            "a1",
            GatheringKind.THEORY_LECTURE,
            "学习二十大精神",
            date(2025, 3, 5),
            40,
            paths["c"],
            speaker="王书记",
            partner=ids["school"],
        ),
        _gathering(
            ids,
            "a2",
            GatheringKind.POLICY_EXPLANATION,
            "公租房政策",
            date(2025, 3, 20),
            25,
            paths["g1"],
        ),
        _gathering(
            ids,
            "a3",
            GatheringKind.OPINION_GATHERING,
            "小区停车",
            date(2025, 4, 2),
            30,
            paths["c"],
        ),
        _gathering(
            ids,
            "a4",
            GatheringKind.CIVILISATION_PRACTICE,
            "垃圾分类",
            date(2025, 4, 10),
            15,
            paths["c"],
        ),
        _gathering(
            ids, "a5", GatheringKind.THEORY_LECTURE, "宪法宣传", date(2025, 3, 6), 60, paths["c2"]
        ),
    ]
    for g in gatherings:
        await s.emit(f"gathering-{g.gathering_id}", g, area=g.path.community_id)


RAISED = datetime(2025, 4, 2, 10, 0, tzinfo=UTC)


def _raised(
    ids: dict[str, uuid.UUID], key: str, text: str, path: AreaPath, gathering: str = "a3"
) -> OpinionRaised:
    n = int(key[1:])
    return OpinionRaised(
        opinion_id=ids[key],
        gathering_id=ids[gathering],
        text=text,
        resident_id=ids["chen"] if n % 2 else None,
        path=path,
        recorded_by="desk-1",
        raised_at=RAISED + timedelta(minutes=n),
    )


def _referred(raised: OpinionRaised, to: OpinionDestination) -> OpinionReferred:
    return OpinionReferred(
        opinion_id=raised.opinion_id,
        gathering_id=raised.gathering_id,
        to=to,
        text=raised.text,
        resident_id=raised.resident_id,
        path=raised.path,
        referred_by="desk-2",
        referred_at=raised.raised_at + timedelta(hours=2),
        note="不留在读模型里",
    )


def _signal(
    ids: dict[str, uuid.UUID], key: str, opinion: str, path: AreaPath
) -> ConflictSignalReported:
    return ConflictSignalReported(
        signal_id=ids[key],
        reporter_id="desk-2",
        reporter_role=ReporterRole.DESK_STAFF,
        location=Location(area_id=path.community_id, kind=AreaKind.COMMUNITY, path=path),
        category=Category.PARKING,
        description="居民反映车位纠纷",
        reported_at=RAISED + timedelta(hours=3),
        origin=SignalOrigin(source="station", record="opinion", id=ids[opinion]),
    )


async def _opinion(s: Source, ids: dict[str, uuid.UUID], key: str, *events: Any) -> str:
    return await s.emit(f"opinion-{ids[key]}", *events, area=ids["c"])


async def _seed_opinions(
    station: Source,
    mediation: Source,
    read_pool: asyncpg.Pool,
    ids: dict[str, uuid.UUID],
    paths: dict[str, AreaPath],
) -> None:
    """o3's signal reaches the read models before the station's opinion; o4's after it."""
    c = paths["c"]
    await mediation.emit(f"signal-{ids['s3']}", _signal(ids, "s3", "o3", c), area=ids["c"])
    await mediation.emit(
        f"signal-{ids['s3']}",
        ConflictSignalConverted(signal_id=ids["s3"], dispute_id=ids["d3"]),
        area=ids["c"],
    )
    await mediation.publish()
    await caught_up(read_pool, mediation, "disputes")

    o1 = _raised(ids, "o1", "楼道灯坏了", c)
    await _opinion(station, ids, "o1", o1)
    await _opinion(
        station,
        ids,
        "o2",
        _raised(ids, "o2", "希望多办讲座", c),
        OpinionAnswered(
            opinion_id=ids["o2"],
            reply="下月起每月两场",
            answered_by="desk-1",
            answered_at=RAISED + timedelta(days=1),
        ),
    )
    for key, text, to in [
        ("o3", "车位被占", OpinionDestination.MEDIATION),
        ("o4", "邻居装修噪音", OpinionDestination.MEDIATION),
        ("o5", "电梯老化", OpinionDestination.GOVERNANCE),
        ("o6", "宠物扰民", OpinionDestination.MEDIATION),
    ]:
        raised = _raised(ids, key, text, c)
        await _opinion(station, ids, key, raised, _referred(raised, to))
    o7 = _raised(ids, "o7", "乐业社区的意见", paths["c2"], gathering="a5")
    await station.emit(f"opinion-{ids['o7']}", o7, area=ids["c2"])


async def _seed_roster(s: Source, ids: dict[str, uuid.UUID], paths: dict[str, AreaPath]) -> None:
    def roster(
        key: str, day: date, desk: list[str], post: list[str], path: AreaPath, set_at: datetime
    ) -> DutyRosterSet:
        return DutyRosterSet(
            roster_id=ids[key],
            day=day,
            desk=desk,
            pioneer_post=post,
            path=path,
            set_by="director-1",
            set_at=set_at,
        )

    c, h = paths["c"], timedelta(hours=1)
    rosters = [
        roster("ro1", date(2025, 3, 3), ["desk-1"], ["pm-1"], c, T0 - 48 * h),
        roster("ro2", date(2025, 3, 3), ["desk-2", "desk-3"], ["pm-2"], c, T0 - 24 * h),
        roster("ro3", date(2025, 3, 4), ["desk-1"], ["pm-1", "pm-3"], c, T0 - 20 * h),
        # appended after ro3 but set before it: ro3 stays
        roster("ro4", date(2025, 3, 4), ["desk-9"], [], c, T0 - 30 * h),
        roster("ro5", date(2025, 3, 5), ["desk-1"], [], paths["g1"], T0),
        roster("ro6", date(2025, 3, 3), ["desk-c2"], ["pm-c2"], paths["c2"], T0),
    ]
    for r in rosters:
        await s.emit(f"roster-{r.roster_id}", r, area=r.path.community_id)


@asynccontextmanager
async def world_of(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"d{uuid.uuid4().hex[:10]}.")
    ids = {key: uuid.uuid4() for key in KEYS}
    async with (
        databases(pg_server_url, "station", "registry", "mediation", "read") as urls,
        write_side("station", urls[0], kafka, CATALOG, secret=SECRET, actor=DESK_ACTOR) as station,
        write_side(
            "registry", urls[1], kafka, REGISTRY_CATALOG, secret=SECRET, actor=DESK_ACTOR
        ) as registry,
        write_side(
            "mediation", urls[2], kafka, MEDIATION_CATALOG, secret=SECRET, actor=DESK_ACTOR
        ) as mediation,
    ):
        paths = await _seed_registry(registry, ids)
        await registry.publish()
        clock = ManualClock(T0 + timedelta(days=60))
        async with read_side(urls[3], kafka, SECRET, clock=clock) as query:
            await _seed_certificates(station, ids, paths)
            await _seed_gatherings(station, ids, paths)
            await _seed_roster(station, ids, paths)
            await _seed_opinions(station, mediation, query.pool, ids, paths)
            await station.publish()
            await caught_up(query.pool, station, "station")
            # o4's signal, after the station's referral is in the read model
            await mediation.emit(
                f"signal-{ids['s4']}", _signal(ids, "s4", "o4", paths["c"]), area=ids["c"]
            )
            await mediation.emit(
                f"signal-{ids['s4']}",
                ConflictSignalDismissed(signal_id=ids["s4"], reason="已私下协商"),
                area=ids["c"],
            )
            await mediation.publish()
            await caught_up(query.pool, mediation, "disputes")
            await caught_up(query.pool, registry, "residents")
            yield World(station, registry, mediation, query.client, query.pool, kafka, ids, paths)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def world(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    async with world_of(pg_server_url, kafka_bootstrap) as seeded:
        yield seeded


async def _get(world: World, url: str, headers: dict[str, str], **params: Any) -> Any:
    response = await world.client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def desk(world: World, area: str = "c") -> dict[str, str]:
    return token(Role.DESK_STAFF, areas=(world[area],), sub=f"desk-{area}")


def _ids(world: World, body: dict[str, Any], *keys: str) -> tuple[list[str], list[str]]:
    return [i["id"] for i in body["items"]], [str(world[k]) for k in keys]


# -- the projection -------------------------------------------------------------------------


async def test_every_event_type_lands_in_its_row(world: World) -> None:
    async with world.pool.acquire() as conn:
        certificates = {
            r["certificate_id"]: r for r in await conn.fetch("SELECT * FROM station.certificates")
        }
        gatherings = {
            r["gathering_id"]: r for r in await conn.fetch("SELECT * FROM station.gatherings")
        }
        opinions = {r["opinion_id"]: r for r in await conn.fetch("SELECT * FROM station.opinions")}
        rosters = await conn.fetch("SELECT * FROM station.rosters")
        signal = await conn.fetchrow(
            "SELECT * FROM disputes.signals WHERE signal_id = $1", world["s3"]
        )
    k1, k2 = certificates[world["k1"]], certificates[world["k2"]]
    assert (k1["number"], k1["resident_id"], k1["status"]) == (
        "ANJU-R-2025-0000000A",
        world["chen"],
        "valid",
    )
    assert (k1["community_id"], k1["grid_id"], k1["living_since"]) == (
        world["c"],
        world["g1"],
        date(2019, 6, 1),
    )
    assert (k2["status"], k2["revoked_reason"], k2["revoked_by"]) == (
        "revoked",
        "发证有误",
        "desk-2",
    )
    a1 = gatherings[world["a1"]]
    assert (a1["kind"], a1["topic"], a1["speaker"], a1["attendance"], a1["partner_id"]) == (
        "theory_lecture",
        "学习二十大精神",
        "王书记",
        40,
        world["school"],
    )
    assert len(gatherings) == 5
    o1, o2, o3, o5 = (opinions[world[k]] for k in ("o1", "o2", "o3", "o5"))
    assert (o1["status"], o1["text"], o1["gathering_id"]) == ("open", "楼道灯坏了", world["a3"])
    assert o1["raised_on"] == date(2025, 4, 2)
    assert (o2["status"], o2["reply"], o2["answered_by"]) == (
        "answered",
        "下月起每月两场",
        "desk-1",
    )
    assert (o3["status"], o3["referred_to"], o3["referred_by"]) == (
        "referred",
        "mediation",
        "desk-2",
    )
    assert o5["referred_to"] == "governance"
    assert len(rosters) == 6
    assert signal is not None
    assert (signal["origin_source"], signal["origin_record"], signal["origin_id"]) == (
        "station",
        "opinion",
        world["o3"],
    )
    # what is personal and not read stays out: the name printed on a certificate, its purpose,
    # a referral's note
    dump = str([*certificates.values(), *opinions.values()])
    assert "印在证明上的名字" not in dump
    assert "子女入学" not in dump
    assert "不留在读模型里" not in dump


async def _snapshot(pool: asyncpg.Pool) -> dict[str, list[str]]:
    tables = [
        f"station.{t}"
        for t in ("certificates", "gatherings", "opinions", "rosters", "stream_versions")
    ] + ["disputes.signals"]
    async with pool.acquire() as conn:
        return {
            table: [r[0] for r in await conn.fetch(f"SELECT x::text FROM {table} x ORDER BY 1")]
            for table in tables
        }


async def test_redelivered_station_and_mediation_events_change_nothing(world: World) -> None:
    await consumed_to_end(world.pool, world.station, "station")
    await consumed_to_end(world.pool, world.mediation, "disputes")
    before = await _snapshot(world.pool)
    assert len(before["station.opinions"]) == 7
    published = world.station.published, world.mediation.published
    await world.station.publish_again()
    await world.mediation.publish_again()
    assert (world.station.published, world.mediation.published) == (
        2 * published[0],
        2 * published[1],
    )
    await consumed_to_end(world.pool, world.station, "station")
    await consumed_to_end(world.pool, world.mediation, "disputes")
    assert await _snapshot(world.pool) == before


# -- certificates ---------------------------------------------------------------------------


async def test_certificates_with_holder_status_and_reason(world: World) -> None:
    body = await _get(world, "/station/certificates", ADMIN, community_id=str(world["c"]))
    got, want = _ids(world, body, "k2", "k1")  # latest issued first
    assert got == want
    assert (body["total"], body["valid"], body["revoked"]) == (2, 1, 1)
    k2, k1 = body["items"]
    assert (k1["number"], k1["resident_id"], k1["holder_name"]) == (
        "ANJU-R-2025-0000000A",
        str(world["chen"]),
        "陈一",
    )
    assert (k1["status"], k1["revoked_reason"], k1["address"]) == (
        "valid",
        None,
        "安居社区 3栋 2单元 501",
    )
    assert (k2["status"], k2["revoked_reason"], k2["holder_name"]) == (
        "revoked",
        "发证有误",
        "林二",
    )
    assert k2["revoked_at"] is not None
    mine = await _get(world, "/station/certificates", ADMIN, resident_id=str(world["chen"]))
    got, want = _ids(world, mine, "k1")
    assert got == want
    revoked = await _get(world, "/station/certificates", ADMIN, status="revoked")
    assert [i["id"] for i in revoked["items"]] == [str(world["k2"])]


async def test_the_holders_name_only_for_who_may_see_the_resident(world: World) -> None:
    body = await _get(world, "/station/certificates", desk(world))
    names = {i["id"]: i["holder_name"] for i in body["items"]}
    # 林二 has moved to C2: C's desk sees the certificate it issued, by her id only
    assert names == {str(world["k1"]): "陈一", str(world["k2"]): None}
    k2 = next(i for i in body["items"] if i["id"] == str(world["k2"]))
    assert k2["resident_id"] == str(world["lin"])
    # a clerk of grid G1 sees 陈一's certificate and name
    g1 = await _get(world, "/station/certificates", desk(world, "g1"))
    assert [(i["id"], i["holder_name"]) for i in g1["items"]] == [(str(world["k1"]), "陈一")]


async def test_the_profile_lists_the_residents_certificates(world: World) -> None:
    profile = await _get(world, f"/residents/{world['chen']}", desk(world))
    certificates = profile["station"]["certificates"]
    assert [(c["id"], c["number"], c["status"]) for c in certificates] == [
        (str(world["k1"]), "ANJU-R-2025-0000000A", "valid")
    ]
    assert profile["station"]["receptions"] == []
    lin = await _get(world, f"/residents/{world['lin']}", ADMIN)
    assert [(c["status"], c["revoked_reason"]) for c in lin["station"]["certificates"]] == [
        ("revoked", "发证有误")
    ]
    # C2's desk sees 林二 (she lives there now) but not the certificate C's desk issued
    theirs = await _get(world, f"/residents/{world['lin']}", desk(world, "c2"))
    assert theirs["station"]["certificates"] == []


# -- gatherings -----------------------------------------------------------------------------


async def test_gatherings_of_a_period_with_totals_per_kind(world: World) -> None:
    march = await _get(
        world, "/station/gatherings", desk(world), **{"from": "2025-03-01", "to": "2025-03-31"}
    )
    got, want = _ids(world, march, "a2", "a1")
    assert got == want
    a1 = march["items"][1]
    assert (a1["kind"], a1["topic"], a1["speaker"], a1["held_on"], a1["attendance"]) == (
        "theory_lecture",
        "学习二十大精神",
        "王书记",
        "2025-03-05",
        40,
    )
    assert (a1["partner_id"], a1["partner_name"]) == (str(world["school"]), "党校")
    assert (march["total"], march["attendance"]) == (2, 65)
    assert march["by_kind"] == {
        "theory_lecture": {"count": 1, "attendance": 40},
        "policy_explanation": {"count": 1, "attendance": 25},
        "civilisation_practice": {"count": 0, "attendance": 0},
        "opinion_gathering": {"count": 0, "attendance": 0},
    }
    everything = await _get(world, "/station/gatherings", desk(world))
    got, want = _ids(world, everything, "a4", "a3", "a2", "a1")
    assert got == want
    session = everything["items"][1]
    assert session["opinions"] == 6  # o1 … o6
    assert everything["attendance"] == 110
    lectures = await _get(world, "/station/gatherings", ADMIN, kind="theory_lecture")
    got, want = _ids(world, lectures, "a5", "a1")
    assert got == want
    assert lectures["by_kind"]["theory_lecture"] == {"count": 2, "attendance": 100}
    c2 = await _get(world, "/station/gatherings", ADMIN, community_id=str(world["c2"]))
    assert _ids(world, c2, "a5")[0] == [str(world["a5"])]
    page = await _get(world, "/station/gatherings", desk(world), limit=1, offset=1)
    assert (page["items"][0]["id"], page["total"]) == (str(world["a3"]), 4)


# -- the opinion log --------------------------------------------------------------------------


async def test_the_opinion_log_says_what_became_of_each(world: World) -> None:
    body = await _get(world, "/station/opinions", desk(world))
    got, want = _ids(world, body, "o6", "o5", "o4", "o3", "o2", "o1")
    assert got == want
    assert body["by_status"] == {
        "open": 1,
        "answered": 1,
        "referred_to_mediation": 3,
        "referred_to_governance": 1,
    }
    items = {i["id"]: i for i in body["items"]}
    o1, o2, o3, o4, o5, o6 = (items[str(world[f"o{n}"])] for n in range(1, 7))
    assert (o1["status"], o1["text"], o1["reply"], o1["signal"]) == (
        "open",
        "楼道灯坏了",
        None,
        None,
    )
    assert o1["gathering"] == {
        "id": str(world["a3"]),
        "kind": "opinion_gathering",
        "topic": "小区停车",
        "held_on": "2025-04-02",
    }
    assert o1["resident_id"] == str(world["chen"])
    assert (o2["status"], o2["reply"], o2["answered_by"]) == (
        "answered",
        "下月起每月两场",
        "desk-1",
    )
    # the signal came before the station's events, and became a dispute
    assert o3["status"] == "referred_to_mediation"
    assert (o3["referred_to"], o3["referred_by"]) == ("mediation", "desk-2")
    assert o3["signal"] == {
        "id": str(world["s3"]),
        "status": "converted",
        "dispute_id": str(world["d3"]),
    }
    # the signal came after, and was dismissed
    assert o4["signal"] == {"id": str(world["s4"]), "status": "dismissed", "dispute_id": None}
    assert (o5["status"], o5["signal"]) == ("referred_to_governance", None)
    # mediation has not reported a signal for it yet
    assert (o6["status"], o6["signal"]) == ("referred_to_mediation", None)


async def test_opinions_filtered_by_status_period_and_community(world: World) -> None:
    referred = await _get(world, "/station/opinions", desk(world), status="referred_to_mediation")
    got, want = _ids(world, referred, "o6", "o4", "o3")
    assert got == want
    assert referred["total"] == 3
    answered = await _get(world, "/station/opinions", desk(world), status="answered")
    assert _ids(world, answered, "o2")[0] == [str(world["o2"])]
    before = await _get(world, "/station/opinions", desk(world), to="2025-04-01")
    assert (before["items"], before["total"]) == ([], 0)
    on_the_day = await _get(
        world, "/station/opinions", ADMIN, **{"from": "2025-04-02", "to": "2025-04-02"}
    )
    assert on_the_day["total"] == 7
    c2 = await _get(world, "/station/opinions", ADMIN, community_id=str(world["c2"]))
    assert _ids(world, c2, "o7")[0] == [str(world["o7"])]
    assert c2["items"][0]["gathering"]["kind"] == "theory_lecture"
    response = await world.client.get(
        "/station/opinions", params={"status": "lost"}, headers=desk(world)
    )
    assert response.status_code == 422


async def test_opinion_and_signal_give_one_answer_in_either_order(world: World) -> None:
    """Two more opinions referred to mediation: for one the signal arrives first, for the other
    the station's referral; each read shows nothing of the opinion, or the opinion without or
    with its signal, and once both are in both read alike."""
    ids = world.ids
    c = world.paths["c"]
    first, second = uuid.uuid4(), uuid.uuid4()
    ids.update({"early": first, "late": second, "s_early": uuid.uuid4(), "s_late": uuid.uuid4()})

    async def opinion(key: str) -> dict[str, Any] | None:
        body = await _get(world, "/station/opinions", ADMIN, status="referred_to_mediation")
        return next((i for i in body["items"] if i["id"] == str(ids[key])), None)

    # the signal first
    await world.mediation.emit(
        f"signal-{ids['s_early']}", _signal(ids, "s_early", "early", c), area=ids["c"]
    )
    await world.mediation.publish()
    await caught_up(world.pool, world.mediation, "disputes")
    assert await opinion("early") is None
    raised = _raised(ids, "o1", "先有信号", c).model_copy(update={"opinion_id": first})
    token_early = await world.station.emit(
        f"opinion-{first}", raised, _referred(raised, OpinionDestination.MEDIATION), area=ids["c"]
    )
    await world.station.publish()
    body = await _get(world, "/station/opinions", ADMIN, consistency_token=token_early)
    early = next(i for i in body["items"] if i["id"] == str(first))
    assert early["signal"] == {"id": str(ids["s_early"]), "status": "reported", "dispute_id": None}

    # the referral first
    raised = _raised(ids, "o1", "后有信号", c).model_copy(update={"opinion_id": second})
    await world.station.emit(
        f"opinion-{second}", raised, _referred(raised, OpinionDestination.MEDIATION), area=ids["c"]
    )
    await world.station.publish()
    await caught_up(world.pool, world.station, "station")
    late = await opinion("late")
    assert late is not None
    assert late["signal"] is None
    token_late = await world.mediation.emit(
        f"signal-{ids['s_late']}", _signal(ids, "s_late", "late", c), area=ids["c"]
    )
    await world.mediation.publish()
    body = await _get(world, "/station/opinions", ADMIN, consistency_token=token_late)
    late = next(i for i in body["items"] if i["id"] == str(second))
    assert late["signal"] == {"id": str(ids["s_late"]), "status": "reported", "dispute_id": None}
    assert _shape(late) == _shape(early)


def _shape(opinion: dict[str, Any]) -> dict[str, Any]:
    """What an opinion referred to mediation reads like, but for its own ids and words."""
    own = {"id", "text", "signal"}
    return {k: v for k, v in opinion.items() if k not in own} | {
        "signal": {k: v for k, v in opinion["signal"].items() if k != "id"}
    }


async def test_the_signal_list_names_the_opinion_it_came_from(world: World) -> None:
    body = await _get(world, "/signals", desk(world))
    origins = {i["id"]: i["origin"] for i in body["items"]}
    assert origins[str(world["s3"])] == {
        "source": "station",
        "record": "opinion",
        "id": str(world["o3"]),
    }


# -- the duty roster ------------------------------------------------------------------------


async def test_the_latest_roster_of_each_day_wins(world: World) -> None:
    body = await _get(world, "/station/roster", desk(world))
    days = [(d["day"], d["desk"], d["pioneer_post"], d["roster_id"]) for d in body["items"]]
    assert days == [
        ("2025-03-03", ["desk-2", "desk-3"], ["pm-2"], str(world["ro2"])),
        ("2025-03-04", ["desk-1"], ["pm-1", "pm-3"], str(world["ro3"])),
        ("2025-03-05", ["desk-1"], [], str(world["ro5"])),
    ]
    assert body["total"] == 3
    assert {d["community_id"] for d in body["items"]} == {str(world["c"])}
    one = await _get(
        world, "/station/roster", desk(world), **{"from": "2025-03-04", "to": "2025-03-04"}
    )
    assert [d["roster_id"] for d in one["items"]] == [str(world["ro3"])]
    everywhere = await _get(world, "/station/roster", ADMIN, to="2025-03-03")
    assert {(d["community_id"], d["roster_id"]) for d in everywhere["items"]} == {
        (str(world["c"]), str(world["ro2"])),
        (str(world["c2"]), str(world["ro6"])),
    }
    c2 = await _get(world, "/station/roster", ADMIN, community_id=str(world["c2"]))
    assert [d["roster_id"] for d in c2["items"]] == [str(world["ro6"])]


async def test_grid_workers_read_the_roster_of_their_areas(world: World) -> None:
    community = token(Role.GRID_WORKER, areas=(world["c"],))
    body = await _get(world, "/station/roster", community)
    assert body["total"] == 3
    # a grid's worker sees the days set at their grid's desk only
    grid = token(Role.GRID_WORKER, areas=(world["g1"],))
    mine = await _get(world, "/station/roster", grid)
    assert [d["roster_id"] for d in mine["items"]] == [str(world["ro5"])]


# -- scoping --------------------------------------------------------------------------------


async def test_a_desk_clerk_of_another_community_sees_nothing_of_this_one(world: World) -> None:
    other = desk(world, "c2")
    c = str(world["c"])
    for url, theirs in [
        ("/station/certificates", "k3"),
        ("/station/gatherings", "a5"),
        ("/station/opinions", "o7"),
    ]:
        body = await _get(world, url, other)
        assert [i["id"] for i in body["items"]] == [str(world[theirs])], url
        asked = await _get(world, url, other, community_id=c)
        assert (asked["items"], asked["total"]) == ([], 0), url
    gatherings = await _get(world, "/station/gatherings", other, community_id=c)
    assert {k["count"] for k in gatherings["by_kind"].values()} == {0}
    opinions = await _get(world, "/station/opinions", other, community_id=c)
    assert set(opinions["by_status"].values()) == {0}
    roster = await _get(world, "/station/roster", other)
    assert [d["roster_id"] for d in roster["items"]] == [str(world["ro6"])]
    assert (await _get(world, "/station/roster", other, community_id=c))["items"] == []
    nobody = token(Role.DESK_STAFF)
    for url in ("/station/certificates", "/station/gatherings", "/station/opinions"):
        assert (await _get(world, url, nobody))["total"] == 0
    assert (await _get(world, "/station/roster", nobody))["total"] == 0


@pytest.mark.parametrize(
    ("role", "urls"),
    [
        (Role.DOCTOR, ("certificates", "gatherings", "opinions", "roster")),
        (Role.MEDIATOR, ("certificates", "gatherings", "opinions", "roster")),
        (Role.VOLUNTEER_COORDINATOR, ("certificates", "gatherings", "opinions", "roster")),
        (Role.GRID_WORKER, ("certificates", "gatherings", "opinions")),
    ],
)
async def test_roles_without_the_right_are_refused(
    world: World, role: Role, urls: tuple[str, ...]
) -> None:
    headers = token(role, areas=(world["c"],))
    for url in urls:
        response = await world.client.get(f"/station/{url}", headers=headers)
        assert response.status_code == 403, (url, response.text)
        assert response.json()["error"]["code"] == "forbidden"


@pytest.mark.parametrize("url", ["/station/gatherings", "/station/opinions", "/station/roster"])
async def test_a_range_that_ends_before_it_starts_is_400(world: World, url: str) -> None:
    response = await world.client.get(
        url, params={"from": "2025-04-05", "to": "2025-04-01"}, headers=desk(world)
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_date_range"


# -- read your writes -----------------------------------------------------------------------


async def test_a_station_token_waits_for_the_revocation(world: World) -> None:
    k3 = world["k3"]
    written = await world.station.emit(
        f"certificate-{k3}",
        ResidenceCertificateRevoked(
            certificate_id=k3,
            number="ANJU-R-2025-0000000C",
            reason="本人申请作废",
            revoked_by="desk-c2",
            revoked_at=T0 + timedelta(days=30),
        ),
        area=world["c2"],
    )

    async def publish_later() -> None:
        await asyncio.sleep(0.3)
        await world.station.publish()

    publishing = asyncio.create_task(publish_later())
    response = await world.client.get(
        "/station/certificates",
        params={"consistency_token": written, "community_id": str(world["c2"])},
        headers=desk(world, "c2"),
    )
    await publishing
    assert response.headers["x-consistency"] == "fresh"
    (k,) = response.json()["items"]
    assert (k["status"], k["revoked_reason"]) == ("revoked", "本人申请作废")
    assert k["holder_name"] == "周三"
