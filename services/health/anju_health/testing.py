"""Test helpers for health (as ``anju_mediation.testing`` is for mediation).

:func:`running_health`: the app with its lifespan running, a hand-moved clock, an HTTP client
over ASGI, and the registry's news fed straight to health's registry policy
(:class:`~eventkit.testing.registry.RegistryFeed`). Used by this service's integration tests and
by system-level tests; nothing here runs in production.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from anju_health.application.reactions import deadline_handlers
from anju_health.application.records import HealthConfig
from anju_health.entrypoints.app import create_app
from anju_health.settings import HealthSettings
from eventkit.runtime import Runtime
from eventkit.scheduler import Scheduler
from eventkit.settings import KafkaSettings
from eventkit.testing.clocks import ManualClock
from eventkit.testing.registry import RegistryFeed
from eventkit.testing.service import ServiceClient

SECRET = "health-tests-secret-0123456789-012"


@dataclass
class HealthClient(ServiceClient):
    settings: HealthSettings
    feed: RegistryFeed

    secret: ClassVar[str] = SECRET

    @property
    def config(self) -> HealthConfig:
        config: HealthConfig = self.app.state.config
        return config

    @property
    def doctor(self) -> dict[str, str]:
        """A doctor of the health station covering the tree's community."""
        return self.auth("doctor", sub="doctor-1", areas=[self.feed.community_id])

    @property
    def default_headers(self) -> dict[str, str]:
        return self.doctor

    async def ok(
        self, url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        return await self.accepted(url, body, headers)

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
