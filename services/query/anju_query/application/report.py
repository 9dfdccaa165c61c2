"""The community's printable report for a period: what it says, gathered from the read models.

Every number in it comes from the dashboard's own functions (``anju_query.application.dashboard``):
the figures and rates from :func:`dashboard`, each chart's months from :func:`monthly`, its
shares from a figure's groups, and the appendix from :func:`figure_records` — so the report
never counts anything the dashboard does not, and says the same as its drill-downs. It is
rendered as PDF (``report_pdf``) and HTML (``report_html``) from this one description.

The sections:

- the figures, each with its Chinese label, its value and its groups, and the rates (response
  and resolution as percentages, satisfaction as a mean score out of 5);
- a chart per pillar: the station (receptions and convenience services per month, services by
  type), mediation (disputes resolved by tier, as shares, and per month), health (activities
  per month, and by kind), volunteering (approved hours per month), governance (work items
  closed on time and late per month);
- the appendix: each figure's records (day, label, group), at most ``appendix_rows`` of them,
  with how many more there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from uuid import UUID

import asyncpg

from anju_query.application import labels
from anju_query.application.dashboard import (
    Dashboard,
    FigureRecord,
    FigureValue,
    Period,
    dashboard,
    figure_records,
    monthly,
    months_of,
    sees_details,
)
from anju_query.application.scope import Params, Scope
from eventkit.errors import Invalid, NotFound

MAX_MONTHS = 60
"""The longest period a report covers (its charts have a bar per month)."""


class ReportPeriodTooLong(Invalid):
    code = "report_period_too_long"


class CommunityNotFound(NotFound):
    code = "community_not_found"


@dataclass(frozen=True)
class Series:
    name: str
    values: list[float]


@dataclass(frozen=True)
class Chart:
    """A chart: ``bars`` (a bar per category and series), ``hbars`` (one series, laid
    across) or ``pie`` (one series, as shares of its total)."""

    kind: Literal["bars", "hbars", "pie"]
    title: str
    categories: list[str]
    series: list[Series]

    @property
    def empty(self) -> bool:
        return not any(v for s in self.series for v in s.values)


@dataclass(frozen=True)
class Pillar:
    title: str
    figures: list[str]
    charts: list[Chart]


@dataclass(frozen=True)
class AppendixPart:
    figure: str
    label: str
    total: int
    records: list[FigureRecord]
    hidden: bool = False
    """The records of a sensitive figure, not shown to a caller who sees only aggregates."""

    @property
    def more(self) -> int:
        return max(0, self.total - len(self.records))


@dataclass(frozen=True)
class CommunityReport:
    community_id: UUID
    community_name: str
    period: Period
    generated_at: datetime
    dashboard: Dashboard
    pillars: list[Pillar]
    appendix: list[AppendixPart]

    @property
    def title(self) -> str:
        return f"{self.community_name}工作数据报告"

    @property
    def period_text(self) -> str:
        return f"{chinese_day(self.period.first)}至{chinese_day(self.period.last)}"


def chinese_day(d: date) -> str:
    return f"{d.year}年{d.month}月{d.day}日"


def number(value: float | None) -> str:
    """A figure's value as the report prints it (``—`` when suppressed)."""
    if value is None:
        return "—"
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


def rate_text(name: str, value: float | None) -> str:
    """A rate as the report prints it: a percentage, or a mean score out of 5."""
    if value is None:
        return "—"
    if name == "satisfaction":
        return f"{value:.2f} / 5"
    return f"{value * 100:.1f}%"


def breakdown(figure: FigureValue) -> str:
    """A figure's groups, by their Chinese names: ``楼栋 1、网格 2``."""
    return "、".join(f"{labels.group_label(g)} {number(v)}" for g, v in figure.by.items())


PILLARS: list[tuple[str, list[str]]] = [
    (
        "服务站",
        [
            "receptions",
            "lectures",
            "civilisation_practice_activities",
            "opinion_gathering_sessions",
            "convenience_services",
            "convenience_services_acted_on",
        ],
    ),
    ("矛盾调解与信访代办", ["disputes_resolved", "disputes_registered", "petitions_handled"]),
    ("健康服务", ["health_activities", "health_people_served"]),
    (
        "特殊群体关爱",
        ["special_group_flags", "follow_up_visits_on_time", "follow_up_visits_late"],
    ),
    ("志愿服务", ["volunteers_active", "volunteer_hours_approved"]),
    ("社区治理", ["work_items_closed_on_time", "work_items_closed_late"]),
    ("群众满意度", ["satisfaction_ratings"]),
]
"""The report's sections, each with the figures it shows."""


def _by_group(title: str, figure: FigureValue, kind: Literal["hbars", "pie"]) -> Chart:
    groups = [(g, v) for g, v in figure.by.items() if v is not None]
    return Chart(
        kind,
        title,
        [labels.group_label(g) for g, _ in groups],
        [Series(title, [v for _, v in groups])],
    )


async def _monthly_chart(
    conn: asyncpg.Connection,
    scope: Scope,
    period: Period,
    title: str,
    names: list[str],
    series: list[str],
) -> Chart:
    months = months_of(period)
    found = [await monthly(conn, scope, name, period) for name in names]
    return Chart(
        "bars",
        title,
        [f"{m.year:04d}-{m.month:02d}" for m in months],
        [Series(s, [f[m] for m in months]) for s, f in zip(series, found, strict=True)],
    )


async def _charts(
    conn: asyncpg.Connection, scope: Scope, period: Period, board: Dashboard
) -> dict[str, list[Chart]]:
    f = board.figures

    async def trend(title: str, names: list[str], series: list[str]) -> Chart:
        return await _monthly_chart(conn, scope, period, title, names, series)

    return {
        "服务站": [
            await trend(
                "每月接待居民与便民服务",
                ["receptions", "convenience_services"],
                ["接待居民", "便民服务"],
            ),
            _by_group("便民服务分类", f["convenience_services"], "hbars"),
        ],
        "矛盾调解与信访代办": [
            _by_group("化解矛盾纠纷的层级占比", f["disputes_resolved"], "pie"),
            await trend("每月化解矛盾纠纷", ["disputes_resolved"], ["化解纠纷"]),
        ],
        "健康服务": [
            await trend("每月健康活动与义诊", ["health_activities"], ["健康活动"]),
            _by_group("健康活动分类", f["health_activities"], "hbars"),
        ],
        "志愿服务": [
            await trend("每月志愿服务时长（小时）", ["volunteer_hours_approved"], ["服务时长"]),
        ],
        "社区治理": [
            await trend(
                "每月办结工作事项",
                ["work_items_closed_on_time", "work_items_closed_late"],
                ["按期办结", "逾期办结"],
            ),
        ],
    }


async def community_name(conn: asyncpg.Connection, scope: Scope, community_id: UUID) -> str:
    """The community's name, if the caller's areas reach it (else it does not exist for them)."""
    p = Params()
    name = await conn.fetchval(
        f"""
        SELECT a.name FROM residents.areas a
        WHERE a.area_id = {p(community_id)} AND a.kind = 'community'
          AND {scope.where(p, "a.community_id", "a.grid_id")}
        """,
        *p.values,
    )
    if name is None:
        raise CommunityNotFound("no such community", community_id=str(community_id))
    return str(name)


async def community_report(
    conn: asyncpg.Connection,
    scope: Scope,
    community_id: UUID,
    first: date,
    last: date,
    *,
    threshold: int,
    appendix_rows: int,
    now: datetime,
) -> tuple[dict[str, list[UUID]], CommunityReport]:
    """The report of ``community_id`` for the days ``first`` to ``last``, as the caller may see
    it; and the sensitive records its appendix lists, by the kind their read is audited as."""
    period = Period(community_id, first, last)
    months = (last.year - first.year) * 12 + last.month - first.month + 1
    if months > MAX_MONTHS:
        raise ReportPeriodTooLong(f"a report covers at most {MAX_MONTHS} months", months=months)
    name = await community_name(conn, scope, community_id)
    board = await dashboard(conn, scope, period, threshold=threshold)
    charts = await _charts(conn, scope, period, board)
    pillars = [Pillar(title, names, charts.get(title, [])) for title, names in PILLARS]
    placed = {name for _, names in PILLARS for name in names}
    others = [name for name in board.figures if name not in placed]
    if others:
        pillars.append(Pillar("其他", others, []))
    audited: dict[str, list[UUID]] = {}
    appendix: list[AppendixPart] = []
    details = sees_details(scope)
    for figure, value in board.figures.items():
        label = labels.figure_label(figure)
        if value.sensitive and not details:
            appendix.append(AppendixPart(figure, label, 0, [], hidden=True))
            continue
        seen, records = await figure_records(
            conn, scope, figure, period, limit=max(appendix_rows, 1), offset=0
        )
        shown = records.items[:appendix_rows]
        for kind, ids in seen.items():
            listed = {r.id for r in shown}
            audited.setdefault(kind, []).extend(i for i in ids if i in listed)
        appendix.append(AppendixPart(figure, label, records.total, shown))
    report = CommunityReport(community_id, name, period, now, board, pillars, appendix)
    return audited, report
