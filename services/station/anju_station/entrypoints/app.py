"""The composition root: ``create_app(settings)`` builds the station service's FastAPI app.

Nothing connects here; the runtime (pool, relay, scheduler, the policy that learns the registry)
starts in the app's lifespan.
"""

from __future__ import annotations

from fastapi import FastAPI

from anju_contracts.station import CATALOG
from anju_station.application.aggregates import HANDOFF_DUE
from anju_station.application.desk import StationConfig, handoff_due
from anju_station.application.ledgers import LEDGERS
from anju_station.application.permissions import PERMISSIONS
from anju_station.application.policies import REGISTRY_POLICY
from anju_station.application.residences import DDL, PostgresResidences
from anju_station.entrypoints.http import commands, public, router
from anju_station.settings import StationSettings
from eventkit import known
from eventkit.app import service_app
from eventkit.commands import Clock, utcnow
from eventkit.runtime import Runtime
from eventkit.subject_access import SubjectAccess, known_place


def create_app(settings: StationSettings, *, clock: Clock = utcnow) -> FastAPI:
    config = StationConfig(
        clock=clock,
        known=known.PostgresKnown(),
        catalogue=settings.services,
        residences=PostgresResidences(),
        public_url=settings.public_url,
    )
    runtime = Runtime(
        settings,
        catalog=CATALOG,
        ddl=[known.DDL, DDL],
        policies=[REGISTRY_POLICY],
        deadlines={HANDOFF_DUE: handoff_due},
        clock=clock,
    )
    return service_app(
        runtime,
        [router, public],
        commands=[commands],
        config=config,
        permissions=PERMISSIONS,
        subject_access=SubjectAccess(prefixes=(), locate=known_place(config.known)),
        ledgers=LEDGERS,
    )
