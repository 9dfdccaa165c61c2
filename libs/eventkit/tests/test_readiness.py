"""Readiness says what a pod can serve: a broker outage keeps it in its Service, a database
outage takes it out.

Each test runs a real service (its runtime against a fresh database) behind the shared edge and
asks ``/readyz``; a broker that is down is a port nothing listens on, a database that is down
is one that refuses connections after its open ones were ended.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any

import asyncpg
import httpx
from pydantic import SecretStr

from anju_contracts import Event, EventCatalog
from eventkit.app import service_app
from eventkit.messages import Delivered
from eventkit.policy import Policy
from eventkit.runtime import Runtime
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Session
from eventkit.testing.infra import free_port


class Counted(Event):
    event_type = "ready.Counted"
    n: int


CATALOG = EventCatalog("ready", [Counted])


class Tally:
    """A read model fed from the topic, as the query service's."""

    name = "ready_tally"
    catalogs: Sequence[EventCatalog] = (CATALOG,)
    ddl = "CREATE TABLE seen (event_id uuid PRIMARY KEY);"

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        await conn.executemany(
            "INSERT INTO seen VALUES ($1) ON CONFLICT DO NOTHING",
            [(d.envelope.id,) for d in batch],
        )


async def ignore(_: Session, __: Delivered) -> None:
    """A policy that does nothing: only its consumer matters here."""


ECHO = Policy(name="ready_echo", catalogs=(CATALOG,), handle=ignore)
"""A policy fed from the topic, as mediation's."""


def settings(database_url: str, bootstrap: str) -> ServiceSettings:
    return ServiceSettings(
        service="ready",
        database_url=database_url,
        jwt_secret=SecretStr("x" * 32),
        kafka=KafkaSettings(
            bootstrap=bootstrap,
            topic_prefix=f"r{uuid.uuid4().hex[:10]}.",
            session_timeout_ms=2000,
            heartbeat_interval_ms=300,
            fetch_max_wait_ms=20,
        ),
    )


def no_broker() -> str:
    """A bootstrap address where no broker listens."""
    return f"127.0.0.1:{free_port()}"


@asynccontextmanager
async def serving(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    """The service of ``runtime`` behind the shared edge, started as uvicorn would."""
    app = service_app(runtime, [])
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://svc") as client:
            yield client


async def readyz(client: httpx.AsyncClient) -> tuple[int, dict[str, Any]]:
    response = await client.get("/readyz")
    body: dict[str, Any] = response.json()
    return response.status_code, body


async def test_a_command_service_stays_ready_for_commands_while_the_broker_is_down(
    database_url: str,
) -> None:
    runtime = Runtime(settings(database_url, no_broker()), catalog=CATALOG, policies=[ECHO])
    async with serving(runtime) as client:
        status, body = await readyz(client)
    assert status == 200, body
    assert body["status"] == "ready"
    assert body["database"] == "ok"
    assert body["broker"] == "down"
    assert body["serving"] == ["commands"]
    assert body["events"] == "held_in_store"
    assert body["policies"] == "paused"
    assert "broker" in body["errors"]


async def test_a_command_service_with_its_broker_reports_everything_ok(
    database_url: str, kafka_bootstrap: str
) -> None:
    runtime = Runtime(settings(database_url, kafka_bootstrap), catalog=CATALOG)
    async with serving(runtime) as client:
        status, body = await readyz(client)
    assert status == 200, body
    assert body == {
        "status": "ready",
        "database": "ok",
        "broker": "ok",
        "serving": ["commands"],
        "events": "published",
    }


async def test_a_query_service_stays_ready_and_says_its_read_models_may_be_stale(
    database_url: str,
) -> None:
    runtime = Runtime(settings(database_url, no_broker()), projections=[Tally()])
    async with serving(runtime) as client:
        status, body = await readyz(client)
    assert status == 200, body
    assert body["broker"] == "down"
    assert body["serving"] == ["queries"]
    assert body["read_models"] == "may_be_stale"
    assert "events" not in body


async def test_a_query_service_with_its_broker_has_live_read_models(
    database_url: str, kafka_bootstrap: str
) -> None:
    runtime = Runtime(settings(database_url, kafka_bootstrap), projections=[Tally()])
    async with serving(runtime) as client:
        status, body = await readyz(client)
    assert status == 200, body
    assert body["broker"] == "ok"
    assert body["read_models"] == "live"


async def test_without_its_database_a_service_is_not_ready(
    database_url: str, kafka_bootstrap: str
) -> None:
    runtime = Runtime(settings(database_url, kafka_bootstrap), catalog=CATALOG)
    name = database_url.rsplit("/", 1)[1].split("?")[0]
    admin = await asyncpg.connect(database_url.replace(f"/{name}", "/postgres"))
    try:
        async with serving(runtime) as client:
            assert (await readyz(client))[0] == 200
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
            await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1",
                name,
            )
            status, body = await readyz(client)
            await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
    finally:
        await admin.close()
    assert status == 503, body
    error = body["error"]
    assert error["code"] == "not_ready"
    assert "database" in error["message"]
    assert error["details"]["database"] == "down"
    assert error["details"]["broker"] == "ok"
    assert error["details"]["serving"] == []
    assert "database" in error["details"]["errors"]
