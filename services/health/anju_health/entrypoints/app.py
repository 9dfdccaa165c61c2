"""The composition root: ``create_app(settings)`` builds the health service's FastAPI app.

Nothing connects here; the runtime (pool, relay, scheduler, the policy that learns areas and
residents from the registry and enrols the over-65s) starts in the app's lifespan.
"""

from __future__ import annotations

from fastapi import FastAPI

from anju_contracts.health import CATALOG
from anju_health.application import glass, protected
from anju_health.application.aggregates import records_aggregate
from anju_health.application.ledgers import LEDGERS
from anju_health.application.permissions import PERMISSIONS
from anju_health.application.policies import registry_policy
from anju_health.application.reactions import deadline_handlers
from anju_health.application.records import HealthConfig
from anju_health.entrypoints.http import commands, router
from anju_health.settings import HealthRules, HealthSettings
from eventkit import audit, known
from eventkit.app import service_app
from eventkit.commands import Clock, utcnow
from eventkit.runtime import Runtime


def health_config(rules: HealthRules, *, clock: Clock = utcnow) -> HealthConfig:
    """What the handlers, the policy and the deadlines decide with, on PostgreSQL."""
    schedule = rules.schedule
    return HealthConfig(
        clock=clock,
        schedule=schedule,
        known=known.PostgresKnown(),
        glass=glass.PostgresGlass(),
        health_station=rules.health_station,
        records=records_aggregate(schedule),
    )


def create_app(settings: HealthSettings, *, clock: Clock = utcnow) -> FastAPI:
    config = health_config(settings, clock=clock)
    runtime = Runtime(
        settings,
        catalog=CATALOG,
        ddl=[known.DDL, glass.DDL, audit.DDL],
        policies=[registry_policy(config)],
        deadlines=deadline_handlers(config),
        clock=clock,
    )
    return service_app(
        runtime,
        [router],
        commands=[commands],
        config=config,
        permissions=PERMISSIONS,
        ledgers=LEDGERS,
        subject_access=protected.subject_access(config),
    )
