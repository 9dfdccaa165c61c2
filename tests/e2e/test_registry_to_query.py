"""Across services: a command to the registry is visible in the query API, through the real
relay, the real broker and the real projection runner, with the caller's scoping applied.

Both apps run their real lifespans (relay, scheduler, projection runner) on databases of their
own and a topic prefix of their own on the session's broker.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import httpx
import pytest_asyncio
from pydantic import SecretStr

from anju_query.entrypoints.app import create_app
from anju_query.settings import QuerySettings
from anju_registry.testing import SECRET, Clock, RegistryClient, running_registry
from eventkit.testing.infra import create_database


@pytest_asyncio.fixture
async def stack(
    database_url: str, pg_server_url: str, kafka_bootstrap: str
) -> AsyncIterator[tuple[RegistryClient, httpx.AsyncClient]]:
    now = Clock(datetime.now(UTC))
    async with running_registry(database_url, kafka_bootstrap, clock=now) as registry:
        read_db = await create_database(
            pg_server_url, database_url.rsplit("/", 1)[-1].split("?")[0] + "_read"
        )
        settings = QuerySettings(
            database_url=read_db,
            jwt_secret=SecretStr(SECRET),
            kafka=registry.settings.kafka,
        )
        app = create_app(settings)
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://query") as query:
                yield registry, query


async def test_a_registered_and_flagged_resident_shows_up_with_read_your_writes(
    stack: tuple[RegistryClient, httpx.AsyncClient],
) -> None:
    registry, query = stack
    resident_id = await registry.register(name="王秀英")
    flagged = await registry.post(
        f"/residents/{resident_id}/flags", {"flag": "elderly_alone", "tier": "red"}
    )
    assert flagged.status_code == 201, flagged.text
    token = flagged.json()["consistency_token"]

    profile = await query.get(
        f"/residents/{resident_id}",
        params={"consistency_token": token},
        headers=registry.admin,
    )
    assert profile.status_code == 200, profile.text
    assert profile.headers["x-consistency"] == "fresh"
    body = profile.json()
    assert body["resident"]["name"] == "王秀英"
    assert [f["type"] for f in body["flags"]] == ["elderly_alone"]
    assert body["follow_up"]["state"] == "due"

    board = await query.get(
        "/follow-ups", params={"grid_id": registry.grid_id}, headers=registry.admin
    )
    assert [item["resident_id"] for item in board.json()["items"]] == [resident_id]

    # A grid worker of this grid sees the resident, masked; one of another grid does not.
    own = await query.get(
        f"/residents/{resident_id}",
        headers=registry.auth("grid_worker", areas=[registry.grid_id]),
    )
    assert own.status_code == 200
    assert "*" in own.json()["resident"]["id_number"]
    other = await query.get(
        f"/residents/{resident_id}",
        headers=registry.auth("grid_worker", areas=["00000000-0000-0000-0000-000000000000"]),
    )
    assert other.status_code == 404
    assert other.json()["error"]["code"] == "not_found"


async def test_the_correlation_id_of_a_request_travels_in_the_events(
    stack: tuple[RegistryClient, httpx.AsyncClient],
) -> None:
    registry, _ = stack
    response = await registry.client.post(
        "/residents",
        json=registry.resident_body(),
        headers={**registry.admin, "X-Correlation-ID": "desk-visit-42"},
    )
    assert response.status_code == 201
    assert response.headers["x-correlation-id"] == "desk-visit-42"
    stream = await registry.runtime.store.load(f"resident-{response.json()['id']}")
    assert [e.correlation_id for e in stream.events] == ["desk-visit-42"]
