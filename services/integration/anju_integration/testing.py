"""Test helpers for the integration service.

:func:`running_integration`: the app with its lifespan running (its inbound subscribers on the
real broker), a hand-moved clock, an HTTP client over ASGI, and the registry's news fed straight
to the service's registry policy (:class:`~eventkit.testing.registry.RegistryFeed`). Used by
this service's integration tests and by system-level tests; nothing here runs in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import ClassVar

from anju_integration.application.config import Mediation
from anju_integration.application.registry_commands import RegistryCommands
from anju_integration.entrypoints import subscribers
from anju_integration.entrypoints.app import create_app
from anju_integration.entrypoints.subscribers.inbound import Inbound
from anju_integration.settings import IntegrationSettings
from eventkit.runtime import Runtime
from eventkit.testing.clocks import ManualClock
from eventkit.testing.registry import RegistryFeed
from eventkit.testing.service import ServiceClient, serving, settings_for_test

SECRET = "integration-tests-secret-0123456789-0123456789"


@dataclass
class IntegrationClient(ServiceClient):
    settings: IntegrationSettings
    feed: RegistryFeed

    secret: ClassVar[str] = SECRET


@asynccontextmanager
async def running_integration(
    database_url: str,
    kafka_bootstrap: str,
    *,
    topic_prefix: str | None = None,
    clock: ManualClock | None = None,
    feed_tree: bool = True,
    inbounds: Sequence[Inbound] = subscribers.INBOUNDS,
    mediation: Mediation | None = None,
    registry: RegistryCommands | None = None,
    settings_changes: dict[str, object] | None = None,
) -> AsyncIterator[IntegrationClient]:
    """The service on ``database_url``, on a fresh topic prefix unless one is given (the
    registry's, in a system test, with ``feed_tree=False``: then it learns only what the
    registry publishes); ``settings_changes`` overrides settings (``hotline_community_ids``)."""
    settings = settings_for_test(
        IntegrationSettings, database_url, kafka_bootstrap, SECRET, topic_prefix=topic_prefix
    )
    settings = settings.model_copy(update={"inbound_backoff_s": 0.05, **(settings_changes or {})})
    clock = clock or ManualClock()
    app = create_app(
        settings, clock=clock, inbounds=inbounds, mediation=mediation, registry=registry
    )
    async with serving(app, "integration") as client:
        runtime: Runtime = app.state.runtime
        feed = RegistryFeed(runtime.store, runtime.policies[0])
        if feed_tree:
            await feed.build_tree(residents=0)
        yield IntegrationClient(app, client, clock, settings, feed)
