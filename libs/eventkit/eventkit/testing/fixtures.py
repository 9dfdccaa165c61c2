"""Pytest plugin with real-infrastructure fixtures; enable with
``pytest_plugins = ["eventkit.testing.fixtures"]`` in a conftest.

- ``pg_server_url`` (session): a PostgreSQL server URL (its ``postgres`` database).
- ``database_url`` (function): a fresh, empty database on that server for one test.
- ``tansu`` (session): the shared Tansu broker; skipped when ``KAFKA_BOOTSTRAP_SERVERS`` is set.
- ``kafka_bootstrap`` (session): bootstrap servers of a real Kafka-protocol broker.

Tests that restart or otherwise break a broker must start their own ``TansuBroker``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
import pytest_asyncio

from eventkit.testing.infra import (
    TansuBroker,
    create_database,
    database_url_for,
    docker_available,
    kafka_bootstrap as _kafka_bootstrap,
    postgres_url,
)

KEEP_DATABASES_ENV = "ANJU_KEEP_TEST_DATABASES"


@pytest.fixture(scope="session")
def pg_server_url() -> Iterator[str]:
    """URL of a PostgreSQL server for the whole session."""
    with postgres_url() as url:
        yield url


@pytest_asyncio.fixture
async def database_url(pg_server_url: str) -> AsyncIterator[str]:
    """A fresh database per test, dropped afterwards (kept if ANJU_KEEP_TEST_DATABASES=1)."""
    name = f"test_{uuid.uuid4().hex[:16]}"
    url = await create_database(pg_server_url, name)
    yield url
    if os.environ.get(KEEP_DATABASES_ENV) == "1":
        return
    conn = await asyncpg.connect(database_url_for(pg_server_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="session")
def tansu() -> Iterator[TansuBroker]:
    """The session's Tansu broker (memory only). Do not restart it: other tests share it."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS"):
        pytest.skip("KAFKA_BOOTSTRAP_SERVERS is set: tests use that broker, not Tansu")
    with TansuBroker() as broker:
        yield broker


@pytest.fixture(scope="session")
def kafka_bootstrap(request: pytest.FixtureRequest) -> Iterator[str]:
    """Bootstrap servers: KAFKA_BOOTSTRAP_SERVERS, else Kafka in Docker, else the Tansu broker."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") or docker_available():
        with _kafka_bootstrap() as bootstrap:
            yield bootstrap
        return
    broker: TansuBroker = request.getfixturevalue("tansu")
    yield broker.bootstrap
