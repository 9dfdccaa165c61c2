"""Test helpers for health (as ``anju_mediation.testing`` is for mediation).

:func:`running_health`: the app with its lifespan running, a hand-moved clock, an HTTP client
over ASGI, and the registry's news fed straight to health's registry policy
(:class:`~eventkit.testing.registry.RegistryFeed`). Used by this service's integration tests and
by system-level tests; nothing here runs in production.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from fastapi import FastAPI
from pydantic import SecretStr

from anju_health.application.reactions import deadline_handlers
from anju_health.application.records import HealthConfig
from anju_health.entrypoints.app import create_app
from anju_health.settings import HealthSettings
from eventkit.auth import issue_token
from eventkit.runtime import Runtime
from eventkit.scheduler import Scheduler
from eventkit.settings import KafkaSettings
from eventkit.testing.clocks import ManualClock
from eventkit.testing.registry import RegistryFeed

SECRET = "health-tests-secret-0123456789-012"


@dataclass
class HealthClient:
    app: FastAPI
    client: httpx.AsyncClient
    clock: ManualClock
    settings: HealthSettings
    feed: RegistryFeed

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    @property
    def config(self) -> HealthConfig:
        config: HealthConfig = self.app.state.health
        return config

    def auth(self, *roles: str, sub: str = "doctor-1", areas: Iterable[str] = ()) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(SECRET, sub, roles, areas)}"}

    @property
    def doctor(self) -> dict[str, str]:
        """A doctor of the health station covering the tree's community."""
        return self.auth("doctor", sub="doctor-1", areas=[self.feed.community_id])

    async def post(
        self, url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.post(url, json=body or {}, headers=headers or self.doctor)

    async def ok(
        self, url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        response = await self.post(url, body, headers)
        assert response.status_code in (200, 201), response.text
        answer: dict[str, Any] = response.json()
        return answer

    async def get(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.get(url, headers=headers or self.doctor)

    def scheduler(self, *, days_ahead: float) -> Scheduler:
        """A scheduler that sees the clock ``days_ahead`` days on."""
        when = self.clock.now + timedelta(days=days_ahead)
        return Scheduler(self.runtime.store, deadline_handlers(self.config), clock=lambda: when)


@asynccontextmanager
async def running_health(
    database_url: str,
    kafka_bootstrap: str,
    *,
    topic_prefix: str | None = None,
    now: datetime | None = None,
    clock: ManualClock | None = None,
    consistency_wait_s: float = 5.0,
    feed_tree: bool = True,
) -> AsyncIterator[HealthClient]:
    """Health on ``database_url``, on a fresh topic prefix unless one is given.

    A system test runs it on the registry's prefix, with the registry's clock, and without the
    hand-fed area tree (``feed_tree=False``): then it learns only what the registry publishes.
    """
    prefix = topic_prefix or f"h{uuid.uuid4().hex[:10]}."
    settings = HealthSettings(
        database_url=database_url,
        jwt_secret=SecretStr(SECRET),
        kafka=KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=prefix),
        relay_idle_poll_s=0.02,
        scheduler_poll_s=3600,
        consistency_wait_s=consistency_wait_s,
    )
    clock = clock or ManualClock(now or datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://health") as client:
            runtime: Runtime = app.state.runtime
            feed = RegistryFeed(runtime.store, runtime.policies[0])
            if feed_tree:
                await feed.build_tree(residents=0)
            yield HealthClient(app, client, clock, settings, feed)
