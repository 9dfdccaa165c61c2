"""The console's own answers, without a browser: the label table is complete for every code the
contracts and the APIs use, the pages need no token, and only the dev stack signs tokens."""

from __future__ import annotations

import enum
import importlib
import inspect
import pkgutil
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from pydantic import SecretStr, ValidationError

from anju_console import labels
from anju_console.entrypoints.app import create_app
from anju_console.settings import DEV_APIS, ConsoleSettings
from anju_contracts.catalogs import CATALOGS
from anju_devtools.manifest import load
from eventkit.auth import Role, verify_token
from eventkit.errors import DomainError
from eventkit.http import _STATUS_CODES

ROOT = Path(__file__).resolve().parents[4]
SECRET = "console-tests-secret-0123456789abcdef"
EDGE_CODES = {"internal_error", "not_ready", "overloaded", "validation_failed", "unavailable"}
"""Codes the kernel's edge answers with itself (no DomainError class names them)."""


def settings(**given: object) -> ConsoleSettings:
    return ConsoleSettings(jwt_secret=SecretStr(SECRET), **given)  # type: ignore[arg-type]


def client(app: FastAPI) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://console")


def contract_enums() -> dict[str, type[enum.Enum]]:
    found = {}
    for catalog in CATALOGS:
        module = importlib.import_module(f"anju_contracts.{catalog.source}")
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and issubclass(value, enum.Enum)
                and value.__module__ == module.__name__
            ):
                found[f"{catalog.source}.{name}"] = value
    return found


def _from_a_test(cls: type) -> bool:
    """An error class a test module declares for its own demo service: no API answers it."""
    return any(part == "tests" or part.startswith("test_") for part in cls.__module__.split("."))


def error_codes() -> set[str]:
    """Every error code a service's API can answer: the DomainErrors of every service, the
    kernel's own, and the edge's."""
    for service in load(ROOT):
        package = importlib.import_module(service.module)
        for info in pkgutil.walk_packages(package.__path__, f"{service.module}."):
            if ".tests" not in info.name and not info.name.endswith("__main__"):
                importlib.import_module(info.name)
    codes = set(EDGE_CODES) | set(_STATUS_CODES.values())
    pending: list[type[DomainError]] = [DomainError]
    while pending:
        cls = pending.pop()
        pending.extend(cls.__subclasses__())
        code = vars(cls).get("code")
        if isinstance(code, str) and not _from_a_test(cls):
            codes.add(code)
    return codes


def test_every_contract_enumeration_has_a_chinese_label_for_every_value() -> None:
    enums = contract_enums()
    assert set(labels.ENUMS) == set(enums)
    for name, members in enums.items():
        assert set(labels.ENUMS[name]) == {m.value for m in members}, name


def test_every_event_type_and_role_has_a_label() -> None:
    types = {f"{c.source}.{m.__name__}" for c in CATALOGS for m in c.models}
    assert set(labels.EVENTS) == types
    assert set(labels.ROLES) == {r.value for r in Role}


def test_every_error_code_the_apis_answer_has_a_sentence() -> None:
    missing = error_codes() - set(labels.ERRORS)
    assert not missing, f"no Chinese sentence for {sorted(missing)}"


def test_a_record_out_of_reach_reads_like_a_missing_one() -> None:
    not_found = {code: text for code, text in labels.ERRORS.items() if code.endswith("not_found")}
    assert set(not_found.values()) == {labels.NOT_FOUND}


def test_every_audited_route_named_is_a_route_of_the_query_api() -> None:
    """The audit screen words the routes a sensitive read came by; a renamed route must not
    leave a stale label behind (routes without a label show as they are)."""
    from anju_query.entrypoints.app import create_app as create_query
    from anju_query.settings import QuerySettings

    query = create_query(QuerySettings(database_url="postgresql://unused", jwt_secret=SECRET))  # type: ignore[arg-type]
    routes = {
        f"{method.upper()} {path}"
        for path, methods in query.openapi()["paths"].items()
        for method in methods
    }
    assert set(labels.ROUTES) <= routes, set(labels.ROUTES) - routes


def test_the_dev_apis_are_the_manifests_ports() -> None:
    ports = {s.name: s.port for s in load(ROOT)}
    assert {name: int(url.rsplit(":", 1)[1]) for name, url in DEV_APIS.items()} == {
        name: port for name, port in ports.items() if name != "console"
    }


async def test_pages_labels_and_config_need_no_token() -> None:
    async with client(create_app(settings(sign_in="dev"))) as http:
        page = await http.get("/")
        script = await http.get("/static/app.js")
        table = await http.get("/labels.json")
        config = await http.get("/config.json")
    assert page.status_code == 200
    assert '<html lang="zh-CN"' in page.text
    assert script.status_code == 200
    assert table.json()["errors"]["conflict"] == labels.ERRORS["conflict"]
    assert config.json()["apis"] == DEV_APIS
    assert config.json()["sign_in"]["mode"] == "dev"


async def test_the_dev_sign_in_signs_a_token_for_the_role_and_areas() -> None:
    async with client(create_app(settings(sign_in="dev"))) as http:
        answer = await http.post(
            "/sign-in/dev", json={"role": "grid_worker", "areas": ["g-1"], "name": "wang"}
        )
    assert answer.status_code == 200
    principal = verify_token(answer.json()["token"], SECRET)
    assert (principal.sub, principal.roles, principal.areas) == (
        "wang",
        (Role.GRID_WORKER,),
        ("g-1",),
    )


async def test_in_production_the_console_signs_nothing() -> None:
    app = create_app(
        settings(oidc_issuer="https://sso.example.org/realms/anju", oidc_client_id="c")
    )
    async with client(app) as http:
        answer = await http.post("/sign-in/dev", json={"role": "admin"})
        config = await http.get("/config.json")
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "sign_in_unavailable"
    assert config.json()["sign_in"] == {
        "mode": "oidc",
        "issuer": "https://sso.example.org/realms/anju",
        "client_id": "c",
        "scopes": "openid profile",
    }


def test_the_dev_sign_in_is_refused_on_an_address_others_reach() -> None:
    with pytest.raises(ValidationError, match="loopback"):
        settings(sign_in="dev", host="0.0.0.0")
