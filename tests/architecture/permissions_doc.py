"""Writes ``docs/permissions.md`` from every service's permission table (``make permissions``)."""

from __future__ import annotations

from pathlib import Path

from anju_mediation.application.permissions import PERMISSIONS as MEDIATION
from anju_query.application.permissions import PERMISSIONS as QUERY
from anju_registry.application.permissions import PERMISSIONS as REGISTRY
from eventkit.access import render_permissions

DOC = Path(__file__).resolve().parents[2] / "docs" / "permissions.md"
TABLES = [REGISTRY, MEDIATION, QUERY]


def render() -> str:
    return render_permissions(TABLES)


if __name__ == "__main__":
    DOC.write_text(render(), encoding="utf-8")
    print(f"wrote {DOC}")
