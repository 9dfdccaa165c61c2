"""The governance read models: governance and registry events through the real relays and broker
into the query API — every event type, redelivery, the work-list board and its filters, an
item's history, the meeting register, on-time rates, items overdue, scoping (a liaison too) and
read-your-writes.

The world: community C with grids G1 and G2, community C2; the registry knows 安居物业 (the
property company, serving C), 住房保障中心 (serving C and C2), 城南派出所 (serving C) and 乐业物业
(serving C2). Now is 2025-06-01 00:00 UTC.

Meetings: m1 a joint party-building meeting of C, scheduled for 3 March and held that day with
the three partners of C, minutes recorded, confirmed and corrected once; decisions d1 (items i1,
i2) and d2 (items i3, i9). m2 a Fengqiao-hut meeting of G1 recorded held on 10 April without a
schedule, minutes recorded (a draft), decision d3 (item i8). m3 a property coordination meeting of C scheduled for 20 May.
m4 a joint meeting of C2 held on 15 March, decision d4 (item i7).

Items (owner; co-organisations; deadline as extended; what happened):

- i1 物业; 住房, 派出所; 31 Mar; received, progress, completion on time, verified, closed on time;
- i2 派出所; —; 20 Mar → 15 Apr; blue, received late, yellow, red, extended, completion on time,
  verification failed, completion late, verified, closed late;
- i3 物业; —; 30 Apr → reopened with 20 May; closed on time, reopened, yellow and red for 20
  May: overdue;
- i4 from a dispute, unassigned; 8 May → 30 Jun; yellow for 8 May, assigned to 住房, blue
  (receipt late), red for 8 May, extended: blue;
- i5 from a sensitive dispute in G2; 派出所; 10 May; received, red: overdue (directors only);
- i6 from a station opinion in G1; 住房; 物业; 25 May → 3 Jun; blue, received late, yellow for
  25 May, extended (nothing in force now);
- i7 of C2; 乐业物业; 31 Mar; closed on time;
- i8 from d3 in G1; 物业; 派出所; 30 Apr; yellow, completion reported on time, not verified
  yet (no colour while it waits);
- i9 from d2; 物业; 15 Mar; closed on time;
- i10 from a station opinion in G2; 住房; 2 Jun; received, yellow.
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
from anju_contracts.governance import (
    CATALOG,
    CompletionReported,
    DeadlineExtended,
    DecisionRecorded,
    MeetingHeld,
    MeetingKind,
    MeetingScheduled,
    MinutesConfirmed,
    MinutesCorrected,
    MinutesRecorded,
    NoticeRecipient,
    NoticeRecipientRole,
    Priority,
    ProgressReported,
    SourceLink,
    SourceRecord,
    SupervisionColour,
    SupervisionRaised,
    VerificationFailed,
    WorkItemAssigned,
    WorkItemClosed,
    WorkItemOpened,
    WorkItemReceived,
    WorkItemReopened,
    WorkItemSource,
    WorkItemVerified,
)
from anju_contracts.registry import (
    CATALOG as REGISTRY_CATALOG,
    AreaPath,
    OrganisationKind,
    OrganisationRegistered,
)
from anju_query.testing import Source, area_tree, caught_up, read_side, write_side
from eventkit.audit import reads_of
from eventkit.auth import Role, issue_token
from eventkit.settings import KafkaSettings
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import databases

SECRET = "query-tests-secret-0123456789abcdef"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
DAY = timedelta(days=1)
SCHEDULER = "governance-scheduler"


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


def token(
    *roles: Role,
    areas: tuple[uuid.UUID, ...] = (),
    organisations: tuple[uuid.UUID, ...] = (),
    sub: str = "staff-1",
) -> dict[str, str]:
    signed = issue_token(
        SECRET,
        sub,
        roles,
        [str(a) for a in areas],
        organisations=[str(o) for o in organisations],
    )
    return {"Authorization": f"Bearer {signed}"}


ADMIN = token(Role.ADMIN)


ACTOR = Actor(id="director-1", roles=("director",))


@dataclass
class World:
    governance: Source
    registry: Source
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    kafka: KafkaSettings
    ids: dict[str, uuid.UUID]
    paths: dict[str, AreaPath]


async def _seed_registry(reg: Source) -> tuple[dict[str, uuid.UUID], dict[str, AreaPath]]:
    ids, paths = await area_tree(reg)
    c, c2 = ids["c"], ids["c2"]
    for key, organisation_kind, name, communities in [
        ("property", OrganisationKind.PROPERTY_COMPANY, "安居物业", [c]),
        ("housing", OrganisationKind.HOUSING_SECURITY_CENTRE, "住房保障中心", [c, c2]),
        ("police", OrganisationKind.POLICE_STATION, "城南派出所", [c]),
        ("c2property", OrganisationKind.PROPERTY_COMPANY, "乐业物业", [c2]),
    ]:
        oid = ids[key] = uuid.uuid4()
        await reg.emit(
            f"organisation-{oid}",
            OrganisationRegistered(
                organisation_id=oid, kind=organisation_kind, name=name, community_ids=communities
            ),
            area=communities[0],
        )
    return ids, paths


def _supervision(
    ids: dict[str, uuid.UUID], key: str, colour: SupervisionColour, due: datetime, owner: str
) -> SupervisionRaised:
    red = colour == SupervisionColour.RED
    return SupervisionRaised(
        item_id=ids[key],
        colour=colour,
        due_by=due,
        owner_organisation_id=ids[owner],
        notify=[
            NoticeRecipient(role=NoticeRecipientRole.DIRECTOR, community_id=ids["c"]),
            NoticeRecipient(
                role=NoticeRecipientRole.LIAISON,
                organisation_id=ids[owner],
                name="赵联络",
                title="经理",
            ),
        ]
        if red
        else [],
        raised_at=due - 3 * DAY if colour == SupervisionColour.YELLOW else due + timedelta(hours=1),
    )


def _done(
    ids: dict[str, uuid.UUID], key: str, reported: datetime, on_time: bool, closed: datetime
) -> list[Event]:
    """Completion reported, verified by another, closed."""
    item = ids[key]
    return [
        CompletionReported(
            item_id=item,
            summary="已完成整改",
            reported_by="liaison-1",
            reported_at=reported,
            on_time=on_time,
        ),
        WorkItemVerified(
            item_id=item, verified_by="grid-1", verified_at=closed - timedelta(hours=2)
        ),
        WorkItemClosed(item_id=item, closed_by="director-1", closed_at=closed, on_time=on_time),
    ]


class Seeder:
    def __init__(self, gov: Source, ids: dict[str, uuid.UUID], paths: dict[str, AreaPath]):
        self.gov, self.ids, self.paths = gov, ids, paths

    def opened(
        self,
        key: str,
        *,
        where: str,
        deadline: datetime,
        owner: str | None,
        co: tuple[str, ...] = (),
        source: tuple[WorkItemSource, SourceRecord, str] | None = None,
        meeting: str | None = None,
        sensitive: bool = False,
        opened_at: datetime,
        priority: Priority = Priority.NORMAL,
    ) -> WorkItemOpened:
        ids = self.ids
        item = ids[key] = uuid.uuid4()
        if source is None:
            source = (WorkItemSource.GOVERNANCE, SourceRecord.DECISION, "")
        kind, record, source_key = source
        source_id = ids.setdefault(source_key or f"{key}-source", uuid.uuid4())
        return WorkItemOpened(
            item_id=item,
            title=f"事项 {key}",
            description="张三家门口堆物",
            source=SourceLink(source=kind, record=record, id=source_id),
            meeting_id=None if meeting is None else ids[meeting],
            path=self.paths[where],
            sensitive=sensitive,
            owner_organisation_id=None if owner is None else ids[owner],
            co_organisation_ids=[ids[o] for o in co],
            responsible=None if owner is None else f"{key} 负责人",
            deadline=deadline,
            priority=priority,
            receipt_due_by=None if owner is None else opened_at + DAY,
            convener="director-1" if meeting else None,
            opened_by="director-1",
            opened_at=opened_at,
        )

    async def item(self, key: str, *events: Event, where: str) -> None:
        """Append ``events`` in runs: the scheduler's supervision as the scheduler, the rest as
        the director (the history's ``who`` comes from the event, or for a supervision from
        the envelope's actor)."""
        area = self.paths[where].grid_id or self.paths[where].community_id
        runs: list[tuple[str, list[Event]]] = []
        for event in events:
            actor = SCHEDULER if isinstance(event, SupervisionRaised) else "director-1"
            if not runs or runs[-1][0] != actor:
                runs.append((actor, []))
            runs[-1][1].append(event)
        for actor, run in runs:
            await self.gov.emit(
                f"item-{self.ids[key]}",
                *run,
                area=area,
                actor=Actor(id=actor, roles=("director",)),
            )

    async def meeting(self, key: str, *events: Event, where: str) -> None:
        area = self.paths[where].grid_id or self.paths[where].community_id
        await self.gov.emit(f"meeting-{self.ids[key]}", *events, area=area)


def _decision(ids: dict[str, uuid.UUID], meeting: str, key: str, text: str) -> DecisionRecorded:
    ids[key] = uuid.uuid4()
    return DecisionRecorded(
        meeting_id=ids[meeting],
        decision_id=ids[key],
        text=text,
        recorded_by="director-1",
        recorded_at=at(3, 3, 11),
    )


async def _seed_meetings(s: Seeder) -> None:
    ids = s.ids
    for key in ("m1", "m2", "m3", "m4"):
        ids[key] = uuid.uuid4()
    partners = [ids["property"], ids["housing"], ids["police"]]
    await s.meeting(
        "m1",
        MeetingScheduled(
            meeting_id=ids["m1"],
            kind=MeetingKind.JOINT_PARTY_BUILDING,
            title="三月党建联席会",
            path=s.paths["c"],
            scheduled_for=at(3, 3),
            place="社区会议室",
            convener="director-1",
            organisation_ids=partners,
            attendees=["李书记"],
            agenda=["电梯维修", "楼道堆物"],
            scheduled_at=at(2, 24),
        ),
        MeetingHeld(
            meeting_id=ids["m1"],
            kind=MeetingKind.JOINT_PARTY_BUILDING,
            title="三月党建联席会",
            path=s.paths["c"],
            held_on=date(2025, 3, 3),
            place="社区会议室",
            convener="director-1",
            organisation_ids=partners,
            attendees=["李书记", "王经理", "陈所长", "周主任", "吴网格员"],
            agenda=["电梯维修", "楼道堆物", "停车, 夜间噪音"],
            recorded_by="director-1",
            recorded_at=at(3, 3, 12),
        ),
        MinutesRecorded(
            meeting_id=ids["m1"],
            minutes="王经理说电梯月底修好。",
            recorded_by="director-1",
            recorded_at=at(3, 3, 13),
        ),
        MinutesConfirmed(meeting_id=ids["m1"], confirmed_by="director-1", confirmed_at=at(3, 4)),
        MinutesCorrected(
            meeting_id=ids["m1"],
            correction="应为陈所长发言",
            reason="发言人记错",
            corrected_by="director-1",
            corrected_at=at(3, 5),
        ),
        _decision(ids, "m1", "d1", "三月底前修复3号楼电梯"),
        _decision(ids, "m1", "d2", "清理楼道堆物"),
        where="c",
    )
    await s.meeting(
        "m2",
        MeetingHeld(
            meeting_id=ids["m2"],
            kind=MeetingKind.FENGQIAO_HUT,
            title="枫桥小屋议事",
            path=s.paths["g1"],
            held_on=date(2025, 4, 10),
            convener="director-1",
            organisation_ids=[ids["property"]],
            attendees=["王经理", "楼长"],
            recorded_by="director-1",
            recorded_at=at(4, 10, 18),
        ),
        MinutesRecorded(
            meeting_id=ids["m2"],
            minutes="楼长反映路灯不亮。",
            recorded_by="director-1",
            recorded_at=at(4, 10, 19),
        ),
        _decision(ids, "m2", "d3", "修好一网格路灯"),
        where="g1",
    )
    await s.meeting(
        "m3",
        MeetingScheduled(
            meeting_id=ids["m3"],
            kind=MeetingKind.PROPERTY_COORDINATION,
            title="物业协调会",
            path=s.paths["c"],
            scheduled_for=at(5, 20, 14),
            convener="director-1",
            organisation_ids=[ids["property"]],
            scheduled_at=at(5, 1),
        ),
        where="c",
    )
    await s.meeting(
        "m4",
        MeetingHeld(
            meeting_id=ids["m4"],
            kind=MeetingKind.JOINT_PARTY_BUILDING,
            title="乐业联席会",
            path=s.paths["c2"],
            held_on=date(2025, 3, 15),
            convener="director-2",
            organisation_ids=[ids["c2property"], ids["housing"]],
            recorded_by="director-2",
            recorded_at=at(3, 15, 18),
        ),
        _decision(ids, "m4", "d4", "修好乐业小区大门"),
        where="c2",
    )


def _decided(decision: str) -> tuple[WorkItemSource, SourceRecord, str]:
    return (WorkItemSource.GOVERNANCE, SourceRecord.DECISION, decision)


async def _seed_items(s: Seeder) -> None:
    ids = s.ids
    t0 = at(3, 3, 12)
    i1 = s.opened(
        "i1",
        where="c",
        deadline=at(3, 31, 18),
        owner="property",
        co=("housing", "police"),
        source=_decided("d1"),
        meeting="m1",
        opened_at=t0,
        priority=Priority.HIGH,
    )
    await s.item(
        "i1",
        i1,
        WorkItemReceived(
            item_id=ids["i1"],
            owner_organisation_id=ids["property"],
            received_by="liaison-property",
            received_at=t0 + timedelta(hours=3),
            late=False,
        ),
        ProgressReported(
            item_id=ids["i1"],
            note="零件已订",
            percent=50,
            reported_by="liaison-property",
            reported_at=at(3, 15),
        ),
        ProgressReported(
            item_id=ids["i1"], note="安装中", reported_by="liaison-property", reported_at=at(3, 20)
        ),
        *_done(ids, "i1", at(3, 25), True, at(3, 28)),
        where="c",
    )
    i2 = s.opened(
        "i2",
        where="c",
        deadline=at(3, 20, 18),
        owner="police",
        source=_decided("d1"),
        meeting="m1",
        opened_at=t0,
    )
    assert i2.receipt_due_by is not None
    await s.item(
        "i2",
        i2,
        _supervision(ids, "i2", SupervisionColour.BLUE, i2.receipt_due_by, "police"),
        WorkItemReceived(
            item_id=ids["i2"],
            owner_organisation_id=ids["police"],
            received_by="liaison-police",
            received_at=at(3, 6),
            late=True,
        ),
        _supervision(ids, "i2", SupervisionColour.YELLOW, at(3, 20, 18), "police"),
        _supervision(ids, "i2", SupervisionColour.RED, at(3, 20, 18), "police"),
        DeadlineExtended(
            item_id=ids["i2"],
            from_deadline=at(3, 20, 18),
            to_deadline=at(4, 15, 18),
            reason="需要协调供电公司",
            extended_by="director-1",
            extended_at=at(3, 21),
        ),
        CompletionReported(
            item_id=ids["i2"],
            summary="已巡逻",
            reported_by="liaison-police",
            reported_at=at(4, 10),
            on_time=True,
        ),
        VerificationFailed(
            item_id=ids["i2"],
            verified_by="grid-1",
            reason="夜间仍有噪音",
            failed_at=at(4, 12),
        ),
        *_done(ids, "i2", at(4, 20), False, at(4, 22)),
        where="c",
    )
    i3 = s.opened(
        "i3",
        where="c",
        deadline=at(4, 30, 18),
        owner="property",
        source=_decided("d2"),
        meeting="m1",
        opened_at=t0,
    )
    await s.item(
        "i3",
        i3,
        WorkItemReceived(
            item_id=ids["i3"],
            owner_organisation_id=ids["property"],
            received_by="liaison-property",
            received_at=at(3, 4),
            late=False,
        ),
        *_done(ids, "i3", at(4, 28), True, at(4, 29)),
        WorkItemReopened(
            item_id=ids["i3"],
            reason="楼道又堆满了",
            deadline=at(5, 20, 18),
            reopened_by="director-1",
            reopened_at=at(5, 10),
        ),
        _supervision(ids, "i3", SupervisionColour.YELLOW, at(5, 20, 18), "property"),
        _supervision(ids, "i3", SupervisionColour.RED, at(5, 20, 18), "property"),
        where="c",
    )
    dispute = (WorkItemSource.MEDIATION, SourceRecord.DISPUTE, "dispute-4")
    await s.item(
        "i4",
        s.opened(
            "i4", where="c", deadline=at(5, 8, 18), owner=None, source=dispute, opened_at=at(5, 1)
        ),
        _supervision(ids, "i4", SupervisionColour.YELLOW, at(5, 8, 18), "housing"),
        WorkItemAssigned(
            item_id=ids["i4"],
            owner_organisation_id=ids["housing"],
            responsible="周主任",
            receipt_due_by=at(5, 8),
            assigned_by="director-1",
            assigned_at=at(5, 7),
        ),
        _supervision(ids, "i4", SupervisionColour.BLUE, at(5, 8), "housing"),
        _supervision(ids, "i4", SupervisionColour.RED, at(5, 8, 18), "housing"),
        DeadlineExtended(
            item_id=ids["i4"],
            from_deadline=at(5, 8, 18),
            to_deadline=at(6, 30, 18),
            reason="等待产权核实",
            extended_by="director-1",
            extended_at=at(5, 9),
        ),
        where="c",
    )
    sensitive = (WorkItemSource.MEDIATION, SourceRecord.DISPUTE, "dispute-5")
    await s.item(
        "i5",
        s.opened(
            "i5",
            where="g2",
            deadline=at(5, 10, 18),
            owner="police",
            source=sensitive,
            sensitive=True,
            opened_at=at(4, 20),
        ),
        WorkItemReceived(
            item_id=ids["i5"],
            owner_organisation_id=ids["police"],
            received_by="liaison-police",
            received_at=at(4, 20, 15),
            late=False,
        ),
        _supervision(ids, "i5", SupervisionColour.RED, at(5, 10, 18), "police"),
        where="g2",
    )
    opinion = (WorkItemSource.STATION, SourceRecord.OPINION, "opinion-6")
    await s.item(
        "i6",
        s.opened(
            "i6",
            where="g1",
            deadline=at(5, 25, 18),
            owner="housing",
            co=("property",),
            source=opinion,
            opened_at=at(5, 5),
        ),
        _supervision(ids, "i6", SupervisionColour.BLUE, at(5, 6), "housing"),
        WorkItemReceived(
            item_id=ids["i6"],
            owner_organisation_id=ids["housing"],
            received_by="liaison-housing",
            received_at=at(5, 6, 15),
            late=True,
        ),
        _supervision(ids, "i6", SupervisionColour.YELLOW, at(5, 25, 18), "housing"),
        DeadlineExtended(
            item_id=ids["i6"],
            from_deadline=at(5, 25, 18),
            to_deadline=at(6, 3, 18),
            reason="等待维修材料",
            extended_by="director-1",
            extended_at=at(5, 24),
        ),
        where="g1",
    )
    await s.item(
        "i10",
        s.opened(
            "i10",
            where="g2",
            deadline=at(6, 2, 18),
            owner="housing",
            source=(WorkItemSource.STATION, SourceRecord.OPINION, "opinion-10"),
            opened_at=at(5, 20),
        ),
        WorkItemReceived(
            item_id=ids["i10"],
            owner_organisation_id=ids["housing"],
            received_by="liaison-housing",
            received_at=at(5, 20, 15),
            late=False,
        ),
        _supervision(ids, "i10", SupervisionColour.YELLOW, at(6, 2, 18), "housing"),
        where="g2",
    )
    await s.item(
        "i7",
        s.opened(
            "i7",
            where="c2",
            deadline=at(3, 31, 18),
            owner="c2property",
            source=_decided("d4"),
            meeting="m4",
            opened_at=at(3, 15, 18),
        ),
        WorkItemReceived(
            item_id=ids["i7"],
            owner_organisation_id=ids["c2property"],
            received_by="liaison-c2",
            received_at=at(3, 16),
            late=False,
        ),
        *_done(ids, "i7", at(3, 25), True, at(3, 26)),
        where="c2",
    )
    await s.item(
        "i8",
        s.opened(
            "i8",
            where="g1",
            deadline=at(4, 30, 18),
            owner="property",
            co=("police",),
            source=_decided("d3"),
            meeting="m2",
            opened_at=at(4, 10, 19),
        ),
        WorkItemReceived(
            item_id=ids["i8"],
            owner_organisation_id=ids["property"],
            received_by="liaison-property",
            received_at=at(4, 11),
            late=False,
        ),
        _supervision(ids, "i8", SupervisionColour.YELLOW, at(4, 30, 18), "property"),
        CompletionReported(
            item_id=ids["i8"],
            summary="路灯已修",
            reported_by="liaison-property",
            reported_at=at(4, 29),
            on_time=True,
        ),
        where="g1",
    )
    await s.item(
        "i9",
        s.opened(
            "i9",
            where="c",
            deadline=at(3, 15, 18),
            owner="property",
            source=_decided("d2"),
            meeting="m1",
            opened_at=t0,
        ),
        WorkItemReceived(
            item_id=ids["i9"],
            owner_organisation_id=ids["property"],
            received_by="liaison-property",
            received_at=at(3, 4),
            late=False,
        ),
        *_done(ids, "i9", at(3, 14), True, at(3, 14, 17)),
        where="c",
    )


@asynccontextmanager
async def world_of(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"g{uuid.uuid4().hex[:10]}.")
    async with (
        databases(pg_server_url, "governance", "registry", "read") as urls,
        write_side("governance", urls[0], kafka, CATALOG, secret=SECRET, actor=ACTOR) as governance,
        write_side(
            "registry", urls[1], kafka, REGISTRY_CATALOG, secret=SECRET, actor=ACTOR
        ) as registry,
    ):
        ids, paths = await _seed_registry(registry)
        seeder = Seeder(governance, ids, paths)
        await _seed_meetings(seeder)
        await _seed_items(seeder)
        await registry.publish()
        await governance.publish()
        async with read_side(urls[2], kafka, SECRET, clock=ManualClock(NOW)) as query:
            await caught_up(query.pool, registry, "residents")
            await caught_up(query.pool, governance, "governance")
            yield World(governance, registry, query.client, query.pool, kafka, ids, paths)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def world(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    async with world_of(pg_server_url, kafka_bootstrap) as seeded:
        yield seeded


async def _get(world: World, url: str, headers: dict[str, str], **params: Any) -> Any:
    response = await world.client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def director(world: World, area: str = "c") -> dict[str, str]:
    return token(Role.DIRECTOR, areas=(world.ids[area],), sub=f"director-{area}")


def liaison(world: World, organisation: str, area: str = "c") -> dict[str, str]:
    return token(
        Role.LIAISON,
        areas=(world.ids[area],),
        organisations=(world.ids[organisation],),
        sub=f"liaison-{organisation}",
    )


def keys(world: World, body: Any) -> list[str]:
    """The test's names of the items listed, in order."""
    names = {str(v): k for k, v in world.ids.items()}
    return [names[i["id"]] for i in body["items"]]


async def board(world: World, headers: dict[str, str], **params: Any) -> list[str]:
    return keys(world, await _get(world, "/governance/work-items", headers, **params))


# -- the projection -----------------------------------------------------------------------------


async def test_every_event_type_lands_in_its_row(world: World) -> None:
    ids = world.ids
    async with world.pool.acquire() as conn:
        meetings = {
            r["meeting_id"]: r for r in await conn.fetch("SELECT * FROM governance.meetings")
        }
        decisions = await conn.fetch("SELECT * FROM governance.decisions")
        items = {r["item_id"]: r for r in await conn.fetch("SELECT * FROM governance.work_items")}
        raised = await conn.fetch(
            "SELECT item_id, count(*) AS n FROM governance.item_supervisions GROUP BY 1"
        )
        history = await conn.fetch(
            "SELECT item_id, count(*) AS n FROM governance.item_history GROUP BY 1"
        )
    m1 = meetings[ids["m1"]]
    assert (m1["status"], m1["scheduled_for"], m1["held_on"]) == (
        "held",
        at(3, 3),
        date(2025, 3, 3),
    )
    assert (m1["minutes"], m1["corrections"], m1["attendees"]) == ("confirmed", 1, 5)
    # what the meeting said when held replaces what the schedule said (a comma in an item too)
    assert m1["agenda"] == '["电梯维修", "楼道堆物", "停车, 夜间噪音"]'
    assert m1["organisation_ids"] == [ids["property"], ids["housing"], ids["police"]]
    m2 = meetings[ids["m2"]]
    assert (m2["status"], m2["scheduled_for"], m2["on_date"]) == ("held", None, date(2025, 4, 10))
    # minutes written down, not confirmed yet: a draft
    assert (m2["community_id"], m2["grid_id"], m2["minutes"]) == (ids["c"], ids["g1"], "draft")
    assert (m2["minutes_recorded_at"], m2["minutes_confirmed_at"]) == (at(4, 10, 19), None)
    m3 = meetings[ids["m3"]]
    assert (m3["status"], m3["on_date"], m3["held_on"]) == ("scheduled", date(2025, 5, 20), None)
    assert {d["decision_id"]: d["meeting_id"] for d in decisions} == {
        ids["d1"]: ids["m1"],
        ids["d2"]: ids["m1"],
        ids["d3"]: ids["m2"],
        ids["d4"]: ids["m4"],
    }
    i1 = items[ids["i1"]]
    assert (i1["status"], i1["closed_on_time"], i1["priority"]) == ("closed", True, "high")
    # a progress report without a percentage keeps the last one
    assert i1["percent"] == 50
    assert i1["organisation_ids"] == [ids["property"], ids["housing"], ids["police"]]
    assert (i1["source"], i1["source_record"], i1["source_id"]) == (
        "governance",
        "decision",
        ids["d1"],
    )
    i2 = items[ids["i2"]]
    assert (i2["status"], i2["closed_on_time"], i2["received_late"]) == ("closed", False, True)
    assert (i2["deadline"], i2["extensions"], i2["verification_failures"]) == (at(4, 15, 18), 1, 1)
    i3 = items[ids["i3"]]
    assert (i3["status"], i3["deadline"], i3["reopens"]) == ("in_progress", at(5, 20, 18), 1)
    assert (i3["closed_at"], i3["closed_on_time"], i3["verified_at"]) == (None, None, None)
    i4 = items[ids["i4"]]
    assert (i4["status"], i4["owner_organisation_id"], i4["responsible"]) == (
        "assigned",
        ids["housing"],
        "周主任",
    )
    assert (i4["organisation_ids"], i4["receipt_due_by"]) == ([ids["housing"]], at(5, 8))
    assert (i4["deadline"], i4["extensions"]) == (at(6, 30, 18), 1)
    assert (items[ids["i5"]]["status"], items[ids["i5"]]["sensitive"]) == ("received", True)
    assert items[ids["i6"]]["co_organisation_ids"] == [ids["property"]]
    i8 = items[ids["i8"]]
    assert (i8["status"], i8["completed_on_time"]) == ("completion_reported", True)
    counts = {r["item_id"]: r["n"] for r in raised}
    assert counts == {
        ids["i2"]: 3,
        ids["i3"]: 2,
        ids["i4"]: 3,
        ids["i5"]: 1,
        ids["i6"]: 2,
        ids["i8"]: 1,
        ids["i10"]: 1,
    }
    entries = {r["item_id"]: r["n"] for r in history}
    assert (entries[ids["i1"]], entries[ids["i2"]], entries[ids["i3"]]) == (7, 11, 8)
    assert (entries[ids["i4"]], entries[ids["i6"]]) == (6, 5)
    assert len(entries) == 10


async def test_nothing_personal_beyond_what_the_reads_show_is_kept(world: World) -> None:
    async with world.pool.acquire() as conn:
        dump = " ".join(
            [
                str(await conn.fetch(f"SELECT x::text FROM governance.{table} x"))
                for table in ("meetings", "decisions", "work_items", "item_history")
            ]
        )
    for personal in (
        "张三家门口堆物",  # an item's description
        "王经理说电梯月底修好",  # minutes
        "应为陈所长发言",  # a correction
        "李书记",  # an attendee
        "已完成整改",  # a completion summary
        "零件已订",  # a progress note
        "赵联络",  # the liaison a red notice names
    ):
        assert personal not in dump, personal
    # the reasons an item's history shows are kept
    assert "夜间仍有噪音" in dump
    assert "楼道又堆满了" in dump


async def _snapshot(pool: asyncpg.Pool) -> dict[str, list[str]]:
    tables = (
        "meetings",
        "decisions",
        "work_items",
        "item_supervisions",
        "item_history",
        "stream_versions",
    )
    async with pool.acquire() as conn:
        return {
            table: [
                r[0]
                for r in await conn.fetch(f"SELECT x::text FROM governance.{table} x ORDER BY 1")
            ]
            for table in tables
        }


async def _consumed_to_end(world: World, timeout_s: float = 30) -> None:
    topic = f"{world.kafka.topic_prefix}governance.events"
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        async with world.pool.acquire() as conn:
            consumed = await conn.fetchval(
                'SELECT coalesce(sum("offset" + 1), 0) FROM governance.partition_offsets'
                " WHERE topic = $1",
                topic,
            )
        if consumed == world.governance.published:
            return
        assert asyncio.get_running_loop().time() < deadline, (consumed, world.governance.published)
        await asyncio.sleep(0.05)


async def test_redelivered_governance_events_change_nothing(world: World) -> None:
    await _consumed_to_end(world)
    before = await _snapshot(world.pool)
    assert len(before["work_items"]) == 10
    relay = world.governance.relay
    await relay.save_cursor(type(await relay.cursor())())  # publish everything once more
    await world.governance.publish()
    await _consumed_to_end(world)
    assert await _snapshot(world.pool) == before


# -- the board ----------------------------------------------------------------------------------


async def test_the_board_lists_open_items_by_deadline_then_the_closed_ones(world: World) -> None:
    ids = world.ids
    body = await _get(world, "/governance/work-items", director(world))
    assert keys(world, body) == ["i8", "i5", "i3", "i10", "i6", "i4", "i9", "i1", "i2"]
    assert body["total"] == 9
    assert body["by_status"] == {
        "unassigned": 0,
        "assigned": 1,
        "received": 3,
        "in_progress": 1,
        "completion_reported": 1,
        "verified": 0,
        "closed": 3,
        "withdrawn": 0,
    }
    assert body["by_colour"] == {"blue": 1, "yellow": 1, "red": 2}
    assert body["overdue"] == 2
    items = {k: i for k, i in zip(keys(world, body), body["items"], strict=True)}
    i1 = items["i1"]
    assert i1["owner"] == {"id": str(ids["property"]), "name": "安居物业"}
    # as the item lists them
    assert i1["co_organisations"] == [
        {"id": str(ids["housing"]), "name": "住房保障中心"},
        {"id": str(ids["police"]), "name": "城南派出所"},
    ]
    assert (i1["responsible"], i1["priority"], i1["status"]) == ("i1 负责人", "high", "closed")
    assert (i1["colour"], i1["overdue"], i1["closed_on_time"]) == (None, False, True)
    assert i1["source"] == {"source": "governance", "record": "decision", "id": str(ids["d1"])}
    assert i1["meeting_id"] == str(ids["m1"])
    assert i1["deadline"] == "2025-03-31T18:00:00Z"
    # reopened with a new deadline that has passed: red (before yellow), overdue
    assert (items["i3"]["status"], items["i3"]["colour"], items["i3"]["overdue"]) == (
        "in_progress",
        "red",
        True,
    )
    assert (items["i3"]["reopens"], items["i3"]["deadline"]) == (1, "2025-05-20T18:00:00Z")
    # waiting for the owner to sign: blue (the yellow and red of the deadline before the
    # extension stay behind)
    i4 = items["i4"]
    assert (i4["status"], i4["colour"], i4["overdue"]) == ("assigned", "blue", False)
    assert (i4["owner"]["name"], i4["responsible"]) == ("住房保障中心", "周主任")
    assert i4["source"]["source"] == "mediation"
    # received (late): the blue is over; the yellow of the old deadline stays behind
    assert (items["i6"]["colour"], items["i6"]["extensions"]) == (None, 1)
    assert (items["i6"]["received_late"], items["i10"]["colour"]) == (True, "yellow")
    # a reported completion stops the clock: past its deadline, but not overdue, no colour
    i8 = items["i8"]
    assert (i8["status"], i8["colour"], i8["overdue"]) == ("completion_reported", None, False)
    assert i8["co_organisations"] == [{"id": str(ids["police"]), "name": "城南派出所"}]
    # the red of the deadline in force at closing no longer shows on a closed item
    assert items["i2"]["colour"] is None


async def test_the_board_filters(world: World) -> None:
    ids, headers = world.ids, director(world)
    assert await board(world, headers, owner_id=str(ids["property"])) == ["i8", "i3", "i9", "i1"]
    assert await board(world, headers, status="closed") == ["i9", "i1", "i2"]
    assert await board(world, headers, colour="red") == ["i5", "i3"]
    assert await board(world, headers, colour="blue") == ["i4"]
    assert await board(world, headers, colour="yellow") == ["i10"]
    assert await board(world, headers, source="mediation") == ["i5", "i4"]
    assert await board(world, headers, source="station") == ["i10", "i6"]
    assert await board(world, headers, source="governance") == ["i8", "i3", "i9", "i1", "i2"]
    assert await board(world, headers, due_before="2025-04-01T00:00:00Z") == ["i9", "i1"]
    assert await board(world, headers, due_before="2025-04-01T08:00:00+08:00") == ["i9", "i1"]
    # without an offset: UTC; beyond what a timestamp holds: nothing, or everything
    assert await board(world, headers, due_before="2025-04-01T00:00:00") == ["i9", "i1"]
    assert await board(world, headers, due_before="0001-01-01T00:00:00+14:00") == []
    assert len(await board(world, headers, due_before="9999-12-31T23:59:59-12:00")) == 9
    assert await board(world, headers, owner_id=str(ids["property"]), status="in_progress") == [
        "i3"
    ]
    assert await board(world, headers, community_id=str(ids["c2"])) == []
    assert await board(world, ADMIN, community_id=str(ids["c2"])) == ["i7"]
    page = await _get(world, "/governance/work-items", headers, limit=2, offset=1)
    assert (keys(world, page), page["total"]) == (["i5", "i3"], 9)
    filtered = await _get(world, "/governance/work-items", headers, colour="red")
    assert (filtered["total"], filtered["by_colour"]["red"], filtered["overdue"]) == (2, 2, 2)
    for bad in ({"status": "done"}, {"colour": "green"}, {"source": "hotline"}):
        response = await world.client.get("/governance/work-items", params=bad, headers=headers)
        assert response.status_code == 422, (bad, response.text)


async def test_items_overdue_now(world: World) -> None:
    body = await _get(world, "/governance/overdue", director(world))
    assert keys(world, body) == ["i5", "i3"]  # the longest overdue first
    assert all(i["overdue"] for i in body["items"])
    grid_worker = token(Role.GRID_WORKER, areas=(world.ids["c"],))
    # the sensitive one is the directors'
    assert keys(world, await _get(world, "/governance/overdue", grid_worker)) == ["i3"]
    assert keys(world, await _get(world, "/governance/overdue", ADMIN)) == ["i5", "i3"]
    police = await _get(world, "/governance/overdue", ADMIN, owner_id=str(world.ids["police"]))
    assert keys(world, police) == ["i5"]


# -- an item's history --------------------------------------------------------------------------


async def test_an_item_has_its_whole_history(world: World) -> None:
    ids = world.ids
    body = await _get(world, f"/governance/work-items/{ids['i2']}", director(world))
    assert [h["what"] for h in body["history"]] == [
        "WorkItemOpened",
        "SupervisionRaised",
        "WorkItemReceived",
        "SupervisionRaised",
        "SupervisionRaised",
        "DeadlineExtended",
        "CompletionReported",
        "VerificationFailed",
        "CompletionReported",
        "WorkItemVerified",
        "WorkItemClosed",
    ]
    assert [h["sequence"] for h in body["history"]] == list(range(1, 12))
    opened, blue, received, _, red, extended, _, failed, late, verified, closed = body["history"]
    assert (opened["who"], opened["when"]) == ("director-1", "2025-03-03T12:00:00Z")
    assert opened["details"]["deadline"] == "2025-03-20T18:00:00Z"
    assert opened["details"]["owner_organisation_id"] == str(ids["police"])
    assert opened["details"]["source"] == {
        "source": "governance",
        "record": "decision",
        "id": str(ids["d1"]),
    }
    assert (blue["who"], blue["details"]["colour"]) == (SCHEDULER, "blue")
    assert blue["details"]["due_by"] == "2025-03-04T12:00:00Z"  # the receipt deadline
    assert (received["who"], received["details"]) == ("liaison-police", {"late": True})
    assert red["details"]["notified"] == ["director", "liaison"]
    assert extended == {
        "sequence": 6,
        "what": "DeadlineExtended",
        "who": "director-1",
        "when": "2025-03-21T09:00:00Z",
        "reason": "需要协调供电公司",
        "details": {
            "from_deadline": "2025-03-20T18:00:00Z",
            "to_deadline": "2025-04-15T18:00:00Z",
        },
    }
    assert (failed["who"], failed["reason"]) == ("grid-1", "夜间仍有噪音")
    assert (late["details"], verified["who"]) == ({"on_time": False}, "grid-1")
    assert (closed["who"], closed["details"], closed["reason"]) == (
        "director-1",
        {"on_time": False},
        None,
    )
    # the item as it stands, with its source and the decision it came from
    assert body["source"] == {"source": "governance", "record": "decision", "id": str(ids["d1"])}
    assert body["decision"] == "三月底前修复3号楼电梯"
    assert (body["status"], body["deadline"], body["extensions"]) == (
        "closed",
        "2025-04-15T18:00:00Z",
        1,
    )
    assert (body["verification_failures"], body["convener"], body["opened_by"]) == (
        1,
        "director-1",
        "director-1",
    )
    assert body["owner"] == {"id": str(ids["police"]), "name": "城南派出所"}


async def test_a_reopened_item_shows_why_and_its_new_deadline(world: World) -> None:
    body = await _get(world, f"/governance/work-items/{world.ids['i3']}", director(world))
    reopened = next(h for h in body["history"] if h["what"] == "WorkItemReopened")
    assert (reopened["reason"], reopened["details"]) == (
        "楼道又堆满了",
        {"deadline": "2025-05-20T18:00:00Z"},
    )
    red = body["history"][-1]
    assert (red["what"], red["details"]["colour"], red["details"]["due_by"]) == (
        "SupervisionRaised",
        "red",
        "2025-05-20T18:00:00Z",
    )
    assert "赵联络" not in str(body)
    assert (body["colour"], body["overdue"], body["decision"]) == ("red", True, "清理楼道堆物")
    # an item from a dispute has its source link, and no decision
    i4 = await _get(world, f"/governance/work-items/{world.ids['i4']}", director(world))
    assert i4["source"] == {
        "source": "mediation",
        "record": "dispute",
        "id": str(world.ids["dispute-4"]),
    }
    assert (i4["decision"], i4["meeting_id"], i4["convener"]) == (None, None, None)
    assert [h["what"] for h in i4["history"]] == [
        "WorkItemOpened",
        "SupervisionRaised",
        "WorkItemAssigned",
        "SupervisionRaised",
        "SupervisionRaised",
        "DeadlineExtended",
    ]
    assert i4["history"][0]["details"]["owner_organisation_id"] is None


async def test_an_unknown_or_hidden_item_is_404(world: World) -> None:
    ids = world.ids
    for headers, item in [
        (director(world), uuid.uuid4()),
        (director(world, "c2"), ids["i1"]),
        (token(Role.GRID_WORKER, areas=(ids["c"],)), ids["i5"]),  # sensitive
        (token(Role.GRID_WORKER, areas=(ids["g1"],)), ids["i1"]),  # of the community
    ]:
        response = await world.client.get(f"/governance/work-items/{item}", headers=headers)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "not_found"
    response = await world.client.get("/governance/work-items/nope", headers=ADMIN)
    assert response.status_code == 422


async def test_reads_of_sensitive_items_are_audited(world: World) -> None:
    ids = world.ids
    headers = token(Role.DIRECTOR, areas=(ids["c"],), sub="director-audit")
    assert (
        await world.client.get(f"/governance/work-items/{ids['i5']}", headers=headers)
    ).is_success
    assert (
        await world.client.get(f"/governance/work-items/{ids['i1']}", headers=headers)
    ).is_success
    await _get(world, "/governance/overdue", headers)
    mine = [
        r
        for r in await reads_of(world.pool, "work_item", ids["i5"])
        if r["sub"] == "director-audit"
    ]
    assert [r["route"] for r in mine] == [
        "GET /governance/work-items/{item_id}",
        "GET /governance/overdue",
    ]
    assert await reads_of(world.pool, "work_item", ids["i1"]) == []


# -- the meeting register -----------------------------------------------------------------------


async def test_the_meeting_register(world: World) -> None:
    ids = world.ids
    body = await _get(world, "/governance/meetings", director(world))
    assert keys(world, body) == ["m3", "m2", "m1"]
    assert body["total"] == 3
    m3, m2, m1 = body["items"]
    assert (m1["kind"], m1["status"], m1["on"], m1["held_on"]) == (
        "joint_party_building",
        "held",
        "2025-03-03",
        "2025-03-03",
    )
    assert m1["organisations"] == [
        {"id": str(ids["property"]), "name": "安居物业"},
        {"id": str(ids["housing"]), "name": "住房保障中心"},
        {"id": str(ids["police"]), "name": "城南派出所"},
    ]
    assert (m1["attendees"], m1["agenda"][2], m1["convener"]) == (5, "停车, 夜间噪音", "director-1")
    assert (m1["minutes"], m1["corrections"]) == ("confirmed", 1)
    assert m1["minutes_confirmed_at"] == "2025-03-04T09:00:00Z"
    assert [d["text"] for d in m1["decisions"]] == ["三月底前修复3号楼电梯", "清理楼道堆物"]
    d1, d2 = m1["decisions"]
    assert keys(world, d1) == ["i1", "i2"]
    assert keys(world, d2) == ["i3", "i9"]
    assert d2["items"][0]["colour"] == "red"
    assert (m2["kind"], m2["grid_id"], m2["scheduled_for"]) == (
        "fengqiao_hut",
        str(ids["g1"]),
        None,
    )
    assert [keys(world, d) for d in m2["decisions"]] == [["i8"]]
    assert (m2["minutes"], m2["minutes_confirmed_at"], m2["attendees"]) == ("draft", None, 2)
    assert (m3["status"], m3["on"], m3["minutes"], m3["decisions"]) == (
        "scheduled",
        "2025-05-20",
        "none",
        [],
    )
    assert m3["scheduled_for"] == "2025-05-20T14:00:00Z"


async def test_the_meeting_register_filters_and_scope(world: World) -> None:
    ids, headers = world.ids, director(world)
    meetings = "/governance/meetings"
    assert keys(world, await _get(world, meetings, headers, kind="fengqiao_hut")) == ["m2"]
    april = {"from": "2025-04-01", "to": "2025-04-30"}
    assert keys(world, await _get(world, meetings, headers, **april)) == ["m2"]
    assert keys(world, await _get(world, meetings, headers, **{"from": "2025-04-01"})) == [
        "m3",
        "m2",
    ]
    assert keys(world, await _get(world, meetings, headers, **{"to": "2025-03-31"})) == ["m1"]
    everything = await _get(world, meetings, ADMIN)
    assert keys(world, everything) == ["m3", "m2", "m4", "m1"]
    theirs = await _get(world, meetings, ADMIN, community_id=str(ids["c2"]))
    [m4] = theirs["items"]
    assert [o["name"] for o in m4["organisations"]] == ["乐业物业", "住房保障中心"]
    assert [keys(world, d) for d in m4["decisions"]] == [["i7"]]
    # a grid worker of G1 sees the grid's meeting, not the community's
    grid1 = token(Role.GRID_WORKER, areas=(ids["g1"],))
    assert keys(world, await _get(world, meetings, grid1)) == ["m2"]
    assert keys(world, await _get(world, meetings, director(world, "c2"))) == ["m4"]
    response = await world.client.get(
        meetings, params={"from": "2025-05-01", "to": "2025-04-01"}, headers=headers
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_date_range"
    response = await world.client.get(meetings, params={"kind": "Bad Kind"}, headers=headers)
    assert response.status_code == 422


async def test_a_decisions_items_are_those_the_caller_may_see(world: World) -> None:
    # a grid worker of G2 sees no meeting of the community, and a desk clerk of C sees all
    # of C's meetings but only the items the policy shows them (none sensitive here)
    desk = token(Role.DESK_STAFF, areas=(world.ids["c"],))
    body = await _get(world, "/governance/meetings", desk)
    m1 = body["items"][-1]
    assert [keys(world, d) for d in m1["decisions"]] == [["i1", "i2"], ["i3", "i9"]]
    grid2 = token(Role.GRID_WORKER, areas=(world.ids["g2"],))
    assert (await _get(world, "/governance/meetings", grid2))["items"] == []


# -- on-time completion -------------------------------------------------------------------------


def _rates(body: Any) -> dict[str | None, Any]:
    return {
        o["organisation"]["name"] if o["organisation"] else None: o for o in body["organisations"]
    }


def _row(counts: Any) -> tuple[int, int, int, int, float | None]:
    return (
        counts["due"],
        counts["closed_on_time"],
        counts["closed_late"],
        counts["open"],
        counts["rate"],
    )


async def test_on_time_rates_per_organisation_and_month(world: World) -> None:
    spring = {"from": "2025-03-01", "to": "2025-05-31"}
    body = await _get(world, "/governance/on-time", director(world), **spring)
    assert body["period"] == "month"
    # i9, i1 on time in March; i2 due in April as extended, closed late; i8 (reported, not yet
    # verified) open in April; i3 reopened with a May deadline and i5: open in May
    assert _row(body["total"]) == (6, 2, 1, 3, 0.3333)
    assert [(p["start"], *_row(p)) for p in body["periods"]] == [
        ("2025-03-01", 2, 2, 0, 0, 1.0),
        ("2025-04-01", 2, 0, 1, 1, 0.0),
        ("2025-05-01", 2, 0, 0, 2, 0.0),
    ]
    rates = _rates(body)
    assert list(rates) == ["城南派出所", "安居物业"]  # by name (in code-point order)
    property_ = rates["安居物业"]
    assert property_["organisation"]["id"] == str(world.ids["property"])
    assert _row(property_) == (4, 2, 0, 2, 0.5)
    assert [(p["start"], *_row(p)) for p in property_["periods"]] == [
        ("2025-03-01", 2, 2, 0, 0, 1.0),
        ("2025-04-01", 1, 0, 0, 1, 0.0),
        ("2025-05-01", 1, 0, 0, 1, 0.0),
    ]
    police = rates["城南派出所"]
    # i2's first deadline was in March: extended, it is due in April
    assert [(p["start"], *_row(p)) for p in police["periods"]] == [
        ("2025-03-01", 0, 0, 0, 0, None),
        ("2025-04-01", 1, 0, 1, 0, 0.0),
        ("2025-05-01", 1, 0, 0, 1, 0.0),
    ]
    # without the sensitive i5
    grid_worker = token(Role.GRID_WORKER, areas=(world.ids["c"],))
    seen = await _get(world, "/governance/on-time", grid_worker, **spring)
    assert _row(seen["total"]) == (5, 2, 1, 2, 0.4)
    assert _row(_rates(seen)["城南派出所"]) == (1, 0, 1, 0, 0.0)


async def test_on_time_without_bounds_and_per_week(world: World) -> None:
    body = await _get(world, "/governance/on-time", ADMIN)
    assert [p["start"] for p in body["periods"]] == [
        "2025-03-01",
        "2025-04-01",
        "2025-05-01",
        "2025-06-01",
    ]
    rates = _rates(body)
    assert _row(rates["乐业物业"]) == (1, 1, 0, 0, 1.0)
    # i10, i6 (extended into June) and i4 (extended into June)
    assert _row(rates["住房保障中心"]) == (3, 0, 0, 3, 0.0)
    assert _row(body["total"]) == (10, 3, 1, 6, 0.3)
    c2 = await _get(world, "/governance/on-time", ADMIN, community_id=str(world.ids["c2"]))
    assert list(_rates(c2)) == ["乐业物业"]
    weeks = await _get(
        world,
        "/governance/on-time",
        director(world),
        period="week",
        **{"from": "2025-03-10", "to": "2025-03-31"},
    )
    # i9 due Saturday 15 March, i1 Monday 31 March
    assert [(p["start"], p["due"], p["rate"]) for p in weeks["periods"]] == [
        ("2025-03-10", 1, 1.0),
        ("2025-03-17", 0, None),
        ("2025-03-24", 0, None),
        ("2025-03-31", 1, 1.0),
    ]
    response = await world.client.get(
        "/governance/on-time", params={"from": "2025-05-01", "to": "2025-04-01"}, headers=ADMIN
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "bad_date_range"
    # an answer lists at most 400 periods, also when the range ends where the items do
    for params in (
        {"from": "2000-01-01", "to": "2025-12-31", "period": "day"},
        {"from": "1900-01-01", "period": "week"},
    ):
        response = await world.client.get("/governance/on-time", params=params, headers=ADMIN)
        assert response.status_code == 400, params
        assert response.json()["error"]["code"] == "too_many_periods"
    months = {"from": "2000-01-01", "to": "2025-12-31", "period": "month"}
    assert len((await _get(world, "/governance/on-time", ADMIN, **months))["periods"]) == 312
    last_year = {"from": "9999-01-01", "to": "9999-12-31", "period": "month"}
    body = await _get(world, "/governance/on-time", ADMIN, **last_year)
    assert (len(body["periods"]), body["total"]["due"]) == (12, 0)


# -- scoping ------------------------------------------------------------------------------------


async def test_a_liaison_sees_only_their_organisations_items(world: World) -> None:
    ids = world.ids
    property_ = liaison(world, "property")
    # owned (i8, i3, i9, i1) and co-owned (i6)
    assert await board(world, property_) == ["i8", "i3", "i6", "i9", "i1"]
    # co-owned i8 and i1; the sensitive i5 they own is the directors'
    assert await board(world, liaison(world, "police")) == ["i8", "i1", "i2"]
    assert await board(world, liaison(world, "housing")) == ["i10", "i6", "i4", "i1"]
    for item in ("i1", "i6"):
        response = await world.client.get(f"/governance/work-items/{ids[item]}", headers=property_)
        assert response.status_code == 200, item
    for item in ("i2", "i4", "i5", "i7"):
        response = await world.client.get(f"/governance/work-items/{ids[item]}", headers=property_)
        assert response.status_code == 404, item
    assert keys(world, await _get(world, "/governance/overdue", property_)) == ["i3"]
    rates = _rates(await _get(world, "/governance/on-time", property_))
    assert set(rates) == {"安居物业", "住房保障中心"}  # i6 is co-owned
    assert _row(rates["住房保障中心"]) == (1, 0, 0, 1, 0.0)


async def test_a_liaison_sees_nothing_outside_their_areas_or_organisations(world: World) -> None:
    # the housing centre serves C2 too, but owns nothing there
    assert await board(world, liaison(world, "housing", area="c2")) == []
    assert await board(world, liaison(world, "c2property")) == []
    assert await board(world, liaison(world, "c2property", area="c2")) == ["i7"]
    nobody = token(Role.LIAISON, areas=(world.ids["c"],))
    assert await board(world, nobody) == []
    assert (await _get(world, "/governance/on-time", nobody))["organisations"] == []
    response = await world.client.get("/governance/meetings", headers=liaison(world, "property"))
    assert response.status_code == 403


async def test_staff_of_another_community_see_nothing_of_this_one(world: World) -> None:
    other = director(world, "c2")
    assert await board(world, other) == ["i7"]
    assert await board(world, other, community_id=str(world.ids["c"])) == []
    assert keys(world, await _get(world, "/governance/overdue", other)) == []
    nobody = token(Role.DIRECTOR)
    assert await board(world, nobody) == []
    assert (await _get(world, "/governance/meetings", nobody))["items"] == []


@pytest.mark.parametrize(
    "role", [Role.DOCTOR, Role.POLICE, Role.PETITION_AGENT, Role.VOLUNTEER_COORDINATOR]
)
async def test_roles_without_governance_rights_read_no_governance(world: World, role: Role) -> None:
    headers = token(role, areas=(world.ids["c"],))
    for url in (
        "/governance/work-items",
        f"/governance/work-items/{world.ids['i1']}",
        "/governance/meetings",
        "/governance/on-time",
        "/governance/overdue",
    ):
        response = await world.client.get(url, headers=headers)
        assert response.status_code == 403, (url, response.text)


# -- read your writes ---------------------------------------------------------------------------


async def test_a_governance_token_waits_for_the_governance_read_model(world: World) -> None:
    item = world.ids["i3"]
    written = await world.governance.emit(
        f"item-{item}",
        ProgressReported(
            item_id=item,
            note="已清理一半",
            percent=80,
            reported_by="liaison-property",
            reported_at=NOW - timedelta(hours=1),
        ),
        area=world.ids["c"],
    )
    assert written.startswith(f"governance:item-{item}:")

    async def publish_later() -> None:
        await asyncio.sleep(0.3)
        await world.governance.publish()

    publishing = asyncio.create_task(publish_later())
    response = await world.client.get(
        f"/governance/work-items/{item}",
        params={"consistency_token": written},
        headers=liaison(world, "property"),
    )
    await publishing
    assert response.status_code == 200, response.text
    assert response.headers["x-consistency"] == "fresh"
    body = response.json()
    assert (body["percent"], body["status"]) == (80, "in_progress")
    assert body["history"][-1]["what"] == "ProgressReported"
    assert body["history"][-1]["who"] == "liaison-property"
