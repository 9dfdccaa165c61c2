"""The composition root: ``create_app(settings)`` builds the integration service's FastAPI app.

Nothing connects here; the runtime (pool, relay, the policy that learns the registry, the
FastStream subscribers of the inbound topics) starts in the app's lifespan.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI

from anju_contracts.integration import CATALOG
from anju_integration.application.config import IntegrationConfig
from anju_integration.application.permissions import PERMISSIONS
from anju_integration.application.policies import REGISTRY_POLICY
from anju_integration.entrypoints import subscribers
from anju_integration.entrypoints.http import commands, router
from anju_integration.entrypoints.subscribers.inbound import Inbound, Running
from anju_integration.settings import IntegrationSettings
from eventkit import known
from eventkit.app import service_app
from eventkit.commands import Clock, utcnow
from eventkit.runtime import Runtime


def create_app(
    settings: IntegrationSettings,
    *,
    clock: Clock = utcnow,
    inbounds: Sequence[Inbound] = subscribers.INBOUNDS,
) -> FastAPI:
    config = IntegrationConfig(clock=clock, known=known.PostgresKnown())
    runtime = Runtime(
        settings, catalog=CATALOG, ddl=[known.DDL], policies=[REGISTRY_POLICY], clock=clock
    )
    # The subscribers' handlers use the runtime's store, so they are built from the runtime.
    runtime.workers["inbound"] = subscribers.worker(settings, Running(runtime, config), inbounds)
    return service_app(
        runtime, [router], commands=[commands], config=config, permissions=PERMISSIONS
    )
