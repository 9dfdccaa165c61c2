"""On-time completion (按期办结率) per owner organisation and period.

An item is *due* in the period its deadline falls in — the deadline in force now, as extended
by the convener or set again by a reopening —, in UTC days. Of the items due, those *closed on
time* were closed (销号) and their completion had been reported by the deadline then in force
(the ``on_time`` of their closing: the owner's part, which a slow verification does not spoil);
*closed late* were closed otherwise; *open* are not closed (yet, or again: a reopened item is
open until it is closed once more). The rate is closed on time over due. A withdrawn item (its
escalation withdrawn: nobody's work) is not due at all.

Only the items the caller may see count (a liaison: their organisations' own and co-owned
ones); an item nobody owns yet counts under no organisation.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from anju_query.application.models import ReadModel
from anju_query.application.periods import Period, period_starts
from anju_query.application.scope import Params, Scope
from anju_query.application.work_items import OrganisationRef, visible_items


class OnTimeCounts(ReadModel):
    due: int
    """Items whose deadline falls in the period."""
    closed_on_time: int
    closed_late: int
    open: int
    rate: float | None
    """``closed_on_time / due`` (null when nothing was due), to four decimals."""


class OnTimePeriod(OnTimeCounts):
    start: date
    """The period's first day (a Monday for a week, the 1st for a month)."""


class OrganisationOnTime(OnTimeCounts):
    organisation: OrganisationRef | None
    """The owner organisation (null: items nobody owns yet)."""
    periods: list[OnTimePeriod]


class OnTimeReport(ReadModel):
    """Totals, per period for everyone, and per owner organisation (by name) and period; the
    periods run from the first to the last asked for (or, without bounds, that had items due),
    each listed even when nothing was due."""

    community_id: UUID | None
    from_date: date | None
    to_date: date | None
    period: Period
    total: OnTimeCounts
    periods: list[OnTimePeriod]
    organisations: list[OrganisationOnTime]


@dataclass(frozen=True)
class OnTimeFilter:
    community_id: UUID | None = None
    from_date: date | None = None
    to_date: date | None = None
    period: Period = "month"


def _counts(rows: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    due = on_time = late = 0
    for r in rows:
        due, on_time, late = due + r["due"], on_time + r["on_time"], late + r["late"]
    return {
        "due": due,
        "closed_on_time": on_time,
        "closed_late": late,
        "open": due - on_time - late,
        "rate": round(on_time / due, 4) if due else None,
    }


def _periods(rows: list[Mapping[str, Any]], starts: list[date]) -> list[OnTimePeriod]:
    return [OnTimePeriod(start=s, **_counts(r for r in rows if r["start"] == s)) for s in starts]


async def on_time_rates(
    conn: asyncpg.Connection, scope: Scope, search: OnTimeFilter, *, now: datetime
) -> OnTimeReport:
    p = Params()
    items = visible_items(p, scope, now)
    day = "(x.deadline AT TIME ZONE 'UTC')::date"
    where = ["x.status <> 'withdrawn'"]
    if search.community_id is not None:
        where.append(f"x.community_id = {p(search.community_id)}")
    if search.from_date is not None:
        where.append(f"{day} >= {p(search.from_date)}")
    if search.to_date is not None:
        where.append(f"{day} <= {p(search.to_date)}")
    rows = await conn.fetch(
        f"""
        SELECT x.owner_organisation_id AS organisation_id, x.owner_name AS name,
               date_trunc({p(search.period)}, {day}::timestamp)::date AS start,
               count(*) AS due,
               count(*) FILTER (WHERE x.status = 'closed' AND x.closed_on_time) AS on_time,
               count(*) FILTER (WHERE x.status = 'closed' AND NOT x.closed_on_time) AS late
        FROM ({items}) x WHERE {" AND ".join(where)}
        GROUP BY 1, 2, 3
        """,
        *p.values,
    )
    found = sorted({r["start"] for r in rows})
    first = search.from_date or (found[0] if found else None)
    last = search.to_date or (found[-1] if found else None)
    starts = [] if first is None or last is None else period_starts(first, last, search.period)
    owners: dict[UUID | None, str | None] = {r["organisation_id"]: r["name"] for r in rows}
    ordered = sorted(owners, key=lambda o: (o is None, owners[o] or "", str(o)))
    return OnTimeReport(
        community_id=search.community_id,
        from_date=search.from_date,
        to_date=search.to_date,
        period=search.period,
        total=OnTimeCounts(**_counts(rows)),
        periods=_periods(rows, starts),
        organisations=[
            OrganisationOnTime(
                organisation=None if o is None else OrganisationRef(id=o, name=owners[o]),
                periods=_periods([r for r in rows if r["organisation_id"] == o], starts),
                **_counts(r for r in rows if r["organisation_id"] == o),
            )
            for o in ordered
        ],
    )
