"""Across services: a dispute that names an area and a resident the registry created a moment
ago, sent with the registry's consistency tokens, is decided once mediation has learnt them —
through the real relay, the real broker and mediation's real policy runner.

Both apps run their real lifespans on databases of their own, mediation on the registry's topic
prefix of the session's broker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

from anju_mediation.testing import MediationClient, running_mediation
from anju_registry.testing import RegistryClient, running_registry
from eventkit.testing.infra import create_database, database_url_for

# The first command also waits for mediation's policy to join its consumer group.
WAIT_S = 20.0


@pytest_asyncio.fixture
async def stack(
    database_url: str, pg_server_url: str, kafka_bootstrap: str
) -> AsyncIterator[tuple[RegistryClient, MediationClient]]:
    name = database_url.rsplit("/", 1)[-1].split("?")[0] + "_mediation"
    mediation_db = await create_database(pg_server_url, name)
    try:
        async with (
            running_registry(database_url, kafka_bootstrap) as registry,
            running_mediation(
                mediation_db,
                kafka_bootstrap,
                topic_prefix=registry.settings.kafka.topic_prefix,
                consistency_wait_s=WAIT_S,
            ) as mediation,
        ):
            yield registry, mediation
    finally:
        conn = await asyncpg.connect(database_url_for(pg_server_url, "postgres"))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def test_a_dispute_naming_what_the_registry_just_created_is_registered(
    stack: tuple[RegistryClient, MediationClient],
) -> None:
    registry, mediation = stack
    building = await registry.post(
        "/areas", {"kind": "building", "name": "5幢", "parent_id": registry.grid_id}
    )
    assert building.status_code == 201, building.text
    resident = await registry.post("/residents", registry.resident_body(name="王秀英"))
    assert resident.status_code == 201, resident.text
    tokens = f"{building.json()['consistency_token']},{resident.json()['consistency_token']}"

    dispute = await mediation.post(
        "/disputes",
        {
            "channel": "walk_in",
            "category": "water_leak",
            "description": "楼上漏水",
            "area_id": building.json()["id"],
            "parties": [
                {"role": "applicant", "resident_id": resident.json()["id"]},
                {"role": "respondent", "name": "李强", "contact": "13800000000"},
            ],
        },
        headers={**mediation.admin, "X-Consistency-Token": tokens},
    )
    assert dispute.status_code == 201, dispute.text
    assert dispute.headers["x-consistency"] == "fresh"
    view = await mediation.dispute(dispute.json()["id"])
    assert view["location"]["area_id"] == building.json()["id"]
