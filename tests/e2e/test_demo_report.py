"""The community's report from its events: ``anju demo``'s history since May 2023 — the desk's,
the mediation point's, the health station's and the volunteers' paper ledgers — imported into the
running services, and the dashboard for the report's period showing the report's figures, each
drillable to exactly that many records; a second import adds nothing.

The registry, mediation, health, volunteering, station and query run their real lifespans, their
schedulers too, on databases of their own and one topic prefix of the session's broker: the
services learn the demo community (its areas and residents) from the registry's events, and the
query service projects every service's events. Nothing is fed to anyone by hand.

About 12,000 commands go through one event loop: on a two-core machine the test takes three and
a half minutes (the registry 5 s, the import about 150 s, the second import about 45 s).
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from anju_devtools.demo import Community, Loader, load_registry
from anju_devtools.demo_history import (
    BY,
    FIGURES,
    RECORDS,
    REPORT_FROM,
    REPORT_TO,
    SERVICES,
    Target,
    load_history,
)
from anju_health.entrypoints.app import create_app as create_health
from anju_health.settings import HealthSettings
from anju_mediation.entrypoints.app import create_app as create_mediation
from anju_mediation.settings import MediationSettings
from anju_query.entrypoints.app import create_app as create_query
from anju_query.settings import QuerySettings
from anju_registry.entrypoints.app import create_app as create_registry
from anju_registry.settings import RegistrySettings
from anju_station.entrypoints.app import create_app as create_station
from anju_station.settings import StationSettings
from anju_volunteering.entrypoints.app import create_app as create_volunteering
from anju_volunteering.settings import VolunteeringSettings
from eventkit.auth import issue_token
from eventkit.settings import KafkaSettings
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import databases
from eventkit.testing.service import serving

SECRET = "demo-report-tests-secret-0123456789"
WAIT_S = 120.0
"""How long the query service may take to project the last of the history."""
STAFF = {
    "station": ("desk-1", "desk_staff"),
    "mediation": ("director-1", "director"),
    "health": ("doctor-1", "doctor"),
    "volunteering": ("coord-1", "volunteer_coordinator"),
}
"""Who brings in each service's ledgers: the desk's clerk, the director (the sensitive disputes
too), a family doctor, the volunteer coordinator."""


def bearer(sub: str, roles: Sequence[str], areas: Sequence[str] = ()) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, roles, areas)}"}


@dataclass
class Stack:
    clients: dict[str, httpx.AsyncClient]

    def targets(self, community: str) -> dict[str, Target]:
        return {
            service: Target(self.clients[service], bearer(sub, [role], [community]))
            for service, (sub, role) in STAFF.items()
        }


@pytest_asyncio.fixture
async def stack(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[Stack]:
    # Today's clock: the demo's residents are born relative to today, the ledgers lie behind it.
    # Every service's scheduler runs, as under `anju demo`: the disputes' SLAs, the petitions'
    # and the hand-offs' deadlines run out on today's clock before the ledgers' next steps come.
    # Consumers wait up to 200 ms for a fetch and idle relays poll every 100 ms: six services
    # and the query's projections share one event loop here, and polling at the dev stack's
    # pace would take most of it.
    clock = ManualClock(datetime.now(UTC))
    kafka = KafkaSettings(
        bootstrap=kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:10]}.", fetch_max_wait_ms=200
    )
    common: dict[str, Any] = {
        "jwt_secret": SecretStr(SECRET),
        "kafka": kafka,
        "relay_idle_poll_s": 0.1,
        "scheduler_poll_s": 1.0,
    }
    names = ("registry", "mediation", "health", "volunteering", "station")
    async with databases(pg_server_url, *names, "read") as urls, AsyncExitStack() as running:
        apps = {
            "registry": create_registry(RegistrySettings(database_url=urls[0], **common), clock=clock),
            "mediation": create_mediation(MediationSettings(database_url=urls[1], **common), clock=clock),
            "health": create_health(HealthSettings(database_url=urls[2], **common), clock=clock),
            "volunteering": create_volunteering(
                VolunteeringSettings(database_url=urls[3], **common), clock=clock
            ),
            "station": create_station(StationSettings(database_url=urls[4], **common), clock=clock),
            "query": create_query(
                QuerySettings(database_url=urls[5], jwt_secret=SecretStr(SECRET), kafka=kafka),
                clock=clock,
            ),
        }  # fmt: skip
        clients = {
            name: await running.enter_async_context(serving(app, name))
            for name, app in apps.items()
        }
        yield Stack(clients)


async def community(stack: Stack) -> tuple[Community, str]:
    """The demo's community, few residents, and the housing security centre the desk hands
    public-rental applications off to."""
    registry = stack.clients["registry"]
    registry.headers.update(bearer("admin-1", ["admin"]))
    loaded = await load_registry(Loader(registry), random.Random(2026), residents=40)
    centre = await registry.post(
        "/organisations",
        json={
            "kind": "housing_security_centre",
            "name": "市住房保障服务中心",
            "community_ids": [loaded.community],
        },
    )
    assert centre.status_code == 201, centre.text
    return loaded, str(centre.json()["id"])


async def dashboard(stack: Stack, community: str, headers: dict[str, str]) -> Any:
    params = {
        "community_id": community,
        "from": REPORT_FROM.isoformat(),
        "to": REPORT_TO.isoformat(),
    }
    response = await stack.clients["query"].get("/dashboard", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["figures"]


@pytest.mark.timeout(540)
async def test_the_history_shows_the_reports_figures_on_the_dashboard(stack: Stack) -> None:
    started = time.monotonic()
    loaded, centre = await community(stack)
    targets = stack.targets(loaded.community)
    registered = time.monotonic()

    ledgers, reports = await load_history(
        random.Random(2026), targets.get, loaded, agency_id=centre
    )
    imported = time.monotonic()
    assert {k: (r.imported, r.refused) for k, r in reports.items()} == {
        k: (len(rows), []) for k, rows in ledgers.items()
    }
    assert set(reports) == {
        "receptions", "services", "gatherings", "disputes", "petitions", "activities", "hours"
    }  # fmt: skip

    director = bearer("director-1", ["director"], [loaded.community])
    deadline = time.monotonic() + WAIT_S
    while True:
        figures = await dashboard(stack, loaded.community, director)
        shown = {name: figures[name]["value"] for name in FIGURES}
        if shown == FIGURES or time.monotonic() > deadline:
            break
        await asyncio.sleep(1)
    projected = time.monotonic()
    assert shown == FIGURES
    # the report: more than 3,000 receptions and 50 lectures, nearly 3,000 convenience services
    assert shown["receptions"] >= 3000
    assert shown["lectures"] >= 50
    assert 2900 <= shown["convenience_services"] <= 2999
    assert (shown["disputes_resolved"], shown["petitions_handled"]) == (28, 7)
    assert shown["health_activities"] == 16
    for name, by in BY.items():
        assert figures[name]["by"] == by, name
    assert sum(figures["convenience_services"]["by"].values()) == SERVICES
    assert figures["health_people_served"]["value"] == sum(
        int(row["served"]) for row in ledgers["activities"]
    )

    for name, records in RECORDS.items():
        listed = await stack.clients["query"].get(
            f"/dashboard/figures/{name}",
            params={
                "community_id": loaded.community,
                "from": REPORT_FROM.isoformat(),
                "to": REPORT_TO.isoformat(),
                "limit": 1,
            },
            headers=director,
        )
        assert listed.status_code == 200, listed.text
        assert (listed.json()["value"], listed.json()["total"]) == (FIGURES[name], records), name

    # a second import — the volunteers' registrations too — adds nothing
    again_ledgers, again = await load_history(
        random.Random(2026), targets.get, loaded, agency_id=centre
    )
    assert again_ledgers == ledgers
    assert {k: (r.imported, r.already_imported) for k, r in again.items()} == {
        k: (0, len(rows)) for k, rows in ledgers.items()
    }
    await asyncio.sleep(2)
    figures = await dashboard(stack, loaded.community, director)
    assert {name: figures[name]["value"] for name in FIGURES} == FIGURES
    print(
        f"registry {registered - started:.0f}s, import {imported - registered:.0f}s,"
        f" projected {projected - imported:.0f}s, again {time.monotonic() - projected:.0f}s"
    )
