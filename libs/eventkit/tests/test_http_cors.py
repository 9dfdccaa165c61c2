"""Pages of the staff console call the services from a browser: the origins a service lists get
their preflight answered without a token and may read the consistency header; others get no CORS
headers at all, and a service that lists none answers no preflight."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from fastapi import APIRouter, FastAPI

from eventkit.auth import issue_token
from eventkit.http import CurrentUser, create_http_app

SECRET = "cors-tests-secret-0123456789abcdef"
CONSOLE = "http://127.0.0.1:8090"


def app_allowing(*origins: str) -> FastAPI:
    router = APIRouter()

    @router.get("/things")
    async def things(_: CurrentUser) -> list[str]:
        return ["a"]

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    return create_http_app(
        service="cors", jwt_secret=SECRET, lifespan=lifespan, routers=[router], cors_origins=origins
    )


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://cors")


PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization,content-type,x-consistency-token",
}


async def test_a_listed_origin_is_answered_its_preflight_without_a_token() -> None:
    async with client(app_allowing(CONSOLE)) as http:
        response = await http.options("/things", headers={"Origin": CONSOLE, **PREFLIGHT})
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == CONSOLE
    allowed = response.headers["access-control-allow-headers"].lower()
    assert {"authorization", "content-type", "x-consistency-token"} <= set(allowed.split(", "))
    assert "access-control-allow-credentials" not in response.headers


async def test_a_listed_origin_may_read_the_consistency_header() -> None:
    token = issue_token(SECRET, "staff-1", ["admin"], [])
    async with client(app_allowing(CONSOLE)) as http:
        response = await http.get(
            "/things", headers={"Origin": CONSOLE, "Authorization": f"Bearer {token}"}
        )
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == CONSOLE
    assert "x-consistency" in response.headers["access-control-expose-headers"].lower()


async def test_another_origin_gets_no_cors_headers() -> None:
    async with client(app_allowing(CONSOLE)) as http:
        preflight = await http.options(
            "/things", headers={"Origin": "http://evil.example", **PREFLIGHT}
        )
        read = await http.get("/things", headers={"Origin": "http://evil.example"})
    assert preflight.status_code == 400
    assert "access-control-allow-origin" not in preflight.headers
    assert read.status_code == 401
    assert "access-control-allow-origin" not in read.headers


async def test_without_origins_no_preflight_is_answered() -> None:
    async with client(app_allowing()) as http:
        response = await http.options("/things", headers={"Origin": CONSOLE, **PREFLIGHT})
    assert "access-control-allow-origin" not in response.headers
    assert response.status_code in (401, 405)
