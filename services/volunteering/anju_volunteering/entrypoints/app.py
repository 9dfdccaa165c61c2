"""The composition root: ``create_app(settings)`` builds the volunteering service's FastAPI app.

Nothing connects here; the runtime (pool, relay, scheduler, the policy that learns the registry
and plans the monthly cleaning of elders living alone) starts in the app's lifespan.
"""

from __future__ import annotations

from fastapi import FastAPI

from anju_contracts.volunteering import CATALOG
from anju_volunteering.application.aggregates import ledgers_of
from anju_volunteering.application.ledgers import LEDGERS
from anju_volunteering.application.people import VolunteeringConfig
from anju_volunteering.application.permissions import PERMISSIONS
from anju_volunteering.application.policies import registry_policy
from anju_volunteering.application.reactions import deadline_handlers
from anju_volunteering.entrypoints.http import commands, public, router
from anju_volunteering.settings import VolunteeringRules, VolunteeringSettings
from eventkit import known
from eventkit.app import service_app
from eventkit.commands import Clock, utcnow
from eventkit.runtime import Runtime
from eventkit.subject_access import SubjectAccess, known_place


def volunteering_config(rules: VolunteeringRules, *, clock: Clock = utcnow) -> VolunteeringConfig:
    return VolunteeringConfig(clock=clock, known=known.PostgresKnown(), response=rules.response)


def create_app(settings: VolunteeringSettings, *, clock: Clock = utcnow) -> FastAPI:
    config = volunteering_config(settings, clock=clock)
    runtime = Runtime(
        settings,
        catalog=CATALOG,
        ddl=[known.DDL],
        policies=[registry_policy(config)],
        deadlines=deadline_handlers(config),
        erasure_reach=ledgers_of,
        clock=clock,
    )
    return service_app(
        runtime,
        [router, public],
        commands=[commands],
        config=config,
        permissions=PERMISSIONS,
        subject_access=SubjectAccess(prefixes=("plan-",), locate=known_place(config.known)),
        ledgers=LEDGERS,
    )
