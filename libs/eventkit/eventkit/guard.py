"""The edge's guard: what every request meets before a route sees it.

A pure ASGI middleware, outermost in every service, that answers cheaply and early:

- **401 before the body.** A route that needs a token gets none of the request body read until
  the bearer token verifies, so an anonymous client cannot make the server buffer or parse
  anything (a malformed JSON body without a token is a 401, not a 422).
- **413 before the body.** A ``Content-Length`` over the limit is refused at once; a body sent
  without one is counted as it arrives and refused when it passes the limit.
- **503 when full.** At most ``max_in_flight`` requests are served at once per process; beyond
  that the answer is an immediate 503 ``overloaded`` with ``Retry-After``, so load is shed instead
  of queueing without bound (probes and metrics are never shed).
- **422 for control characters in the query string**, naming the parameter (text bodies are
  checked by the command models, see ``eventkit.commands.Command``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any
from urllib.parse import parse_qsl

from starlette.exceptions import HTTPException

from anju_contracts.base import control_character_in
from eventkit.auth import InvalidToken, KeysUnavailable, TokenVerifier
from eventkit.metrics import SHED

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

OPEN_PATHS = ("/healthz", "/readyz", "/metrics", "/openapi.json", "/docs", "/public")
"""Paths served without a token: probes, scrapers, the API's own description, and a
service's ``/public/...`` routes (checking a certificate by its number), which answer only what
their purpose needs."""
UNSHED_PATHS = ("/healthz", "/readyz", "/metrics")

PRINCIPAL_KEY = "principal"
"""Where the guard leaves the verified caller in the request's state, for ``authenticate``."""


def _is_open(path: str, also: tuple[str, ...] = ()) -> bool:
    return any(path == p or path.startswith(p + "/") for p in (*OPEN_PATHS, *also))


async def _answer(
    send: Send,
    status: int,
    code: str,
    message: str,
    details: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> None:
    body = json.dumps(
        {"error": {"code": code, "message": message, "details": details or {}}},
        ensure_ascii=False,
    ).encode()
    raw = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    raw += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": body})


class EdgeGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        verifier: TokenVerifier,
        max_body_bytes: int,
        max_in_flight: int,
        open_paths: tuple[str, ...] = (),
    ) -> None:
        """``open_paths``: more paths (each itself and what lies under it) served without a
        token, besides :data:`OPEN_PATHS` — the staff console's pages, which sign staff in."""
        self.app = app
        self.open_paths = open_paths
        self.verifier = verifier
        self.max_body_bytes = max_body_bytes
        self.max_in_flight = max_in_flight
        self.in_flight = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        if path in UNSHED_PATHS:
            await self.app(scope, receive, send)
            return
        if self.in_flight >= self.max_in_flight:
            SHED.inc()
            await _answer(
                send,
                503,
                "overloaded",
                "too many requests in flight; try again shortly",
                headers={"Retry-After": "1"},
            )
            return
        self.in_flight += 1
        held = True

        def release() -> None:
            nonlocal held
            if held:
                held = False
                self.in_flight -= 1

        async def sending(message: Message) -> None:
            await send(message)
            if message["type"] == "http.response.body" and not message.get("more_body", False):
                # Answered: the client may send its next request before the app has unwound
                # (the middleware in between takes a few turns of the loop), and that request
                # must not find this one's slot still taken.
                release()

        try:
            await self._guarded(scope, receive, sending, path)
        finally:
            release()

    async def _guarded(self, scope: Scope, receive: Receive, send: Send, path: str) -> None:
        headers = {k.decode("latin-1").lower(): v for k, v in scope.get("headers", [])}
        if not _is_open(path, self.open_paths):
            try:
                problem = await self._authenticate(scope, headers.get("authorization"))
            except KeysUnavailable:
                await _answer(
                    send,
                    503,
                    "unavailable",
                    "the identity provider cannot be reached to check the token; try again",
                    headers={"Retry-After": "5", "Connection": "close"},
                )
                return
            if problem is not None:
                # The body was never read: tell the client not to send more on this connection.
                await _answer(
                    send,
                    401,
                    "unauthorized",
                    problem,
                    headers={"WWW-Authenticate": "Bearer", "Connection": "close"},
                )
                return
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body_bytes):
            await _answer(
                send,
                413,
                "too_large",
                f"the request body is over {self.max_body_bytes} bytes",
                {"limit": self.max_body_bytes},
                headers={"Connection": "close"},
            )
            return
        bad = _bad_query_parameter(scope.get("query_string", b""))
        if bad is not None:
            await _answer(
                send,
                422,
                "validation_failed",
                "the request is not valid",
                {"fields": [{"field": bad, "message": "control characters are not allowed"}]},
            )
            return
        await self._counted(scope, receive, send)

    async def _authenticate(self, scope: Scope, authorization: bytes | None) -> str | None:
        """Why the request's bearer token is refused (said the same way whatever the reason,
        and never logged), or None with its caller left in the scope's state."""
        if authorization is None:
            return "missing bearer token"
        scheme, _, token = authorization.decode("latin-1").partition(" ")
        if scheme.lower() != "bearer" or not token:
            return "missing bearer token"
        try:
            principal = await self.verifier.verify(token.strip())
        except KeysUnavailable:
            raise
        except InvalidToken:
            return "invalid bearer token"
        scope.setdefault("state", {})[PRINCIPAL_KEY] = principal
        return None

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, counting the body as it arrives (one sent without ``Content-Length``).

        Past the limit, reading fails; whatever the app then answers (FastAPI turns a failed body
        read into a 400, behind an exception group from the middleware in between) is replaced by
        the 413, with ``Connection: close`` so the server stops taking in the rest.
        """
        limit = self.max_body_bytes
        seen = 0
        exceeded = started = replaced = False

        async def counted() -> Message:
            nonlocal seen, exceeded
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > limit:
                    exceeded = True
                    raise HTTPException(413, f"the request body is over {limit} bytes")
            return message

        async def answering(message: Message) -> None:
            nonlocal started, replaced
            if exceeded and not started:
                started = replaced = True
                await _answer(
                    send,
                    413,
                    "too_large",
                    f"the request body is over {limit} bytes",
                    {"limit": limit},
                    headers={"Connection": "close"},
                )
            if replaced:
                return  # the app's own answer to the failed read
            started = started or message["type"] == "http.response.start"
            await send(message)

        await self.app(scope, counted, answering)


def _bad_query_parameter(raw: bytes) -> str | None:
    if not raw:
        return None
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, errors="replace")
    for name, value in pairs:
        if control_character_in(name) or control_character_in(value):
            return name
    return None
