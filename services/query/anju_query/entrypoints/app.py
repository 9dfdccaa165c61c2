"""The query service's composition root."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from anju_query.entrypoints.http import router
from anju_query.projections import projections
from anju_query.settings import QuerySettings
from eventkit.app import service_app
from eventkit.projection import ensure_projection
from eventkit.runtime import Runtime


def create_app(settings: QuerySettings) -> FastAPI:
    """The app; its lifespan starts the pool and the projection runners (no event store)."""
    runtime = Runtime(settings, catalog=None, projections=projections())
    app = service_app(runtime, [router])
    started = app.router.lifespan_context

    # The runners create their projection's schema in the background; make sure the views
    # exist before the first request, so a query right after start-up finds empty read models
    # rather than missing tables.
    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with started(app):
            for projection in runtime.projections:
                await ensure_projection(runtime.pool, projection)
            yield

    app.router.lifespan_context = lifespan
    return app
