"""The composition root: ``create_app(settings)`` builds the volunteering service's FastAPI app.

Nothing connects here; the runtime (pool, relay) starts in the app's lifespan.
"""

from __future__ import annotations

from fastapi import FastAPI

from anju_contracts.volunteering import CATALOG
from anju_volunteering.entrypoints.http import router
from anju_volunteering.settings import VolunteeringSettings
from eventkit.app import service_app
from eventkit.runtime import Runtime


def create_app(settings: VolunteeringSettings) -> FastAPI:
    return service_app(Runtime(settings, catalog=CATALOG), [router])
