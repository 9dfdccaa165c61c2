"""``anju new-service``: the skeleton it writes is a registered, lint-clean, passing service."""

from __future__ import annotations

import os
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest

from anju_devtools.new_service import GeneratorError, generate, register

ROOT = Path(__file__).resolve().parents[3]
SKIP = shutil.ignore_patterns(
    ".venv", ".git", ".data", ".mypy_cache", ".ruff_cache", ".pytest_cache", "__pycache__"
)


def scratch_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "repo"
    shutil.copytree(ROOT, copy, ignore=SKIP)
    return copy


def run(repo: Path, *command: str) -> str:
    env = {**os.environ, "UV_PROJECT_ENVIRONMENT": str(repo / ".venv")}
    result = subprocess.run(
        [str(repo / ".venv" / "bin" / command[0]), *command[1:]],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    out = result.stdout + result.stderr
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{out}"
    return out


@pytest.mark.slow
def test_generated_service_passes_ruff_mypy_and_its_tests(tmp_path: Path) -> None:
    repo = scratch_copy(tmp_path)
    written = generate(repo, "demo_x", venv=repo / ".venv")

    service = repo / "services" / "demo_x"
    assert service / "service.toml" in written
    assert (repo / "contracts" / "anju_contracts" / "demo_x.py") in written
    assert (repo / "contracts" / "schemas" / "demo_x.CaseOpened.v1.json").exists()
    workspace = tomllib.loads((repo / "pyproject.toml").read_text())
    assert "services/demo_x" in workspace["tool"]["uv"]["workspace"]["members"]
    assert "anju-demo-x" in workspace["tool"]["uv"]["sources"]
    assert "anju-demo-x" in workspace["project"]["dependencies"]
    lock = tomllib.loads((repo / "uv.lock").read_text())
    assert "anju-demo-x" in {p["name"] for p in lock["package"]}
    compose = (repo / "docker-compose.yml").read_text()
    assert "ANJU_DEMO_X_PORT: 8108" in compose  # the port after the highest (integration's 8107)
    assert (repo / "deploy" / "k8s" / "base" / "demo_x.yaml").exists()

    run(repo, "ruff", "check", ".")
    run(repo, "ruff", "format", "--check", ".")
    run(repo, "mypy", "-p", "anju_demo_x", "-p", "anju_contracts")
    run(repo, "mypy", "services/demo_x/tests")
    run(repo, "anju", "manifest", "check")
    run(repo, "anju", "contracts", "--check")
    out = run(
        repo,
        "pytest",
        "-q",
        "-p",
        "no:cacheprovider",
        "services/demo_x",
        "contracts/tests",
        "tests/deploy/test_manifest.py",
        "tests/deploy/test_dependencies.py",
        "tests/architecture",
    )
    assert "## demo_x" in (repo / "docs" / "permissions.md").read_text(encoding="utf-8")
    assert " passed" in out
    assert "failed" not in out


def test_names_that_cannot_be_services_are_refused(tmp_path: Path) -> None:
    for bad in ("Demo", "demo-x", "1demo", "demo__x"):
        with pytest.raises(GeneratorError, match="lower_snake_case"):
            generate(tmp_path, bad)
    (tmp_path / "services" / "registry").mkdir(parents=True)
    with pytest.raises(GeneratorError, match="exists already"):
        generate(tmp_path, "registry")


def test_register_adds_the_service_everywhere_once(tmp_path: Path) -> None:
    (tmp_path / "contracts" / "anju_contracts").mkdir(parents=True)
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    catalogs = tmp_path / "contracts" / "anju_contracts" / "catalogs.py"
    shutil.copy(ROOT / "contracts" / "anju_contracts" / "catalogs.py", catalogs)
    register(tmp_path, "audit_trail")
    data = tomllib.loads((tmp_path / "pyproject.toml").read_text())
    assert data["tool"]["uv"]["workspace"]["members"][-1] == "services/audit_trail"
    assert data["tool"]["uv"]["sources"]["anju-audit-trail"] == {"workspace": True}
    assert data["project"]["dependencies"].count("anju-audit-trail") == 1
    assert "anju_audit_trail" in data["tool"]["ruff"]["lint"]["isort"]["known-first-party"]
    assert "services/audit_trail" in data["tool"]["mypy"]["mypy_path"]
    text = catalogs.read_text()
    assert text.rstrip().endswith("    audit_trail.CATALOG,\n)")
    assert text.count("audit_trail.CATALOG") == 1
    # sorted first; the import wraps onto one name a line once it outgrows a line
    assert (
        text.replace("(\n    ", "")
        .replace(",\n    ", ", ")
        .count("from anju_contracts import audit_trail, ")
        == 1
    )
