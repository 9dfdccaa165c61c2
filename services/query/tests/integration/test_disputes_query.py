"""The dispute board, timelines and statistics: mediation events through the real relay and
broker into the query API, with scoping and sensitive disputes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import asyncpg
import httpx
import pytest_asyncio
from pydantic import SecretStr

from anju_contracts import Actor, Event
from anju_contracts.mediation import (
    CATALOG,
    AgreementFollowedUp,
    AgreementReached,
    AgreementTerm,
    Category,
    Channel,
    DisputeEscalated,
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
    PetitionForwarded,
    PetitionProxied,
    ReturnVisitRecorded,
    Satisfaction,
    Sensitivity,
    Tier,
)
from anju_contracts.registry import AreaKind, AreaPath
from anju_query.entrypoints.app import create_app
from anju_query.settings import QuerySettings
from eventkit.auth import Role, issue_token
from eventkit.projection import wait_for_stream
from eventkit.relay import Relay
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore
from eventkit.testing.infra import create_database, database_url_for
from eventkit.testing.relay import publish_everything

SECRET = "query-tests-secret-0123456789abcdef"


def token(*roles: Role, areas: tuple[uuid.UUID, ...] = (), sub: str = "staff-1") -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, roles, [str(a) for a in areas])}"}


@dataclass
class Mediation:
    store: EventStore
    relay: Relay
    versions: dict[str, int] = field(default_factory=dict)

    async def emit(self, stream: str, *events: Event, area: uuid.UUID) -> str:
        result = await self.store.append(
            stream,
            self.versions.get(stream, 0),
            events,
            context=Context(actor=Actor(id="gw-1", roles=("grid_worker",))),
            area=str(area),
        )
        self.versions[stream] = result.version
        return f"mediation:{stream}:{result.version}"


@dataclass
class World:
    mediation: Mediation
    client: httpx.AsyncClient
    community: uuid.UUID
    grid1: uuid.UUID
    grid2: uuid.UUID
    building: uuid.UUID
    noise: uuid.UUID
    leak: uuid.UUID
    sensitive: uuid.UUID
    other_grid: uuid.UUID


async def _drop(server_url: str, url: str) -> None:
    name = url.rsplit("/", 1)[1].split("?")[0]
    conn = await asyncpg.connect(database_url_for(server_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


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


async def _seed(m: Mediation) -> World:
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
            path=AreaPath(community_id=c, grid_id=g1),
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
    await publish_everything(m.relay)
    return World(m, None, c, g1, g2, b, noise, leak, sensitive, other)  # type: ignore[arg-type]


@asynccontextmanager
async def world_of(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"d{uuid.uuid4().hex[:10]}.")
    store_url = await create_database(pg_server_url, f"mediation_{uuid.uuid4().hex[:12]}")
    read_url = await create_database(pg_server_url, f"read_{uuid.uuid4().hex[:12]}")
    pool = await asyncpg.create_pool(store_url, min_size=1, max_size=4)
    relay: Relay | None = None
    try:
        await migrate(pool)
        store = EventStore(pool, CATALOG)
        settings = ServiceSettings(
            service="mediation", database_url=store_url, jwt_secret=SecretStr(SECRET), kafka=kafka
        )
        relay = Relay(store, settings)
        await relay.start()
        world = await _seed(Mediation(store, relay))
        app = create_app(
            QuerySettings(database_url=read_url, jwt_secret=SecretStr(SECRET), kafka=kafka)
        )
        async with app.router.lifespan_context(app):
            for stream, version in world.mediation.versions.items():
                reached = await wait_for_stream(
                    app.state.runtime.pool, "disputes", "mediation", stream, version, timeout_s=30
                )
                assert reached, stream
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://query") as client:
                world.client = client
                yield world
    finally:
        if relay is not None:
            await relay.close()
        await pool.close()
        await asyncio.gather(_drop(pg_server_url, store_url), _drop(pg_server_url, read_url))


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
