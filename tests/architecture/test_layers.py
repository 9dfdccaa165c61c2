"""The architecture as tests: a pure domain, and a permissions document that says what the code
decides."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

DOMAINS = [
    "anju_registry.domain.areas",
    "anju_registry.domain.residents",
    "anju_registry.domain.households",
    "anju_registry.domain.care",
    "anju_registry.domain.errors",
    "anju_mediation.domain.disputes",
    "anju_mediation.domain.signals",
    "anju_mediation.domain.petitions",
    "anju_mediation.domain.errors",
]
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


def test_the_permissions_document_is_up_to_date() -> None:
    spec = importlib.util.spec_from_file_location(
        "permissions_doc", Path(__file__).with_name("permissions_doc.py")
    )
    assert spec is not None
    assert spec.loader is not None
    doc = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(doc)
    assert doc.DOC.read_text(encoding="utf-8") == doc.render(), "run `make permissions`"
