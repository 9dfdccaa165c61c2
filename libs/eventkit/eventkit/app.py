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
from pydantic import ValidationError

from eventkit.http import JsonErrorHttpToolsProtocol, create_http_app
from eventkit.logging import configure_logging
from eventkit.runtime import Runtime
from eventkit.settings import ServiceSettings
from eventkit.store import EventStore

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


def store_of(runtime: RuntimeDep) -> EventStore:
    return runtime.store


StoreDep = Annotated[EventStore, Depends(store_of)]


def load_settings(settings_type: type[S]) -> S:
    """Read a service's settings from the environment, or exit naming what is missing/wrong."""
    try:
        return settings_type()  # values come from the environment
    except ValidationError as error:
        prefix = str(settings_type.model_config.get("env_prefix", ""))
        lines = [f"{settings_type.__name__}: the environment does not configure this service:"]
        for problem in error.errors():
            name = prefix + "__".join(str(part) for part in problem["loc"]).upper()
            lines.append(f"  {name}: {problem['msg']}")
        raise SystemExit("\n".join(lines)) from None


def serve(create_app: Callable[[S], FastAPI], settings_type: type[S]) -> None:
    """Run a service in the foreground until SIGINT/SIGTERM."""
    settings = load_settings(settings_type)
    configure_logging(settings.log_format, settings.log_level, service=settings.service)
    uvicorn.run(
        create_app(settings),
        host=settings.host,
        port=settings.port,
        http=JsonErrorHttpToolsProtocol,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
