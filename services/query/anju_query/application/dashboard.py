"""The community's report figures for a period, each drillable to the records it counts.

A period is a range of UTC calendar days, both ends included (as every query route). Every
figure is defined once, as the records that make it up (:data:`FIGURES`): the dashboard counts
(or sums) those records, the drill-down lists them — so the two always agree. Each record has
an id, its day, a short label that names no one, its *group* (what the figure is broken down
by), its *amount* (1, or what a sum adds up) and, where the read model keeps it, the id of the
event that made it count. Where the projection keeps a figure's records counted per day and
place (a roll-up, for the figures of thousands of records a year: receptions, follow-up visits,
volunteer hours), the dashboard reads those counts, which are kept equal to the records'.

The figures (the record's day in brackets):

- ``receptions``: visitors the station's desk received (the day it logged them).
- ``lectures``: the station's gatherings of the lecture kinds — theory lectures (理论宣讲) and
  policy explanations (政策解读) — by kind (the day held). Civilisation-practice activities
  (``civilisation_practice_activities``, 文明实践) and opinion-gathering sessions
  (``opinion_gathering_sessions``, 意见征求) are figures of their own, not lectures.
- ``convenience_services``: convenience services the desk *received* in the period, whatever
  became of them since (refused, handed off, still open), by service type (the day received).
- ``disputes_resolved``: disputes whose resolution falls in the period, by the tier at which
  they were resolved — building, grid, community (external too, if any) (the day resolved). A
  dispute reopened since is not resolved and does not count until it is resolved again. The
  tier is the one the dispute stood at on the day resolved: a resolution from a paper ledger,
  dated before the SLA ran out, counts at its tier even if the scheduler had escalated the
  dispute meanwhile.
- ``disputes_registered``: disputes registered in the period, by the tier they were registered
  at (the day registered).
- ``petitions_handled``: petitions by proxy *handled* in the period: the department answered it,
  or — never answered — the agent closed it (the day of the answer, else of the closing). A
  petition counts once, on the first of those days; by ``answered`` / ``closed``. One only
  forwarded, accepted or overdue is not handled.
- ``health_activities``: health activities and clinic days held, by kind (the day held);
  ``health_people_served`` sums the people each served.
- ``special_group_flags``: special-group flags raised in the period (the registry's flags:
  elderly alone, mental disorder, disability, low income), by type (the day the registry
  recorded it: its events carry no other date) — a resident flagged twice
  counts twice. **Sensitive**: suppressed for aggregate-only callers (below).
- ``follow_up_visits_on_time`` / ``follow_up_visits_late``: grid workers' follow-up visits that
  fulfilled a planned visit (one planned before the visit happened), by whether they came by the
  plan's due time (the day visited); a visit with no plan pending counts in neither.
- ``volunteer_hours_approved``: approved volunteer hours served in the period (the day served);
  ``volunteers_active``: volunteers with at least one approved hour served in the period (their
  first such day) — not the 12-month "active volunteer" rule of ``GET /volunteers``.
- ``work_items_closed_on_time`` / ``work_items_closed_late``: governance work items closed in
  the period, by whether they closed by their deadline (the day closed); a withdrawn item (the
  escalation that opened it was withdrawn) counts in neither.
- ``satisfaction_ratings``: every satisfaction score (1–5) given in the period: the station's
  callbacks (the day called), dispute return visits (the mean of the parties asked, the day of
  the visit), delivered volunteering services (the day delivered); by where it came from. A
  later callback or return visit replaces the earlier one.
- ``convenience_services_acted_on``: of ``convenience_services``, those the desk has acted on —
  no longer merely received (accepted, handed off, completed or refused).

The rates (``None`` when the denominator is zero):

- ``response``: ``convenience_services_acted_on / convenience_services``.
- ``resolution``: ``disputes_resolved / disputes_registered`` — in the same period, so a dispute
  registered before it and resolved in it counts above, not below: it may exceed 1.
- ``satisfaction``: the mean of ``satisfaction_ratings`` (on 1–5), every rating weighing the same.

Which records: the one access policy (``Scope``), on each record's own community and grid (a
flag, on where its resident lives; hours, where their volunteer serves; disputes, as on the
dispute board — a sensitive one to directors and its mediators; work items, as on the work list
— a liaison's organisations, sensitive items to directors). A figure is what the caller sees of
it. A sensitive dispute or work item listed by a drill-down is an audited read, as on its board.

Small counts: a caller who sees only aggregates (without ``read_dashboard_details``: everyone
but directors and admins) gets a sensitive figure's count, and each of its groups, as ``None``
with ``suppressed`` when it is above zero and below the threshold (the setting
``dashboard_suppression_threshold``); when only one group is so hidden, the next smallest is
hidden too, so that it cannot be worked out from the total. Such a caller may not list a
sensitive figure's records (403 ``figure_records_hidden``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import Field

from anju_contracts.mediation import Tier
from anju_contracts.registry import FlagType
from anju_contracts.station import GatheringKind
from anju_query.application import labels
from anju_query.application.disputes import Audience
from anju_query.application.models import Page, ReadModel
from anju_query.application.permissions import PERMISSIONS, READ_DASHBOARD_DETAILS
from anju_query.application.scope import Params, Scope
from eventkit.errors import Forbidden, NotFound

LECTURE_KINDS = (GatheringKind.THEORY_LECTURE, GatheringKind.POLICY_EXPLANATION)
"""The gathering kinds that count as lectures."""


@dataclass(frozen=True)
class Period:
    community_id: UUID | None
    first: date
    last: date


Records = Callable[[Scope, Params, Period], str]
"""The SQL of a figure's records: ``id, on_date, label, grp, amount, event_id``."""

Counted = Callable[[Scope, Params, Period], str]
"""The SQL of a figure's records counted per day: ``on_date, grp, n, total`` (the records of
that day and group, and their amounts summed), several rows of one day and group allowed."""

Amount = int | float
"""A count is an integer (3186 receptions, not 3186.0); a sum of hours may be a fraction."""


def _utc_day(column: str) -> str:
    return f"({column} AT TIME ZONE 'UTC')::date"


def _within(p: Params, period: Period, day: str, community: str) -> str:
    condition = f"{day} BETWEEN {p(period.first)} AND {p(period.last)}"
    if period.community_id is not None:
        condition += f" AND {community} = {p(period.community_id)}"
    return condition


def _gatherings(kinds: tuple[GatheringKind, ...]) -> Records:
    def records(scope: Scope, p: Params, period: Period) -> str:
        listed = ", ".join(p(k.value) for k in kinds)
        return f"""
        SELECT g.gathering_id AS id, g.held_on AS on_date, g.kind || ': ' || g.topic AS label,
               g.kind AS grp, 1::numeric AS amount, g.event_id
        FROM station.gatherings g
        WHERE g.kind IN ({listed}) AND {_within(p, period, "g.held_on", "g.community_id")}
          AND {scope.where(p, "g.community_id", "g.grid_id")}
        """

    return records


def _rolled_up(table: str, day: str, *, grp: str = "NULL::text", where: str = "true") -> Counted:
    """A figure's records as a projection's roll-up ``table`` counts them: a row per ``day``
    and place (``where``: which of its rows, ``grp``: what the figure is broken down by)."""

    def counted(scope: Scope, p: Params, period: Period) -> str:
        return f"""
        SELECT d.{day} AS on_date, {grp} AS grp, d.n, d.amount AS total
        FROM {table} d
        WHERE {where} AND {_within(p, period, f"d.{day}", "d.community_id")}
          AND {scope.where(p, "d.community_id", "d.grid_id")}
        """

    return counted


def _receptions(scope: Scope, p: Params, period: Period) -> str:
    return f"""
    SELECT r.reception_id AS id, r.logged_on AS on_date,
           array_to_string(r.purposes, ', ') AS label, NULL::text AS grp, 1::numeric AS amount,
           r.event_id
    FROM station.receptions r
    WHERE {_within(p, period, "r.logged_on", "r.community_id")}
      AND {scope.where(p, "r.community_id", "r.grid_id")}
    """


def _services(acted_on: bool) -> Records:
    def records(scope: Scope, p: Params, period: Period) -> str:
        day = _utc_day("s.received_at")
        extra = " AND s.status <> 'received'" if acted_on else ""
        return f"""
        SELECT s.service_id AS id, {day} AS on_date, s.service_type || ' (' || s.status || ')'
               AS label, s.service_type AS grp, 1::numeric AS amount, s.event_id
        FROM station.services s
        WHERE {_within(p, period, day, "s.community_id")}{extra}
          AND {scope.where(p, "s.community_id", "s.grid_id")}
        """

    return records


_AUDITED_DISPUTE = "CASE WHEN d.sensitivity <> 'standard' THEN 'dispute' END AS audited"
"""A sensitive dispute shown in a drill-down is a read of it, audited as on the dispute board."""


def _disputes_resolved(scope: Scope, p: Params, period: Period) -> str:
    day = _utc_day("d.resolved_at")
    return f"""
    SELECT d.dispute_id AS id, {day} AS on_date, d.category AS label, d.resolved_tier AS grp,
           1::numeric AS amount, d.resolved_event_id AS event_id, {_AUDITED_DISPUTE}
    FROM disputes.disputes d
    WHERE d.resolved_at IS NOT NULL AND {_within(p, period, day, "d.community_id")}
      AND {Audience(scope).where(p)}
    """


def _disputes_registered(scope: Scope, p: Params, period: Period) -> str:
    day = _utc_day("d.registered_at")
    return f"""
    SELECT d.dispute_id AS id, {day} AS on_date, d.category AS label, d.registered_tier AS grp,
           1::numeric AS amount, NULL::uuid AS event_id, {_AUDITED_DISPUTE}
    FROM disputes.disputes d
    WHERE {_within(p, period, day, "d.community_id")} AND {Audience(scope).where(p)}
    """


def _petitions_handled(scope: Scope, p: Params, period: Period) -> str:
    day = _utc_day("coalesce(x.answered_at, x.closed_at)")
    return f"""
    SELECT x.petition_id AS id, {day} AS on_date, x.department AS label,
           CASE WHEN x.answered_at IS NOT NULL THEN 'answered' ELSE 'closed' END AS grp,
           1::numeric AS amount, x.handled_event_id AS event_id
    FROM disputes.petitions x
    WHERE coalesce(x.answered_at, x.closed_at) IS NOT NULL
      AND {_within(p, period, day, "x.community_id")}
      AND {scope.where(p, "x.community_id", "x.grid_id")}
    """


def _health_activities(served: bool) -> Records:
    def records(scope: Scope, p: Params, period: Period) -> str:
        amount = "a.served::numeric" if served else "1::numeric"
        return f"""
        SELECT a.activity_id AS id, a.held_on AS on_date,
               a.kind || ' (' || a.served || ')' AS label, a.kind AS grp, {amount} AS amount,
               a.event_id
        FROM health.activities a
        WHERE {_within(p, period, "a.held_on", "a.community_id")}
          AND {scope.where(p, "a.community_id", "a.grid_id")}
        """

    return records


def _special_group_flags(scope: Scope, p: Params, period: Period) -> str:
    day = _utc_day("f.since")
    return f"""
    SELECT f.resident_id AS id, {day} AS on_date, f.flag || ' (' || f.tier || ')' AS label,
           f.flag AS grp, 1::numeric AS amount, f.event_id
    FROM residents.flags f
    WHERE f.community_id IS NOT NULL AND {_within(p, period, day, "f.community_id")}
      AND {scope.where(p, "f.community_id", "f.grid_id")}
    """


def _follow_up_visits(on_time: bool) -> Records:
    def records(scope: Scope, p: Params, period: Period) -> str:
        day = _utc_day("v.visited_at")
        return f"""
        SELECT v.visit_id AS id, {day} AS on_date,
               'due ' || to_char(v.due_by AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS label,
               NULL::text AS grp, 1::numeric AS amount, v.event_id
        FROM residents.visits v
        WHERE v.on_time IS {"TRUE" if on_time else "FALSE"} AND v.community_id IS NOT NULL
          AND {_within(p, period, day, "v.community_id")}
          AND {scope.where(p, "v.community_id", "v.grid_id")}
        """

    return records


def _hours(scope: Scope, p: Params, period: Period) -> str:
    return f"""
    SELECT h.entry_id AS id, h.served_on AS on_date, h.source || ' ' || h.hours || 'h' AS label,
           h.source AS grp, h.hours::numeric AS amount, h.approved_event_id AS event_id
    FROM volunteering.hours h
    WHERE h.state = 'approved' AND h.community_id IS NOT NULL
      AND {_within(p, period, "h.served_on", "h.community_id")}
      AND {scope.where(p, "h.community_id", "h.grid_id")}
    """


def _volunteers_active(scope: Scope, p: Params, period: Period) -> str:
    return f"""
    SELECT v.volunteer_id AS id, min(h.served_on) AS on_date,
           v.kind || ' ' || sum(h.hours) || 'h' AS label, v.kind AS grp, 1::numeric AS amount,
           NULL::uuid AS event_id
    FROM volunteering.hours h JOIN volunteering.volunteers v ON v.volunteer_id = h.volunteer_id
    WHERE h.state = 'approved' AND {_within(p, period, "h.served_on", "v.community_id")}
      AND {scope.where(p, "v.community_id", "v.grid_id")}
    GROUP BY v.volunteer_id, v.kind
    """


def _work_items(on_time: bool) -> Records:
    def records(scope: Scope, p: Params, period: Period) -> str:
        day = _utc_day("i.closed_at")
        seen = scope.where_tied(
            p,
            "i.community_id",
            "i.grid_id",
            organisations="i.organisation_ids",
            sensitive="i.sensitive",
        )
        return f"""
        SELECT i.item_id AS id, {day} AS on_date, i.title AS label, i.source AS grp,
               1::numeric AS amount, i.closed_event_id AS event_id,
               CASE WHEN i.sensitive THEN 'work_item' END AS audited
        FROM governance.work_items i
        WHERE i.closed_at IS NOT NULL AND i.status <> 'withdrawn'
          AND i.closed_on_time IS {"TRUE" if on_time else "NOT TRUE"}
          AND {_within(p, period, day, "i.community_id")} AND {seen}
        """

    return records


def _satisfaction(scope: Scope, p: Params, period: Period) -> str:
    called = _utc_day("s.called_at")
    visited = _utc_day("d.return_visit_at")
    delivered = _utc_day("q.delivered_at")
    return f"""
    SELECT s.service_id AS id, {called} AS on_date, 'station callback' AS label,
           'station' AS grp, s.satisfaction::numeric AS amount, s.callback_event_id AS event_id,
           NULL::text AS audited
    FROM station.services s
    WHERE s.satisfaction IS NOT NULL AND {_within(p, period, called, "s.community_id")}
      AND {scope.where(p, "s.community_id", "s.grid_id")}
    UNION ALL
    SELECT d.dispute_id, {visited}, 'dispute return visit', 'mediation', d.satisfaction,
           d.return_visit_event_id, {_AUDITED_DISPUTE}
    FROM disputes.disputes d
    WHERE d.satisfaction IS NOT NULL AND d.return_visit_at IS NOT NULL
      AND {_within(p, period, visited, "d.community_id")} AND {Audience(scope).where(p)}
    UNION ALL
    SELECT q.request_id, {delivered}, 'volunteering ' || q.kind, 'volunteering',
           q.satisfaction::numeric, q.delivered_event_id, NULL::text
    FROM volunteering.requests q
    WHERE q.satisfaction IS NOT NULL AND q.delivered_at IS NOT NULL
      AND {_within(p, period, delivered, "q.community_id")}
      AND {scope.where(p, "q.community_id", "q.grid_id")}
    """


@dataclass(frozen=True)
class Figure:
    records: Records
    description: str
    groups: tuple[str, ...] = ()
    """The groups always shown (with zeros); others appear as they occur."""
    sensitive: bool = False
    summed: bool = False
    """Whether the figure sums the records' amounts (else it counts them)."""
    grouped: bool = field(default=True)
    rolled_up: Counted | None = None
    """Where the records are counted per day already (a roll-up the projection keeps, equal to
    counting the records): the dashboard and the months read that instead."""

    def counted(self, scope: Scope, p: Params, period: Period) -> str:
        """The figure's records counted per day: from its roll-up, else from the records."""
        if self.rolled_up is not None:
            return self.rolled_up(scope, p, period)
        return f"""
        SELECT x.on_date, x.grp::text AS grp, 1 AS n, x.amount AS total
        FROM ({self.records(scope, p, period)}) x
        """


FIGURES: dict[str, Figure] = {
    "receptions": Figure(
        _receptions,
        "visitors the station's desk received",
        grouped=False,
        rolled_up=_rolled_up("station.reception_days", "logged_on"),
    ),
    "lectures": Figure(
        _gatherings(LECTURE_KINDS),
        "lectures: theory lectures and policy explanations, by kind",
        tuple(k.value for k in LECTURE_KINDS),
    ),
    "civilisation_practice_activities": Figure(
        _gatherings((GatheringKind.CIVILISATION_PRACTICE,)),
        "civilisation-practice activities",
        grouped=False,
    ),
    "opinion_gathering_sessions": Figure(
        _gatherings((GatheringKind.OPINION_GATHERING,)),
        "opinion-gathering sessions",
        grouped=False,
    ),
    "convenience_services": Figure(
        _services(acted_on=False), "convenience services received, by type"
    ),
    "convenience_services_acted_on": Figure(
        _services(acted_on=True),
        "of the convenience services received, those the desk acted on, by type",
    ),
    "disputes_resolved": Figure(
        _disputes_resolved,
        "disputes resolved, by the tier at which they were resolved",
        (Tier.BUILDING.value, Tier.GRID.value, Tier.COMMUNITY.value),
    ),
    "disputes_registered": Figure(_disputes_registered, "disputes registered, by their first tier"),
    "petitions_handled": Figure(
        _petitions_handled,
        "petitions by proxy answered by the department, or closed unanswered by the agent",
        ("answered", "closed"),
    ),
    "health_activities": Figure(
        _health_activities(served=False), "health activities and clinic days held, by kind"
    ),
    "health_people_served": Figure(
        _health_activities(served=True),
        "people the health activities served, by kind",
        summed=True,
    ),
    "special_group_flags": Figure(
        _special_group_flags,
        "special-group flags raised, by type (sensitive)",
        tuple(t.value for t in FlagType),
        sensitive=True,
    ),
    "follow_up_visits_on_time": Figure(
        _follow_up_visits(on_time=True),
        "follow-up visits to special-group residents made by the planned visit's due time",
        grouped=False,
        rolled_up=_rolled_up("residents.visit_days", "visited_on", where="d.on_time IS TRUE"),
    ),
    "follow_up_visits_late": Figure(
        _follow_up_visits(on_time=False),
        "follow-up visits made after the planned visit's due time",
        grouped=False,
        rolled_up=_rolled_up("residents.visit_days", "visited_on", where="d.on_time IS FALSE"),
    ),
    "volunteers_active": Figure(
        _volunteers_active, "volunteers with approved hours served in the period, by kind"
    ),
    "volunteer_hours_approved": Figure(
        _hours,
        "approved volunteer hours served, by source",
        summed=True,
        rolled_up=_rolled_up("volunteering.hour_days", "served_on", grp="d.source"),
    ),
    "work_items_closed_on_time": Figure(
        _work_items(on_time=True), "work items closed by their deadline, by source"
    ),
    "work_items_closed_late": Figure(
        _work_items(on_time=False), "work items closed after their deadline, by source"
    ),
    "satisfaction_ratings": Figure(
        _satisfaction, "satisfaction ratings (1-5) given, by where they came from"
    ),
}

RATES: dict[str, tuple[str, str, str]] = {
    "response": (
        "convenience_services_acted_on",
        "convenience_services",
        "share of the convenience services received that the desk acted on",
    ),
    "resolution": (
        "disputes_resolved",
        "disputes_registered",
        "disputes resolved per dispute registered in the period (may exceed 1)",
    ),
}


class FigureValue(ReadModel):
    value: Amount | None
    """A count, or a sum (hours, people); ``None`` when suppressed."""
    suppressed: bool
    by: dict[str, Amount | None]
    """The figure broken down (by kind, type, tier...); a suppressed group is ``None``."""
    sensitive: bool
    summed: bool
    """Whether the figure sums its records' amounts (hours, people); else it counts them."""
    description: str
    label: str = ""
    """The figure in Chinese, as the community's report names it."""
    group_labels: dict[str, str] = Field(default_factory=dict)
    """Each group of ``by`` in Chinese, as the report names it (its code when the report has no
    name for it)."""


class RateValue(ReadModel):
    value: float | None
    """``None`` when nothing was there to divide by."""
    numerator: str
    denominator: str
    description: str
    label: str = ""
    """The rate in Chinese, as the community's report names it."""


class Dashboard(ReadModel):
    community_id: UUID | None
    from_date: date
    to_date: date
    suppression_threshold: int
    figures: dict[str, FigureValue]
    rates: dict[str, RateValue]

    def export_rows(self) -> list[dict[str, Any]]:
        """The dashboard as a table (its CSV and XLSX export): a row per figure, each followed
        by a row per group of it, then a row per rate; with the Chinese labels of the report."""
        rows: list[dict[str, Any]] = []

        def row(
            kind: str,
            name: str,
            label: str,
            group: str | None,
            value: float | None,
            suppressed: bool,
            description: str,
        ) -> None:
            rows.append(
                {
                    "kind": kind,
                    "name": name,
                    "label": label,
                    "group": group,
                    "group_label": None if group is None else labels.group_label(group),
                    "value": value,
                    "suppressed": suppressed,
                    "from": self.from_date.isoformat(),
                    "to": self.to_date.isoformat(),
                    "description": description,
                }
            )

        for name, f in self.figures.items():
            label = labels.figure_label(name)
            row("figure", name, label, None, f.value, f.value is None, f.description)
            for group, value in f.by.items():
                row("figure", name, label, group, value, value is None, f.description)
        for name, r in self.rates.items():
            row("rate", name, labels.RATES[name], None, r.value, False, r.description)
        return rows


class FigureRecord(ReadModel):
    id: UUID
    date: date
    label: str
    group: str | None
    amount: Amount
    event_id: UUID | None
    """The event that made the record count, where the read model keeps it."""


class FigureRecords(Page[FigureRecord]):
    figure: str
    label: str = ""
    """The figure in Chinese, as the community's report names it."""
    group_labels: dict[str, str] = Field(default_factory=dict)
    """The groups of the records on the page in Chinese, as the report names them."""
    value: Amount
    """The figure: the records counted, or their amounts summed (all of them, not the page)."""


class UnknownFigure(NotFound):
    code = "unknown_figure"


class FigureRecordsHidden(Forbidden):
    code = "figure_records_hidden"


def sees_details(scope: Scope) -> bool:
    """Whether the caller sees small counts of sensitive groups (and their records)."""
    return PERMISSIONS.allows(scope.principal, READ_DASHBOARD_DETAILS)


def _number(value: object) -> Amount:
    number = float(value)  # type: ignore[arg-type]
    return int(number) if number.is_integer() else round(number, 2)


def suppress_small(
    total: Amount, by: dict[str, Amount], threshold: int
) -> tuple[Amount | None, dict[str, Amount | None]]:
    """The total and the groups of a sensitive figure as an aggregate-only caller sees them:
    a count above zero and below ``threshold`` is ``None``; when only one group is so hidden,
    the next smallest is hidden too (else the total minus the others gives it away), and when
    no other group is there to hide, the total."""

    def small(v: Amount) -> bool:
        return 0 < v < threshold

    hidden = {k for k, v in by.items() if small(v)}
    if len(hidden) == 1:  # one hidden group could be worked out from the total: hide another
        others = sorted((v, k) for k, v in by.items() if v > 0 and k not in hidden)
        if others:
            hidden.add(others[0][1])
    shown_total = None if small(total) or (len(hidden) == 1) else total
    return shown_total, {k: None if k in hidden else v for k, v in by.items()}


async def dashboard(
    conn: asyncpg.Connection, scope: Scope, period: Period, *, threshold: int
) -> Dashboard:
    details = sees_details(scope)
    # every figure in one statement: one round trip and one plan instead of one per figure
    p = Params()
    counted = "\nUNION ALL\n".join(
        f"""
        (SELECT {p(name)}::text AS figure, x.grp::text AS grp, sum(x.n) AS n,
                coalesce(sum(x.total), 0) AS total
         FROM ({figure.counted(scope, p, period)}) x GROUP BY x.grp)
        """
        for name, figure in FIGURES.items()
    )
    of_figure: dict[str, list[asyncpg.Record]] = {name: [] for name in FIGURES}
    for r in await conn.fetch(counted, *p.values):
        of_figure[r["figure"]].append(r)
    figures: dict[str, FigureValue] = {}
    for name, figure in FIGURES.items():
        rows = of_figure[name]
        by: dict[str, Amount] = dict.fromkeys(figure.groups, 0)
        for r in rows:
            if figure.grouped and r["grp"] is not None:
                by[r["grp"]] = _number(r["total"] if figure.summed else r["n"])
        total = _number(sum((r["total"] if figure.summed else r["n"]) for r in rows))
        if figure.sensitive and not details:
            shown, shown_by = suppress_small(total, by, threshold)
        else:
            shown, shown_by = total, dict(by)
        figures[name] = FigureValue(
            value=shown,
            suppressed=shown is None or any(v is None for v in shown_by.values()),
            by=shown_by,
            sensitive=figure.sensitive,
            summed=figure.summed,
            description=figure.description,
            label=labels.figure_label(name),
            group_labels={g: labels.group_label(g) for g in shown_by},
        )
    rates = {
        name: RateValue(
            value=_ratio(figures[num].value, figures[den].value),
            numerator=num,
            denominator=den,
            description=description,
            label=labels.RATES[name],
        )
        for name, (num, den, description) in RATES.items()
    }
    ratings = figures["satisfaction_ratings"]
    # the mean of every rating: their sum over their count, from the figure's own rows
    scores = of_figure["satisfaction_ratings"]
    given = sum(r["n"] for r in scores)
    mean = Decimal(sum(r["total"] for r in scores)) / given if given else None
    rates["satisfaction"] = RateValue(
        value=None if mean is None else round(float(mean), 2),
        numerator="satisfaction_ratings (their scores summed)",
        denominator="satisfaction_ratings",
        description=f"mean satisfaction (1-5) of {ratings.value} ratings: station callbacks, "
        "dispute return visits, delivered volunteering services",
        label=labels.RATES["satisfaction"],
    )
    return Dashboard(
        community_id=period.community_id,
        from_date=period.first,
        to_date=period.last,
        suppression_threshold=threshold,
        figures=figures,
        rates=rates,
    )


def _ratio(numerator: float | None, denominator: float | None) -> float | None:
    if numerator is None or not denominator:
        return None
    return round(numerator / denominator, 4)


async def figure_records(
    conn: asyncpg.Connection,
    scope: Scope,
    name: str,
    period: Period,
    *,
    limit: int,
    offset: int,
) -> tuple[dict[str, list[UUID]], FigureRecords]:
    """The records that make up the figure ``name``, latest first; and the sensitive ones
    among them, by the kind of record their read is audited as (``dispute``, ``work_item``)."""
    figure = FIGURES.get(name)
    if figure is None:
        raise UnknownFigure(f"no figure {name!r}", figure=name, figures=sorted(FIGURES))
    if figure.sensitive and not sees_details(scope):
        raise FigureRecordsHidden(
            "the records of a sensitive figure are shown to directors only", figure=name
        )
    p = Params()
    source = figure.records(scope, p, period)
    totals = await conn.fetchrow(
        f"SELECT count(*) AS n, coalesce(sum(x.amount), 0) AS total FROM ({source}) x",
        *p.values,
    )
    rows = await conn.fetch(
        f"""
        SELECT x.* FROM ({source}) x ORDER BY x.on_date DESC, x.id
        LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    assert totals is not None
    audited: dict[str, list[UUID]] = {}
    for r in rows:
        if r.get("audited") is not None:
            audited.setdefault(r["audited"], []).append(r["id"])
    return audited, FigureRecords(
        figure=name,
        label=labels.figure_label(name),
        group_labels={r["grp"]: labels.group_label(r["grp"]) for r in rows if r["grp"]},
        value=_number(totals["total"] if figure.summed else totals["n"]),
        items=[
            FigureRecord(
                id=r["id"],
                date=r["on_date"],
                label=r["label"],
                group=r["grp"],
                amount=_number(r["amount"]),
                event_id=r["event_id"],
            )
            for r in rows
        ],
        total=totals["n"],
        limit=limit,
        offset=offset,
    )


def months_of(period: Period) -> list[date]:
    """The first day of each calendar month the period touches, in order."""
    months: list[date] = []
    year, month = period.first.year, period.first.month
    while (year, month) <= (period.last.year, period.last.month):  # never past 9999-12
        months.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return months


async def monthly(
    conn: asyncpg.Connection, scope: Scope, name: str, period: Period
) -> dict[date, float]:
    """The figure ``name`` per calendar month of the period (by the first day of the month),
    from the same records as the dashboard's: counted, or summed for a summed figure; a month
    without records is 0. A sensitive figure is not broken down for aggregate-only callers."""
    figure = FIGURES.get(name)
    if figure is None:
        raise UnknownFigure(f"no figure {name!r}", figure=name, figures=sorted(FIGURES))
    if figure.sensitive and not sees_details(scope):
        raise FigureRecordsHidden(
            "a sensitive figure is broken down for directors only", figure=name
        )
    p = Params()
    rows = await conn.fetch(
        f"""
        SELECT date_trunc('month', x.on_date)::date AS month, sum(x.n) AS n,
               coalesce(sum(x.total), 0) AS total
        FROM ({figure.counted(scope, p, period)}) x GROUP BY 1
        """,
        *p.values,
    )
    found = {r["month"]: _number(r["total"] if figure.summed else r["n"]) for r in rows}
    return {month: found.get(month, 0) for month in months_of(period)}
