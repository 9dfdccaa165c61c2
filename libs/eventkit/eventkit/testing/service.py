"""A running service for tests: its app, an HTTP client over ASGI, tokens, the hand-moved clock
and a scheduler that sees it.

Each service's ``testing`` module subclasses :class:`ServiceClient` with its settings, its test
secret and what it seeds (an area tree, residents); its integration tests and the system tests
drive it through the public HTTP API.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar, TypeVar

import httpx
import uvicorn
from fastapi import FastAPI
from pydantic import SecretStr

from eventkit.auth import issue_token
from eventkit.runtime import Runtime
from eventkit.scheduler import Scheduler
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import free_port

S = TypeVar("S", bound=ServiceSettings)

Json = dict[str, Any]


@dataclass
class ServiceClient:
    app: FastAPI
    client: httpx.AsyncClient
    clock: ManualClock

    secret: ClassVar[str]
    """The JWT secret the service under test was started with."""

    @property
    def runtime(self) -> Runtime:
        runtime: Runtime = self.app.state.runtime
        return runtime

    def auth(
        self,
        *roles: str,
        sub: str = "staff-1",
        areas: Iterable[str] = (),
        organisations: Iterable[str] = (),
    ) -> dict[str, str]:
        """Headers with a bearer token for ``roles``, covering ``areas`` (and, for a liaison,
        speaking for ``organisations``)."""
        token = issue_token(self.secret, sub, roles, areas, organisations=organisations)
        return {"Authorization": f"Bearer {token}"}

    @property
    def admin(self) -> dict[str, str]:
        return self.auth("admin")

    @property
    def default_headers(self) -> dict[str, str]:
        """Who calls when a test names nobody: an admin, unless the service says otherwise."""
        return self.admin

    async def post(
        self, url: str, body: Json | None = None, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        return await self.client.post(url, json=body or {}, headers=headers or self.default_headers)

    async def get(self, url: str, headers: dict[str, str] | None = None) -> httpx.Response:
        return await self.client.get(url, headers=headers or self.default_headers)

    def scheduler(self, *, days_ahead: float) -> Scheduler:
        """A scheduler of the service's deadlines that sees the clock ``days_ahead`` days on."""
        when = self.clock.now + timedelta(days=days_ahead)
        runtime = self.runtime
        return Scheduler(runtime.store, runtime.deadlines, clock=lambda: when)

    async def accepted(
        self, url: str, body: Json | None = None, headers: dict[str, str] | None = None
    ) -> Json:
        """POST a command that must be accepted (201); its answer."""
        response = await self.post(url, body, headers)
        assert response.status_code == 201, response.text
        answer: Json = response.json()
        return answer


def not_learnt_yet(response: httpx.Response) -> bool:
    """Whether a command was refused only because the service has not learnt yet the registry's
    records it names: the area (404) or a resident (422 ``unknown_resident``). A service learns
    them from the registry's topic, where an area's stream and a resident's lie on different
    partitions: either may be learnt first."""
    if response.status_code == 404:
        return True
    if response.status_code != 422:
        return False
    error = response.json().get("error", {})
    return isinstance(error, dict) and error.get("code") == "unknown_resident"


async def once_learnt(
    send: Callable[[], Awaitable[httpx.Response]], *, attempts: int = 100, pause_s: float = 0.1
) -> httpx.Response:
    """``send()`` the command, again while the service has not learnt what it names
    (:func:`not_learnt_yet`), at most ``attempts`` times; the last answer."""
    response = await send()
    for _ in range(attempts - 1):
        if not not_learnt_yet(response):
            break
        await asyncio.sleep(pause_s)
        response = await send()
    return response


def settings_for_test(
    settings: type[S],
    database_url: str,
    kafka_bootstrap: str,
    secret: str,
    *,
    topic_prefix: str | None = None,
    consistency_wait_s: float = 5.0,
) -> S:
    """A service's settings for a test: a fresh topic prefix unless one is given (another
    service's, to follow it), a quick relay, and a scheduler the test drives itself."""
    prefix = topic_prefix or f"t{uuid.uuid4().hex[:10]}."
    return settings(
        database_url=database_url,
        jwt_secret=SecretStr(secret),
        kafka=KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=prefix),
        relay_idle_poll_s=0.02,
        scheduler_poll_s=3600,
        consistency_wait_s=consistency_wait_s,
    )


@asynccontextmanager
async def serving(app: FastAPI, name: str) -> AsyncIterator[httpx.AsyncClient]:
    """``app`` with its lifespan running (runtime, relay, policies) and an HTTP client over ASGI."""
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url=f"http://{name}") as client:
            yield client


@asynccontextmanager
async def listening(
    app: FastAPI, port: int | None = None, *, access_log: bool = False, keep_alive_s: int = 5
) -> AsyncIterator[str]:
    """``app`` served by uvicorn on a real port of 127.0.0.1, its lifespan running, for clients
    that cannot go through ASGI in process (a browser); its base URL. ``access_log``: a line per
    request on the ``uvicorn.access`` logger (off in services), for tests that read what a
    server would have logged. ``keep_alive_s``: how long an idle connection is kept open
    (uvicorn's default, 5 s); a client in the server's own event loop may find the connection
    it reuses closed under it when the loop is busy, so a test that loads a lot keeps them
    longer."""
    port = port or free_port()
    if access_log:
        # uvicorn started without one cuts the (process-wide) access logger off; put it back.
        logging.getLogger("uvicorn.access").propagate = True
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            access_log=access_log,
            timeout_keep_alive=keep_alive_s,
        )
    )
    serving = asyncio.create_task(server.serve())
    while not server.started:  # uvicorn offers no event to wait on
        if serving.done():
            serving.result()  # it failed to start: say why
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving
