"""Where the end-to-end time goes: the stages of "command → visible in the query API", measured
during a latency run and printed (and written to the JSON) beside its percentiles.

Two sources, each honest about what it is:

- the bench's own clock, per command: the ``POST`` (HTTP, decide, append, answered once
  committed) and the ``GET`` with the consistency token (HTTP, the wait until the read model has
  the write) — exact percentiles;
- the services' histograms (``/metrics``, :mod:`eventkit.metrics`), read before and after the
  run: the relay's delay from an event's recording to sending it (the append's commit and the
  relay waking up), the broker's acknowledgement, the consumer receiving it (measured from the
  message's timestamp, which the relay's producer sets), the projection's transaction, and the
  reader's wait and its wake-up. They are observed once per batch (for its oldest event) and
  read from buckets, so their percentiles are interpolated within a bucket.

The stages overlap where the system works in parallel (the relay publishes while the ``POST``'s
answer travels back), so they do not add up to the total.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from prometheus_client.parser import text_string_to_metric_families

Buckets = dict[float, float]
"""Upper bound (``inf`` for the last) → cumulative count, summed over every label set (a
counter is kept as its ``inf`` bucket alone)."""


@dataclass(frozen=True)
class Stage:
    title: str
    service: str
    """Whose ``/metrics`` has it: ``"writer"`` (the service the command goes to) or ``"query"``."""
    metric: str


STAGES = (
    Stage("relay: recorded → sent (append commit + relay wake-up)", "writer", "anju_relay_delay"),
    Stage("broker: sent → acknowledged (produce)", "writer", "anju_relay_produce"),
    Stage("consumer: sent → received (produce + fetch wait)", "query", "anju_consumer_receive"),
    Stage("projection: received → committed", "query", "anju_consumer_apply"),
    Stage("query: commit → waiter sees it (wake-up)", "query", "anju_consistency_wake"),
    Stage("query: waiting for the token, in all", "query", "anju_consistency_wait"),
)


def parse(text: str) -> dict[str, Buckets]:
    """The histograms of a ``/metrics`` page: name (without ``_seconds``) → buckets."""
    found: dict[str, Buckets] = {}
    for family in text_string_to_metric_families(text):
        if family.type == "counter" and family.name == HELD:  # kept as a single "bucket"
            total = sum(s.value for s in family.samples if s.name.endswith("_total"))
            found[family.name] = {float("inf"): total}
            continue
        if family.type != "histogram":
            continue
        buckets = found.setdefault(family.name.removesuffix("_seconds"), {})
        for sample in family.samples:
            if sample.name.endswith("_bucket"):
                bound = float(sample.labels["le"])
                buckets[bound] = buckets.get(bound, 0.0) + sample.value
    return found


def difference(after: Buckets, before: Buckets) -> Buckets:
    return {bound: count - before.get(bound, 0.0) for bound, count in after.items()}


def bucket_percentile(buckets: Buckets, q: float) -> float | None:
    """The ``q`` percentile of cumulative ``buckets``, interpolated linearly inside its bucket;
    None when nothing was observed. In the open last bucket it is the last finite bound."""
    bounds = sorted(buckets)
    total = buckets[bounds[-1]] if bounds else 0.0
    if total <= 0:
        return None
    rank = q * total
    lower, below = 0.0, 0.0
    for bound in bounds:
        count = buckets[bound]
        if count >= rank:
            if bound == float("inf"):
                return lower
            share = (rank - below) / (count - below) if count > below else 1.0
            return lower + (bound - lower) * share
        lower, below = bound, count
    return lower


def exact_percentile(values: Sequence[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1) of a non-empty list."""
    ranked = sorted(values)
    return ranked[max(0, math.ceil(q * len(ranked)) - 1)]


@dataclass
class Row:
    title: str
    p50_ms: float | None
    p99_ms: float | None
    observed: int
    source: str


@dataclass
class StageProbe:
    """Reads the writer's and the query's histograms around a run (:meth:`start`,
    :meth:`finish`) and keeps the bench's own per-command times (:attr:`client`)."""

    urls: Mapping[str, str]
    """``"writer"`` and ``"query"`` → base URL."""
    client: dict[str, list[float]] = field(default_factory=dict)
    """Title → seconds, per command, measured by the bench."""
    _before: dict[str, dict[str, Buckets]] = field(default_factory=dict)
    rows: list[Row] = field(default_factory=list)

    async def _scrape(self) -> dict[str, dict[str, Buckets]]:
        pages: dict[str, dict[str, Buckets]] = {}
        async with httpx.AsyncClient(timeout=10) as http:
            for name, url in self.urls.items():
                answer = await http.get(f"{url}/metrics")
                answer.raise_for_status()
                pages[name] = parse(answer.text)
        return pages

    async def start(self) -> None:
        self.client.clear()
        self._before = await self._scrape()

    def record(self, title: str, seconds: float) -> None:
        self.client.setdefault(title, []).append(seconds)

    async def finish(self) -> list[Row]:
        after = await self._scrape()
        rows = [
            Row(
                title,
                exact_percentile(values, 0.50) * 1000,
                exact_percentile(values, 0.99) * 1000,
                len(values),
                "bench clock",
            )
            for title, values in self.client.items()
            if values
        ]
        for stage in STAGES:
            now = after.get(stage.service, {}).get(stage.metric, {})
            then = self._before.get(stage.service, {}).get(stage.metric, {})
            buckets = difference(now, then)
            p50, p99 = bucket_percentile(buckets, 0.50), bucket_percentile(buckets, 0.99)
            rows.append(
                Row(
                    stage.title,
                    None if p50 is None else p50 * 1000,
                    None if p99 is None else p99 * 1000,
                    int(max(buckets.values(), default=0)),
                    f"{stage.service} {stage.metric}_seconds (per batch)",
                )
            )
        held = _counter(after.get("writer", {}), HELD) - _counter(
            self._before.get("writer", {}), HELD
        )
        rows.append(
            Row(
                "relay reads held back by a transaction running on the server",
                None,
                None,
                int(held),
                f"writer {HELD}_total",
            )
        )
        self.rows = rows
        return rows


HELD = "anju_relay_held_back"


def _counter(page: dict[str, Buckets], name: str) -> float:
    return page.get(name, {}).get(float("inf"), 0.0)


def lines(rows: Iterable[Row], heading: str) -> list[str]:
    """The breakdown as the bench prints it."""

    def ms(value: float | None) -> str:
        return "—" if value is None else f"{value:,.1f}"

    out = [heading, f"  {'stage':<58} {'p50 ms':>8} {'p99 ms':>8} {'n':>6}  source"]
    out += [
        f"  {r.title:<58} {ms(r.p50_ms):>8} {ms(r.p99_ms):>8} {r.observed:>6}  {r.source}"
        for r in rows
    ]
    return out


def as_json(rows: Iterable[Row]) -> list[dict[str, Any]]:
    return [
        {
            "stage": r.title,
            "p50_ms": None if r.p50_ms is None else round(r.p50_ms, 2),
            "p99_ms": None if r.p99_ms is None else round(r.p99_ms, 2),
            "observed": r.observed,
            "source": r.source,
        }
        for r in rows
    ]
