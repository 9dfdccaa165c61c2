"""Test helpers for health (as ``anju_mediation.testing`` is for mediation).

:func:`running_health`: the app with its lifespan running, a hand-moved clock, an HTTP client
over ASGI, and the registry's news fed straight to health's registry policy
(:class:`~eventkit.testing.registry.RegistryFeed`). Used by this service's integration tests and
by system-level tests; nothing here runs in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from anju_health.application.records import HealthConfig
from anju_health.entrypoints.app import create_app
from anju_health.settings import HealthSettings
from eventkit.runtime import Runtime
from eventkit.testing.clocks import ManualClock
from eventkit.testing.registry import RegistryFeed
from eventkit.testing.service import ServiceClient, serving, settings_for_test

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
    settings = settings_for_test(
        HealthSettings,
        database_url,
        kafka_bootstrap,
        SECRET,
        topic_prefix=topic_prefix,
        consistency_wait_s=consistency_wait_s,
    )
    clock = clock or ManualClock(now or datetime(2026, 3, 1, 9, 0, tzinfo=UTC))
    app = create_app(settings, clock=clock)
    async with serving(app, "health") as client:
        runtime: Runtime = app.state.runtime
        feed = RegistryFeed(runtime.store, runtime.policies[0])
        if feed_tree:
            await feed.build_tree(residents=0)
        yield HealthClient(app, client, clock, settings, feed)
