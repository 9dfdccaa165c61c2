"""The composition root: ``create_app(settings)`` builds the health service's FastAPI app.

Nothing connects here; the runtime (pool, relay) starts in the app's lifespan.
"""

from __future__ import annotations

from fastapi import FastAPI

from anju_contracts.health import CATALOG
from anju_health.entrypoints.http import router
from anju_health.settings import HealthSettings
from eventkit.app import service_app
from eventkit.runtime import Runtime


def create_app(settings: HealthSettings) -> FastAPI:
    return service_app(Runtime(settings, catalog=CATALOG), [router])
