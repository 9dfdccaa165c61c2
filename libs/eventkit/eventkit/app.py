"""Building and serving a service: one function each, shared by every service.

``service_app`` wraps a :class:`~eventkit.runtime.Runtime` and the service's routers in the
shared HTTP edge; the runtime starts in the app's lifespan, so importing a module or building the
app connects to nothing. ``serve`` is what ``python -m anju_<service>`` calls.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from typing import Annotated, TypeVar

import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Request

from eventkit.http import create_http_app
from eventkit.logging import configure_logging
from eventkit.runtime import Runtime
from eventkit.settings import ServiceSettings

S = TypeVar("S", bound=ServiceSettings)


def service_app(runtime: Runtime, routers: Sequence[APIRouter]) -> FastAPI:
    settings = runtime.settings

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime:
            app.state.runtime = runtime
            yield

    return create_http_app(
        service=settings.service,
        jwt_secret=settings.jwt_secret.get_secret_value(),
        lifespan=lifespan,
        routers=routers,
        ready_checks={"database": runtime.check_database, "broker": runtime.check_broker},
    )


def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


def serve(create_app: Callable[[S], FastAPI], settings: S) -> None:
    """Run a service in the foreground until SIGINT/SIGTERM."""
    configure_logging(settings.log_format, settings.log_level, service=settings.service)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
