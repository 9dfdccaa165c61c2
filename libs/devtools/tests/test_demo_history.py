"""``anju demo``'s history since May 2023, imported as paper ledgers through the station's real
app (in process) and read back from the query service's dashboard over the real broker: the
report's figures, each drillable to exactly that many records, and a second import that adds
nothing."""

from __future__ import annotations

import asyncio
import random
import time
from datetime import UTC, datetime
from typing import Any

import httpx

from anju_contracts.registry import OrganisationKind
from anju_devtools.demo_history import (
    FIGURES,
    REPORT_FROM,
    REPORT_TO,
    SERVICES,
    Target,
    counts,
    import_history,
    open_days,
    plan_history,
)
from anju_query.testing import running_query
from anju_station.testing import running_station
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import databases

NOW = datetime(2026, 11, 30, 9, 0, tzinfo=UTC)


def test_the_history_follows_from_the_seed_and_keeps_the_desks_rhythm() -> None:
    first = plan_history(random.Random(5), agency_id="a")
    assert first == plan_history(random.Random(5), agency_id="a")
    assert counts(first) == {"receptions": 3186, "services": SERVICES, "gatherings": 87}
    days = [r["day"] for r in first["receptions"]]
    assert min(days) >= REPORT_FROM.isoformat()
    assert max(days) <= REPORT_TO.isoformat()
    weekdays = [datetime.fromisoformat(d).weekday() for d in days]
    assert 6 not in weekdays  # closed on Sundays
    assert weekdays.count(0) > 2 * weekdays.count(5)  # Mondays busy, Saturdays half a day
    assert not any("2024-02-09" <= d <= "2024-02-17" for d in days)  # the Spring Festival
    assert len(set(days)) > 400
    assert {d for d, _ in open_days()} >= {datetime.fromisoformat(d).date() for d in days}


async def _dashboard(query: httpx.AsyncClient, headers: dict[str, str], area: str) -> Any:
    params = {"community_id": area, "from": REPORT_FROM.isoformat(), "to": REPORT_TO.isoformat()}
    response = await query.get("/dashboard", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def test_the_history_shows_the_reports_figures_on_the_dashboard(
    pg_server_url: str, kafka_bootstrap: str
) -> None:
    clock = ManualClock(NOW)
    async with (
        databases(pg_server_url, "station", "read") as (station_db, read_db),
        running_station(station_db, kafka_bootstrap, clock=clock) as station,
        running_query(read_db, station.settings.kafka, station.secret, clock=clock) as query,
    ):
        area = station.feed.community_id
        agency = await station.feed.organisation(
            OrganisationKind.HOUSING_SECURITY_CENTRE, "市住房保障服务中心"
        )
        ledgers = plan_history(random.Random(2026), agency_id=agency)
        clerk = station.auth("desk_staff", sub="desk-demo-1", areas=[area])
        target = Target(station.client, clerk)
        started = time.monotonic()
        reports = await import_history(ledgers, lambda s: target if s == "station" else None, area)
        took = time.monotonic() - started
        assert {k: (r.imported, r.refused) for k, r in reports.items()} == {
            k: (len(rows), []) for k, rows in ledgers.items()
        }, took

        director = station.auth("director", sub="director-1", areas=[area])
        deadline = time.monotonic() + 120
        while True:
            figures = (await _dashboard(query, director, area))["figures"]
            shown = {name: figures[name]["value"] for name in FIGURES}
            if shown == FIGURES or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.5)
        assert shown == FIGURES
        by_type = figures["convenience_services"]["by"]
        assert sum(by_type.values()) == SERVICES
        assert by_type["public_rental_application"] > 300

        for name, value in FIGURES.items():
            listed = await query.get(
                f"/dashboard/figures/{name}",
                params={
                    "community_id": area,
                    "from": REPORT_FROM.isoformat(),
                    "to": REPORT_TO.isoformat(),
                    "limit": 1,
                },
                headers=director,
            )
            assert listed.status_code == 200, listed.text
            assert (listed.json()["value"], listed.json()["total"]) == (value, value), name

        again = await import_history(ledgers, lambda s: target if s == "station" else None, area)
        assert {k: (r.imported, r.already_imported) for k, r in again.items()} == {
            k: (0, len(rows)) for k, rows in ledgers.items()
        }
        await asyncio.sleep(2)
        figures = (await _dashboard(query, director, area))["figures"]
        assert {name: figures[name]["value"] for name in FIGURES} == FIGURES
