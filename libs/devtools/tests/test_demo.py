"""``anju demo`` against the real apps (in process, over ASGI): its mediation part, its second
run, and its health and volunteering parts read back through the query service."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import UTC, date, datetime

import asyncpg
import httpx
import pytest
from pydantic import SecretStr

from anju_devtools.demo import (
    AlreadyLoaded,
    Community,
    Loader,
    age_of,
    load_mediation,
    load_registry,
)
from anju_devtools.demo_health import ACTIVITIES, load_health, plan_health, read_back
from anju_devtools.demo_volunteering import EMPLOYERS, ORGANISATIONS, plan_volunteering
from anju_devtools.demo_volunteering_load import load_volunteering, read_back as read_volunteering
from anju_health.entrypoints.app import create_app as create_health
from anju_health.settings import HealthSettings
from anju_mediation.testing import running_mediation
from anju_query.entrypoints.app import create_app as create_query
from anju_query.settings import QuerySettings
from anju_registry.testing import SECRET, running_registry
from anju_volunteering.entrypoints.app import create_app as create_volunteering
from anju_volunteering.settings import VolunteeringSettings
from eventkit.auth import issue_token
from eventkit.settings import KafkaSettings
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import databases
from eventkit.testing.service import serving


async def test_the_demo_loads_signals_disputes_and_petitions(
    database_url: str, kafka_bootstrap: str
) -> None:
    async with running_mediation(database_url, kafka_bootstrap) as mediation:
        for _ in range(3):
            mediation.residents.append(await mediation.resident())
        community = Community(
            mediation.community_id,
            [mediation.grid_id],
            buildings={mediation.grid_id: [mediation.building_id]},
            residents={mediation.building_id: list(mediation.residents)},
        )
        client = mediation.client
        client.headers.update(mediation.admin)
        await load_mediation(Loader(client, parallel=2), random.Random(7), community)

        async with mediation.runtime.pool.acquire() as conn:
            streams = await conn.fetch(
                "SELECT split_part(stream_id, '-', 1) AS kind, count(DISTINCT stream_id) AS n"
                " FROM events GROUP BY 1"
            )
            counts = {r["kind"]: r["n"] for r in streams}
            types = {r["type"] for r in await conn.fetch("SELECT DISTINCT type FROM events")}
            sensitive = await conn.fetchval(
                "SELECT count(*) FROM events WHERE type = 'mediation.DisputeRegistered'"
                " AND data->>'sensitivity' = 'sensitive'"
            )
    assert counts["signal"] == 8
    assert counts["dispute"] == 28
    assert counts["petition"] == 7
    assert sensitive == 1
    for fact in (
        "DisputeEscalated",
        "AgreementReached",
        "ReturnVisitRecorded",
        "DisputeResolved",
        "DisputeReferred",
        "ConflictSignalDismissed",
        "ConflictSignalConverted",
        "PetitionClosed",
    ):
        assert f"mediation.{fact}" in types, fact
    assert isinstance(client, httpx.AsyncClient)


async def test_a_second_demo_run_finds_the_community_already_loaded(
    database_url: str, kafka_bootstrap: str
) -> None:
    # the demo's residents are born relative to today, so the registry runs on today's clock
    today = ManualClock(datetime.now(UTC))
    async with running_registry(database_url, kafka_bootstrap, clock=today) as registry:
        client = registry.client
        client.headers.update(registry.admin)
        loaded = await load_registry(Loader(client), random.Random(2026), residents=6)
        people = [r for building in loaded.residents.values() for r in building]
        assert len(people) >= 6
        assert len(loaded.grids) == 4
        before = await _areas(registry.runtime.pool)
        with pytest.raises(AlreadyLoaded) as already:
            await load_registry(Loader(client), random.Random(2026), residents=6)
        assert already.value.resident_id == people[0]
        # the second run stopped at its first resident: a community, grid, building and unit
        assert await _areas(registry.runtime.pool) == before + 4


async def _areas(pool: asyncpg.Pool) -> int:
    async with pool.acquire() as conn:
        n: int = await conn.fetchval(
            "SELECT count(*) FROM events WHERE type = 'registry.AreaCreated'"
        )
        return n


def sign(sub: str, roles: Sequence[str], areas: Sequence[str]) -> str:
    return issue_token(SECRET, sub, roles, areas)


async def test_the_demo_loads_health_and_the_query_shows_its_figures(
    database_url: str, pg_server_url: str, kafka_bootstrap: str
) -> None:
    now = datetime.now(UTC)
    today = now.date()
    async with (
        databases(pg_server_url, "health", "read") as (health_db, read_db),
        running_registry(database_url, kafka_bootstrap, clock=ManualClock(now)) as registry,
    ):
        kafka: KafkaSettings = registry.settings.kafka
        secret = SecretStr(SECRET)
        health_app = create_health(
            HealthSettings(
                database_url=health_db,
                jwt_secret=secret,
                kafka=kafka,
                relay_idle_poll_s=0.02,
                scheduler_poll_s=0.2,
            )
        )
        query_app = create_query(
            QuerySettings(database_url=read_db, jwt_secret=secret, kafka=kafka)
        )
        async with serving(health_app, "health") as health, serving(query_app, "query") as query:
            registry.client.headers.update(registry.admin)
            health.headers.update(registry.admin)
            query.headers.update(registry.admin)
            loaded = await load_registry(Loader(registry.client), random.Random(2026), residents=60)
            plan = plan_health(random.Random(2027), loaded, today=today)
            written = await load_health(Loader(health, parallel=4), plan, sign)
            figures = await read_back(Loader(query), loaded, plan, written)

            # the family doctor of a checked-up resident recorded the check-up, by name
            checked = next(
                rid
                for rid, (_, steps) in plan.residents.items()
                if any(s.path.endswith("/encounters") for s in steps)
            )
            doctor = plan.residents[checked][1][0].sender
            bearer = sign(doctor, ["doctor"], [plan.senders[doctor].area])
            record = await health.get(
                f"/records/{checked}", headers={"Authorization": f"Bearer {bearer}"}
            )

    aged = sum(r.born <= date(today.year - 65, 12, 31) for r in loaded.people)
    elders = sum(age_of(r.born, today) >= 65 for r in loaded.people)
    assert 0.1 <= elders / len(loaded.people) <= 0.25
    assert figures.activities == len(ACTIVITIES) == 16
    assert figures.served == sum(step.body["served"] for _, step in plan.activities)
    assert (figures.aged, figures.enrolled) == (aged, elders) == (plan.aged, plan.enrolled)
    assert 0 < figures.checked_up == plan.checked_up < figures.enrolled
    assert figures.share == round(plan.checked_up / aged, 4)
    # who has no check-up on record is due within the first-check-up window; who had an
    # earlier one (from the paper ledger) over a year ago is overdue
    assert min(1, plan.ledger_eligible) <= plan.late <= plan.ledger_eligible <= plan.waiting
    assert (figures.due, figures.overdue) == (plan.waiting - plan.late, plan.late)
    assert plan.checked_up + plan.waiting == plan.enrolled
    assert plan.chronic == {"hypertension": 3, "type2_diabetes": 2}

    assert record.status_code == 200, record.text
    body = record.json()
    assert body["family_doctor_id"] == doctor
    assert body["checked_up_this_year"] is True
    (encounter,) = body["encounters"]
    assert encounter["doctor_id"] == doctor
    assert date.fromisoformat(encounter["occurred_on"]) <= today


async def test_the_demo_loads_volunteering_and_the_query_shows_its_figures(
    database_url: str, pg_server_url: str, kafka_bootstrap: str
) -> None:
    async with (
        databases(pg_server_url, "volunteering", "read") as (volunteering_db, read_db),
        running_registry(
            database_url, kafka_bootstrap, clock=ManualClock(datetime.now(UTC))
        ) as registry,
    ):
        kafka: KafkaSettings = registry.settings.kafka
        secret = SecretStr(SECRET)
        volunteering_app = create_volunteering(
            VolunteeringSettings(
                database_url=volunteering_db,
                jwt_secret=secret,
                kafka=kafka,
                relay_idle_poll_s=0.02,
            )
        )
        query_app = create_query(
            QuerySettings(database_url=read_db, jwt_secret=secret, kafka=kafka)
        )
        async with (
            serving(volunteering_app, "volunteering") as volunteering,
            serving(query_app, "query") as query,
        ):
            for client in (registry.client, volunteering, query):
                client.headers.update(registry.admin)
            loaded = await load_registry(Loader(registry.client), random.Random(2026), residents=60)
            plan = plan_volunteering(random.Random(2028), loaded, now=datetime.now(UTC))
            done = await load_volunteering(
                Loader(registry.client, parallel=4),
                Loader(volunteering, parallel=4),
                plan,
                sign,
            )
            figures = await read_volunteering(Loader(query), plan, done, sign)

    kinds = {v.kind for v in plan.volunteers}
    assert kinds == {
        "grid_worker",
        "in_service_party_member",
        "registered_party_member",
        "resident_volunteer",
        "volunteer_police",
    }
    assert figures.volunteers == len(plan.volunteers) == len(done.volunteers)
    assert len(done.organisations) == len(ORGANISATIONS)
    assert len(done.teams) == 6
    # volunteering raised a cleaning request for every elder living alone by itself
    cleanings = [w for w in plan.work if w.raiser is None]
    assert len(cleanings) == len(loaded.elderly_alone) > 0
    assert any(w.fate == "delivered" for w in cleanings)
    assert figures.delivered == plan.fates("delivered") > 0
    assert figures.open == plan.fates("open", "assigned", "accepted") > 0
    assert figures.cancelled == plan.fates("cancelled") == 1
    # only approved hours count: the rejected and the still pending ones are left out
    assert (done.count("rejected"), done.count("pending")) == (2, 2)
    assert done.total("pending") > 0
    assert done.total("rejected") > 0
    assert figures.approved_hours == done.total("approved") > 0
    assert figures.entries == done.count("approved")
    # a host unit's quarter: its in-service party members and their approved hours
    isp = {v.key for v in plan.volunteers if v.kind == "in_service_party_member"}
    assert sum(u.members for u in figures.host_units) == len(isp)
    assert [u.name for u in figures.host_units] == [
        o.name for key in EMPLOYERS for o in ORGANISATIONS if o.key == key
    ]
    employed = sum(
        done.hours[e]
        for key in isp
        for e in done.served.get(key, [])
        if done.entries[e] == "approved"
    )
    assert round(sum(u.hours for u in figures.host_units), 2) == round(employed, 2)
    assert len(done.certificates) == 2
    assert done.sign_ups > 0


async def test_the_demo_loads_a_year_of_meetings_and_a_work_list_in_every_state(
    database_url: str, kafka_bootstrap: str
) -> None:
    from anju_contracts.registry import OrganisationKind
    from anju_devtools.demo_governance import OWNERS, load_governance
    from anju_governance.testing import SECRET as GOVERNANCE_SECRET, running_governance

    kinds = {
        "property": OrganisationKind.PROPERTY_COMPANY,
        "housing": OrganisationKind.HOUSING_SECURITY_CENTRE,
        "police": OrganisationKind.POLICE_STATION,
        "paired": OrganisationKind.PAIRED_UNIT,
    }
    async with running_governance(database_url, kafka_bootstrap) as governance:
        organisations = {k: await governance.feed.organisation(kinds[k]) for k in OWNERS}
        community = Community(governance.feed.community_id, [governance.feed.grid_id])
        done = await load_governance(
            Loader(governance.client, parallel=2),
            random.Random(7),
            community,
            organisations,
            sign=lambda sub, roles, areas: issue_token(GOVERNANCE_SECRET, sub, roles, areas),
            sign_liaison=lambda sub, areas, orgs: issue_token(
                GOVERNANCE_SECRET, sub, ["liaison"], areas, organisations=orgs
            ),
            now=governance.clock.now,
        )
        assert done.meetings == 12 + 6 + 1
        statuses: dict[str, set[str]] = {}
        director = governance.director()
        for fate, ids in done.items.items():
            for item_id in ids:
                statuses.setdefault(fate, set()).add(
                    (await governance.item(item_id, director))["status"]
                )
        assert statuses["reopened"] == {"in_progress"}
        assert statuses["late"] <= {"received", "in_progress"}
        assert {"closed", "late", "near", "open"} <= set(statuses)
        assert statuses["closed"] == {"closed"}
        await governance.scheduler(days_ahead=0).fire_due()  # the late ones turn red
        late = await governance.item(done.items["late"][0], director)
        assert late["colour"] == "red"
