"""The latency breakdown reads percentiles out of the services' histograms correctly."""

from __future__ import annotations

import pytest
from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest

from anju_devtools.bench_stages import bucket_percentile, difference, parse


def page(observations: dict[str, list[float]]) -> str:
    registry = CollectorRegistry()
    histogram = Histogram(
        "anju_relay_delay_seconds",
        "test",
        ["service"],
        buckets=(0.001, 0.002, 0.005, 0.01),
        registry=registry,
    )
    for service, values in observations.items():
        for value in values:
            histogram.labels(service).observe(value)
    return generate_latest(registry).decode()


def test_percentiles_come_from_the_buckets_summed_over_labels() -> None:
    buckets = parse(page({"a": [0.0015] * 50, "b": [0.004] * 49 + [0.02]}))["anju_relay_delay"]
    assert buckets[float("inf")] == 100
    # the 50th of 100 is the last in (0.001, 0.002]: interpolated to that bucket's top
    assert bucket_percentile(buckets, 0.50) == pytest.approx(0.002)
    # the 99th lies in (0.002, 0.005], 49 of 49 of the way
    assert bucket_percentile(buckets, 0.99) == pytest.approx(0.005)
    # beyond the last finite bound: that bound
    assert bucket_percentile(buckets, 1.0) == pytest.approx(0.01)


def test_only_what_was_observed_between_two_pages_counts() -> None:
    before = parse(page({"a": [0.0005] * 10}))["anju_relay_delay"]
    after = parse(page({"a": [0.0005] * 10 + [0.008] * 4}))["anju_relay_delay"]
    moved = difference(after, before)
    assert moved[float("inf")] == 4
    assert 0.005 < (bucket_percentile(moved, 0.5) or 0) <= 0.01
    assert bucket_percentile(difference(before, before), 0.5) is None


def test_the_held_back_counter_is_read_too() -> None:
    registry = CollectorRegistry()
    held = Counter("anju_relay_held_back", "test", ["service"], registry=registry)
    held.labels("a").inc(3)
    held.labels("b").inc(2)
    assert parse(generate_latest(registry).decode())["anju_relay_held_back"] == {float("inf"): 5}
