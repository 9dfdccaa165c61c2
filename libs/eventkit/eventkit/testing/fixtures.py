"""Pytest plugin with real-infrastructure fixtures; enable with
``pytest_plugins = ["eventkit.testing.fixtures"]`` in a conftest.

- ``pg_server_url`` (session): a PostgreSQL server URL (its ``postgres`` database).
- ``database_url`` (function): a fresh, empty database on that server for one test.
- ``tansu`` (session): the shared Tansu broker; skipped when ``KAFKA_BOOTSTRAP_SERVERS`` is set.
- ``kafka_bootstrap`` (session): bootstrap servers of a real Kafka-protocol broker.
- ``key_store`` (session, automatic): a key store database of the session's own, named to
  every service's settings through the environment (``ANJU_<SERVICE>_KEYS__…``, the
  unprefixed ``KEYS__…`` and the operator CLI's ``ANJU_KEYS__…``), so every service a test starts seals personal fields as deployments
  do, and services started by one test share their keys. A test that wants no key store
  passes ``keys=None`` to the settings.

Tests that restart or otherwise break a broker must start their own ``TansuBroker``.
"""

from __future__ import annotations

import asyncio
import base64
import os
import uuid
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest
import pytest_asyncio

from anju_contracts.catalogs import CATALOGS
from eventkit.schema import migrate
from eventkit.testing.infra import (
    TansuBroker,
    create_database,
    database_url_for,
    docker_available,
    kafka_bootstrap as _kafka_bootstrap,
    postgres_url,
)

KEEP_DATABASES_ENV = "ANJU_KEEP_TEST_DATABASES"

KEYED_SERVICES = (*(c.source for c in CATALOGS if not c.inbound), "query")
"""The services whose settings name the key store: every one with a store or read models."""


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


@pytest_asyncio.fixture
async def read_model_pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A pool on a fresh database with the kernel's tables for read models (no event store):
    for tests that apply events to projections by hand."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await migrate(pool, store=False)
        yield pool
    finally:
        await pool.close()


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


@pytest.fixture(scope="session", autouse=True)
def key_store(pg_server_url: str) -> Iterator[str]:
    """The session's key store database (its URL), named to every service's settings."""
    name = f"test_keys_{uuid.uuid4().hex[:12]}"
    url = asyncio.run(create_database(pg_server_url, name))
    master = base64.b64encode(os.urandom(32)).decode()
    names = ["KEYS__DATABASE_URL", "KEYS__MASTER_KEY"]
    # the services' own, the unprefixed one of bare settings, and the operator CLI's
    prefixes = ["", "ANJU_", *(f"ANJU_{service.upper()}_" for service in KEYED_SERVICES)]
    saved = {f"{p}{n}": os.environ.get(f"{p}{n}") for p in prefixes for n in names}
    for prefix in prefixes:
        os.environ[f"{prefix}KEYS__DATABASE_URL"] = url
        os.environ[f"{prefix}KEYS__MASTER_KEY"] = master
    try:
        yield url
    finally:
        for variable, value in saved.items():
            if value is None:
                os.environ.pop(variable, None)
            else:
                os.environ[variable] = value
        if os.environ.get(KEEP_DATABASES_ENV) != "1":
            asyncio.run(_drop(pg_server_url, name))


async def _drop(server_url: str, name: str) -> None:
    conn = await asyncpg.connect(database_url_for(server_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()
