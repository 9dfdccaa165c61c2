"""Writes ``docs/permissions.md`` from every service's permission table (``make permissions``).

The services are those declared by ``services/*/service.toml`` with roles (the staff console
serves none: it holds no records); each declares its table as ``PERMISSIONS`` in
``<module>.application.permissions``.
"""

from __future__ import annotations

import importlib
import tomllib
from pathlib import Path

from eventkit.access import Permissions, render_permissions

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "permissions.md"


def modules() -> list[str]:
    """Every declared service's Python package that serves roles, ordered by port like the manifest."""
    declared = []
    for path in sorted((ROOT / "services").glob("*/service.toml")):
        service = tomllib.loads(path.read_text(encoding="utf-8"))["service"]
        if not service.get("roles"):
            continue
        declared.append((int(service["port"]), str(service["module"])))
    return [module for _, module in sorted(declared)]


def tables() -> list[Permissions]:
    found = []
    for module in modules():
        permissions = importlib.import_module(f"{module}.application.permissions")
        found.append(permissions.PERMISSIONS)
    return found


def render() -> str:
    return render_permissions(tables())


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}")
