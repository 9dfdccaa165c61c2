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
RELAY_HELD = Counter(
    "anju_relay_held_back_total",
    "Relay reads that found committed events behind a transaction still running on the server",
    ["service"],
)
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

# Where the time goes between a command's commit and a reader seeing it (``make bench`` prints
# their percentiles): each observed once per batch, for the batch's oldest event, in seconds.
STAGE_BUCKETS = (
    0.0005,
    0.001,
    0.002,
    0.003,
    0.005,
    0.0075,
    0.01,
    0.015,
    0.02,
    0.03,
    0.05,
    0.075,
    0.1,
    0.15,
    0.2,
    0.3,
    0.5,
    1.0,
    2.5,
    5.0,
    10.0,
)
RELAY_WAKE = Histogram(
    "anju_relay_delay_seconds",
    "From an event's recording (its transaction's start) to the relay sending it",
    ["service"],
    buckets=STAGE_BUCKETS,
)
RELAY_PRODUCE = Histogram(
    "anju_relay_produce_seconds",
    "From the relay sending a batch to the broker acknowledging all of it",
    ["service"],
    buckets=STAGE_BUCKETS,
)
CONSUMER_RECEIVE = Histogram(
    "anju_consumer_receive_seconds",
    "From a message's timestamp (the relay sent it) to a consumer receiving it",
    ["consumer"],
    buckets=STAGE_BUCKETS,
)
CONSUMER_APPLY = Histogram(
    "anju_consumer_apply_seconds",
    "From a consumer receiving a batch to its transaction committing",
    ["consumer"],
    buckets=STAGE_BUCKETS,
)
CONSISTENCY_WAIT = Histogram(
    "anju_consistency_wait_seconds",
    "How long a reader waited for a consistency token's write to be applied",
    ["consumer"],
    buckets=STAGE_BUCKETS,
)
CONSISTENCY_WAKE = Histogram(
    "anju_consistency_wake_seconds",
    "From the commit that applied a waited-for write to the waiter seeing it",
    ["consumer"],
    buckets=STAGE_BUCKETS,
)

SHED = Counter(
    "anju_http_shed_total",
    "Requests answered 503 at once because too many were already in flight",
)
