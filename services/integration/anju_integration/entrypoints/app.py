"""The composition root: ``create_app(settings)`` builds the integration service's FastAPI app.

Nothing connects here; the runtime (pool, relay, the policy that learns the registry, the
FastStream subscribers of the inbound topics) starts in the app's lifespan.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager

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
from anju_integration.entrypoints.subscribers.inbound import Handle, Inbound, Running
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
    config = integration_config(settings, clock=clock, mediation=mediation)
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


def integration_config(
    settings: IntegrationSettings, *, clock: Clock = utcnow, mediation: Mediation | None = None
) -> IntegrationConfig:
    mediation = mediation or HttpMediation(
        settings.mediation_url, settings.jwt_secret.get_secret_value()
    )
    return IntegrationConfig(
        clock=clock, known=known.PostgresKnown(), mediation=mediation, records=PostgresRecords()
    )


@asynccontextmanager
async def redelivery(
    settings: IntegrationSettings,
    *,
    inbounds: Sequence[Inbound] = subscribers.INBOUNDS,
    mediation: Mediation | None = None,
) -> AsyncIterator[Mapping[str, Handle]]:
    """The inbound handlers by consumer name, outside the running service, on the service's
    database (its pool and store only: no relay, policy or subscriber runs): what
    ``eventkit.deadletters.replay`` hands an inbound dead letter back to (``anju dead-letters
    replay``)."""
    config = integration_config(settings, mediation=mediation)
    async with Runtime(settings, catalog=CATALOG, relay=False) as runtime:
        running = Running(runtime, config)
        yield {inbound.name: inbound.handler(running) for inbound in inbounds}
