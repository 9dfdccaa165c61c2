"""Prometheus metrics every service exposes on ``/metrics``. Labels name the service."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

COMMANDS = Counter("anju_commands_total", "Commands handled", ["service", "command", "outcome"])
CONFLICTS = Counter(
    "anju_conflicts_total", "Appends refused by optimistic concurrency", ["service"]
)
APPENDS = Counter("anju_events_appended_total", "Events committed to the event store", ["service"])
RELAYED = Counter(
    "anju_events_relayed_total", "Events published to Kafka by the relay", ["service"]
)
RELAY_LAG = Gauge("anju_relay_lag_events", "Committed events not yet published", ["service"])
RESEEDS = Counter(
    "anju_reseeds_total", "Times the relay re-seeded Kafka from the store", ["service"]
)
PROJECTED = Counter(
    "anju_events_projected_total", "Events applied by a projection or policy", ["consumer"]
)
PROJECTION_LAG = Gauge(
    "anju_projection_lag_events", "Messages on the topic not yet applied", ["consumer"]
)
DEAD_LETTERS = Counter(
    "anju_dead_letters_total", "Messages set aside as dead letters", ["consumer", "reason"]
)
DEADLINES_FIRED = Counter("anju_deadlines_fired_total", "Deadlines that fired", ["service", "kind"])
HTTP_LATENCY = Histogram(
    "anju_http_request_seconds",
    "HTTP request latency",
    ["service", "method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0),
)

SHED = Counter(
    "anju_http_shed_total",
    "Requests answered 503 at once because too many were already in flight",
)
