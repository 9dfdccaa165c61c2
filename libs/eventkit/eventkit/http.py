"""The HTTP edge every service shares: auth, errors as JSON with stable codes, health, metrics.

Every error body has the same shape::

    {"error": {"code": "conflict", "message": "...", "details": {...}}}

``code`` is stable and machine-readable; ``message`` is for people.
"""

from __future__ import annotations

import importlib.util
import json
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import asyncpg
import h11
import structlog
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, PlainTextResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from fastapi.staticfiles import StaticFiles
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, Field, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.cors import CORSMiddleware
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

from eventkit.auth import InvalidToken, KeysUnavailable, Principal, TokenVerifier
from eventkit.errors import DomainError, Kind, Unauthorized, Unavailable
from eventkit.guard import PRINCIPAL_KEY, ASGIApp, EdgeGuard, Message, Receive, Scope, Send
from eventkit.metrics import HTTP_LATENCY
from eventkit.oidc import token_verifier
from eventkit.settings import AuthSettings
from eventkit.store import ConcurrencyError

log = structlog.get_logger("eventkit.http")


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


class ErrorDetail(BaseModel):
    """What went wrong: a stable code for programs, a message for people, and the particulars."""

    code: str = Field(description="Stable and machine-readable, e.g. `conflict`, `not_found`.")
    message: str = Field(description="For people; may change between releases.")
    details: dict[str, Any] = Field(
        default_factory=dict, description="Particulars, e.g. `fields` of a validation failure."
    )


class ErrorBody(BaseModel):
    """The body of every error answer, so that clients handle errors one way."""

    error: ErrorDetail


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


UNAVAILABLE: tuple[type[Exception], ...] = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.CannotConnectNowError,
    # The server is shutting down or crashed under a query in flight (SQLSTATE 57P01, 57P02).
    asyncpg.AdminShutdownError,
    asyncpg.CrashShutdownError,
    # What asyncpg raises when a session is ended while its transaction is open: the protocol
    # state of the dying connection, not a bug of ours (seen in tests/resilience).
    asyncpg.InternalClientError,
    ConnectionError,
    TimeoutError,
)
"""Errors that mean the database is down or unreachable: 503 with ``Retry-After``, not 500."""


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
        # FastAPI's request validation, or a model a handler validates itself (a body that may
        # also come as query parameters): either way a 422 naming the fields.
        assert isinstance(exc, RequestValidationError | ValidationError)
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

    async def unavailable(_: Request, exc: Exception) -> Response:
        log.warning("dependency_unavailable", error=repr(exc))
        response = _json_error(
            503, "unavailable", "a service this one depends on is not reachable; try again shortly"
        )
        response.headers["Retry-After"] = "2"
        return response

    async def rolled_back(_: Request, exc: Exception) -> Response:
        # PostgreSQL broke a deadlock (or a serialization conflict) between this command and
        # another transaction — the scheduler firing a deadline of the same record — by rolling
        # this one back: nothing was written, and the command may simply be sent again.
        log.info("transaction_rolled_back", error=repr(exc))
        return _json_error(
            409,
            "conflict",
            "a concurrent write got in the way and nothing was written; try again",
        )

    async def unexpected(_: Request, exc: Exception) -> Response:
        log.exception("unhandled_error", error=repr(exc))
        response = _json_error(500, "internal_error", "something went wrong on our side")
        # The server drops the connection after an unhandled error: say so, so that a client
        # does not send its next request on it.
        response.headers["Connection"] = "close"
        return response

    app.add_exception_handler(DomainError, api_error)
    app.add_exception_handler(ConcurrencyError, concurrency)
    app.add_exception_handler(RequestValidationError, validation)
    app.add_exception_handler(ValidationError, validation)
    app.add_exception_handler(StarletteHTTPException, http_error)
    for outage in UNAVAILABLE:
        app.add_exception_handler(outage, unavailable)
    app.add_exception_handler(asyncpg.TransactionRollbackError, rolled_back)
    app.add_exception_handler(Exception, unexpected)


_bearer = HTTPBearer(auto_error=False)


async def authenticate(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """FastAPI dependency: the caller, from ``Authorization: Bearer <JWT>``."""
    verified = getattr(request.state, PRINCIPAL_KEY, None)
    if isinstance(verified, Principal):  # the edge guard verified it before the body was read
        structlog.contextvars.bind_contextvars(actor=verified.sub)
        return verified
    if credentials is None or credentials.scheme.lower() != "bearer":
        raise Unauthorized("missing bearer token")
    verifier: TokenVerifier = request.app.state.verifier
    try:
        principal = await verifier.verify(credentials.credentials)
    except KeysUnavailable as error:
        raise Unavailable("the identity provider cannot be reached to check the token") from error
    except InvalidToken as error:
        raise Unauthorized("invalid bearer token", reason=str(error)) from error
    structlog.contextvars.bind_contextvars(actor=principal.sub)
    return principal


CurrentUser = Annotated[Principal, Depends(authenticate)]


# -- the OpenAPI document: every error answer, with the real body ---------------------------------

_COMMAND_METHODS = frozenset({"post", "put", "patch", "delete"})
_ERROR_DESCRIPTIONS = {
    400: (
        "A malformed consistency token, a period that ends before it starts (`from` after `to`),"
        " or a request body that is not UTF-8 and cannot be parsed."
    ),
    401: "No bearer token, or one that is invalid or expired.",
    403: "The caller's role or areas do not allow this.",
    404: "The record named in the path (or in the body) does not exist or is out of reach.",
    409: "The record changed since `expected_version`, or this is a duplicate.",
    413: "The request body is too large.",
    422: "The request is not valid, or the command breaks a business rule.",
    503: "A dependency (the database or the broker) is not reachable; try again.",
}
_ERROR_REF = "#/components/schemas/ErrorBody"


def error_statuses(method: str, path: str, operation: dict[str, Any]) -> list[int]:
    """The error statuses an operation can answer, from what it is.

    Authenticated routes answer 401 and 403, and 503 when the process is full or its database is
    down (the edge guard sheds load on every route); a path naming a record, and every command
    (their bodies name records too), answer 404; commands can conflict (409) or be too large
    (413); anything with a body or parameters can fail validation (422).
    A body that cannot even be decoded (not UTF-8) is a 400 from FastAPI before validation, and a
    malformed consistency token or a period from ``from`` to ``to`` that ends before it starts
    (``bad_date_range``) is a 400 too.
    """
    command = method in _COMMAND_METHODS
    parameters = operation.get("parameters", [])
    names = {p.get("name") for p in parameters}
    statuses: set[int] = set()
    if "requestBody" in operation or "consistency_token" in names or {"from", "to"} <= names:
        statuses.add(400)
    if operation.get("security"):
        statuses |= {401, 403, 503}
    if "{" in path or command:
        statuses.add(404)
    if command:
        statuses |= {409, 413}
    if command or parameters or "requestBody" in operation:
        statuses.add(422)
    return sorted(statuses)


def document_errors(schema: dict[str, Any]) -> dict[str, Any]:
    """Make an OpenAPI document list every error an operation answers, each with ``ErrorBody``.

    FastAPI documents only its own 422 with a ``detail`` body the edge never sends; generated
    clients and the staff console need the body and statuses that really come back.
    """
    components = schema.setdefault("components", {}).setdefault("schemas", {})
    error_schema = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    components.update(error_schema.pop("$defs", {}))
    components["ErrorBody"] = error_schema
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            responses = operation["responses"]
            for status in error_statuses(method, path, operation):
                responses[str(status)] = {
                    "description": _ERROR_DESCRIPTIONS[status],
                    "content": {"application/json": {"schema": {"$ref": _ERROR_REF}}},
                }
    for unused in ("HTTPValidationError", "ValidationError"):
        if f'"#/components/schemas/{unused}"' not in json.dumps(schema):
            components.pop(unused, None)
    return schema


class ServiceApp(FastAPI):
    """A FastAPI app whose OpenAPI document lists the errors the edge really answers."""

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            self.openapi_schema = document_errors(super().openapi())
        return self.openapi_schema


# -- /docs without the internet: Swagger UI from an installed package -------------------------------

DOCS_ASSETS = "/docs/assets"


def swagger_ui_assets() -> Path:
    """The directory of Swagger UI's JS and CSS, shipped by the ``swagger-ui-py`` package."""
    spec = importlib.util.find_spec("swagger_ui")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the swagger-ui-py package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "static"


def install_docs(app: FastAPI) -> None:
    """Serve ``/docs`` with Swagger UI loaded from the app itself, so it works offline."""
    app.mount(DOCS_ASSETS, StaticFiles(directory=swagger_ui_assets()), name="docs-assets")
    openapi_url = app.openapi_url or "/openapi.json"

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        return get_swagger_ui_html(
            openapi_url=openapi_url,
            title=f"{app.title} — API",
            swagger_js_url=f"{DOCS_ASSETS}/swagger-ui-bundle.js",
            swagger_css_url=f"{DOCS_ASSETS}/swagger-ui.css",
            swagger_favicon_url=f"{DOCS_ASSETS}/favicon-32x32.png",
            swagger_ui_parameters={"persistAuthorization": True},
        )


@dataclass(frozen=True)
class Readiness:
    """What a pod can serve right now, as ``/readyz`` answers it.

    A pod that can serve something stays in its Service even when a dependency it can do
    without for a while is down (``ready``: 200 with ``report``); one that can serve nothing
    leaves it (503 ``not_ready`` with ``message``, and ``report`` as the details).
    """

    ready: bool
    report: dict[str, Any]
    message: str = ""


ReadinessCheck = Callable[[], Awaitable[Readiness]]


def create_http_app(
    *,
    service: str,
    jwt_secret: str,
    lifespan: Callable[[FastAPI], AbstractAsyncContextManager[None]],
    routers: Sequence[APIRouter],
    readiness: ReadinessCheck | None = None,
    version: str = "1.0.0",
    max_body_bytes: int = 1024 * 1024,
    max_in_flight: int = 64,
    cors_origins: Sequence[str] = (),
    open_paths: Sequence[str] = (),
    auth: AuthSettings | None = None,
) -> FastAPI:
    """The FastAPI app of a service, with the shared edge around its routers.

    ``cors_origins``: the web origins whose pages may call it from a browser (see
    :func:`allow_origins`). ``open_paths``: paths served without a token besides the probes and
    the API's description (the staff console's pages). ``auth``: the organisation's identity
    provider whose tokens are accepted besides those signed with ``jwt_secret``."""
    app = ServiceApp(
        title=f"Anju {service}",
        version=version,
        lifespan=lifespan,
        description=f"The {service} service of Anju. Every route needs a bearer JWT.",
        docs_url=None,
        redoc_url=None,
    )
    verifier = token_verifier(jwt_secret, auth)
    app.state.verifier = verifier
    install_error_handlers(app)
    install_docs(app)

    @app.get("/healthz", tags=["operations"], include_in_schema=True)
    async def healthz() -> dict[str, str]:
        """Liveness: the process answers."""
        return {"status": "ok"}

    @app.get(
        "/readyz",
        tags=["operations"],
        responses={
            200: {"description": "What the pod serves now, and which dependencies are down."},
            503: {"model": ErrorBody, "description": "The pod can serve nothing now."},
        },
    )
    async def readyz() -> Response:
        """Readiness: what this pod can serve now, and the state of what it depends on.

        200 while it can serve something, even if a dependency is down (the body says which,
        and what that means for its answers); 503 when it can serve nothing.
        """
        if readiness is None:
            return JSONResponse({"status": "ready"})
        state = await readiness()
        if not state.ready:
            return _json_error(503, "not_ready", state.message, state.report)
        return JSONResponse({"status": "ready", **state.report})

    @app.get("/me", tags=["operations"])
    async def me(caller: CurrentUser) -> Principal:
        """The caller as this service reads the bearer token: the roles it grants (the identity
        provider's mapped to Anju's), the areas and organisations. The staff console asks it
        after signing in, so no page maps a provider's claims itself."""
        return caller

    @app.get("/metrics", tags=["operations"], response_class=PlainTextResponse)
    async def metrics() -> Response:
        """Prometheus metrics."""
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    for router in routers:
        app.include_router(router)
    app.add_middleware(RequestContext, service=service)
    # Outermost: refuses what it can before anything else runs (see eventkit.guard).
    app.add_middleware(
        EdgeGuard,
        verifier=verifier,
        max_body_bytes=max_body_bytes,
        max_in_flight=max_in_flight,
        open_paths=tuple(open_paths),
    )
    allow_origins(app, cors_origins)
    return app


class RequestContext:
    """Names each request (``X-Correlation-Id``, the client's or a new one), binds the name to
    the logs and the request's state, answers with it, and times the request by route.

    A pure ASGI middleware: Starlette's ``@app.middleware("http")`` runs the app in a task of its
    own behind memory streams, which cost the registry an eighth of its CPU per command.
    """

    def __init__(self, app: ASGIApp, *, service: str) -> None:
        self.app = app
        self.service = service

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        correlation_id = next(
            (v.decode("latin-1") for k, v in scope["headers"] if k == b"x-correlation-id" and v),
            None,
        ) or str(uuid.uuid4())
        structlog.contextvars.clear_contextvars()
        structlog.contextvars.bind_contextvars(service=self.service, correlation_id=correlation_id)
        scope.setdefault("state", {})["correlation_id"] = correlation_id
        started = time.perf_counter()
        status: int | None = None

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [
                    *message.get("headers", ()),
                    (b"x-correlation-id", correlation_id.encode("latin-1")),
                ]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            # Observed only once answered here: an exception escaping the app is answered by the
            # server-error handler outside, as it was before.
            if status is not None:
                route = scope.get("route")
                HTTP_LATENCY.labels(
                    self.service, scope["method"], getattr(route, "path", "unmatched"), str(status)
                ).observe(time.perf_counter() - started)


CORS_REQUEST_HEADERS = (
    "Authorization",
    "Content-Type",
    "Idempotency-Key",
    "X-Consistency-Token",
    "X-Correlation-Id",
)
"""What a page may send: its bearer token, a JSON body, and the headers the API reads."""
CORS_RESPONSE_HEADERS = ("X-Consistency", "X-Correlation-Id", "Idempotent-Replayed", "Retry-After")
"""What a page may read of an answer besides the body: whether a read saw its write, etc."""


def allow_origins(app: FastAPI, origins: Sequence[str]) -> None:
    """Let pages from ``origins`` (the staff console) call the API from a browser.

    Outermost, so that a preflight (``OPTIONS`` without a token) is answered before the edge
    guard asks for one. No cookies are involved (the token travels in ``Authorization``), so
    credentials stay off; an origin not listed gets no CORS headers and its page no answer.
    """
    if not origins:
        return
    app.add_middleware(
        CORSMiddleware,
        allow_origins=list(origins),
        allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
        allow_headers=list(CORS_REQUEST_HEADERS),
        expose_headers=list(CORS_RESPONSE_HEADERS),
        allow_credentials=False,
        max_age=600,
    )


# -- the server's own answers: a request too malformed to reach the app ----------------------------
#
# uvicorn answers a request it cannot parse (a raw non-ASCII byte or a space in the request target,
# a broken header) itself, with a plain-text 400; these protocols answer it with the error body.

_MALFORMED = json.dumps(
    error_body(
        "bad_request",
        "the request is not valid HTTP; characters outside ASCII in a URL must be percent-encoded",
    )
).encode()


class JsonErrorHttpToolsProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol, answering unparseable requests with the JSON error body."""

    def send_400_response(self, msg: str) -> None:
        content = [b"HTTP/1.1 400 Bad Request\r\n"]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                b"content-type: application/json\r\n",
                b"content-length: " + str(len(_MALFORMED)).encode("ascii") + b"\r\n",
                b"connection: close\r\n",
                b"\r\n",
                _MALFORMED,
            ]
        )
        self.transport.write(b"".join(content))
        self.transport.close()


class JsonErrorH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, answering unparseable requests with the JSON error body."""

    def send_400_response(self, msg: str) -> None:
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(_MALFORMED)).encode("ascii")),
            (b"connection", b"close"),
        ]
        response = h11.Response(status_code=400, headers=headers, reason=b"Bad Request")
        for event in (response, h11.Data(data=_MALFORMED), h11.EndOfMessage()):
            output = self.conn.send(event)
            if output:
                self.transport.write(output)
        self.transport.close()
