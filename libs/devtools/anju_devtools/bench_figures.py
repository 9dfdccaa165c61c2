"""Every figure ``make bench`` reports, declared once: what it is, its unit, how it is computed,
its target (issue 17's table) and which way is better.

Two kinds of figure:

- a **ratio**: what Anju achieves divided by a raw baseline measured in the same run on the same
  database and broker (plain ``INSERT`` + ``COMMIT``, plain aiokafka); the machines are shared
  and noisy, so the ratio is what compares across runs. Higher is better.
- a **latency** percentile (p50, p99) of a steady-rate run, in milliseconds, beside the same
  percentile of the service's ``GET /healthz`` at the same moment. Lower is better; the target
  is absolute.
- a **duration** (seconds), a **rate** (a throughput) or a **size** (MiB) measured on the city
  (:mod:`anju_devtools.bench_city`), absolute like a latency, beside a baseline where there is
  one (plain aiokafka reading the same topics for the rebuild; none, 0, for the relay's rate
  and the disk).

A part of the bench (``--only PART``) measures one or more figures and hands back a
:class:`Measured` for each; :mod:`anju_devtools.bench_results` turns them into the table, the
JSON, the comparison of two runs and the README's block. A new figure is one more
:class:`Figure` in :data:`FIGURES` (its ``part`` becomes an ``--only`` choice) and a
:class:`Measured` with its key from the part that measures it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Kind(StrEnum):
    RATIO = "ratio"
    LATENCY = "latency"
    DURATION = "duration"
    """How long something took, in seconds (the city's rebuild). Lower is better."""
    RATE = "rate"
    """A throughput in its unit, absolute (the city's relay and projections). Higher is better."""
    SIZE = "size"
    """Disk, in MiB (the city's events per million). Lower is better."""


class Better(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"


TOLERANCE = {
    Kind.RATIO: 0.15,
    Kind.LATENCY: 0.30,
    Kind.DURATION: 0.30,
    Kind.RATE: 0.30,
    Kind.SIZE: 0.10,
}
"""How far (relative to the older run) a figure may move the wrong way before ``compare`` calls
it worse. Ratios of two runs on the 2-core development machine have differed by up to about a
fifth with nothing changed (8-writer appends: 67 %, 82 %, 70 %, 67 % on 2026-11-29/30); latency
percentiles under load move more. A figure may declare its own (the 1-writer ratios are noisier
still)."""


@dataclass(frozen=True)
class Figure:
    """One reported figure. ``key`` is stable across runs (the JSON and ``compare`` use it)."""

    key: str
    part: str
    title: str
    kind: Kind
    unit: str
    baseline: str
    target: float | None = None
    """A ratio (0.8 for ≥ 80 %) or a latency in ms (the figure must stay at or under it)."""
    percentile: float | None = None
    tolerance: float | None = None

    @property
    def better(self) -> Better:
        return Better.HIGHER if self.kind in (Kind.RATIO, Kind.RATE) else Better.LOWER

    @property
    def allowed(self) -> float:
        """The relative change the wrong way that ``compare`` lets pass."""
        return self.tolerance if self.tolerance is not None else TOLERANCE[self.kind]

    def value(self, measured: Measured) -> float:
        """The figure itself: the ratio to the baseline, or Anju's number (a latency in ms, a
        duration, a rate, a size)."""
        if self.kind is not Kind.RATIO:
            return measured.ours
        return measured.ours / measured.baseline if measured.baseline else 0.0

    def met(self, value: float) -> bool | None:
        """Whether ``value`` meets the target; None when the figure has no target."""
        if self.target is None:
            return None
        return value >= self.target if self.better is Better.HIGHER else value <= self.target

    def show(self, value: float) -> str:
        if self.kind is Kind.RATIO:
            return f"{value:.1%}"
        if self.kind is Kind.LATENCY:
            return f"{value:,.1f} ms"
        return f"{value:,.0f} {self.unit}" if value >= 100 else f"{value:,.1f} {self.unit}"

    def show_target(self) -> str:
        if self.target is None:
            return "—"
        if self.kind is Kind.RATIO:
            return f"≥ {self.target:.0%}"
        unit = "ms" if self.kind is Kind.LATENCY else self.unit
        sign = "≥" if self.better is Better.HIGHER else "≤"
        return f"{sign} {self.target:,.0f} {unit}"


@dataclass(frozen=True)
class Measured:
    """One run's measurement of a figure: Anju's raw number and the baseline's, in the figure's
    unit (events/s, cmds/s or ms); what it ran at (writers, events, rate, seconds; for a steady
    run how many were sent and how many failed); and anything worth a remark."""

    key: str
    ours: float
    baseline: float
    conditions: dict[str, Any] = field(default_factory=dict)
    notes: tuple[str, ...] = ()

    @property
    def failed_share(self) -> float:
        sent = self.conditions.get("sent") or 0
        return float(self.conditions.get("failed") or 0) / sent if sent else 0.0


INSERT = "plain asyncpg INSERT + COMMIT"


def _writers(
    part: str, title: str, unit: str, one: str, eight: str, target: float | None = None
) -> tuple[Figure, Figure]:
    """The 1- and 8-writer figures of an in-process command part, against plain INSERTs."""
    return (
        Figure(f"{part}_1", part, f"{title}, {one}", Kind.RATIO, unit, INSERT, tolerance=0.25),
        Figure(f"{part}_8", part, f"{title}, {eight}", Kind.RATIO, unit, INSERT, target),
    )


def _latency(
    key: str, part: str, title: str, baseline: str, p50: float | None, p99: float | None
) -> tuple[Figure, Figure]:
    return (
        Figure(f"{key}_p50", part, f"{title} p50", Kind.LATENCY, "ms", baseline, p50, 0.50),
        Figure(f"{key}_p99", part, f"{title} p99", Kind.LATENCY, "ms", baseline, p99, 0.99),
    )


FIGURES: tuple[Figure, ...] = (
    *_writers("appends", "single-event command appends", "events/s", "1 writer", "8 writers", 0.80),
    *_writers(
        "health",
        "health check-ups through `record_encounter` (record + chart streams, one transaction)",
        "cmds/s",
        "1 doctor",
        "8 doctors",
    ),
    *_writers(
        "volunteering",
        "volunteering check-outs through `check_out` (request stream + the two volunteers'"
        " ledgers, one transaction)",
        "cmds/s",
        "1 writer",
        "8 writers",
    ),
    *_writers(
        "governance",
        "governance progress reports through `report_progress` (a liaison's token checked"
        " against the item's organisations)",
        "cmds/s",
        "1 writer",
        "8 writers",
    ),
    Figure(
        "relay",
        "relay",
        "relay: the store published to Kafka",
        Kind.RATIO,
        "events/s",
        "aiokafka producing the same bytes in batches",
        0.60,
    ),
    Figure(
        "projection",
        "projection",
        "projection catch-up from a cold start",
        Kind.RATIO,
        "events/s",
        "aiokafka consuming the same messages",
        0.40,
    ),
    *_latency(
        "e2e",
        "e2e",
        "end to end: HTTP command → visible in the query API",
        "registry `GET /healthz`",
        30.0,
        100.0,
    ),
    *_latency(
        "mediation",
        "mediation",
        "mediation: `POST /disputes` → on the dispute board",
        "mediation `GET /healthz`",
        None,
        60.0,
    ),
    *_latency(
        "station",
        "station",
        "station: `POST /receptions` (a visit logged, answered once committed)",
        "station `GET /healthz`",
        None,
        50.0,
    ),
)

CITY_LOOKUP_P99 = 20.0
"""Issue 17: resident lookups and list reads with a million residents, p99 ≤ 20 ms."""

CITY_QUERIES = (
    ("city_name", "city: directory by part of a name (a director, their community)"),
    ("city_id_suffix", "city: directory by the ID number's last 4 characters"),
    ("city_flag", "city: follow-up board filtered by special-group flag (a director)"),
    ("city_profile", "city: resident profile (disputes, health, services, station)"),
    ("city_follow_ups", "city: follow-up board (a grid worker, their grid)"),
    ("city_disputes", "city: dispute board (a director)"),
    ("city_dashboard", "city: dashboard of a community for a month, quarter or year"),
)

CITY = "city"
FIGURES += (
    Figure(
        "city_rebuild",
        CITY,
        "city: full rebuild of every query read model, scaled to 10M events",
        Kind.DURATION,
        "s",
        "aiokafka reading the same topics once, scaled alike",
        600.0,
    ),
    Figure(
        "city_rebuild_again",
        CITY,
        "city: the same rebuild again, the longest first (by the first one's times), scaled",
        Kind.DURATION,
        "s",
        "aiokafka reading the same topics once, scaled alike",
    ),
    Figure(
        "city_projection",
        CITY,
        "city: rebuild throughput, events applied per second (all projections)",
        Kind.RATE,
        "events/s",
        "aiokafka reading the same topics",
    ),
    Figure("city_relay", CITY, "city: relay publishing every store", Kind.RATE, "events/s", "—"),
    Figure(
        "city_disk",
        CITY,
        "city: event store on disk per million events (tables and indexes)",
        Kind.SIZE,
        "MiB",
        "—",
    ),
    *(
        figure
        for key, title in CITY_QUERIES
        for figure in _latency(key, CITY, title, "query `GET /healthz`", None, CITY_LOOKUP_P99)
    ),
)

BY_KEY = {figure.key: figure for figure in FIGURES}
