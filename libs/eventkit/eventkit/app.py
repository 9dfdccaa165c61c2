"""Building and serving a service: one function each, shared by every service.

``service_app`` wraps a :class:`~eventkit.runtime.Runtime` and the service's routers in the
shared HTTP edge; the runtime starts in the app's lifespan, so importing a module or building the
app connects to nothing. ``serve`` is what ``python -m anju_<service>`` calls.

Command routes (``service_app(..., commands=[...])``, each a :class:`CommandRouter`) take
consistency tokens of other services' writes (:func:`caught_up`): a command sent right after a
write elsewhere — a resident registered in the registry, then a dispute naming them in
mediation — waits until this service's policy has learnt that write, instead of failing on not
knowing it yet. A command whose transaction loses to a concurrent write on its record is tried
again, afresh (:class:`CommandRoute`).
"""

from __future__ import annotations

import asyncio
import json
import random
import time
from collections.abc import AsyncIterator, Callable, Coroutine, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Annotated, Any, TypeVar

import asyncpg
import structlog
import uvicorn
from fastapi import APIRouter, Depends, FastAPI, Header, Query, Request, Response
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import AwareDatetime, TypeAdapter, ValidationError

from eventkit import audit, collector
from eventkit.access import BACKDATE, Permissions
from eventkit.auth import Principal
from eventkit.business import check_occurred_at
from eventkit.commands import (
    BadConsistencyToken,
    Caller,
    ConsistencyToken,
    StaleVersion,
    caller_dependency,
    utcnow,
)
from eventkit.consistency import NotCaughtUp
from eventkit.errors import Forbidden
from eventkit.guard import PRINCIPAL_KEY
from eventkit.http import CurrentUser, JsonErrorHttpToolsProtocol, create_http_app
from eventkit.idempotency import (
    HEADER,
    REPLAYED_HEADER,
    Replayed,
    check_reuse,
    command_key,
    owner_of,
)
from eventkit.ledger import Ledgers
from eventkit.ledger_http import ledger_router
from eventkit.logging import configure_logging
from eventkit.runtime import Runtime
from eventkit.settings import ServiceSettings
from eventkit.store import ConcurrencyError, EventStore
from eventkit.subject_access import SubjectAccess, subject_access_router

S = TypeVar("S", bound=ServiceSettings)

log = structlog.get_logger("eventkit.app")

COMMAND_ATTEMPTS = 4
"""How often a command is tried in all when its transaction keeps losing to concurrent writes."""
COMMAND_RETRY_S = 0.02
"""The longest wait before the second try; up to twice that before the third, and so on (a random
share of it, so that two commands that collided do not collide again)."""


class CommandRoute(APIRoute):
    """A route that decides a command, tried again from the start — loaded, decided, appended —
    when its transaction lost to a concurrent write on the same record: another command appended
    between its load and its append (:class:`~eventkit.store.ConcurrencyError`), or PostgreSQL
    rolled it back to break a deadlock or a serialization conflict with another transaction (the
    scheduler firing one of the record's deadlines, which then waits on this command's append
    while this command waits to re-arm that deadline). Nothing of a lost try was written; the
    caller gets the answer of the try that won, or the conflict after :data:`COMMAND_ATTEMPTS`.
    A version the caller named that is no longer current (:class:`~eventkit.commands.StaleVersion`)
    is answered at once: they must look again."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def tried_again(request: Request) -> Response:
            for attempt in range(1, COMMAND_ATTEMPTS):
                try:
                    return await handle(request)
                except (ConcurrencyError, asyncpg.TransactionRollbackError) as error:
                    if isinstance(error, StaleVersion):
                        raise
                    log.info(
                        "command_tried_again",
                        path=request.url.path,
                        attempt=attempt,
                        error=repr(error),
                    )
                await asyncio.sleep(random.uniform(0, COMMAND_RETRY_S * 2 ** (attempt - 1)))
            return await handle(request)

        return tried_again


class CommandRouter(APIRouter):
    """The router of a service's commands (``service_app(..., commands=[...])``): each of its
    routes a :class:`CommandRoute`."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(route_class=CommandRoute, **kwargs)


def service_app(
    runtime: Runtime,
    routers: Sequence[APIRouter],
    *,
    commands: Sequence[APIRouter] = (),
    config: object = None,
    permissions: Permissions | None = None,
    ledgers: Ledgers | None = None,
    subject_access: SubjectAccess | None = None,
) -> FastAPI:
    """The service's app: ``routers`` as they are, and ``commands`` — the routes that decide
    commands — each behind :func:`caught_up`. ``config`` is what its handlers need besides the
    store (the clock, rules, adapters); routes take it as ``Annotated[TheConfig, CONFIG]``.

    Every route checks the business time a command's body names (:func:`business_time`);
    ``permissions`` is the service's table, whose ``backdate`` action says who may date a
    command in the past (directors and admins when the service gives none).

    ``ledgers``: the paper ledgers the service takes, uploaded to ``POST /imports/{kind}``
    (:mod:`eventkit.ledger_http`).

    ``subject_access``: what the service declares to answer ``POST /subject-access``
    (:mod:`eventkit.subject_access`); the audit of sensitive reads is migrated with it."""
    settings = runtime.settings
    dated = APIRouter(dependencies=[Depends(business_time), Depends(idempotent)])
    for router in routers:
        dated.include_router(router)
    if commands:
        deciding = APIRouter(dependencies=[Depends(caught_up)])
        for router in commands:
            if not isinstance(router, CommandRouter):
                raise TypeError("a service's commands come in a CommandRouter (eventkit.app)")
            deciding.include_router(router)
        dated.include_router(deciding)
    routers = [dated] if ledgers is None else [dated, ledger_router(ledgers)]
    if subject_access is not None:
        routers.append(subject_access_router(subject_access))
        if audit.DDL not in runtime.ddl:
            runtime.ddl = [*runtime.ddl, audit.DDL]

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime:
            app.state.runtime = runtime
            yield

    app = create_http_app(
        service=settings.service,
        jwt_secret=settings.jwt_secret.get_secret_value(),
        lifespan=lifespan,
        routers=routers,
        readiness=runtime.readiness,
        max_body_bytes=settings.max_body_bytes,
        max_in_flight=settings.max_in_flight,
        cors_origins=settings.cors_origins,
        auth=settings.auth,
    )
    app.state.config = config
    app.state.permissions = permissions or Permissions.of(settings.service, {})
    app.add_exception_handler(Replayed, replayed)
    return app


async def config_of(request: Request) -> object:
    return request.app.state.config


CONFIG = Depends(config_of)
"""The service's handler config: ``Annotated[HealthConfig, CONFIG]``."""

CallerDep = Annotated[Caller, Depends(caller_dependency(Caller))]
"""The caller of a route: who (the token's principal) and the command context."""


async def runtime_of(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(runtime_of)]


async def store_of(runtime: RuntimeDep) -> EventStore:
    return runtime.store


StoreDep = Annotated[EventStore, Depends(store_of)]


_OCCURRED_AT: TypeAdapter[datetime] = TypeAdapter(AwareDatetime)


async def business_time(request: Request, runtime: RuntimeDep) -> None:
    """A dependency of every route: check the ``occurred_at`` a command's body names
    (:mod:`eventkit.business`) before any handler logic, and hand it to the caller's context.

    FastAPI has read the body already (it is cached on the request); a body without
    ``occurred_at`` passes untouched, and a malformed value is left to the command's own
    validation (422 ``validation_failed``). The caller is the one the edge verified before the
    body was read; on a route served without a token nobody may back-date.
    """
    raw = await request.body()
    if b"occurred_at" not in raw and b"\\u" not in raw:
        return  # most bodies: no second parse (a key spelled with escapes is parsed)
    try:
        body = json.loads(raw)
    except (ValueError, RecursionError):  # not JSON: the route's own parsing answers
        return
    if not isinstance(body, dict) or body.get("occurred_at") is None:
        return
    try:
        occurred_at = _OCCURRED_AT.validate_python(body["occurred_at"])
    except ValidationError:
        return
    settings = runtime.settings
    checked = check_occurred_at(
        occurred_at,
        (runtime.clock or utcnow)(),
        clock_skew_s=settings.clock_skew_s,
        backdate_limit_days=settings.backdate_limit_days,
    )
    if checked.backdated:
        principal = getattr(request.state, PRINCIPAL_KEY, None)
        if not isinstance(principal, Principal):
            raise Forbidden("nobody may back-date here", action=BACKDATE)
        permissions: Permissions = request.app.state.permissions
        permissions.check(principal, BACKDATE)
    request.state.business_time = checked


_IDEMPOTENT_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


async def idempotent(
    request: Request,
    runtime: RuntimeDep,
    idempotency_key: Annotated[
        str | None,
        Header(
            alias=HEADER,
            max_length=400,
            description="Send a command again without doing it twice: the answer of the first "
            "command sent with this key comes back (`Idempotent-Replayed: true`)",
        ),
    ] = None,
) -> None:
    """A dependency of every route: a command with an ``Idempotency-Key`` it was answered
    before is answered again from what was kept, before anything else runs
    (:mod:`eventkit.idempotency`); a new key travels in the command's context."""
    if idempotency_key is None or request.method in _IDEMPOTENT_METHODS:
        return
    principal = getattr(request.state, PRINCIPAL_KEY, None)
    if not isinstance(principal, Principal):
        return  # a route served without a token decides nothing worth remembering
    path = request.url.path + ("?" + request.url.query if request.url.query else "")
    key = command_key(
        owner_of(idempotency_key, principal.sub),
        idempotency_key,
        request.method,
        path,
        await request.body(),
    )
    remembered = await runtime.store.recall(key.sub, key.key)
    if remembered is not None:
        raise Replayed(check_reuse(key, remembered))
    request.state.idempotency = key


async def replayed(request: Request, exc: Exception) -> Response:
    """The answer kept for a command sent again, with the status its route answers."""
    assert isinstance(exc, Replayed)
    route = request.scope.get("route")
    status = getattr(route, "status_code", None) or 200
    return JSONResponse(exc.answer, status_code=status, headers={REPLAYED_HEADER: "true"})


MAX_TOKENS = 16
"""Consistency tokens one request may carry: a command names a few records, never hundreds."""


async def caught_up(
    _: CurrentUser,
    runtime: RuntimeDep,
    response: Response,
    consistency_token: Annotated[
        str | None,
        Query(
            max_length=4096,
            description="`<source>:<stream_id>:<version>` of another service's write, "
            "comma-separated for several: decide only once this service has learnt them",
        ),
    ] = None,
    x_consistency_token: Annotated[str | None, Header(max_length=4096)] = None,
) -> None:
    """A dependency of command routes: wait until this service has learnt of the writes the
    caller names by their consistency tokens, then let the command decide.

    Each token's source must be followed here by a policy (or be this service itself, whose own
    writes a command always sees), else 400 ``bad_consistency_token`` before any wait. The
    command waits, up to ``consistency_wait_s`` for all tokens together, until every policy that
    follows the source has applied the stream at the version; it is woken by the policy runner's
    commits. In time, the answer says ``X-Consistency: fresh``; if not, the command is refused
    with 503 ``consistency_timeout`` (:class:`~eventkit.consistency.NotCaughtUp`) and nothing
    is written.
    """
    raw = [
        part.strip()
        for given in (consistency_token, x_consistency_token)
        if given
        for part in given.split(",")
    ]
    if not raw:
        return
    if len(raw) > MAX_TOKENS:
        raise BadConsistencyToken(f"at most {MAX_TOKENS} consistency tokens", given=len(raw))
    own = runtime.catalog.source if runtime.catalog is not None else None
    waits: list[tuple[str, ConsistencyToken]] = []
    for token in map(ConsistencyToken.decode, raw):
        if token.source == own:
            continue
        followers = [
            p.name for p in runtime.policies if any(c.source == token.source for c in p.catalogs)
        ]
        if not followers:
            raise BadConsistencyToken("no policy here follows that source", source=token.source)
        waits.extend((name, token) for name in followers)
    deadline = time.monotonic() + runtime.settings.consistency_wait_s
    for name, token in waits:
        fresh = await runtime.learnt(name, token, timeout_s=max(0.0, deadline - time.monotonic()))
        if not fresh:
            raise NotCaughtUp(
                "this service has not learnt of that write yet; try again shortly",
                token=token.encode(),
                waited_s=runtime.settings.consistency_wait_s,
            )
    response.headers["X-Consistency"] = "fresh"


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
    app = create_app(settings)
    collector.tune()
    uvicorn.run(
        app,
        host=settings.host,
        port=settings.port,
        http=JsonErrorHttpToolsProtocol,
        log_config=None,
        access_log=False,
        timeout_graceful_shutdown=10,
    )
