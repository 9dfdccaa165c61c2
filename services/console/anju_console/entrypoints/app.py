"""The console's app: the static web app, ``/config.json``, ``/labels.json`` and the dev sign-in,
behind the kernel's HTTP edge (probes, metrics, error bodies, load shedding).

Everything here is served without a token — the pages are what signs staff in — and nothing here
reads a record: the page calls the services' APIs itself with the staff member's token, which is
kept in the tab's ``sessionStorage`` and never put in a URL or a log.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Annotated, Any

import httpx
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.responses import FileResponse
from fastapi.staticfiles import StaticFiles
from pydantic import BaseModel, Field

from anju_console import labels
from anju_console.settings import ConsoleSettings
from eventkit.auth import Role, issue_token
from eventkit.errors import DomainError, Forbidden, Kind
from eventkit.http import create_http_app

STATIC = Path(__file__).resolve().parent.parent / "static"
PAGES = ("/", "/static", "/config.json", "/labels.json", "/sign-in")
"""What the edge serves without a token."""
STAFF_ROLES = tuple(r for r in Role if r not in (Role.SERVICE, Role.LIAISON))
"""Roles one may sign in as on the dev page (a liaison also needs organisations)."""


class SignInUnavailable(Forbidden):
    code = "sign_in_unavailable"


class DevSignIn(BaseModel):
    role: Role
    areas: list[str] = Field(default_factory=list, max_length=20)
    name: str = Field(default="", max_length=40, pattern=r"^[\w.-]*$")
    """The staff member's id in the token (``sub``); the role's name when empty."""


class Unreachable(DomainError):
    kind = Kind.UNAVAILABLE
    code = "unavailable"


async def settings_of(request: Request) -> ConsoleSettings:
    settings: ConsoleSettings = request.app.state.settings
    return settings


SettingsDep = Annotated[ConsoleSettings, Depends(settings_of)]


def _dev_only(settings: ConsoleSettings) -> None:
    if settings.sign_in != "dev":
        raise SignInUnavailable(
            "this console signs staff in through the identity provider (OIDC), not here"
        )


router = APIRouter()


@router.get("/config.json", tags=["console"])
async def config(settings: SettingsDep) -> dict[str, Any]:
    """What the page needs to start: the services' URLs and how staff sign in."""
    sign_in: dict[str, Any] = {"mode": settings.sign_in}
    if settings.sign_in == "oidc":
        sign_in |= {
            "issuer": settings.oidc_issuer,
            "client_id": settings.oidc_client_id,
            "scopes": settings.oidc_scopes,
        }
    else:
        sign_in["roles"] = [r.value for r in STAFF_ROLES]
    return {"apis": settings.apis, "sign_in": sign_in}


@router.get("/labels.json", tags=["console"])
async def label_table() -> dict[str, Any]:
    """The contracts' codes in Chinese: roles, enumerations, statuses, events, error codes."""
    return labels.table()


@router.post("/sign-in/dev", tags=["console"])
async def dev_sign_in(body: DevSignIn, settings: SettingsDep) -> dict[str, Any]:
    """Dev stack only: a token for the chosen role and areas, signed with the stack's secret."""
    _dev_only(settings)
    expires = datetime.now(UTC) + timedelta(seconds=settings.token_ttl_s)
    token = issue_token(
        settings.jwt_secret.get_secret_value(),
        body.name or body.role.value,
        [body.role],
        body.areas,
        ttl_s=settings.token_ttl_s,
    )
    return {"token": token, "expires_at": expires.isoformat()}


@router.get("/sign-in/areas", tags=["console"])
async def dev_areas(settings: SettingsDep) -> list[dict[str, Any]]:
    """Dev stack only: the communities and grids one may sign in for, from the query service."""
    _dev_only(settings)
    token = issue_token(settings.jwt_secret.get_secret_value(), "console", [Role.ADMIN], ttl_s=60)
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.get(
                f"{settings.apis['query']}/areas", headers={"Authorization": f"Bearer {token}"}
            )
        response.raise_for_status()
    except httpx.HTTPError as error:
        raise Unreachable("the query service does not answer", error=type(error).__name__) from None
    return [
        {"id": node["id"], "name": node["name"], "kind": node["kind"], "parent_id": parent}
        for node, parent in _walk(response.json(), None)
        if node["kind"] in ("community", "grid")
    ]


def _walk(nodes: list[dict[str, Any]], parent: str | None) -> list[tuple[dict[str, Any], Any]]:
    found: list[tuple[dict[str, Any], Any]] = []
    for node in nodes:
        found.append((node, parent))
        found += _walk(node.get("children") or [], node["id"])
    return found


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", headers={"Cache-Control": "no-cache"})


def create_app(settings: ConsoleSettings) -> FastAPI:
    """The console app; building it connects to nothing."""

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    app = create_http_app(
        service=settings.service,
        jwt_secret=settings.jwt_secret.get_secret_value(),
        lifespan=lifespan,
        routers=[router],
        max_body_bytes=settings.max_body_bytes,
        max_in_flight=settings.max_in_flight,
        open_paths=PAGES,
    )
    app.state.settings = settings
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    return app
