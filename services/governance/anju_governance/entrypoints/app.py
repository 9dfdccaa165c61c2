"""The composition root: ``create_app(settings)`` builds the governance service's FastAPI app.

Nothing connects here; the runtime (pool, relay, scheduler, the policies that learn the
registry and mediation) starts in the app's lifespan.
"""

from __future__ import annotations

from fastapi import FastAPI

from anju_contracts.governance import CATALOG
from anju_governance.application import mirror
from anju_governance.application.config import GovernanceConfig
from anju_governance.application.permissions import PERMISSIONS
from anju_governance.application.reactions import deadline_handlers, policies
from anju_governance.entrypoints.http import commands, router
from anju_governance.settings import GovernanceSettings
from eventkit import known
from eventkit.app import service_app
from eventkit.commands import Clock, utcnow
from eventkit.runtime import Runtime
from eventkit.subject_access import SubjectAccess, known_place


def create_app(settings: GovernanceSettings, *, clock: Clock = utcnow) -> FastAPI:
    config = GovernanceConfig(
        clock=clock,
        known=known.PostgresKnown(),
        meeting_kinds=settings.kinds,
        rules=settings.rules,
    )
    runtime = Runtime(
        settings,
        catalog=CATALOG,
        ddl=[known.DDL, mirror.DDL],
        policies=policies(config),
        deadlines=deadline_handlers(config),
        clock=clock,
    )
    return service_app(
        runtime,
        [router],
        commands=[commands],
        config=config,
        permissions=PERMISSIONS,
        subject_access=SubjectAccess(prefixes=(), locate=known_place(config.known)),
    )
