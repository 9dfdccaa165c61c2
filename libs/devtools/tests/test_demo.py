"""``anju demo``'s mediation part, against the real mediation app (in process, over ASGI)."""

from __future__ import annotations

import random
from datetime import UTC, datetime

import asyncpg
import httpx
import pytest

from anju_devtools.demo import AlreadyLoaded, Community, Loader, load_mediation, load_registry
from anju_mediation.testing import running_mediation
from anju_registry.testing import running_registry
from eventkit.testing.clocks import ManualClock


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
