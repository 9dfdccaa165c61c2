"""Test helpers for volunteering (as ``anju_health.testing`` is for health).

:func:`running_volunteering`: the app with its lifespan running, a hand-moved clock, an HTTP
client over ASGI, and the registry's news fed straight to volunteering's registry policy
(:class:`~eventkit.testing.registry.RegistryFeed`). Used by this service's integration tests and
by system-level tests; nothing here runs in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, ClassVar

from anju_volunteering.application.people import VolunteeringConfig
from anju_volunteering.entrypoints.app import create_app
from anju_volunteering.settings import VolunteeringSettings
from eventkit.runtime import Runtime
from eventkit.testing.clocks import ManualClock
from eventkit.testing.registry import RegistryFeed
from eventkit.testing.service import ServiceClient, serving, settings_for_test

SECRET = "volunteering-tests-secret-0123456789"


@dataclass
class VolunteeringClient(ServiceClient):
    settings: VolunteeringSettings
    feed: RegistryFeed

    secret: ClassVar[str] = SECRET

    @property
    def config(self) -> VolunteeringConfig:
        config: VolunteeringConfig = self.app.state.config
        return config

    @property
    def coordinator(self) -> dict[str, str]:
        """The volunteer coordinator of the tree's community."""
        return self.auth("volunteer_coordinator", sub="coord-1", areas=[self.feed.community_id])

    @property
    def default_headers(self) -> dict[str, str]:
        return self.coordinator

    async def ok(
        self, url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> str:
        """POST a command that must be accepted; the id it answers with."""
        answer_id: str = (await self.accepted(url, body, headers))["id"]
        return answer_id


@asynccontextmanager
async def running_volunteering(
    database_url: str,
    kafka_bootstrap: str,
    *,
    topic_prefix: str | None = None,
    clock: ManualClock | None = None,
    consistency_wait_s: float = 5.0,
    feed_tree: bool = True,
) -> AsyncIterator[VolunteeringClient]:
    """Volunteering on ``database_url``, on a fresh topic prefix unless one is given."""
    settings = settings_for_test(
        VolunteeringSettings,
        database_url,
        kafka_bootstrap,
        SECRET,
        topic_prefix=topic_prefix,
        consistency_wait_s=consistency_wait_s,
    )
    clock = clock or ManualClock(datetime(2026, 3, 10, 9, 0, tzinfo=UTC))
    app = create_app(settings, clock=clock)
    async with serving(app, "volunteering") as client:
        runtime: Runtime = app.state.runtime
        feed = RegistryFeed(runtime.store, runtime.policies[0])
        if feed_tree:
            await feed.build_tree(residents=0)
        yield VolunteeringClient(app, client, clock, settings, feed)
