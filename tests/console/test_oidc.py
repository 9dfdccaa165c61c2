"""Signing in to the staff console through the organisation's identity provider, in a real browser.

A minimal OpenID Connect provider (``eventkit.testing.oidc``: discovery, an authorize endpoint
that signs its one user in at once, the token endpoint with PKCE, the JWKS; RS256 keys made for the
test) stands in for the organisation's. The console runs with ``SIGN_IN=oidc``; the registry and
the query service accept the provider's tokens, reading roles and areas from claims named as a
Keycloak realm would name them. Staff press the sign-in button, come back signed in, and their
screen loads its records; the access token never appears in an address the browser asked for nor
in anything the processes logged (the console's access log included).
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import Any

import httpx
import pytest_asyncio
from playwright.async_api import Browser, Request, expect
from pydantic import SecretStr

from anju_console.entrypoints.app import create_app as create_console
from anju_console.settings import ConsoleSettings
from anju_query.entrypoints.app import create_app as create_query
from anju_query.settings import QuerySettings
from anju_registry.entrypoints.app import create_app as create_registry
from anju_registry.settings import RegistrySettings
from eventkit.auth import issue_token
from eventkit.settings import AuthSettings, KafkaSettings
from eventkit.testing.infra import databases, free_port
from eventkit.testing.oidc import Provider
from eventkit.testing.service import listening

from .estate import seed_estate

SECRET = "console-oidc-tests-secret-0123456789"
WAIT_S = 60.0


class Recorded(logging.Handler):
    """Every log record of the process, formatted with its arguments, from every logger."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(f"{record.name} {record.getMessage()} {record.__dict__}")


@dataclass
class Stack:
    console: str
    provider: Provider
    resident_id: str
    logs: Recorded


async def _seed(registry: str, query: str) -> tuple[str, str]:
    """The estate (:mod:`estate`): its grid and its flagged resident."""
    admin = {"Authorization": f"Bearer {issue_token(SECRET, 'admin', ['admin'])}"}
    async with httpx.AsyncClient(headers=admin, timeout=WAIT_S) as http:
        estate = await seed_estate(http, registry, query)
    return estate.areas["grid"], estate.resident_id


@pytest_asyncio.fixture(scope="module")
async def stack(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[Stack]:
    logs = Recorded()
    root = logging.getLogger()
    level = root.level
    root.addHandler(logs)
    root.setLevel(logging.DEBUG)
    logging.getLogger("uvicorn.access").setLevel(logging.DEBUG)
    provider = Provider(client_id="anju-console", audience="anju")
    console_port = free_port()
    origin = f"http://127.0.0.1:{console_port}"
    try:
        async with (
            provider.serving(),
            databases(pg_server_url, "registry", "read") as urls,
            AsyncExitStack() as running,
        ):
            # The provider's realm names its roles its own way; each service maps them.
            auth = AuthSettings(
                oidc_issuer=provider.issuer,
                oidc_audience="anju",
                oidc_roles_claim="realm_access.roles",
                oidc_role_map={"anju-grid-worker": "grid_worker", "anju-director": "director"},
                oidc_areas_claim="anju_areas",
            )
            common: dict[str, Any] = {
                "jwt_secret": SecretStr(SECRET),
                "kafka": KafkaSettings(
                    bootstrap=kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:10]}."
                ),
                "cors_origins": [origin],
                "consistency_wait_s": WAIT_S,
                "relay_idle_poll_s": 0.05,
                "auth": auth,
            }
            registry = await running.enter_async_context(
                listening(create_registry(RegistrySettings(database_url=urls[0], **common)))
            )
            query = await running.enter_async_context(
                listening(create_query(QuerySettings(database_url=urls[1], **common)))
            )
            console = await running.enter_async_context(
                listening(
                    create_console(
                        ConsoleSettings(
                            jwt_secret=SecretStr(SECRET),
                            sign_in="oidc",
                            oidc_issuer=provider.issuer,
                            oidc_client_id="anju-console",
                            apis={"registry": registry, "query": query},
                            port=console_port,
                        )
                    ),
                    port=console_port,
                    access_log=True,
                )
            )
            grid, resident = await _seed(registry, query)
            provider.user = {
                "sub": "f3a9c1d2-wang",
                "name": "王网格员",
                "realm_access": {"roles": ["offline_access", "anju-grid-worker"]},
                "anju_areas": [grid],
            }
            yield Stack(console, provider, resident, logs)
    finally:
        root.removeHandler(logs)
        root.setLevel(level)


async def test_staff_sign_in_at_the_provider_and_their_screen_loads(
    browser: Browser, stack: Stack
) -> None:
    context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = await context.new_page()
    asked: list[str] = []

    def record(request: Request) -> None:
        asked.append(request.url)

    page.on("request", record)
    await page.goto(stack.console + "/")
    await expect(page.get_by_role("heading", name="登录")).to_be_visible()
    await page.get_by_role("button", name="使用单位统一身份认证登录").click()

    # Off to the provider and back: the grid worker's board, with the overdue resident.
    await expect(page.get_by_role("heading", name="走访任务")).to_be_visible(timeout=WAIT_S * 1000)
    card = page.locator(f'[data-resident="{stack.resident_id}"]')
    await expect(card.get_by_text("已逾期")).to_be_visible()
    await expect(page.get_by_text("王网格员")).to_be_visible()

    # The code and the state left the address bar at once; the token never was in it.
    assert page.url == f"{stack.console}/#/grid", page.url
    authorize = [url for url in asked if "/authorize?" in url]
    assert len(authorize) == 1
    for part in (
        "code_challenge_method=S256",
        "code_challenge=",
        "state=",
        "nonce=",
        "response_mode=fragment",
    ):
        assert part in authorize[0], authorize[0]
    token = await page.evaluate("JSON.parse(sessionStorage.getItem('anju.session')).token")
    assert token in stack.provider.issued
    assert await page.evaluate("localStorage.length") == 0
    assert await page.evaluate("sessionStorage.getItem('anju.oidc.pending')") is None
    secrets = stack.provider.issued  # the code, the access token and the ID token
    for url in asked:
        for secret in secrets:
            assert secret not in url or url.startswith(f"{stack.console}/#"), url
    # A fragment never reaches a server: the console's access log holds no code either.
    logged = "\n".join(stack.logs.lines)
    assert '"GET / HTTP/1.1" 200' in logged  # the access log is on
    for secret in secrets:
        assert secret not in logged

    # Sent back with a code and a state another tab asked for (or an attacker made up): refused.
    other = await browser.new_context(locale="zh-CN")
    elsewhere = await other.new_page()
    await elsewhere.goto(f"{stack.console}/#code=stolen&state=forged")
    await expect(elsewhere.get_by_role("alert")).to_contain_text("不一致")
    assert elsewhere.url == f"{stack.console}/", elsewhere.url
    assert await elsewhere.evaluate("sessionStorage.getItem('anju.session')") is None
    await other.close()

    # Signing out ends the provider's session too, and leaves no token in the tab.
    await page.get_by_role("button", name="退出").click()
    await expect(page.get_by_role("button", name="使用单位统一身份认证登录")).to_be_visible()
    assert await page.evaluate("sessionStorage.getItem('anju.session')") is None
    assert any("/logout?" in url and "client_id=anju-console" in url for url in asked)
    await context.close()
