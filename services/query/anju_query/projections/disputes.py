"""The ``disputes`` read model: the dispute board, timelines, signals and petitions.

Every row belongs to one mediation stream (a signal, a dispute or a petition), so the order in
which Kafka delivers different streams does not matter. Each event type has a few statements
with positional parameters; :func:`~anju_query.projections.batching.plan` cuts a batch into
groups of one type with at most one event per stream, and each statement runs once per group
with ``executemany``. Every dispute event also becomes a row of the dispute's timeline, so the
street office's whole view of a dispute can be shown without going back to the topic.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

import asyncpg

from anju_contracts import Envelope, Event, EventCatalog
from anju_contracts.mediation import (
    CATALOG,
    AgreementFollowedUp,
    AgreementReached,
    ConflictSignalConverted,
    ConflictSignalDismissed,
    ConflictSignalReported,
    DisputeClosed,
    DisputeEscalated,
    DisputeRegistered,
    DisputeReopened,
    DisputeResolved,
    DisputeSlaAtRisk,
    DisputeSlaBreached,
    MediationFailed,
    MediatorAssigned,
    MediatorUnassigned,
    PetitionAccepted,
    PetitionAnswered,
    PetitionClosed,
    PetitionDeadlineMissed,
    PetitionForwarded,
    PetitionProxied,
    ReturnVisitRecorded,
)
from anju_query.projections.batching import plan
from eventkit.messages import Delivered

DDL = """
CREATE TABLE disputes (
    dispute_id      uuid PRIMARY KEY,
    signal_id       uuid,
    channel         text NOT NULL,
    category        text NOT NULL,
    description     text NOT NULL,
    area_id         uuid NOT NULL,
    area_kind       text NOT NULL,
    community_id    uuid NOT NULL,
    grid_id         uuid,
    building_id     uuid,
    sensitivity     text NOT NULL,
    tier            text NOT NULL,
    status          text NOT NULL,
    registered_at   timestamptz NOT NULL,
    tier_entered_at timestamptz NOT NULL,
    sla_due_by      timestamptz,
    at_risk         boolean NOT NULL DEFAULT false,
    breached        boolean NOT NULL DEFAULT false,
    escalations     integer NOT NULL DEFAULT 0,
    failed          boolean NOT NULL DEFAULT false,
    agreement       boolean NOT NULL DEFAULT false,
    carried_out     boolean,
    satisfaction    numeric,
    resolved_at     timestamptz,
    resolved_tier   text,
    closed_at       timestamptz,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX disputes_board ON disputes (status, tier, sla_due_by);
CREATE INDEX disputes_grid ON disputes (grid_id);
CREATE INDEX disputes_community ON disputes (community_id);

CREATE TABLE dispute_parties (
    dispute_id  uuid NOT NULL,
    party_id    uuid NOT NULL,
    resident_id uuid,
    name        text,
    role        text NOT NULL,
    PRIMARY KEY (dispute_id, party_id)
);
CREATE INDEX dispute_parties_resident ON dispute_parties (resident_id);

CREATE TABLE dispute_mediators (
    dispute_id  uuid NOT NULL,
    mediator_id text NOT NULL,
    role        text NOT NULL,
    name        text,
    active      boolean NOT NULL,
    PRIMARY KEY (dispute_id, mediator_id)
);
CREATE INDEX dispute_mediators_mediator ON dispute_mediators (mediator_id) WHERE active;

CREATE TABLE dispute_timeline (
    dispute_id  uuid NOT NULL,
    sequence    integer NOT NULL,
    type        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    actor_id    text NOT NULL,
    data        jsonb NOT NULL,
    PRIMARY KEY (dispute_id, sequence)
);

CREATE TABLE signals (
    signal_id    uuid PRIMARY KEY,
    category     text NOT NULL,
    community_id uuid NOT NULL,
    grid_id      uuid,
    building_id  uuid,
    status       text NOT NULL,
    reported_at  timestamptz NOT NULL,
    dispute_id   uuid,
    description  text NOT NULL,
    reported_by  text NOT NULL
);

CREATE TABLE petitions (
    petition_id      uuid PRIMARY KEY,
    resident_id      uuid NOT NULL,
    agent_id         text NOT NULL,
    community_id     uuid NOT NULL,
    grid_id          uuid,
    building_id      uuid,
    subject          text NOT NULL,
    department       text NOT NULL,
    status           text NOT NULL,
    registered_at    timestamptz NOT NULL,
    due_by           timestamptz,
    accepted_on_time boolean,
    answered_at      timestamptz,
    answered_on_time boolean,
    missed           boolean NOT NULL DEFAULT false,
    closed_at        timestamptz,
    outcome          text
);
CREATE INDEX petitions_resident ON petitions (resident_id);
"""

Row = tuple[Any, ...]
E = TypeVar("E", bound=Event)


@dataclass(frozen=True)
class Writer:
    sql: str
    row: Callable[[Envelope, Any], Row]


WRITERS: dict[str, list[Writer]] = {}


def _writes(model: type[E], sql: str) -> Callable[[Callable[[Envelope, E], Row]], None]:
    def register(row: Callable[[Envelope, E], Row]) -> None:
        WRITERS.setdefault(model.event_type, []).append(Writer(sql, row))

    return register


# -- signals ------------------------------------------------------------------------------------


@_writes(
    ConflictSignalReported,
    """
    INSERT INTO signals (signal_id, category, community_id, grid_id, building_id, status,
                         reported_at, description, reported_by)
    VALUES ($1, $2, $3, $4, $5, 'reported', $6, $7, $8) ON CONFLICT (signal_id) DO NOTHING
    """,
)
def _signal(_: Envelope, e: ConflictSignalReported) -> Row:
    p = e.location.path
    return (
        e.signal_id,
        e.category.value,
        p.community_id,
        p.grid_id,
        p.building_id,
        e.reported_at,
        e.description,
        e.reporter_id,
    )


@_writes(ConflictSignalDismissed, "UPDATE signals SET status = 'dismissed' WHERE signal_id = $1")
def _dismissed(_: Envelope, e: ConflictSignalDismissed) -> Row:
    return (e.signal_id,)


@_writes(
    ConflictSignalConverted,
    "UPDATE signals SET status = 'converted', dispute_id = $2 WHERE signal_id = $1",
)
def _converted(_: Envelope, e: ConflictSignalConverted) -> Row:
    return (e.signal_id, e.dispute_id)


# -- disputes -----------------------------------------------------------------------------------


@_writes(
    DisputeRegistered,
    """
    INSERT INTO disputes (dispute_id, signal_id, channel, category, description, area_id,
        area_kind, community_id, grid_id, building_id, sensitivity, tier, status, registered_at,
        tier_entered_at, sla_due_by, updated_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, 'open', $13, $13, $14, $15)
    ON CONFLICT (dispute_id) DO NOTHING
    """,
)
def _registered(env: Envelope, e: DisputeRegistered) -> Row:
    p = e.location.path
    return (
        e.dispute_id,
        e.signal_id,
        e.channel.value,
        e.category.value,
        e.description,
        e.location.area_id,
        e.location.kind.value,
        p.community_id,
        p.grid_id,
        p.building_id,
        e.sensitivity.value,
        e.tier.value,
        e.registered_at,
        e.sla_due_by,
        env.occurred_at,
    )


@_writes(
    DisputeRegistered,
    """
    INSERT INTO dispute_parties (dispute_id, party_id, resident_id, name, role)
    SELECT $1, x.p, x.r, x.n, x.role
    FROM unnest($2::uuid[], $3::uuid[], $4::text[], $5::text[]) AS x(p, r, n, role)
    ON CONFLICT DO NOTHING
    """,
)
def _parties(_: Envelope, e: DisputeRegistered) -> Row:
    return (
        e.dispute_id,
        [p.party_id for p in e.parties],
        [p.resident_id for p in e.parties],
        [p.name for p in e.parties],
        [p.role.value for p in e.parties],
    )


_NEW_TIER = """
    UPDATE disputes SET tier = $2, tier_entered_at = $3, sla_due_by = $4, at_risk = false,
        breached = false, updated_at = $5 {extra}
    WHERE dispute_id = $1
"""


@_writes(DisputeEscalated, _NEW_TIER.format(extra=", escalations = escalations + 1"))
def _escalated(env: Envelope, e: DisputeEscalated) -> Row:
    return (e.dispute_id, e.to_tier.value, e.escalated_at, e.sla_due_by, env.occurred_at)


@_writes(
    DisputeReopened,
    _NEW_TIER.format(
        extra=", status = 'open', resolved_at = NULL, resolved_tier = NULL, closed_at = NULL"
    ),
)
def _reopened(env: Envelope, e: DisputeReopened) -> Row:
    return (e.dispute_id, e.tier.value, e.reopened_at, e.sla_due_by, env.occurred_at)


@_writes(
    DisputeSlaAtRisk, "UPDATE disputes SET at_risk = true WHERE dispute_id = $1 AND sla_due_by = $2"
)
def _at_risk(_: Envelope, e: DisputeSlaAtRisk) -> Row:
    return (e.dispute_id, e.due_by)


@_writes(
    DisputeSlaBreached,
    "UPDATE disputes SET breached = true WHERE dispute_id = $1 AND sla_due_by = $2",
)
def _breached(_: Envelope, e: DisputeSlaBreached) -> Row:
    return (e.dispute_id, e.due_by)


@_writes(
    MediatorAssigned,
    """
    INSERT INTO dispute_mediators (dispute_id, mediator_id, role, name, active)
    VALUES ($1, $2, $3, $4, true)
    ON CONFLICT (dispute_id, mediator_id) DO UPDATE SET role = EXCLUDED.role,
        name = EXCLUDED.name, active = true
    """,
)
def _assigned(_: Envelope, e: MediatorAssigned) -> Row:
    return (e.dispute_id, e.mediator_id, e.role.value, e.name)


@_writes(
    MediatorUnassigned,
    "UPDATE dispute_mediators SET active = false WHERE dispute_id = $1 AND mediator_id = $2",
)
def _unassigned(_: Envelope, e: MediatorUnassigned) -> Row:
    return (e.dispute_id, e.mediator_id)


@_writes(
    AgreementReached, "UPDATE disputes SET agreement = true, failed = false WHERE dispute_id = $1"
)
def _agreed(_: Envelope, e: AgreementReached) -> Row:
    return (e.dispute_id,)


@_writes(MediationFailed, "UPDATE disputes SET failed = true WHERE dispute_id = $1")
def _failed(_: Envelope, e: MediationFailed) -> Row:
    return (e.dispute_id,)


@_writes(AgreementFollowedUp, "UPDATE disputes SET carried_out = $2 WHERE dispute_id = $1")
def _followed_up(_: Envelope, e: AgreementFollowedUp) -> Row:
    return (e.dispute_id, e.carried_out)


@_writes(ReturnVisitRecorded, "UPDATE disputes SET satisfaction = $2 WHERE dispute_id = $1")
def _return_visit(_: Envelope, e: ReturnVisitRecorded) -> Row:
    scores = [s.score for s in e.satisfaction]
    return (e.dispute_id, sum(scores) / len(scores))


@_writes(
    DisputeResolved,
    """
    UPDATE disputes SET status = 'resolved', resolved_at = $2, resolved_tier = $3, updated_at = $4
    WHERE dispute_id = $1
    """,
)
def _resolved(env: Envelope, e: DisputeResolved) -> Row:
    return (e.dispute_id, e.resolved_at, e.tier.value, env.occurred_at)


@_writes(
    DisputeClosed,
    "UPDATE disputes SET status = 'closed', closed_at = $2, updated_at = $3 WHERE dispute_id = $1",
)
def _closed(env: Envelope, e: DisputeClosed) -> Row:
    return (e.dispute_id, e.closed_at, env.occurred_at)


# -- petitions ----------------------------------------------------------------------------------


@_writes(
    PetitionProxied,
    """
    INSERT INTO petitions (petition_id, resident_id, agent_id, community_id, grid_id,
                           building_id, subject, department, status, registered_at)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, 'registered', $9) ON CONFLICT DO NOTHING
    """,
)
def _petition(_: Envelope, e: PetitionProxied) -> Row:
    return (
        e.petition_id,
        e.resident_id,
        e.agent_id,
        e.path.community_id,
        e.path.grid_id,
        e.path.building_id,
        e.subject,
        e.department,
        e.registered_at,
    )


@_writes(
    PetitionForwarded,
    "UPDATE petitions SET status = 'forwarded', due_by = $2 WHERE petition_id = $1",
)
def _forwarded(_: Envelope, e: PetitionForwarded) -> Row:
    return (e.petition_id, e.acceptance_due_by)


@_writes(
    PetitionAccepted,
    """
    UPDATE petitions SET status = 'accepted', due_by = $2, accepted_on_time = $3
    WHERE petition_id = $1
    """,
)
def _accepted(_: Envelope, e: PetitionAccepted) -> Row:
    return (e.petition_id, e.answer_due_by, e.on_time)


@_writes(
    PetitionAnswered,
    """
    UPDATE petitions SET status = 'answered', due_by = NULL, answered_at = $2,
        answered_on_time = $3 WHERE petition_id = $1
    """,
)
def _answered(_: Envelope, e: PetitionAnswered) -> Row:
    return (e.petition_id, e.answered_at, e.on_time)


@_writes(PetitionDeadlineMissed, "UPDATE petitions SET missed = true WHERE petition_id = $1")
def _missed(_: Envelope, e: PetitionDeadlineMissed) -> Row:
    return (e.petition_id,)


@_writes(
    PetitionClosed,
    """
    UPDATE petitions SET status = 'closed', due_by = NULL, closed_at = $2, outcome = $3
    WHERE petition_id = $1
    """,
)
def _petition_closed(_: Envelope, e: PetitionClosed) -> Row:
    return (e.petition_id, e.closed_at, e.outcome)


# -- the projection -----------------------------------------------------------------------------

_TIMELINE = """
INSERT INTO dispute_timeline (dispute_id, sequence, type, occurred_at, actor_id, data)
VALUES ($1, $2, $3, $4, $5, $6::jsonb) ON CONFLICT DO NOTHING
"""


class DisputesProjection:
    """Mediation events → the tables behind the dispute board, timelines and statistics."""

    name = "disputes"
    catalogs: Sequence[EventCatalog] = (CATALOG,)
    ddl = DDL

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        groups = plan((d.stream, d.envelope.type, d) for d in batch if d.envelope.type in WRITERS)
        for group in groups:
            for writer in WRITERS[group.kind]:
                rows = [writer.row(d.envelope, d.event) for d in group.items]
                await conn.executemany(writer.sql, rows)
        timeline = [
            (
                d.event.dispute_id,
                d.envelope.sequence,
                d.envelope.type.partition(".")[2],
                d.envelope.occurred_at,
                d.envelope.actor.id,
                d.event.model_dump_json(),
            )
            for d in batch
            if d.envelope.subject.startswith("dispute-") and hasattr(d.event, "dispute_id")
        ]
        if timeline:
            await conn.executemany(_TIMELINE, timeline)
