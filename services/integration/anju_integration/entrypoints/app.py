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
from anju_integration.adapters.registry import HttpRegistry
from anju_integration.application import hotline, hotline_desk, policies, tenancies
from anju_integration.application.config import IntegrationConfig, Mediation
from anju_integration.application.hotline_records import PostgresRecords
from anju_integration.application.permissions import PERMISSIONS
from anju_integration.application.policies import MEDIATION_POLICY
from anju_integration.application.registry_commands import RegistryCommands
from anju_integration.application.tenancy_tables import DDL as TENANCY_DDL, IdHasher, TenancyTables
from anju_integration.entrypoints import hotline_http, subscribers, tenancies_http
from anju_integration.entrypoints.http import commands, router
from anju_integration.entrypoints.subscribers.inbound import Handle, Inbound, Running
from anju_integration.settings import IntegrationSettings
from eventkit import known
from eventkit.app import service_app
from eventkit.commands import Clock, utcnow
from eventkit.runtime import Runtime
from eventkit.subject_access import SubjectAccess, known_place


def create_app(
    settings: IntegrationSettings,
    *,
    clock: Clock = utcnow,
    inbounds: Sequence[Inbound] = subscribers.INBOUNDS,
    mediation: Mediation | None = None,
    registry: RegistryCommands | None = None,
) -> FastAPI:
    config = integration_config(settings, clock=clock, mediation=mediation, registry=registry)
    housing = config.tenancies
    runtime = Runtime(
        settings,
        catalog=CATALOG,
        ddl=[known.DDL, hotline.DDL, TENANCY_DDL],
        policies=[policies.registry(config), MEDIATION_POLICY],
        relay_also=CATALOG.also,
        clock=clock,
    )
    # The deadline handlers take notices on through the runtime's store.
    runtime.deadlines.update(tenancies.deadline_handlers(lambda: runtime.store, housing))
    runtime.deadlines.update(hotline_desk.deadline_handlers(lambda: runtime.store, config))
    # The subscribers' handlers use the runtime's store, so they are built from the runtime.
    runtime.workers["inbound"] = subscribers.worker(settings, Running(runtime, config), inbounds)
    return service_app(
        runtime,
        [router, tenancies_http.router, hotline_http.router],
        commands=[commands, tenancies_http.commands, hotline_http.commands],
        config=config,
        permissions=PERMISSIONS,
        subject_access=SubjectAccess(prefixes=(), locate=known_place(config.known)),
    )


def integration_config(
    settings: IntegrationSettings,
    *,
    clock: Clock = utcnow,
    mediation: Mediation | None = None,
    registry: RegistryCommands | None = None,
) -> IntegrationConfig:
    """What the service's handlers need, built from the settings (fakes of mediation and the
    registry in tests)."""
    secret = settings.jwt_secret.get_secret_value()
    known_registry = known.PostgresKnown()
    housing = tenancies.Tenancies(
        tables=TenancyTables(),
        hasher=IdHasher(settings.id_hash_secret()),
        registry=registry or HttpRegistry(settings.registry_url, secret),
        known=known_registry,
        clock=clock,
    )
    return IntegrationConfig(
        clock=clock,
        known=known_registry,
        mediation=mediation or HttpMediation(settings.mediation_url, secret),
        records=PostgresRecords(),
        tenancies=housing,
        hotline_communities=settings.hotline_community_ids,
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
