"""Test helpers for the station service.

:func:`running_station`: the app with its lifespan running, a hand-moved clock, an HTTP client
over ASGI, and the registry's news fed straight to the service's registry policy
(:class:`~eventkit.testing.registry.RegistryFeed`). Used by this service's integration tests and
by system-level tests; nothing here runs in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import ClassVar

from anju_station.entrypoints.app import create_app
from anju_station.settings import StationSettings
from eventkit.runtime import Runtime
from eventkit.testing.clocks import ManualClock
from eventkit.testing.registry import RegistryFeed
from eventkit.testing.service import ServiceClient, serving, settings_for_test

SECRET = "station-tests-secret-0123456789-0123456789"


@dataclass
class StationClient(ServiceClient):
    settings: StationSettings
    feed: RegistryFeed

    secret: ClassVar[str] = SECRET


@asynccontextmanager
async def running_station(
    database_url: str,
    kafka_bootstrap: str,
    *,
    topic_prefix: str | None = None,
    clock: ManualClock | None = None,
    feed_tree: bool = True,
) -> AsyncIterator[StationClient]:
    """The service on ``database_url``, on a fresh topic prefix unless one is given (the
    registry's, in a system test, with ``feed_tree=False``: then it learns only what the
    registry publishes)."""
    settings = settings_for_test(
        StationSettings, database_url, kafka_bootstrap, SECRET, topic_prefix=topic_prefix
    )
    clock = clock or ManualClock()
    app = create_app(settings, clock=clock)
    async with serving(app, "station") as client:
        runtime: Runtime = app.state.runtime
        feed = RegistryFeed(runtime.store, runtime.policies[0])
        if feed_tree:
            await feed.build_tree(residents=0)
        yield StationClient(app, client, clock, settings, feed)
