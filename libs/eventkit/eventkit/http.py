"""The HTTP edge every service shares: auth, errors as JSON with stable codes, health, metrics.

Every error body has the same shape::

    {"error": {"code": "conflict", "message": "...", "details": {...}}}

``code`` is stable and machine-readable; ``message`` is for people.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Annotated, Any

import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.exceptions import HTTPException as StarletteHTTPException

from eventkit.auth import InvalidToken, Principal, Role, verify_token
from eventkit.errors import DomainError, Forbidden, Kind, Unauthorized
from eventkit.metrics import HTTP_LATENCY
from eventkit.store import ConcurrencyError

log = structlog.get_logger("eventkit.http")


ApiError = DomainError
"""The edge's name for an error it answers as JSON: every :class:`DomainError`."""

STATUS: dict[Kind, int] = {
    Kind.INVALID: 400,
    Kind.UNAUTHENTICATED: 401,
    Kind.FORBIDDEN: 403,
    Kind.NOT_FOUND: 404,
    Kind.CONFLICT: 409,
    Kind.TOO_LARGE: 413,
    Kind.REJECTED: 422,
    Kind.OVERLOADED: 503,
    Kind.UNAVAILABLE: 503,
}
"""The one table from an error's kind to the HTTP status it is answered with."""


def status_of(error: DomainError) -> int:
    return STATUS[error.kind]


def error_body(code: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "details": details or {}}}


def _json_error(
    status: int, code: str, message: str, details: dict[str, Any] | None = None
) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(error_body(code, message, details), status_code=status, headers=headers)


_STATUS_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "validation_failed",
    429: "too_many_requests",
}


def install_error_handlers(app: FastAPI) -> None:
    async def api_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, DomainError)
        return _json_error(status_of(exc), exc.code, exc.message, exc.details)

    async def concurrency(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, ConcurrencyError)
        return _json_error(
            409,
            "conflict",
            "the record changed while this request was processed; reload and try again",
            {"stream": exc.stream_id, "expected_version": exc.expected_version},
        )

    async def validation(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, RequestValidationError)
        fields = [
            {
                "field": ".".join(str(p) for p in err["loc"] if p != "body"),
                "message": err["msg"],
                "type": err["type"],
            }
            for err in exc.errors()
        ]
        return _json_error(422, "validation_failed", "the request is not valid", {"fields": fields})

    async def http_error(_: Request, exc: Exception) -> Response:
        assert isinstance(exc, StarletteHTTPException)
        code = _STATUS_CODES.get(exc.status_code, "error")
        return _json_error(exc.status_code, code, str(exc.detail))

    async def unexpected(_: Request, exc: Exception) -> Response:
        log.exception("unhandled_error", error=repr(exc))
        return _json_error(500, "internal_error", "something went wrong on our side")

    app.add_exception_handler(DomainError, api_error)
    app.add_exception_handler(ConcurrencyError, concurrency)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
    app.add_exception_handler(Exception, unexpected)


_bearer = HTTPBearer(auto_error=False)


def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """FastAPI dependency: the caller, from ``Authorization: Bearer <JWT>``."""
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token")
    secret: str = request.app.state.jwt_secret
    try:
        principal = verify_token(credentials.credentials, secret)
    except InvalidToken as error:
        raise Unauthorized("invalid bearer token", reason=str(error)) from error
    structlog.contextvars.bind_contextvars(actor=principal.sub)
    return principal


CurrentUser = Annotated[Principal, Depends(authenticate)]


def require(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency that lets through only callers holding one of ``roles`` (admins always)."""

    def check(principal: CurrentUser) -> Principal:
        if not principal.has(Role.ADMIN, *roles):
            raise Forbidden("your role may not do this", needs=[str(r) for r in roles])
        return principal

    return check


ReadyCheck = Callable[[], Awaitable[None]]


def create_http_app(
    *,
    service: str,
    jwt_secret: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    routers: Sequence[APIRouter],
    ready_checks: dict[str, ReadyCheck],
    version: str = "1.0.0",
) -> FastAPI:
    """The FastAPI app of a service, with the shared edge around its routers."""
    app = FastAPI(
        title=f"Anju {service}",
        version=version,
        lifespan=lifespan,
        description=f"The {service} service of Anju. Every route needs a bearer JWT.",
    )
    app.state.jwt_secret = jwt_secret
    install_error_handlers(app)

    @app.middleware("http")
    async def context(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        correlation_id = request.headers.get("x-correlation-id") or str(uuid.uuid4())
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(service=service, correlation_id=correlation_id)
        request.state.correlation_id = correlation_id
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        HTTP_LATENCY.labels(
            service,
            request.method,
            getattr(route, "path", "unmatched"),
            str(response.status_code),
        ).observe(time.perf_counter() - started)
        response.headers["x-correlation-id"] = correlation_id
        return response

    @app.get("/healthz", tags=["operations"], include_in_schema=True)
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get("/readyz", tags=["operations"])
    async def readyz() -> Response:
        """Readiness: the database and the broker answer."""
        failures: dict[str, str] = {}
        for name, check in ready_checks.items():
            try:
                await check()
            except Exception as error:
                failures[name] = repr(error)
        if failures:
            return _json_error(503, "not_ready", "a dependency is not reachable", failures)
        return JSONResponse({"status": "ready"})

    @app.get("/metrics", tags=["operations"])
    async def metrics() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    return app
