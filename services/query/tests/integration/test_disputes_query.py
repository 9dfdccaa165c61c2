"""The dispute board, timelines and statistics: mediation events through the real relay and
broker into the query API, with scoping and sensitive disputes."""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import pytest_asyncio

from anju_contracts import Actor, Event
from anju_contracts.mediation import (
    CATALOG,
    AgreementFollowedUp,
    AgreementReached,
    AgreementTerm,
    Category,
    Channel,
    ConflictSignalDismissed,
    ConflictSignalReported,
    DisputeEscalated,
    DisputeEscalationsWithdrawn,
    DisputeRegistered,
    DisputeResolved,
    DisputeSlaBreached,
    Location,
    MediatorAssigned,
    MediatorRole,
    Party,
    PartyRole,
    PetitionAccepted,
    PetitionClosed,
    PetitionDeadlineMissed,
    PetitionForwarded,
    PetitionProxied,
    PetitionStage,
    ReporterRole,
    ReturnVisitRecorded,
    Satisfaction,
    Sensitivity,
    Tier,
)
from anju_contracts.registry import (
    CATALOG as REGISTRY_CATALOG,
    AreaKind,
    AreaPath,
    ResidentRegistered,
    Sex,
)
from anju_query.testing import Source, caught_up, read_side, write_side
from eventkit.audit import reads_of
from eventkit.auth import Role, issue_token
from eventkit.projection import wait_for_stream
from eventkit.settings import KafkaSettings
from eventkit.testing.infra import databases

SECRET = "query-tests-secret-0123456789abcdef"
GRID_WORKER = Actor(id="gw-1", roles=("grid_worker",))
DESK = Actor(id="desk-1", roles=("desk_staff",))


def token(*roles: Role, areas: tuple[uuid.UUID, ...] = (), sub: str = "staff-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, roles, [str(a) for a in areas])}"}


@dataclass
class World:
    mediation: Source
    client: httpx.AsyncClient
    community: uuid.UUID
    grid1: uuid.UUID
    grid2: uuid.UUID
    building: uuid.UUID
    noise: uuid.UUID
    leak: uuid.UUID
    sensitive: uuid.UUID
    other_grid: uuid.UUID
    resident: uuid.UUID = field(default_factory=uuid.uuid4)
    petition: uuid.UUID = field(default_factory=uuid.uuid4)
    late_petition: uuid.UUID = field(default_factory=uuid.uuid4)
    signal: uuid.UUID = field(default_factory=uuid.uuid4)
    dismissed_signal: uuid.UUID = field(default_factory=uuid.uuid4)


def _registered(
    dispute_id: uuid.UUID,
    location: Location,
    *,
    tier: Tier,
    at: datetime,
    days: int,
    category: Category = Category.NOISE,
    sensitivity: Sensitivity = Sensitivity.STANDARD,
    parties: list[Party] | None = None,
) -> DisputeRegistered:
    return DisputeRegistered(
        dispute_id=dispute_id,
        channel=Channel.WALK_IN,
        category=category,
        description="描述",
        location=location,
        parties=parties
        or [Party(party_id=uuid.uuid4(), role=PartyRole.APPLICANT, name="王", contact="1")],
        sensitivity=sensitivity,
        tier=tier,
        registered_at=at,
        sla_due_by=at + timedelta(days=days),
    )


async def _seed(m: Source) -> World:
    c, g1, g2, b = (uuid.uuid4() for _ in range(4))
    at_building = Location(
        area_id=b, kind=AreaKind.BUILDING, path=AreaPath(community_id=c, grid_id=g1, building_id=b)
    )
    at_grid2 = Location(area_id=g2, kind=AreaKind.GRID, path=AreaPath(community_id=c, grid_id=g2))
    now = datetime.now(UTC)
    resident = uuid.uuid4()
    a, r = uuid.uuid4(), uuid.uuid4()
    parties = [
        Party(party_id=a, role=PartyRole.APPLICANT, resident_id=resident),
        Party(party_id=r, role=PartyRole.RESPONDENT, name="李", contact="2"),
    ]
    # noise: on track at the building, then resolved with an agreement carried out
    noise = uuid.uuid4()
    await m.emit(
        f"dispute-{noise}",
        _registered(
            noise,
            at_building,
            tier=Tier.BUILDING,
            at=now - timedelta(hours=1),
            days=3,
            parties=parties,
        ),
        MediatorAssigned(dispute_id=noise, mediator_id="gw-1", role=MediatorRole.GRID_WORKER),
        AgreementReached(
            dispute_id=noise,
            agreement_id=uuid.uuid4(),
            terms=[AgreementTerm(party_id=r, action="quiet after 22:00")],
            confirmed_by=[a, r],
            reached_at=now,
        ),
        AgreementFollowedUp(
            dispute_id=noise, agreement_id=uuid.uuid4(), carried_out=True, checked_at=now
        ),
        ReturnVisitRecorded(
            dispute_id=noise,
            visited_at=now,
            satisfaction=[Satisfaction(party_id=a, score=5), Satisfaction(party_id=r, score=4)],
        ),
        DisputeResolved(
            dispute_id=noise,
            tier=Tier.BUILDING,
            outcome="settled",
            resolved_at=now,
            reopen_until=now + timedelta(days=30),
        ),
        area=g1,
    )
    # leak: breached at the building, escalated to the grid, now at risk there
    leak = uuid.uuid4()
    start = now - timedelta(days=9)
    await m.emit(
        f"dispute-{leak}",
        _registered(
            leak, at_building, tier=Tier.BUILDING, at=start, days=3, category=Category.WATER_LEAK
        ),
        DisputeSlaBreached(dispute_id=leak, tier=Tier.BUILDING, due_by=start + timedelta(days=3)),
        DisputeEscalated(
            dispute_id=leak,
            from_tier=Tier.BUILDING,
            to_tier=Tier.GRID,
            reason="SLA breached",
            automatic=True,
            escalated_at=start + timedelta(days=3),
            sla_due_by=start + timedelta(days=10),
        ),
        area=g1,
    )
    # sensitive: family matter in grid 2, mediator m-9
    sensitive = uuid.uuid4()
    await m.emit(
        f"dispute-{sensitive}",
        _registered(
            sensitive,
            at_grid2,
            tier=Tier.GRID,
            at=now,
            days=7,
            category=Category.FAMILY_ELDER_CARE,
            sensitivity=Sensitivity.SENSITIVE,
            parties=[Party(party_id=uuid.uuid4(), role=PartyRole.APPLICANT, resident_id=resident)],
        ),
        MediatorAssigned(
            dispute_id=sensitive, mediator_id="m-9", role=MediatorRole.PEOPLES_MEDIATOR
        ),
        area=g2,
    )
    other = uuid.uuid4()
    await m.emit(
        f"dispute-{other}", _registered(other, at_grid2, tier=Tier.GRID, at=now, days=7), area=g2
    )
    petition = uuid.uuid4()
    await m.emit(
        f"petition-{petition}",
        PetitionProxied(
            petition_id=petition,
            agent_id="agent-1",
            resident_id=resident,
            path=AreaPath(community_id=c, grid_id=g1, building_id=b),
            subject="heating",
            department="housing",
            registered_at=now,
        ),
        PetitionForwarded(
            petition_id=petition, forwarded_at=now, acceptance_due_by=now + timedelta(days=15)
        ),
        PetitionAccepted(
            petition_id=petition,
            accepted_at=now,
            on_time=True,
            answer_due_by=now + timedelta(days=60),
        ),
        PetitionClosed(petition_id=petition, outcome="answered", closed_at=now),
        area=g1,
    )
    # a second petition, in grid 2, whose acceptance deadline passed
    late = uuid.uuid4()
    await m.emit(
        f"petition-{late}",
        PetitionProxied(
            petition_id=late,
            agent_id="agent-2",
            resident_id=uuid.uuid4(),
            path=AreaPath(community_id=c, grid_id=g2),
            subject="楼道堆物",
            department="城管",
            registered_at=now - timedelta(days=20),
        ),
        PetitionForwarded(
            petition_id=late,
            forwarded_at=now - timedelta(days=20),
            acceptance_due_by=now - timedelta(days=5),
        ),
        PetitionDeadlineMissed(
            petition_id=late, stage=PetitionStage.ACCEPTANCE, due_by=now - timedelta(days=5)
        ),
        area=g2,
    )
    # conflict signals: one reported in the building, one dismissed in grid 2
    signal, dismissed = uuid.uuid4(), uuid.uuid4()
    await m.emit(
        f"signal-{signal}",
        ConflictSignalReported(
            signal_id=signal,
            reporter_id="gw-1",
            reporter_role=ReporterRole.GRID_WORKER,
            location=at_building,
            category=Category.PETS,
            description="犬只夜间吠叫",
            reported_at=now,
        ),
        area=g1,
    )
    await m.emit(
        f"signal-{dismissed}",
        ConflictSignalReported(
            signal_id=dismissed,
            reporter_id="gw-2",
            reporter_role=ReporterRole.GRID_WORKER,
            location=at_grid2,
            category=Category.PARKING,
            description="车辆占道",
            reported_at=now - timedelta(days=1),
        ),
        ConflictSignalDismissed(signal_id=dismissed, reason="already moved"),
        area=g2,
    )
    await m.publish()
    return World(
        m,
        None,  # type: ignore[arg-type]
        c,
        g1,
        g2,
        b,
        noise,
        leak,
        sensitive,
        other,
        resident=resident,
        petition=petition,
        late_petition=late,
        signal=signal,
        dismissed_signal=dismissed,
    )


ID_NUMBER = "110105196001010011"


async def _register_resident(registry: Source, world: World) -> None:
    """The resident, as the registry announces them (the profile needs the residents model)."""
    path = AreaPath(community_id=world.community, grid_id=world.grid1, building_id=world.building)
    await registry.emit(
        f"resident-{world.resident}",
        ResidentRegistered(
            resident_id=world.resident,
            name="王芳",
            sex=Sex.FEMALE,
            date_of_birth=datetime(1960, 1, 1).date(),
            id_number=ID_NUMBER,
            path=path,
        ),
        area=world.grid1,
    )
    await registry.publish()


@asynccontextmanager
async def world_of(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"d{uuid.uuid4().hex[:10]}.")
    async with (
        databases(pg_server_url, "mediation", "registry", "read") as urls,
        write_side("mediation", urls[0], kafka, CATALOG, secret=SECRET, actor=GRID_WORKER) as m,
        write_side(
            "registry", urls[1], kafka, REGISTRY_CATALOG, secret=SECRET, actor=DESK
        ) as registry,
    ):
        world = await _seed(m)
        await _register_resident(registry, world)
        async with read_side(urls[2], kafka, SECRET) as query:
            await caught_up(query.pool, m, "disputes")
            await caught_up(query.pool, registry, "residents")
            world.client = query.client
            yield world


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def world(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    async with world_of(pg_server_url, kafka_bootstrap) as seeded:
        yield seeded


async def _ids(world: World, headers: dict[str, str], **params: str) -> set[uuid.UUID]:
    response = await world.client.get("/disputes", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return {uuid.UUID(item["id"]) for item in response.json()["items"]}


async def test_the_board_filters_by_tier_status_category_area_mediator_and_sla(
    world: World,
) -> None:
    director = token(Role.DIRECTOR, areas=(world.community,))
    everything = {world.noise, world.leak, world.sensitive, world.other_grid}
    assert await _ids(world, director) == everything
    assert await _ids(world, director, tier="grid") == {
        world.leak,
        world.sensitive,
        world.other_grid,
    }
    assert await _ids(world, director, status="resolved") == {world.noise}
    assert await _ids(world, director, category="water_leak") == {world.leak}
    assert await _ids(world, director, area_id=str(world.building)) == {world.noise, world.leak}
    assert await _ids(world, director, mediator="m-9") == {world.sensitive}
    assert await _ids(world, director, sla_state="at_risk") == {world.leak}
    assert await _ids(world, director, sla_state="on_track") == {world.sensitive, world.other_grid}


async def test_scoping_and_sensitive_disputes(world: World) -> None:
    grid1 = token(Role.GRID_WORKER, areas=(world.grid1,), sub="gw-1")
    assert await _ids(world, grid1) == {world.noise, world.leak}
    grid2 = token(Role.GRID_WORKER, areas=(world.grid2,), sub="gw-2")
    assert await _ids(world, grid2) == {world.other_grid}
    hidden = await world.client.get(f"/disputes/{world.sensitive}", headers=grid2)
    assert hidden.status_code == 404
    mediator = token(Role.MEDIATOR, sub="m-9")
    assert await _ids(world, mediator) == {world.sensitive}
    shown = await world.client.get(f"/disputes/{world.sensitive}", headers=mediator)
    assert shown.status_code == 200
    assert (await world.client.get("/disputes")).status_code == 401


async def test_a_sensitive_dispute_is_for_its_communitys_directors_only(world: World) -> None:
    own = token(Role.DIRECTOR, areas=(world.community,), sub="d-1")
    assert world.sensitive in await _ids(world, own)
    for director in (
        token(Role.DIRECTOR, sub="d-0"),  # a token that names no area
        token(Role.DIRECTOR, areas=(uuid.uuid4(),), sub="d-2"),  # another community's
    ):
        assert await _ids(world, director) == set()
        hidden = await world.client.get(f"/disputes/{world.sensitive}", headers=director)
        assert hidden.status_code == 404


@pytest.mark.parametrize("role", [Role.DOCTOR, Role.VOLUNTEER_COORDINATOR, Role.PETITION_AGENT])
async def test_roles_without_dispute_rights_read_no_disputes(world: World, role: Role) -> None:
    headers = token(role, areas=(world.community,))
    for url in ("/disputes", f"/disputes/{world.noise}", "/disputes/statistics", "/signals"):
        response = await world.client.get(url, headers=headers)
        assert response.status_code == 403, (url, response.text)
        assert response.json()["error"]["code"] == "forbidden"


async def test_a_dispute_has_its_whole_timeline(world: World) -> None:
    response = await world.client.get(f"/disputes/{world.leak}", headers=token(Role.ADMIN))
    body = response.json()
    assert [e["type"] for e in body["timeline"]] == [
        "DisputeRegistered",
        "DisputeSlaBreached",
        "DisputeEscalated",
    ]
    assert body["dispute"]["escalations"] == 1
    assert body["dispute"]["sla_state"] == "at_risk"
    noise = (await world.client.get(f"/disputes/{world.noise}", headers=token(Role.ADMIN))).json()
    assert noise["satisfaction"] == 4.5
    assert noise["carried_out"] is True
    assert len(noise["parties"]) == 2


async def test_statistics_per_period_and_area(world: World) -> None:
    response = await world.client.get(
        "/disputes/statistics",
        params={"area_id": str(world.grid1)},
        headers=token(Role.DIRECTOR, areas=(world.community,)),
    )
    assert response.status_code == 200, response.text
    stats = response.json()
    assert stats["registered"] == 2
    assert stats["resolved"] == 1
    building = next(t for t in stats["resolved_by_tier"] if t["tier"] == "building")
    assert building == {"tier": "building", "resolved": 1, "share": 1.0}
    assert stats["agreements"] == 1
    assert stats["agreements_carried_out"] == 1
    assert stats["mean_satisfaction"] == 4.5
    assert stats["petitions"]["handled"] == 1
    assert stats["petitions"]["accepted_on_time"] == 1
    # two disputes in the building, but of different categories: no repeated hotspot yet
    assert stats["hotspots"] == []


async def test_a_mediation_token_waits_for_the_disputes_read_model(world: World) -> None:
    token_value = (
        f"mediation:dispute-{world.noise}:{world.mediation.versions[f'dispute-{world.noise}']}"
    )
    response = await world.client.get(
        "/disputes", params={"consistency_token": token_value}, headers=token(Role.ADMIN)
    )
    assert response.headers["X-Consistency"] == "fresh"


# -- signals, petitions, the resident profile, audited reads -------------------------------------


async def _page(
    world: World, url: str, headers: dict[str, str], **params: str
) -> list[dict[str, Any]]:
    response = await world.client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def ids(items: list[dict[str, Any]]) -> set[uuid.UUID]:
    return {uuid.UUID(i["id"]) for i in items}


async def test_signals_filter_by_area_and_status_within_scope(world: World) -> None:
    director = token(Role.DIRECTOR, areas=(world.community,))
    assert ids(await _page(world, "/signals", director)) == {world.signal, world.dismissed_signal}
    assert ids(await _page(world, "/signals", director, status="dismissed")) == {
        world.dismissed_signal
    }
    assert ids(await _page(world, "/signals", director, area_id=str(world.building))) == {
        world.signal
    }
    assert ids(await _page(world, "/signals", director, category="parking")) == {
        world.dismissed_signal
    }
    grid1 = token(Role.GRID_WORKER, areas=(world.grid1,), sub="gw-1")
    [only] = await _page(world, "/signals", grid1)
    assert only["id"] == str(world.signal)
    assert only["status"] == "reported"
    assert only["category"] == "pets"
    assert only["building_id"] == str(world.building)
    assert only["description"] == "犬只夜间吠叫"
    assert only["reported_by"] == "gw-1"
    assert await _page(world, "/signals", grid1, area_id=str(world.grid2)) == []


async def test_petitions_filter_by_status_timeliness_and_area_within_scope(world: World) -> None:
    director = token(Role.DIRECTOR, areas=(world.community,))
    everything = await _page(world, "/petitions", director)
    assert ids(everything) == {world.petition, world.late_petition}
    assert ids(await _page(world, "/petitions", director, timeliness="late")) == {
        world.late_petition
    }
    assert ids(await _page(world, "/petitions", director, timeliness="on_time")) == {world.petition}
    assert ids(await _page(world, "/petitions", director, status="closed")) == {world.petition}
    assert ids(await _page(world, "/petitions", director, area_id=str(world.grid2))) == {
        world.late_petition
    }
    building = await _page(world, "/petitions", director, building_id=str(world.building))
    assert ids(building) == {world.petition}
    assert building[0]["building_id"] == str(world.building)
    assert await _page(world, "/petitions", director, building_id=str(uuid.uuid4())) == []
    late = next(i for i in everything if i["id"] == str(world.late_petition))
    assert late["building_id"] is None
    assert late["late"] is True
    assert late["missed"] is True
    assert late["status"] == "forwarded"
    grid1 = token(Role.GRID_WORKER, areas=(world.grid1,), sub="gw-1")
    assert ids(await _page(world, "/petitions", grid1)) == {world.petition}
    bad = await world.client.get("/petitions", params={"timeliness": "soon"}, headers=director)
    assert bad.status_code == 422


async def test_the_resident_profile_shows_the_disputes_and_petitions_the_caller_may_see(
    world: World,
) -> None:
    pool = world.client._transport.app.state.runtime.pool  # type: ignore[attr-defined]
    url = f"/residents/{world.resident}"

    worker = token(Role.GRID_WORKER, areas=(world.grid1,), sub="gw-profile")
    response = await world.client.get(url, headers=worker)
    assert response.status_code == 200, response.text
    profile = response.json()
    assert profile["resident"]["id_number"] != ID_NUMBER
    # the sensitive dispute the resident is a party to is not shown to a grid worker
    assert {d["id"] for d in profile["disputes"]} == {str(world.noise)}
    assert [p["id"] for p in profile["petitions"]] == [str(world.petition)]
    assert profile["flags"] == []  # the old fields are all still there

    director = token(Role.DIRECTOR, areas=(world.community,), sub="dir-profile")
    profile = (await world.client.get(url, headers=director)).json()
    assert profile["resident"]["id_number"] == ID_NUMBER
    assert {d["id"] for d in profile["disputes"]} == {str(world.noise), str(world.sensitive)}
    assert [p["id"] for p in profile["petitions"]] == [str(world.petition)]

    async with pool.acquire() as conn:
        readers = {r["sub"] for r in await reads_of(conn, "resident", world.resident)}
        assert readers == {"dir-profile"}
        sensitive = [r["sub"] for r in await reads_of(conn, "dispute", world.sensitive)]
        assert "dir-profile" in sensitive
        assert "gw-profile" not in sensitive


async def test_reads_of_sensitive_disputes_are_audited(world: World) -> None:
    pool = world.client._transport.app.state.runtime.pool  # type: ignore[attr-defined]
    mediator = token(Role.MEDIATOR, sub="m-9")
    director = token(Role.DIRECTOR, areas=(world.community,), sub="dir-audit")
    assert (await world.client.get(f"/disputes/{world.sensitive}", headers=director)).is_success
    assert (await world.client.get(f"/disputes/{world.noise}", headers=director)).is_success
    grid2 = token(Role.GRID_WORKER, areas=(world.grid2,), sub="gw-audit")
    refused = await world.client.get(f"/disputes/{world.sensitive}", headers=grid2)
    assert refused.status_code == 404
    rows = await reads_of(pool, "dispute", world.sensitive)
    mine = [r for r in rows if r["sub"] == "dir-audit"]
    assert len(mine) == 1
    assert mine[0]["roles"] == ["director"]
    assert mine[0]["route"] == "GET /disputes/{dispute_id}"
    assert not [r for r in rows if r["sub"] == "gw-audit"]
    assert await reads_of(pool, "dispute", world.noise) == []
    assert mediator  # the mediator's own read is covered by test_scoping_and_sensitive_disputes


async def test_the_board_audits_each_sensitive_dispute_it_shows(world: World) -> None:
    pool = world.client._transport.app.state.runtime.pool  # type: ignore[attr-defined]
    director = token(Role.DIRECTOR, areas=(world.community,), sub="dir-board")
    shown = await _ids(world, director)
    assert world.sensitive in shown
    rows = [r for r in await reads_of(pool, "dispute", world.sensitive) if r["sub"] == "dir-board"]
    assert len(rows) == 1
    assert rows[0]["route"] == "GET /disputes"
    assert rows[0]["roles"] == ["director"]
    for standard in shown - {world.sensitive}:
        assert await reads_of(pool, "dispute", standard) == []
    # a page without a sensitive dispute records nothing
    await _ids(world, director, category="water_leak")
    grid2 = token(Role.GRID_WORKER, areas=(world.grid2,), sub="gw-board")
    assert world.sensitive not in await _ids(world, grid2)
    readers = {r["sub"] for r in await reads_of(pool, "dispute", world.sensitive)}
    assert "gw-board" not in readers
    async with pool.acquire() as conn:
        board_reads = await conn.fetchval("SELECT count(*) FROM read_audit WHERE sub = 'dir-board'")
    assert board_reads == 1


async def test_statistics_of_one_area_list_only_its_hotspots(world: World) -> None:
    """A director over two communities, filtering one, sees none of the other's hotspots."""
    other, building = uuid.uuid4(), uuid.uuid4()
    at = Location(
        area_id=building,
        kind=AreaKind.BUILDING,
        path=AreaPath(community_id=other, grid_id=uuid.uuid4(), building_id=building),
    )
    written = ""
    for _ in range(2):
        signal = uuid.uuid4()
        written = await world.mediation.emit(
            f"signal-{signal}",
            ConflictSignalReported(
                signal_id=signal,
                reporter_id="gw-9",
                reporter_role=ReporterRole.GRID_WORKER,
                location=at,
                category=Category.NOISE,
                description="装修噪音",
                reported_at=datetime.now(UTC),
            ),
            area=other,
        )
    await world.mediation.publish()
    director = token(Role.DIRECTOR, areas=(world.community, other), sub="dir-two")

    async def hotspots(**params: str) -> list[tuple[str | None, str]]:
        response = await world.client.get(
            "/disputes/statistics",
            params={**params, "consistency_token": written},
            headers=director,
        )
        assert response.status_code == 200, response.text
        assert response.headers["x-consistency"] == "fresh"
        return [(h["building_id"], h["category"]) for h in response.json()["hotspots"]]

    assert await hotspots(area_id=str(other)) == [(str(building), "noise")]
    assert await hotspots() == [(str(building), "noise")]
    assert await hotspots(area_id=str(world.community)) == []
    assert await hotspots(area_id=str(world.grid1)) == []


def _cascade(dispute_id: uuid.UUID, registered_at: datetime) -> list[Event]:
    """What mediation's scheduler, on the clock, makes of a building-tier dispute whose SLAs all
    ran out before anyone brought in the ledger: a breach and an escalation per tier."""
    events: list[Event] = []
    tier, entered, days = Tier.BUILDING, registered_at, 3
    for to, next_days in ((Tier.GRID, 7), (Tier.COMMUNITY, 15), (Tier.EXTERNAL, None)):
        due = entered + timedelta(days=days)
        events += [
            DisputeSlaBreached(dispute_id=dispute_id, tier=tier, due_by=due),
            DisputeEscalated(
                dispute_id=dispute_id,
                from_tier=tier,
                to_tier=to,
                reason="SLA breached",
                automatic=True,
                escalated_at=due,
                sla_due_by=None if next_days is None else due + timedelta(days=next_days),
            ),
        ]
        tier, entered, days = to, due, next_days or 0
    return events


async def test_a_dispute_and_petitions_from_the_ledger_are_judged_by_their_days(
    world: World,
) -> None:
    """Brought in from the paper ledger after the scheduler had marked them on the clock: a
    dispute it escalated up to external, resolved (dated) before its building SLA ran out, is
    resolved at the building, on time, with no escalation left; a petition whose acceptance
    deadline it marked missed, accepted by that deadline, is on time; one the agent closed while
    still waiting past its deadline, unmarked, is late."""
    c, g, b = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    path = AreaPath(community_id=c, grid_id=g, building_id=b)
    at_building = Location(area_id=b, kind=AreaKind.BUILDING, path=path)
    then = datetime.now(UTC) - timedelta(days=40)
    m = world.mediation

    dispute = uuid.uuid4()
    stream = f"dispute-{dispute}"
    registered = _registered(dispute, at_building, tier=Tier.BUILDING, at=then, days=3)
    await m.emit(stream, registered, area=g, occurred_at=then)
    await m.emit(stream, *_cascade(dispute, then), area=g)
    resolved_at = then + timedelta(days=2)
    await m.emit(
        stream,
        DisputeEscalationsWithdrawn(
            dispute_id=dispute,
            tier=Tier.BUILDING,
            tier_entered_at=then,
            sla_due_by=then + timedelta(days=3),
            withdrawn=[Tier.GRID, Tier.COMMUNITY, Tier.EXTERNAL],
            superseded_at=resolved_at,
        ),
        DisputeResolved(
            dispute_id=dispute,
            tier=Tier.BUILDING,
            outcome="达成协议",
            resolved_at=resolved_at,
            reopen_until=resolved_at + timedelta(days=30),
            on_time=True,
        ),
        area=g,
        occurred_at=resolved_at,
    )

    def petition_filed(petition_id: uuid.UUID) -> list[Event]:
        return [
            PetitionProxied(
                petition_id=petition_id,
                agent_id="agent-1",
                resident_id=uuid.uuid4(),
                path=path,
                subject="供暖不足",
                department="住建局",
                registered_at=then,
            ),
            PetitionForwarded(
                petition_id=petition_id,
                forwarded_at=then,
                acceptance_due_by=then + timedelta(days=15),
            ),
        ]

    on_time, late = uuid.uuid4(), uuid.uuid4()
    await m.emit(f"petition-{on_time}", *petition_filed(on_time), area=g, occurred_at=then)
    await m.emit(
        f"petition-{on_time}",
        PetitionDeadlineMissed(
            petition_id=on_time, stage=PetitionStage.ACCEPTANCE, due_by=then + timedelta(days=15)
        ),
        area=g,
    )
    accepted_at = then + timedelta(days=10)
    await m.emit(
        f"petition-{on_time}",
        PetitionAccepted(
            petition_id=on_time,
            accepted_at=accepted_at,
            on_time=True,
            answer_due_by=accepted_at + timedelta(days=60),
        ),
        area=g,
        occurred_at=accepted_at,
    )
    await m.emit(f"petition-{late}", *petition_filed(late), area=g, occurred_at=then)
    closed_at = then + timedelta(days=20)
    await m.emit(
        f"petition-{late}",
        PetitionClosed(petition_id=late, outcome="群众撤回", closed_at=closed_at),
        area=g,
        occurred_at=closed_at,
    )
    await m.publish()
    pool = world.client._transport.app.state.runtime.pool  # type: ignore[attr-defined]
    for name in (stream, f"petition-{on_time}", f"petition-{late}"):
        version = m.versions[name]
        assert await wait_for_stream(pool, "disputes", "mediation", name, version, timeout_s=30)

    director = token(Role.DIRECTOR, areas=(c,), sub="dir-ledger")
    response = await world.client.get(f"/disputes/{dispute}", headers=director)
    assert response.status_code == 200, response.text
    detail = response.json()
    item = detail["dispute"]
    assert (item["status"], item["tier"], item["escalations"]) == ("resolved", "building", 0)
    assert item["resolved_on_time"] is True
    assert item["sla_due_by"] == (then + timedelta(days=3)).isoformat().replace("+00:00", "Z")
    assert detail["timeline"][-2]["type"] == "DisputeEscalationsWithdrawn"
    assert detail["timeline"][-1]["occurred_at"] == resolved_at.isoformat().replace("+00:00", "Z")
    statistics = await world.client.get(
        "/disputes/statistics",
        params={"area_id": str(c), "since": (then - timedelta(days=1)).isoformat()},
        headers=director,
    )
    by_tier = {t["tier"]: t["resolved"] for t in statistics.json()["resolved_by_tier"]}
    assert by_tier == {"building": 1, "grid": 0, "community": 0, "external": 0}

    async def petitions(**params: str) -> set[uuid.UUID]:
        return ids(await _page(world, "/petitions", director, area_id=str(c), **params))

    assert await petitions(timeliness="on_time") == {on_time}
    assert await petitions(timeliness="late") == {late}
    (accepted,) = await _page(world, "/petitions", director, area_id=str(c), status="accepted")
    assert (accepted["missed"], accepted["late"], accepted["accepted_on_time"]) == (
        False,
        False,
        True,
    )


async def test_the_audit_of_sensitive_reads_is_for_the_directors_whose_areas_hold_the_records(
    world: World,
) -> None:
    reader = token(Role.DIRECTOR, areas=(world.community,), sub="dir-read")
    assert (await world.client.get(f"/disputes/{world.sensitive}", headers=reader)).is_success
    assert (
        await world.client.get(f"/residents/{world.resident}", headers=reader)
    ).status_code == 200

    own = token(Role.DIRECTOR, areas=(world.community,), sub="dir-review")
    answer = await world.client.get("/audit/reads", params={"reader": "dir-read"}, headers=own)
    assert answer.status_code == 200, answer.text
    reads = answer.json()["items"]
    # The profile shows the full identity number and the sensitive dispute: both audited.
    assert sorted((r["kind"], r["subject"], r["route"]) for r in reads) == [
        ("dispute", str(world.sensitive), "GET /disputes/{dispute_id}"),
        ("dispute", str(world.sensitive), "GET /residents/{resident_id}"),
        ("resident", str(world.resident), "GET /residents/{resident_id}"),
    ]
    dispute = next(r for r in reads if r["kind"] == "dispute")
    assert dispute["roles"] == ["director"]
    assert dispute["community_id"] == str(world.community)
    assert dispute["grid_id"] == str(world.grid2)
    assert dispute["label"] == "family_elder_care"
    assert next(r for r in reads if r["kind"] == "resident")["label"] == "王芳"
    only = await world.client.get(
        "/audit/reads", params={"reader": "dir-read", "kind": "resident"}, headers=own
    )
    assert [r["kind"] for r in only.json()["items"]] == ["resident"]
    grid1 = await world.client.get(
        "/audit/reads", params={"reader": "dir-read", "area_id": str(world.grid1)}, headers=own
    )
    assert [r["kind"] for r in grid1.json()["items"]] == ["resident"]  # the dispute is in grid 2

    one = await world.client.get(f"/audit/reads/dispute/{world.sensitive}", headers=own)
    assert one.status_code == 200, one.text
    assert "dir-read" in {r["reader"] for r in one.json()["items"]}
    # A record without reads is an empty page; an unknown one is a 404.
    quiet = await world.client.get(f"/audit/reads/dispute/{world.noise}", headers=own)
    assert quiet.json()["items"] == []
    unknown = await world.client.get(f"/audit/reads/dispute/{uuid.uuid4()}", headers=own)
    assert unknown.status_code == 404

    # Another community's director: nothing listed, and the record is a 404 like a missing one.
    other = token(Role.DIRECTOR, areas=(uuid.uuid4(),), sub="dir-other")
    none = await world.client.get("/audit/reads", params={"reader": "dir-read"}, headers=other)
    assert none.json() == {"items": [], "total": 0, "limit": 100, "offset": 0}
    hidden = await world.client.get(f"/audit/reads/dispute/{world.sensitive}", headers=other)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == unknown.json()["error"]["code"]
    # Only directors (and admins) review the audit; a mediator may not, whatever the record.
    mediator = token(Role.MEDIATOR, areas=(world.community,), sub="m-9")
    refused = await world.client.get("/audit/reads", headers=mediator)
    assert refused.status_code == 403
    assert (
        await world.client.get(f"/audit/reads/dispute/{world.sensitive}", headers=mediator)
    ).status_code == 403
    admin = token(Role.ADMIN, sub="admin")
    everything = await world.client.get(
        "/audit/reads", params={"reader": "dir-read"}, headers=admin
    )
    assert everything.json()["total"] == 3
    backwards = await world.client.get(
        "/audit/reads", params={"from": "2026-02-01", "to": "2026-01-01"}, headers=own
    )
    assert backwards.status_code == 400
    # one record among all the reads; none of query's reads needed a reason to be opened
    of_record = await world.client.get(
        "/audit/reads", params={"reader": "dir-read", "record": str(world.resident)}, headers=own
    )
    assert [(r["kind"], r["reason"]) for r in of_record.json()["items"]] == [("resident", None)]
    day = reads[0]["read_at"][:10]
    in_period = await world.client.get(
        "/audit/reads", params={"reader": "dir-read", "from": day, "to": day}, headers=own
    )
    assert in_period.json()["total"] == 3
    # the director exports the audit as every board is exported: every read, not one page
    exported = await world.client.get(
        "/audit/reads",
        params={"reader": "dir-read", "format": "csv", "limit": "1"},
        headers=own,
    )
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(exported.content.decode("utf-8-sig"))))
    assert sorted(r["kind"] for r in rows) == ["dispute", "dispute", "resident"]
    assert {"reader", "route", "read_at", "reason", "community_id"} <= rows[0].keys()
    workbook = await world.client.get(
        "/audit/reads", params={"reader": "dir-read", "format": "xlsx"}, headers=own
    )
    assert workbook.status_code == 200
    assert workbook.content.startswith(b"PK")  # a zip: an XLSX workbook
