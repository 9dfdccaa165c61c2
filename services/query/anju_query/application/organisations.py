"""Partner organisations: the list a UI picks from, and one organisation with its liaisons."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg

from anju_contracts.registry import OrganisationKind
from anju_query.application.models import Page, ReadModel
from anju_query.application.paging import page_total
from anju_query.application.scope import Params, Scope

OrganisationStatus = Literal["active", "retired"]


class LiaisonItem(ReadModel):
    name: str
    role: str
    phone: str | None
    """Shown to directors (and admins); null for everyone else."""


class OrganisationItem(ReadModel):
    """A partner organisation, with the communities it serves (the first is where it is
    scoped) and the people the community deals with there."""

    id: UUID
    kind: OrganisationKind
    name: str
    community_ids: list[UUID]
    liaisons: list[LiaisonItem]
    status: OrganisationStatus
    retired_reason: str | None
    registered_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class OrganisationFilter:
    community_id: UUID | None = None
    kind: OrganisationKind | None = None
    status: OrganisationStatus | None = "active"


_COLUMNS = """organisation_id, kind, name, community_ids, liaisons, active, retired_reason,
    registered_at, updated_at"""


def _item(row: Any, scope: Scope) -> OrganisationItem:
    phones = scope.liaison_phones
    liaisons = json.loads(row["liaisons"])
    return OrganisationItem(
        id=row["organisation_id"],
        kind=row["kind"],
        name=row["name"],
        community_ids=list(row["community_ids"]),
        liaisons=[
            LiaisonItem(name=x["name"], role=x["role"], phone=x.get("phone") if phones else None)
            for x in liaisons
        ],
        status="active" if row["active"] else "retired",
        retired_reason=row["retired_reason"],
        registered_at=row["registered_at"],
        updated_at=row["updated_at"],
    )


async def list_organisations(
    conn: asyncpg.Connection, scope: Scope, search: OrganisationFilter, *, limit: int, offset: int
) -> Page[OrganisationItem]:
    """The organisations serving a community the caller covers, by name."""
    p = Params()
    where = [scope.where_serving(p, "community_ids")]
    if search.community_id is not None:
        where.append(f"{p(search.community_id)}::uuid = ANY(community_ids)")
    if search.kind is not None:
        where.append(f"kind = {p(search.kind.value)}")
    if search.status is not None:
        where.append("active" if search.status == "active" else "NOT active")
    condition = " AND ".join(where)
    counting = [*p.values]
    rows = await conn.fetch(
        f"""
        SELECT {_COLUMNS} FROM residents.organisations WHERE {condition}
        ORDER BY name, organisation_id LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    total = await page_total(
        conn,
        len(rows),
        limit,
        offset,
        f"SELECT count(*) FROM residents.organisations WHERE {condition}",
        counting,
    )
    return Page[OrganisationItem](
        items=[_item(r, scope) for r in rows], total=total, limit=limit, offset=offset
    )


async def organisation(
    conn: asyncpg.Connection, scope: Scope, organisation_id: UUID
) -> OrganisationItem | None:
    """The organisation, retired or not, if it serves a community the caller covers."""
    p = Params()
    row = await conn.fetchrow(
        f"""
        SELECT {_COLUMNS} FROM residents.organisations
        WHERE organisation_id = {p(organisation_id)} AND {scope.where_serving(p, "community_ids")}
        """,
        *p.values,
    )
    return None if row is None else _item(row, scope)
