"""A running service for tests: its app, an HTTP client over ASGI, tokens and the hand-moved clock.

Each service's ``testing`` module subclasses :class:`ServiceClient` with its settings, its test
secret and what it seeds (an area tree, residents); its integration tests and the system tests
drive it through the public HTTP API.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, ClassVar

import httpx
from fastapi import FastAPI

from eventkit.auth import issue_token
from eventkit.runtime import Runtime
from eventkit.testing.clocks import ManualClock

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

    def auth(self, *roles: str, sub: str = "staff-1", areas: Iterable[str] = ()) -> dict[str, str]:
        """Headers with a bearer token for ``roles``, covering ``areas``."""
        return {"Authorization": f"Bearer {issue_token(self.secret, sub, roles, areas)}"}

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

    async def accepted(
        self, url: str, body: Json | None = None, headers: dict[str, str] | None = None
    ) -> Json:
        """POST a command that must be accepted (201); its answer."""
        response = await self.post(url, body, headers)
        assert response.status_code == 201, response.text
        answer: Json = response.json()
        return answer
