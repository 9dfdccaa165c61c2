"""The estate both console browser suites start from: a community with one grid, a building, a
flat, and an elderly resident living alone there, flagged ten days ago, so her weekly follow-up
visit is overdue on the grid's board once the query service has learnt her."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from anju_registry.testing import id_number_for


async def accepted(http: httpx.AsyncClient, url: str, body: dict[str, Any], **headers: str) -> Any:
    """POST a command and insist on 201; its answer (an id, a consistency token)."""
    response = await http.post(url, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


@dataclass(frozen=True)
class Estate:
    areas: dict[str, str]
    """The ids of the ``community``, ``grid``, ``building`` and ``unit``."""
    unit_token: str
    """The registry's consistency token of the flat: a service that has it has the whole tree."""
    resident_id: str


FLAGGED_DAYS_AGO = 10
"""The resident was flagged elderly-alone this many days ago: her weekly visit is overdue."""


async def seed_estate(http: httpx.AsyncClient, registry: str, query: str) -> Estate:
    """Register the estate and the flagged resident with the registry (``http`` signed in as an
    admin) and wait until the query service's follow-up board shows her visit overdue."""
    ago = datetime.now(UTC) - timedelta(days=FLAGGED_DAYS_AGO)
    areas: dict[str, str] = {}
    parent = None
    for kind, name in (
        ("community", "安居苑社区"),
        ("grid", "第一网格"),
        ("building", "3号楼"),
        ("unit", "301"),
    ):
        area = await accepted(
            http, f"{registry}/areas", {"kind": kind, "name": name, "parent_id": parent}
        )
        areas[kind] = parent = area["id"]
    born = datetime(1946, 5, 2).date()
    resident = await accepted(
        http,
        f"{registry}/residents",
        {
            "name": "王秀英",
            "sex": "female",
            "date_of_birth": born.isoformat(),
            "id_number": id_number_for(born, 7),
            "unit_id": areas["unit"],
            "occurred_at": (ago - timedelta(days=1)).isoformat(),
        },
    )
    flagged = await accepted(
        http,
        f"{registry}/residents/{resident['id']}/flags",
        {"flag": "elderly_alone", "tier": "red", "occurred_at": ago.isoformat()},
    )
    board = await http.get(
        f"{query}/follow-ups", headers={"X-Consistency-Token": flagged["consistency_token"]}
    )
    assert board.json()["total"] == 1, board.text
    return Estate(areas=areas, unit_token=area["consistency_token"], resident_id=resident["id"])
