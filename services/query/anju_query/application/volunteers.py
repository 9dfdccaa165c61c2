"""Volunteers and their hours: approved hours per volunteer, team and host organisation, the
volunteer list with the *active volunteer* rule, and a host organisation's quarterly summary.

Only **approved** hours count: an entry is recorded (pending) and counts once a coordinator
approves it; a rejected or still pending entry counts nowhere. An entry's day is ``served_on``.

Hours are seen where their volunteer serves now (the volunteer's path): a caller sees the hours,
and the services, of the volunteers their areas reach. A *team's* hours are the approved hours
its members served while they were members (from the day they joined to the day they left,
the leader from the team's formation), whatever the request or activity.

An *active volunteer* (Sahana's rule) averaged at least ``N`` approved hours a month over the
last 12 months — at least ``12 N`` hours served in the year up to today — and has not left;
``N`` is the setting ``active_volunteer_monthly_hours``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import MINYEAR, date, timedelta
from decimal import Decimal
from typing import Literal
from uuid import UUID

import asyncpg

from anju_contracts.volunteering import VolunteerKind
from anju_query.application.models import Page, ReadModel
from anju_query.application.scope import Params, Scope

VolunteerStatus = Literal["active", "paused", "left"]
MONTHS = 12


def hours_of(value: Decimal | None) -> float:
    return 0.0 if value is None else float(round(value, 2))


def year_before(day: date) -> date:
    """The same day a year earlier (28 February for a 29th; the first day there is, at most)."""
    if day.year == MINYEAR:
        return date.min
    try:
        return day.replace(year=day.year - 1)
    except ValueError:
        return day.replace(year=day.year - 1, day=28)


# -- hours ----------------------------------------------------------------------------------


class VolunteerHours(ReadModel):
    volunteer_id: UUID
    name: str | None
    """``None`` until the volunteer is known here (admins only see such hours)."""
    kind: VolunteerKind | None
    hours: float
    entries: int


class TeamHours(ReadModel):
    team_id: UUID
    name: str
    hours: float
    members: int
    """Members with approved hours in the period."""


class OrganisationHours(ReadModel):
    organisation_id: UUID
    hours: float
    volunteers: int


class HoursReport(Page[VolunteerHours]):
    """Per volunteer (the page, most hours first), per team and per host organisation (whole)."""

    period_from: date | None
    period_to: date | None
    hours: float
    entries: int
    teams: list[TeamHours]
    organisations: list[OrganisationHours]


@dataclass(frozen=True)
class HoursFilter:
    area_id: UUID | None = None
    volunteer_id: UUID | None = None
    team_id: UUID | None = None
    organisation_id: UUID | None = None
    served_from: date | None = None
    served_to: date | None = None


_MEMBER_THEN = """
    (m.joined_at AT TIME ZONE 'UTC')::date <= {h}.served_on
    AND (m.left_at IS NULL OR {h}.served_on <= (m.left_at AT TIME ZONE 'UTC')::date)
"""


async def volunteer_hours(
    conn: asyncpg.Connection, scope: Scope, search: HoursFilter, *, limit: int, offset: int
) -> HoursReport:
    p = Params()
    where = ["h.state = 'approved'", scope.where(p, "v.community_id", "v.grid_id")]
    if search.area_id is not None:
        where.append(f"{p(search.area_id)} IN (v.community_id, v.grid_id, v.building_id)")
    if search.volunteer_id is not None:
        where.append(f"h.volunteer_id = {p(search.volunteer_id)}")
    if search.organisation_id is not None:
        where.append(f"h.organisation_id = {p(search.organisation_id)}")
    if search.served_from is not None:
        where.append(f"h.served_on >= {p(search.served_from)}")
    if search.served_to is not None:
        where.append(f"h.served_on <= {p(search.served_to)}")
    team = None if search.team_id is None else p(search.team_id)
    if team is not None:
        where.append(
            f"""EXISTS (SELECT 1 FROM volunteering.team_members m
                WHERE m.team_id = {team} AND m.volunteer_id = h.volunteer_id
                  AND {_MEMBER_THEN.format(h="h")})"""
        )
    entries = f"""
        WITH entries AS (
            SELECT h.entry_id, h.volunteer_id, h.hours, h.served_on, h.organisation_id
            FROM volunteering.hours h
            LEFT JOIN volunteering.volunteers v ON v.volunteer_id = h.volunteer_id
            WHERE {" AND ".join(where)}
        )
    """
    totals = await conn.fetchrow(
        f"""{entries}
        SELECT count(DISTINCT volunteer_id) AS volunteers, sum(hours) AS hours, count(*) AS n
        FROM entries
        """,
        *p.values,
    )
    t = Params()
    t.values.extend(p.values)
    team_scope = scope.where(t, "t.community_id", "t.grid_id")
    team_rows = await conn.fetch(
        f"""{entries}
        SELECT t.team_id, t.name, sum(e.hours) AS hours, count(DISTINCT e.volunteer_id) AS members
        FROM volunteering.teams t
        JOIN entries e ON EXISTS (
            SELECT 1 FROM volunteering.team_members m
            WHERE m.team_id = t.team_id AND m.volunteer_id = e.volunteer_id
              AND {_MEMBER_THEN.format(h="e")})
        WHERE {team_scope} {"" if team is None else f"AND t.team_id = {team}"}
        GROUP BY t.team_id, t.name ORDER BY sum(e.hours) DESC, t.team_id
        """,
        *t.values,
    )
    organisation_rows = await conn.fetch(
        f"""{entries}
        SELECT organisation_id, sum(hours) AS hours, count(DISTINCT volunteer_id) AS volunteers
        FROM entries WHERE organisation_id IS NOT NULL
        GROUP BY organisation_id ORDER BY sum(hours) DESC, organisation_id
        """,
        *p.values,
    )
    rows = await conn.fetch(
        f"""{entries}
        SELECT e.volunteer_id, v.name, v.kind, sum(e.hours) AS hours, count(*) AS n
        FROM entries e LEFT JOIN volunteering.volunteers v ON v.volunteer_id = e.volunteer_id
        GROUP BY e.volunteer_id, v.name, v.kind
        ORDER BY sum(e.hours) DESC, e.volunteer_id LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    return HoursReport(
        items=[
            VolunteerHours(
                volunteer_id=r["volunteer_id"],
                name=r["name"],
                kind=r["kind"],
                hours=hours_of(r["hours"]),
                entries=r["n"],
            )
            for r in rows
        ],
        total=totals["volunteers"],
        limit=limit,
        offset=offset,
        period_from=search.served_from,
        period_to=search.served_to,
        hours=hours_of(totals["hours"]),
        entries=totals["n"],
        teams=[
            TeamHours(
                team_id=r["team_id"],
                name=r["name"],
                hours=hours_of(r["hours"]),
                members=r["members"],
            )
            for r in team_rows
        ],
        organisations=[
            OrganisationHours(
                organisation_id=r["organisation_id"],
                hours=hours_of(r["hours"]),
                volunteers=r["volunteers"],
            )
            for r in organisation_rows
        ],
    )


# -- the volunteers -------------------------------------------------------------------------


class VolunteerItem(ReadModel):
    id: UUID
    name: str
    kind: VolunteerKind
    status: VolunteerStatus
    resident_id: UUID | None
    organisation_id: UUID | None
    community_id: UUID
    grid_id: UUID | None
    grid_name: str | None
    joined_on: date
    left_on: date | None
    hours_last_12_months: float
    """Approved hours served in the year up to today."""
    active_volunteer: bool


class VolunteerList(Page[VolunteerItem]):
    monthly_hours: float
    """The rule's ``N``: an active volunteer averaged at least this many hours a month."""
    window_from: date
    """The first day of the 12 months counted (the window ends today)."""
    active_volunteers: int
    """How many of the volunteers the filter matches are active volunteers."""


@dataclass(frozen=True)
class VolunteerFilter:
    area_id: UUID | None = None
    kind: VolunteerKind | None = None
    active: bool | None = None
    """Only active volunteers (``True``) or only the others (``False``)."""


async def list_volunteers(
    conn: asyncpg.Connection,
    scope: Scope,
    search: VolunteerFilter,
    *,
    monthly_hours: float,
    limit: int,
    offset: int,
    today: date,
) -> VolunteerList:
    p = Params()
    window_from = year_before(today) + timedelta(days=1)
    where = [scope.where(p, "v.community_id", "v.grid_id")]
    if search.area_id is not None:
        where.append(f"{p(search.area_id)} IN (v.community_id, v.grid_id, v.building_id)")
    if search.kind is not None:
        where.append(f"v.kind = {p(search.kind.value)}")
    threshold = Decimal(str(monthly_hours)) * MONTHS
    judged = f"""
        WITH counted AS (
            SELECT v.*, coalesce((
                SELECT sum(h.hours) FROM volunteering.hours h
                WHERE h.volunteer_id = v.volunteer_id AND h.state = 'approved'
                  AND h.served_on BETWEEN {p(window_from)} AND {p(today)}
            ), 0) AS hours_12
            FROM volunteering.volunteers v WHERE {" AND ".join(where)}
        ), judged AS (
            SELECT c.*, (c.status <> 'left' AND c.hours_12 >= {p(threshold)}) AS active_volunteer
            FROM counted c
        )
    """
    chosen = "true" if search.active is None else f"active_volunteer = {p(search.active)}"
    counts = await conn.fetchrow(
        f"""{judged}
        SELECT count(*) AS n, count(*) FILTER (WHERE active_volunteer) AS active
        FROM judged WHERE {chosen}
        """,
        *p.values,
    )
    rows = await conn.fetch(
        f"""{judged}
        SELECT j.*, ag.name AS grid_name FROM judged j
        LEFT JOIN residents.areas ag ON ag.area_id = j.grid_id
        WHERE {chosen}
        ORDER BY j.hours_12 DESC, j.name, j.volunteer_id LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    return VolunteerList(
        items=[
            VolunteerItem(
                id=r["volunteer_id"],
                name=r["name"],
                kind=r["kind"],
                status=r["status"],
                resident_id=r["resident_id"],
                organisation_id=r["organisation_id"],
                community_id=r["community_id"],
                grid_id=r["grid_id"],
                grid_name=r["grid_name"],
                joined_on=r["joined_on"],
                left_on=r["left_on"],
                hours_last_12_months=hours_of(r["hours_12"]),
                active_volunteer=r["active_volunteer"],
            )
            for r in rows
        ],
        total=counts["n"],
        limit=limit,
        offset=offset,
        monthly_hours=monthly_hours,
        window_from=window_from,
        active_volunteers=counts["active"],
    )


# -- a host organisation's quarterly summary ------------------------------------------------


class HostUnitMember(ReadModel):
    volunteer_id: UUID
    name: str
    kind: VolunteerKind
    status: VolunteerStatus
    community_id: UUID
    grid_id: UUID | None
    hours: float
    """Approved hours served in the quarter."""
    requests_finished: int
    shifts_attended: int
    services: int
    """``requests_finished + shifts_attended``."""


class HostUnitSummary(ReadModel):
    """The quarter of a host organisation's in-service party members (the volunteers it
    employs), as far as the caller's areas reach: a member serving elsewhere is not shown."""

    organisation_id: UUID
    year: int
    quarter: int
    period_from: date
    period_to: date
    members: list[HostUnitMember]
    hours: float
    services: int


def quarter_of(year: int, quarter: int) -> tuple[date, date]:
    first = date(year, 3 * quarter - 2, 1)
    after = date(year + 1, 1, 1) if quarter == 4 else date(year, 3 * quarter + 1, 1)
    return first, after - timedelta(days=1)


async def host_unit_summary(
    conn: asyncpg.Connection, scope: Scope, organisation_id: UUID, *, year: int, quarter: int
) -> HostUnitSummary:
    """Members: the volunteers of the organisation serving at some time in the quarter (joined
    by its end, not left before it began). Services: requests they finished and shifts they
    attended in the quarter."""
    first, last = quarter_of(year, quarter)
    p = Params()
    lo, hi = p(first), p(last)
    rows = await conn.fetch(
        f"""
        SELECT v.volunteer_id, v.name, v.kind, v.status, v.community_id, v.grid_id,
            (SELECT sum(h.hours) FROM volunteering.hours h
             WHERE h.volunteer_id = v.volunteer_id AND h.state = 'approved'
               AND h.served_on BETWEEN {lo} AND {hi}) AS hours,
            (SELECT count(*) FROM volunteering.request_volunteers rv
             WHERE rv.volunteer_id = v.volunteer_id
               AND (rv.finished_at AT TIME ZONE 'UTC')::date BETWEEN {lo} AND {hi}) AS requests,
            (SELECT count(*) FROM volunteering.sign_ups su
             JOIN volunteering.shifts sh ON sh.shift_id = su.shift_id
             WHERE su.volunteer_id = v.volunteer_id AND su.attended
               AND (sh.starts_at AT TIME ZONE 'UTC')::date BETWEEN {lo} AND {hi}) AS shifts
        FROM volunteering.volunteers v
        WHERE v.organisation_id = {p(organisation_id)}
          AND {scope.where(p, "v.community_id", "v.grid_id")}
          AND v.joined_on <= {hi} AND (v.left_on IS NULL OR v.left_on >= {lo})
        ORDER BY v.name, v.volunteer_id
        """,
        *p.values,
    )
    members = [
        HostUnitMember(
            volunteer_id=r["volunteer_id"],
            name=r["name"],
            kind=r["kind"],
            status=r["status"],
            community_id=r["community_id"],
            grid_id=r["grid_id"],
            hours=hours_of(r["hours"]),
            requests_finished=r["requests"],
            shifts_attended=r["shifts"],
            services=r["requests"] + r["shifts"],
        )
        for r in rows
    ]
    return HostUnitSummary(
        organisation_id=organisation_id,
        year=year,
        quarter=quarter,
        period_from=first,
        period_to=last,
        members=members,
        hours=round(sum(m.hours for m in members), 2),
        services=sum(m.services for m in members),
    )
