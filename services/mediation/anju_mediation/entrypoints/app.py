"""The composition root: ``create_app(settings)`` builds the mediation service's FastAPI app.

Nothing connects here; the runtime (pool, relay, scheduler, the policy that learns areas and
residents from the registry, the one that reports the opinions the station refers) starts in the
app's lifespan.
"""

from __future__ import annotations

from fastapi import FastAPI

from anju_contracts.mediation import CATALOG
from anju_mediation.application.aggregates import (
    DISPUTE_RETENTION_DUE,
    PETITION_DUE,
    SLA_AT_RISK,
    SLA_DUE,
)
from anju_mediation.application.disputes import retention_due, sla_handlers
from anju_mediation.application.ledgers import LEDGERS
from anju_mediation.application.permissions import PERMISSIONS
from anju_mediation.application.petitions import petition_due
from anju_mediation.application.policies import REGISTRY_POLICY, STATION_POLICY
from anju_mediation.entrypoints.http import MediationConfig, commands, router
from anju_mediation.settings import MediationSettings
from eventkit import audit, known
from eventkit.app import service_app
from eventkit.commands import Clock, utcnow
from eventkit.runtime import Runtime
from eventkit.subject_access import SubjectAccess, known_place


def create_app(settings: MediationSettings, *, clock: Clock = utcnow) -> FastAPI:
    slas = settings.slas
    at_risk, breached = sla_handlers(slas)
    runtime = Runtime(
        settings,
        catalog=CATALOG,
        ddl=[known.DDL, audit.DDL],
        policies=[REGISTRY_POLICY, STATION_POLICY],
        deadlines={
            SLA_AT_RISK: at_risk,
            SLA_DUE: breached,
            PETITION_DUE: petition_due,
            # the key store opens with the runtime: reached when a deadline fires
            DISPUTE_RETENTION_DUE: retention_due(lambda: runtime.keys),
        },
        clock=clock,
    )
    config = MediationConfig(
        clock=clock,
        slas=slas,
        petition_deadlines=settings.petition_deadlines,
        known=known.PostgresKnown(),
        retention=settings.retention.retention,
    )
    return service_app(
        runtime,
        [router],
        commands=[commands],
        config=config,
        permissions=PERMISSIONS,
        subject_access=SubjectAccess(prefixes=(), locate=known_place(config.known)),
        ledgers=LEDGERS,
    )
