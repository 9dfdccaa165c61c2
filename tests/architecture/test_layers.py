"""The architecture as tests: a pure domain, and a permissions document that says what the code
decides."""

from __future__ import annotations

import importlib.util
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest


def _doc() -> Any:
    spec = importlib.util.spec_from_file_location(
        "permissions_doc", Path(__file__).with_name("permissions_doc.py")
    )
    assert spec is not None
    assert spec.loader is not None
    doc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(doc)
    return doc


def _domains() -> list[str]:
    """Every module of every declared service's ``domain`` package."""
    found = []
    for module in _doc().modules():
        package = importlib.util.find_spec(f"{module}.domain")
        if package is None or package.submodule_search_locations is None:
            continue
        for info in pkgutil.iter_modules(package.submodule_search_locations):
            found.append(f"{module}.domain.{info.name}")
    return found


DOMAINS = _domains()
HEAVY = ["fastapi", "starlette", "asyncpg", "aiokafka", "prometheus_client", "structlog"]


@pytest.mark.parametrize("module", DOMAINS)
def test_a_domain_module_loads_no_web_database_or_metrics_library(module: str) -> None:
    probe = (
        f"import sys, {module}\n"
        f"loaded = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(','.join(loaded))"
    )
    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert loaded == "", f"importing {module} loads {loaded}"


def test_every_service_has_a_pure_domain() -> None:
    assert {"anju_registry.domain.residents", "anju_mediation.domain.disputes"} <= set(DOMAINS)


def test_the_permissions_document_is_up_to_date() -> None:
    doc = _doc()
    assert doc.DOC.read_text(encoding="utf-8") == doc.render(), "run `make permissions`"


def test_a_services_declared_roles_are_those_of_its_permission_table() -> None:
    doc = _doc()
    for module, permissions in zip(doc.modules(), doc.tables(), strict=True):
        name = module.removeprefix("anju_")
        manifest = tomllib.loads((doc.ROOT / "services" / name / "service.toml").read_text())
        granted = {str(role) for roles in permissions.table.values() for role in roles}
        assert set(manifest["service"]["roles"]) == granted | {"admin"}, name
