"""Residence certificates issued at the station's desk, and its duty roster.

A certificate belongs to the community (or grid) of the desk that issued it; the caller sees it
when their areas reach that place. It shows its holder by resident id; the holder's *name* (from
the resident directory) only to a caller who may see that resident — whose role reads the
directory and whose areas reach where the resident lives now (:meth:`Scope.where_resident`).

The duty roster: for each community and day, the latest :class:`DutyRosterSet` (by the time it
was set, then by the station's commit order) — whichever arrived here first.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg

from anju_query.application.models import Page, ReadModel, StationCertificate
from anju_query.application.paging import page_total
from anju_query.application.scope import Params, Scope

CertificateStatus = Literal["valid", "revoked"]

# -- certificates -----------------------------------------------------------------------------


class CertificateItem(ReadModel):
    id: UUID
    number: str
    resident_id: UUID
    holder_name: str | None
    """``None`` unless the caller may see the resident (or until the registry's resident is
    known here)."""
    address: str
    community_name: str
    living_since: date
    community_id: UUID
    grid_id: UUID | None
    issued_by: str
    issued_on: date
    status: CertificateStatus
    revoked_reason: str | None
    revoked_by: str | None
    revoked_at: datetime | None


class StationCertificates(Page[CertificateItem]):
    """Certificates, latest issued first."""

    valid: int
    revoked: int


@dataclass(frozen=True)
class CertificateFilter:
    community_id: UUID | None = None
    resident_id: UUID | None = None
    status: CertificateStatus | None = None


async def station_certificates(
    conn: asyncpg.Connection, scope: Scope, search: CertificateFilter, *, limit: int, offset: int
) -> StationCertificates:
    p = Params()
    where = [scope.where(p, "c.community_id", "c.grid_id")]
    if search.community_id is not None:
        where.append(f"c.community_id = {p(search.community_id)}")
    if search.resident_id is not None:
        where.append(f"c.resident_id = {p(search.resident_id)}")
    if search.status is not None:
        where.append(f"c.status = {p(search.status)}")
    condition = " AND ".join(where)
    counts = dict.fromkeys(("valid", "revoked"), 0)
    for r in await conn.fetch(
        f"SELECT c.status, count(*) AS n FROM station.certificates c WHERE {condition}"
        " GROUP BY c.status",
        *p.values,
    ):
        counts[r["status"]] = r["n"]
    holder_seen = scope.where_resident(p, "r")
    rows = await conn.fetch(
        f"""
        SELECT c.*, r.name AS holder_name
        FROM station.certificates c
        LEFT JOIN residents.residents r ON r.resident_id = c.resident_id AND {holder_seen}
        WHERE {condition}
        ORDER BY c.issued_on DESC, c.number DESC, c.certificate_id
        LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    return StationCertificates(
        items=[_certificate(r) for r in rows],
        total=sum(counts.values()),
        limit=limit,
        offset=offset,
        valid=counts["valid"],
        revoked=counts["revoked"],
    )


def _certificate(r: Mapping[str, Any]) -> CertificateItem:
    return CertificateItem(
        id=r["certificate_id"],
        number=r["number"],
        resident_id=r["resident_id"],
        holder_name=r["holder_name"],
        address=r["address"],
        community_name=r["community_name"],
        living_since=r["living_since"],
        community_id=r["community_id"],
        grid_id=r["grid_id"],
        issued_by=r["issued_by"],
        issued_on=r["issued_on"],
        status=r["status"],
        revoked_reason=r["revoked_reason"],
        revoked_by=r["revoked_by"],
        revoked_at=r["revoked_at"],
    )


async def resident_certificates(
    conn: asyncpg.Connection, scope: Scope, resident_id: UUID, *, limit: int
) -> list[StationCertificate]:
    """A resident's certificates, latest issued first, those issued within the caller's areas."""
    p = Params()
    rows = await conn.fetch(
        f"""
        SELECT * FROM station.certificates c
        WHERE c.resident_id = {p(resident_id)} AND {scope.where(p, "c.community_id", "c.grid_id")}
        ORDER BY c.issued_on DESC, c.number DESC, c.certificate_id LIMIT {p(limit)}
        """,
        *p.values,
    )
    return [
        StationCertificate(
            id=r["certificate_id"],
            number=r["number"],
            status=r["status"],
            address=r["address"],
            living_since=r["living_since"],
            issued_on=r["issued_on"],
            revoked_reason=r["revoked_reason"],
            revoked_at=r["revoked_at"],
        )
        for r in rows
    ]


# -- the duty roster --------------------------------------------------------------------------


class RosterDay(ReadModel):
    community_id: UUID
    grid_id: UUID | None
    day: date
    desk: list[str]
    """Staff ids on duty at the desk."""
    pioneer_post: list[str]
    """Party members on duty at the pioneer post (党员先锋岗)."""
    roster_id: UUID
    set_by: str
    set_at: datetime


@dataclass(frozen=True)
class RosterFilter:
    community_id: UUID | None = None
    from_date: date | None = None
    to_date: date | None = None


async def duty_roster(
    conn: asyncpg.Connection, scope: Scope, search: RosterFilter, *, limit: int, offset: int
) -> Page[RosterDay]:
    """The days that have a roster, in order; for each community and day the latest set. The
    caller's areas are checked against that latest one (an earlier set, replaced, is never
    shown)."""
    p = Params()
    where = ["true"]
    if search.community_id is not None:
        where.append(f"r.community_id = {p(search.community_id)}")
    if search.from_date is not None:
        where.append(f"r.day >= {p(search.from_date)}")
    if search.to_date is not None:
        where.append(f"r.day <= {p(search.to_date)}")
    latest = f"""
        SELECT DISTINCT ON (r.community_id, r.day) r.* FROM station.rosters r
        WHERE {" AND ".join(where)}
        ORDER BY r.community_id, r.day, r.set_at DESC, r.position DESC
    """
    seen = scope.where(p, "l.community_id", "l.grid_id")
    counting = [*p.values]
    rows = await conn.fetch(
        f"""
        SELECT l.* FROM ({latest}) l WHERE {seen}
        ORDER BY l.day, l.community_id LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    total = await page_total(
        conn, len(rows), limit, offset, f"SELECT count(*) FROM ({latest}) l WHERE {seen}", counting
    )
    return Page(items=[_day(r) for r in rows], total=total, limit=limit, offset=offset)


def _day(r: Mapping[str, Any]) -> RosterDay:
    return RosterDay(
        community_id=r["community_id"],
        grid_id=r["grid_id"],
        day=r["day"],
        desk=json.loads(r["desk"]),
        pioneer_post=json.loads(r["pioneer_post"]),
        roster_id=r["roster_id"],
        set_by=r["set_by"],
        set_at=r["set_at"],
    )
