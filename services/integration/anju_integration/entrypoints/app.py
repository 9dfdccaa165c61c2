"""The composition root: ``create_app(settings)`` builds the integration service's FastAPI app.

Nothing connects here; the runtime (pool, relay, the policy that learns the registry, the
FastStream subscribers of the inbound topics) starts in the app's lifespan.
"""

from __future__ import annotations

from collections.abc import Sequence

from fastapi import FastAPI

from anju_contracts.integration import CATALOG
from anju_integration.adapters.mediation import HttpMediation
from anju_integration.application import hotline
from anju_integration.application.config import IntegrationConfig, Mediation
from anju_integration.application.hotline_records import PostgresRecords
from anju_integration.application.permissions import PERMISSIONS
from anju_integration.application.policies import MEDIATION_POLICY, REGISTRY_POLICY
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
    mediation: Mediation | None = None,
) -> FastAPI:
    mediation = mediation or HttpMediation(
        settings.mediation_url, settings.jwt_secret.get_secret_value()
    )
    config = IntegrationConfig(
        clock=clock, known=known.PostgresKnown(), mediation=mediation, records=PostgresRecords()
    )
    runtime = Runtime(
        settings,
        catalog=CATALOG,
        ddl=[known.DDL, hotline.DDL],
        policies=[REGISTRY_POLICY, MEDIATION_POLICY],
        relay_also=CATALOG.also,
        clock=clock,
    )
    # The subscribers' handlers use the runtime's store, so they are built from the runtime.
    runtime.workers["inbound"] = subscribers.worker(settings, Running(runtime, config), inbounds)
    return service_app(
        runtime, [router], commands=[commands], config=config, permissions=PERMISSIONS
    )
