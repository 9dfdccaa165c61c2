"""The composition root: ``create_app(settings)`` builds the registry's FastAPI app.

Nothing connects here; the runtime (pool, relay, scheduler) starts in the app's lifespan.
"""

from __future__ import annotations

from fastapi import FastAPI

from anju_contracts.registry import CATALOG
from anju_registry.application import erasures, lookups
from anju_registry.application.aggregates import FOLLOWUP_DUE, RETENTION_DUE, SUBJECT_ACCESS
from anju_registry.application.care import followup_due
from anju_registry.application.permissions import PERMISSIONS
from anju_registry.application.retention import retention_due
from anju_registry.entrypoints.http import RegistryConfig, commands, router
from anju_registry.settings import RegistrySettings
from eventkit import audit
from eventkit.app import service_app
from eventkit.commands import Clock, utcnow
from eventkit.runtime import Runtime


def create_app(settings: RegistrySettings, *, clock: Clock = utcnow) -> FastAPI:
    id_numbers = lookups.PostgresIdNumbers()
    runtime = Runtime(
        settings,
        catalog=CATALOG,
        ddl=[lookups.DDL, audit.DDL, erasures.DDL],
        deadlines={
            FOLLOWUP_DUE: followup_due,
            # the key store opens with the runtime: reached when a deadline fires
            RETENTION_DUE: retention_due(lambda: runtime.keys, id_numbers),
        },
        clock=clock,
    )
    config = RegistryConfig(
        clock=clock,
        intervals=settings.followup_intervals,
        id_numbers=id_numbers,
        retention=settings.retention.retention,
    )
    return service_app(
        runtime,
        [router, commands],
        config=config,
        permissions=PERMISSIONS,
        subject_access=SUBJECT_ACCESS,
    )
