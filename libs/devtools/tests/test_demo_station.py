"""``anju demo``'s station part: its plan from the seed, and the plan sent to the real registry
and station apps (in process, over ASGI) and read back through the query service, with the
opinions it referred reported by mediation."""

from __future__ import annotations

import random
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta

from pydantic import SecretStr

from anju_contracts.station import GatheringKind, ServiceStatus
from anju_devtools.demo import Community, Loader, Resident, load_registry
from anju_devtools.demo_station import (
    AGENCIES,
    LECTURES,
    ROSTER_DAYS,
    SERVICES,
    STATES,
    VISITS,
    StationPlan,
    load_station,
    plan_station,
    read_back,
    signals_of,
)
from anju_mediation.entrypoints.app import create_app as create_mediation
from anju_mediation.settings import MediationSettings
from anju_query.entrypoints.app import create_app as create_query
from anju_query.settings import QuerySettings
from anju_registry.testing import SECRET, running_registry
from anju_station.entrypoints.app import create_app as create_station
from anju_station.settings import CATALOGUE, StationSettings
from eventkit.auth import issue_token
from eventkit.settings import KafkaSettings
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import databases
from eventkit.testing.service import serving

TODAY = date(2026, 3, 18)
NAMES = {code: kind.name for code, kind in CATALOGUE.items()} | {"housing_repair": "住房维修"}
"""The built-in catalogue and a service the community added by configuration."""


def community(seed: int) -> Community:
    """A community of 300 residents of all ages in four grids, without a registry."""
    rng = random.Random(seed)
    grids = [str(uuid.UUID(int=rng.getrandbits(128))) for _ in range(4)]
    c = Community(str(uuid.UUID(int=rng.getrandbits(128))), grids)
    c.area_tokens = {a: f"registry:area-{a}:1" for a in (c.community, *grids)}
    for _ in range(300):
        rid = str(uuid.UUID(int=rng.getrandbits(128)))
        born = TODAY - timedelta(days=rng.randint(1, 92 * 365))
        c.people.append(Resident(rid, born, rng.choice(grids), f"registry:resident-{rid}:1"))
    return c


def plan(seed: int) -> StationPlan:
    return plan_station(random.Random(seed), community(1), catalogue=NAMES, today=TODAY)


def test_the_plan_follows_from_the_seed() -> None:
    assert plan(2029) == plan(2029)
    assert plan(2029) != plan(2030)


def test_the_plan_has_every_type_in_every_state_and_the_desks_weeks() -> None:
    p = plan(2029)
    states = p.states()
    assert {(code, state) for code in NAMES for state in STATES} == set(states)
    assert len(p.visits) == VISITS
    assert abs(len(p.services) - SERVICES) <= len(NAMES)
    # each service began at its own reception, which says it started a service
    assert len({s.visit for s in p.services}) == len(p.services)
    assert all(p.visits[s.visit].resident == s.resident for s in p.services)
    # some visitors gave no name; a grid worker logs only the visits of the residents they brought
    assert 0.05 < sum(v.resident is None for v in p.visits) / VISITS < 0.3
    for v in p.visits:
        if v.sender.startswith("gw-"):
            assert v.resident is not None
            assert v.area == v.resident.grid
    # the elderly window says the kind of bill only, and only there
    for s in p.services:
        assert (s.bill_type is not None) == (s.service_type == "elderly_window_bill_help")
    # a one-time notice before acceptance, hand-offs and callbacks among the settled ones
    assert any(s.notice and s.accepted for s in p.services)
    assert all(s.notice for s in p.services if s.fate == ServiceStatus.NOTICE_ISSUED)
    assert all(s.agency for s in p.services if s.fate == ServiceStatus.HANDED_OFF)
    assert any(s.agency for s in p.services if s.fate == ServiceStatus.COMPLETED)
    assert all(
        s.fate in (ServiceStatus.COMPLETED, ServiceStatus.REFUSED)
        for s in p.services
        if s.satisfaction is not None
    )
    # a certificate for every completed residence certificate; two revoked
    completed = states["residence_certificate", ServiceStatus.COMPLETED]
    assert p.certificates() == completed + 1 >= 15
    assert p.revoked() == 2
    lectures = [g for g in p.gatherings if g.kind != GatheringKind.OPINION_GATHERING]
    assert len(lectures) == len(LECTURES) == 8
    assert all(TODAY - timedelta(days=28) < g.held_on < TODAY for g in p.gatherings)
    assert len({g.held_on for g in p.gatherings}) == len(p.gatherings)
    assert (p.opinions("answered"), p.opinions("mediation"), p.opinions("open")) == (7, 3, 2)
    assert [d.day for d in p.roster] == [TODAY + timedelta(days=d) for d in range(ROSTER_DAYS)]


def sign(sub: str, roles: Sequence[str], areas: Sequence[str]) -> str:
    return issue_token(SECRET, sub, roles, areas)


async def test_the_demo_loads_the_desk_and_the_query_shows_its_figures(
    database_url: str, pg_server_url: str, kafka_bootstrap: str
) -> None:
    async with (
        databases(pg_server_url, "station", "mediation", "read") as (
            station_db,
            mediation_db,
            read_db,
        ),
        running_registry(
            database_url, kafka_bootstrap, clock=ManualClock(datetime.now(UTC))
        ) as registry,
    ):
        kafka: KafkaSettings = registry.settings.kafka
        secret = SecretStr(SECRET)
        station_app = create_station(
            StationSettings(
                database_url=station_db, jwt_secret=secret, kafka=kafka, relay_idle_poll_s=0.02
            )
        )
        mediation_app = create_mediation(
            MediationSettings(
                database_url=mediation_db, jwt_secret=secret, kafka=kafka, relay_idle_poll_s=0.02
            )
        )
        query_app = create_query(
            QuerySettings(database_url=read_db, jwt_secret=secret, kafka=kafka)
        )
        async with (
            serving(station_app, "station") as station,
            serving(mediation_app, "mediation") as mediation,
            serving(query_app, "query") as query,
        ):
            for client in (registry.client, station, mediation, query):
                client.headers.update(registry.admin)
            loaded = await load_registry(Loader(registry.client), random.Random(2026), residents=60)
            # the volunteering part registered the housing security centre: it is reused
            housing = AGENCIES[0]
            answer = (
                await registry.client.post(
                    "/organisations",
                    json={
                        "kind": housing.kind,
                        "name": housing.name,
                        "community_ids": [loaded.community],
                    },
                )
            ).json()
            catalogue = (await station.get("/catalogue")).json()
            p = plan_station(
                random.Random(2029),
                loaded,
                catalogue={code: kind["name"] for code, kind in catalogue.items()},
                today=datetime.now(UTC).date(),
                visits=120,
                services=50,
            )
            done = await load_station(
                Loader(registry.client, parallel=4),
                Loader(station, parallel=8),
                p,
                sign,
                {housing.key: (answer["id"], answer["consistency_token"])},
            )
            figures = await read_back(Loader(query), p, done, sign)
            reported = await signals_of(Loader(mediation), done, wait_s=60)
            desk = {
                "Authorization": f"Bearer {sign('desk-demo-1', ['desk_staff'], [loaded.community])}"
            }
            day = p.roster[1].day.isoformat()
            roster = await station.get(f"/rosters/{loaded.community}/{day}", headers=desk)

    assert set(catalogue) == set(CATALOGUE)
    assert done.agencies[housing.key][0] == answer["id"]
    needed = {s.agency for s in p.services if s.agency} | {g.partner for g in p.gatherings}
    assert done.registered == len(needed - {None, housing.key})
    assert figures.receptions == len(p.visits) == 120
    assert figures.services == len(p.services)
    assert figures.by_status == {
        state.value: sum(s.fate == state for s in p.services) for state in STATES
    }
    assert figures.by_type == {
        code: sum(s.service_type == code for s in p.services) for code in CATALOGUE
    }
    names = {a.key: a.name for a in AGENCIES}
    handed: dict[str, int] = {}
    for s in p.services:
        if s.agency is not None:
            handed[names[s.agency]] = handed.get(names[s.agency], 0) + 1
    assert figures.agencies == handed
    assert figures.overdue == 0  # a hand-off falls due days after it is made
    rated = [s.satisfaction for s in p.services if s.satisfaction is not None]
    assert figures.mean_satisfaction == round(sum(rated) / len(rated), 2)
    # every certificate was checked by its number: the revoked ones say so
    assert len(done.certificates) == p.certificates()
    assert sorted(done.certificates.values()).count("revoked") == p.revoked() == 2
    assert done.opinions == 12
    # mediation reported each opinion referred to it as a signal linked back to the opinion
    assert reported == len(done.referred) == p.opinions("mediation") == 3
    assert done.rosters == ROSTER_DAYS
    assert roster.status_code == 200, roster.text
    assert roster.json()["desk"] == list(p.roster[1].desk)
