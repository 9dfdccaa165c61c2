"""The ``disputes`` read model: the dispute board, timelines, signals and petitions.

Every row belongs to one mediation stream (a signal, a dispute or a petition), so the order in
which Kafka delivers different streams does not matter. A signal keeps the record of another
service it came from (its ``origin``: an opinion raised at the station), so that service's read
model can find, when read, what mediation made of it — whichever topic arrived first. Each event type has one or two
set-based statements over ``unnest`` of column arrays, run by :class:`eventkit.rows.Writers`
once per group of a batch. Every dispute event also becomes a row of the dispute's timeline,
so the street office's whole view of a dispute can be shown without going back to the topic.

On time or late is judged from the facts' business times, as mediation judged them: a dispute's
resolution says whether it came by its tier's SLA end (``resolved_on_time``), and automatic
escalations that a resolution or an escalation by hand brought in later predates are withdrawn
(``DisputeEscalationsWithdrawn``), so they count neither as escalations nor as the tier it was
resolved at. A petition's ``missed`` says whether a deadline passed before the fact that settled
its stage (acceptance, answer, or a closing while it waited) — a scheduler's mark made before a
ledger's settling fact arrived, dated by its due time, does not stand.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from uuid import UUID

import asyncpg

from anju_contracts import Envelope, EventCatalog
from anju_contracts.mediation import (
    CATALOG,
    AgreementFollowedUp,
    AgreementReached,
    ConflictSignalConverted,
    ConflictSignalDismissed,
    ConflictSignalReported,
    DisputeClosed,
    DisputeErased,
    DisputeEscalated,
    DisputeEscalationsWithdrawn,
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
from anju_contracts.registry import CATALOG as REGISTRY, PersonErased
from eventkit.erasure import blank_on_erasure, blank_where, erased_payload
from eventkit.messages import Delivered
from eventkit.rows import Row, Writers, write_rows

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
    registered_tier text NOT NULL,
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
    return_visit_at timestamptz,
    return_visit_event_id uuid,
    resolved_at     timestamptz,
    resolved_tier   text,
    resolved_on_time boolean,
    resolved_event_id uuid,
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
    reported_by  text NOT NULL,
    origin_source text,
    origin_record text,
    origin_id     uuid,
    involved      jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX signals_origin ON signals (origin_id, origin_record, origin_source)
    WHERE origin_id IS NOT NULL;

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
    outcome          text,
    handled_event_id uuid
);
CREATE INDEX petitions_resident ON petitions (resident_id);

-- who has been erased: a record's event that comes after the erasure is blanked as it lands
CREATE TABLE erased_people (
    resident_id uuid PRIMARY KEY
);
"""

WRITERS = Writers()
"""How each mediation event becomes rows of these tables."""

# -- signals ------------------------------------------------------------------------------------


@WRITERS.row(
    ConflictSignalReported,
    """
    INSERT INTO signals (signal_id, category, community_id, grid_id, building_id, status,
                         reported_at, description, reported_by, origin_source, origin_record,
                         origin_id, involved)
    SELECT s, cat, c, g, b, 'reported', at, d, who, os, orec, oid, inv::jsonb
    FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::uuid[], $6::timestamptz[],
                $7::text[], $8::text[], $9::text[], $10::text[], $11::uuid[], $12::text[])
         AS x(s, cat, c, g, b, at, d, who, os, orec, oid, inv)
    ON CONFLICT (signal_id) DO UPDATE SET category = EXCLUDED.category,
        community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
        building_id = EXCLUDED.building_id, status = 'reported', dispute_id = NULL,
        reported_at = EXCLUDED.reported_at, description = EXCLUDED.description,
        reported_by = EXCLUDED.reported_by, origin_source = EXCLUDED.origin_source,
        origin_record = EXCLUDED.origin_record, origin_id = EXCLUDED.origin_id,
        involved = EXCLUDED.involved
    """,
)
def _signal(_: Envelope, e: ConflictSignalReported) -> Row:
    p = e.location.path
    origin = e.origin
    return (
        e.signal_id,
        e.category.value,
        p.community_id,
        p.grid_id,
        p.building_id,
        e.reported_at,
        e.description,
        e.reporter_id,
        None if origin is None else origin.source,
        None if origin is None else origin.record,
        None if origin is None else origin.id,
        json.dumps([str(r) for r in e.involved_resident_ids]),
    )


@WRITERS.row(
    ConflictSignalDismissed,
    """
    UPDATE signals s SET status = 'dismissed'
    FROM unnest($1::uuid[]) AS x(id) WHERE s.signal_id = x.id
    """,
)
def _dismissed(_: Envelope, e: ConflictSignalDismissed) -> Row:
    return (e.signal_id,)


@WRITERS.row(
    ConflictSignalConverted,
    """
    UPDATE signals s SET status = 'converted', dispute_id = x.d
    FROM unnest($1::uuid[], $2::uuid[]) AS x(id, d) WHERE s.signal_id = x.id
    """,
)
def _converted(_: Envelope, e: ConflictSignalConverted) -> Row:
    return (e.signal_id, e.dispute_id)


# -- disputes -----------------------------------------------------------------------------------


@WRITERS.row(
    DisputeRegistered,
    """
    INSERT INTO disputes (dispute_id, signal_id, channel, category, description, area_id,
        area_kind, community_id, grid_id, building_id, sensitivity, registered_tier, tier, status,
        registered_at, tier_entered_at, sla_due_by, updated_at)
    SELECT id, sig, ch, cat, d, a, ak, c, g, b, sens, t, t, 'open', reg, reg, due, at
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::uuid[],
                $7::text[], $8::uuid[], $9::uuid[], $10::uuid[], $11::text[], $12::text[],
                $13::timestamptz[], $14::timestamptz[], $15::timestamptz[])
         AS x(id, sig, ch, cat, d, a, ak, c, g, b, sens, t, reg, due, at)
    ON CONFLICT (dispute_id) DO UPDATE SET signal_id = EXCLUDED.signal_id,
        channel = EXCLUDED.channel, category = EXCLUDED.category,
        description = EXCLUDED.description, area_id = EXCLUDED.area_id,
        area_kind = EXCLUDED.area_kind, community_id = EXCLUDED.community_id,
        grid_id = EXCLUDED.grid_id, building_id = EXCLUDED.building_id,
        sensitivity = EXCLUDED.sensitivity, registered_tier = EXCLUDED.registered_tier,
        tier = EXCLUDED.tier, status = 'open',
        registered_at = EXCLUDED.registered_at, tier_entered_at = EXCLUDED.tier_entered_at,
        sla_due_by = EXCLUDED.sla_due_by, updated_at = EXCLUDED.updated_at
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


# a dispute's parties are named once, when it is registered
@WRITERS.rows(
    DisputeRegistered,
    """
    INSERT INTO dispute_parties (dispute_id, party_id, resident_id, name, role)
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::text[])
    ON CONFLICT DO NOTHING
    """,
)
def _parties(_: Envelope, e: DisputeRegistered) -> list[Row]:
    return [(e.dispute_id, p.party_id, p.resident_id, p.name, p.role.value) for p in e.parties]


_NEW_TIER = """
    UPDATE disputes d SET tier = x.t, tier_entered_at = x.since, sla_due_by = x.due,
        at_risk = false, breached = false, updated_at = x.at {extra}
    FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::timestamptz[])
         AS x(id, t, since, due, at)
    WHERE d.dispute_id = x.id
"""


@WRITERS.row(DisputeEscalated, _NEW_TIER.format(extra=", escalations = d.escalations + 1"))
def _escalated(env: Envelope, e: DisputeEscalated) -> Row:
    return (e.dispute_id, e.to_tier.value, e.escalated_at, e.sla_due_by, env.occurred_at)


@WRITERS.row(
    DisputeReopened,
    _NEW_TIER.format(
        extra=", status = 'open', resolved_at = NULL, resolved_tier = NULL"
        ", resolved_on_time = NULL, resolved_event_id = NULL, closed_at = NULL"
    ),
)
def _reopened(env: Envelope, e: DisputeReopened) -> Row:
    return (e.dispute_id, e.tier.value, e.reopened_at, e.sla_due_by, env.occurred_at)


# back at the tier it stood at, as before the automatic escalations withdrawn
@WRITERS.row(
    DisputeEscalationsWithdrawn,
    """
    UPDATE disputes d SET tier = x.t, tier_entered_at = x.since, sla_due_by = x.due,
        at_risk = false, breached = false, escalations = d.escalations - x.n, updated_at = x.at
    FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[], $5::int[],
                $6::timestamptz[]) AS x(id, t, since, due, n, at)
    WHERE d.dispute_id = x.id
    """,
)
def _withdrawn(env: Envelope, e: DisputeEscalationsWithdrawn) -> Row:
    return (
        e.dispute_id,
        e.tier.value,
        e.tier_entered_at,
        e.sla_due_by,
        len(e.withdrawn),
        env.occurred_at,
    )


# a warning about a deadline the dispute has since left behind changes nothing
_SLA = """
    UPDATE disputes d SET {flag} = true
    FROM unnest($1::uuid[], $2::timestamptz[]) AS x(id, due)
    WHERE d.dispute_id = x.id AND d.sla_due_by = x.due
"""


@WRITERS.row(DisputeSlaAtRisk, _SLA.format(flag="at_risk"))
def _at_risk(_: Envelope, e: DisputeSlaAtRisk) -> Row:
    return (e.dispute_id, e.due_by)


@WRITERS.row(DisputeSlaBreached, _SLA.format(flag="breached"))
def _breached(_: Envelope, e: DisputeSlaBreached) -> Row:
    return (e.dispute_id, e.due_by)


@WRITERS.row(
    MediatorAssigned,
    """
    INSERT INTO dispute_mediators (dispute_id, mediator_id, role, name, active)
    SELECT d, m, r, n, true FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[])
        AS x(d, m, r, n)
    ON CONFLICT (dispute_id, mediator_id) DO UPDATE SET role = EXCLUDED.role,
        name = EXCLUDED.name, active = true
    """,
)
def _assigned(_: Envelope, e: MediatorAssigned) -> Row:
    return (e.dispute_id, e.mediator_id, e.role.value, e.name)


@WRITERS.row(
    MediatorUnassigned,
    """
    UPDATE dispute_mediators m SET active = false
    FROM unnest($1::uuid[], $2::text[]) AS x(d, m)
    WHERE m.dispute_id = x.d AND m.mediator_id = x.m
    """,
)
def _unassigned(_: Envelope, e: MediatorUnassigned) -> Row:
    return (e.dispute_id, e.mediator_id)


@WRITERS.row(
    AgreementReached,
    """
    UPDATE disputes d SET agreement = true, failed = false
    FROM unnest($1::uuid[]) AS x(id) WHERE d.dispute_id = x.id
    """,
)
def _agreed(_: Envelope, e: AgreementReached) -> Row:
    return (e.dispute_id,)


@WRITERS.row(
    MediationFailed,
    """
    UPDATE disputes d SET failed = true
    FROM unnest($1::uuid[]) AS x(id) WHERE d.dispute_id = x.id
    """,
)
def _failed(_: Envelope, e: MediationFailed) -> Row:
    return (e.dispute_id,)


@WRITERS.row(
    AgreementFollowedUp,
    """
    UPDATE disputes d SET carried_out = x.done
    FROM unnest($1::uuid[], $2::boolean[]) AS x(id, done) WHERE d.dispute_id = x.id
    """,
)
def _followed_up(_: Envelope, e: AgreementFollowedUp) -> Row:
    return (e.dispute_id, e.carried_out)


@WRITERS.row(
    ReturnVisitRecorded,
    """
    UPDATE disputes d SET satisfaction = x.score, return_visit_at = x.at,
        return_visit_event_id = x.ev
    FROM unnest($1::uuid[], $2::numeric[], $3::timestamptz[], $4::uuid[]) AS x(id, score, at, ev)
    WHERE d.dispute_id = x.id
    """,
)
def _return_visit(env: Envelope, e: ReturnVisitRecorded) -> Row:
    scores = [s.score for s in e.satisfaction]
    return (e.dispute_id, sum(scores) / len(scores), e.visited_at, env.id)


@WRITERS.row(
    DisputeResolved,
    """
    UPDATE disputes d SET status = 'resolved', resolved_at = x.ts, resolved_tier = x.t,
        resolved_on_time = x.ok, resolved_event_id = x.ev, updated_at = x.at
    FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::boolean[], $5::timestamptz[],
                $6::uuid[]) AS x(id, ts, t, ok, at, ev)
    WHERE d.dispute_id = x.id
    """,
)
def _resolved(env: Envelope, e: DisputeResolved) -> Row:
    return (e.dispute_id, e.resolved_at, e.tier.value, e.on_time, env.occurred_at, env.id)


@WRITERS.row(
    DisputeClosed,
    """
    UPDATE disputes d SET status = 'closed', closed_at = x.ts, updated_at = x.at
    FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS x(id, ts, at)
    WHERE d.dispute_id = x.id
    """,
)
def _closed(env: Envelope, e: DisputeClosed) -> Row:
    return (e.dispute_id, e.closed_at, env.occurred_at)


# -- petitions ----------------------------------------------------------------------------------


@WRITERS.row(
    PetitionProxied,
    """
    INSERT INTO petitions (petition_id, resident_id, agent_id, community_id, grid_id,
                           building_id, subject, department, status, registered_at)
    SELECT p, r, a, c, g, b, s, d, 'registered', at
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::uuid[], $6::uuid[],
                $7::text[], $8::text[], $9::timestamptz[]) AS x(p, r, a, c, g, b, s, d, at)
    ON CONFLICT (petition_id) DO UPDATE SET resident_id = EXCLUDED.resident_id,
        agent_id = EXCLUDED.agent_id, community_id = EXCLUDED.community_id,
        grid_id = EXCLUDED.grid_id, building_id = EXCLUDED.building_id,
        subject = EXCLUDED.subject, department = EXCLUDED.department, status = 'registered',
        registered_at = EXCLUDED.registered_at
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


@WRITERS.row(
    PetitionForwarded,
    """
    UPDATE petitions p SET status = 'forwarded', due_by = x.due
    FROM unnest($1::uuid[], $2::timestamptz[]) AS x(id, due) WHERE p.petition_id = x.id
    """,
)
def _forwarded(_: Envelope, e: PetitionForwarded) -> Row:
    return (e.petition_id, e.acceptance_due_by)


@WRITERS.row(
    PetitionAccepted,
    """
    UPDATE petitions p SET status = 'accepted', due_by = x.due, accepted_on_time = x.ok,
        missed = NOT x.ok
    FROM unnest($1::uuid[], $2::timestamptz[], $3::boolean[]) AS x(id, due, ok)
    WHERE p.petition_id = x.id
    """,
)
def _accepted(_: Envelope, e: PetitionAccepted) -> Row:
    return (e.petition_id, e.answer_due_by, e.on_time)


@WRITERS.row(
    PetitionAnswered,
    """
    UPDATE petitions p SET status = 'answered', due_by = NULL, answered_at = x.ts,
        answered_on_time = x.ok, handled_event_id = x.ev,
        missed = p.accepted_on_time IS FALSE OR NOT x.ok
    FROM unnest($1::uuid[], $2::timestamptz[], $3::boolean[], $4::uuid[]) AS x(id, ts, ok, ev)
    WHERE p.petition_id = x.id
    """,
)
def _answered(env: Envelope, e: PetitionAnswered) -> Row:
    return (e.petition_id, e.answered_at, e.on_time, env.id)


@WRITERS.row(
    PetitionDeadlineMissed,
    """
    UPDATE petitions p SET missed = true
    FROM unnest($1::uuid[]) AS x(id) WHERE p.petition_id = x.id
    """,
)
def _missed(_: Envelope, e: PetitionDeadlineMissed) -> Row:
    return (e.petition_id,)


@WRITERS.row(
    PetitionClosed,
    """
    UPDATE petitions p SET status = 'closed', due_by = NULL, closed_at = x.ts, outcome = x.o,
        handled_event_id = CASE WHEN p.answered_at IS NULL THEN x.ev ELSE p.handled_event_id END,
        missed = CASE WHEN p.due_by IS NULL THEN p.missed
                      ELSE p.accepted_on_time IS FALSE OR x.ts > p.due_by END
    FROM unnest($1::uuid[], $2::timestamptz[], $3::text[], $4::uuid[]) AS x(id, ts, o, ev)
    WHERE p.petition_id = x.id
    """,
)
def _petition_closed(env: Envelope, e: PetitionClosed) -> Row:
    return (e.petition_id, e.closed_at, e.outcome, env.id)


# -- erasure -----------------------------------------------------------------------------------

# A person's erasure reaches the mediation records that name them (docs/personal-data.md,
# "Erasure"): mediation destroys those records' keys, so a rebuild reads every field no other
# resident claims as erased — a dispute's description and ad-hoc parties, its mediators' names,
# a signal's description, a petition's subject and answers. The rows keep their ids, dates,
# statuses and counts, so the board's figures do not change.
_NAMING_DISPUTES = "SELECT dispute_id FROM dispute_parties WHERE resident_id = ANY($1::uuid[])"
_BLANK_DISPUTES = blank_where(
    "disputes", f"dispute_id IN ({_NAMING_DISPUTES})", text=["description"]
)
# ad-hoc parties (the record's) and the person's own party rows; another resident's stay
_BLANK_PARTIES = blank_where(
    "dispute_parties",
    f"dispute_id IN ({_NAMING_DISPUTES})"
    " AND (resident_id IS NULL OR resident_id = ANY($1::uuid[]))",
    text=["name"],
)
_BLANK_MEDIATORS = blank_where(
    "dispute_mediators", f"dispute_id IN ({_NAMING_DISPUTES})", text=["name"]
)
_BLANK_SIGNALS = blank_where("signals", "involved ?| ($1::uuid[])::text[]", text=["description"])
_BLANK_PETITIONS = blank_where(
    "petitions", "resident_id = ANY($1::uuid[])", text=["subject", "outcome"]
)


_BLANK_NAMING = (
    _BLANK_DISPUTES,
    _BLANK_PARTIES,
    _BLANK_MEDIATORS,
    _BLANK_SIGNALS,
    _BLANK_PETITIONS,
)
blank_on_erasure(WRITERS, *_BLANK_NAMING)


@WRITERS.row(
    PersonErased,
    """
    INSERT INTO erased_people (resident_id) SELECT unnest($1::uuid[])
    ON CONFLICT DO NOTHING
    """,
)
def _erased_person(env: Envelope, e: PersonErased) -> Row:
    return (e.resident_id,)


# An event of a record naming an erased person may come after the erasure: late from the broker,
# or written in the moments before mediation destroyed that record's key (it follows the erasure
# on its own). Opened with the key still alive, it would stay in clear here; so each batch's
# records that name someone erased are blanked again, as the erasure itself blanked them.
_LATE = """
SELECT p.resident_id FROM dispute_parties p JOIN erased_people e USING (resident_id)
WHERE p.dispute_id = ANY($1::uuid[])
UNION
SELECT e.resident_id FROM signals x
    CROSS JOIN LATERAL jsonb_array_elements_text(x.involved) AS i(id)
    JOIN erased_people e ON e.resident_id = i.id::uuid
WHERE x.signal_id = ANY($2::uuid[])
UNION
SELECT x.resident_id FROM petitions x JOIN erased_people e USING (resident_id)
WHERE x.petition_id = ANY($3::uuid[])
"""


async def _blank_late(conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
    """Blank again the records of this batch that name a person erased before it."""
    mediation = [d.event for d in batch if d.envelope.source == CATALOG.source]
    if not mediation:
        return
    ids = {
        field: list({getattr(e, field) for e in mediation if getattr(e, field, None) is not None})
        for field in ("dispute_id", "signal_id", "petition_id")
    }
    late = [row["resident_id"] for row in await conn.fetch(_LATE, *ids.values())]
    if not late:
        return
    for sql in _BLANK_NAMING:
        await conn.execute(sql, late)
    await _blank_timelines_of(conn, late)


# A closed dispute's retention (``mediation.DisputeErased``): its record's key and its signal's
# are destroyed, so the description, the ad-hoc parties and the mediators' names read as erased;
# registered residents who are parties keep their own.
_BLANK_ERASED_DISPUTE = blank_where(
    "disputes", "dispute_id = ANY($1::uuid[])", text=["description"]
)
_BLANK_ERASED_PARTIES = blank_where(
    "dispute_parties", "dispute_id = ANY($1::uuid[]) AND resident_id IS NULL", text=["name"]
)
_BLANK_ERASED_MEDIATORS = blank_where(
    "dispute_mediators", "dispute_id = ANY($1::uuid[])", text=["name"]
)
_BLANK_ERASED_SIGNAL = blank_where("signals", "signal_id = ANY($1::uuid[])", text=["description"])


@WRITERS.row(DisputeErased, _BLANK_ERASED_DISPUTE)
@WRITERS.row(DisputeErased, _BLANK_ERASED_PARTIES)
@WRITERS.row(DisputeErased, _BLANK_ERASED_MEDIATORS)
def _erased_dispute(env: Envelope, e: DisputeErased) -> Row:
    return (e.dispute_id,)


@WRITERS.row(DisputeErased, _BLANK_ERASED_SIGNAL)
def _erased_signal(env: Envelope, e: DisputeErased) -> Row:
    return (e.signal_id,)


_NAMING_TIMELINE = f"""
SELECT dispute_id, sequence, type, data::text FROM dispute_timeline
WHERE dispute_id IN ({_NAMING_DISPUTES})
"""

_DISPUTE_TIMELINE = """
SELECT dispute_id, sequence, type, data::text FROM dispute_timeline WHERE dispute_id = $1
"""

_BLANK_TIMELINE = """
UPDATE dispute_timeline t SET data = x.data::jsonb
FROM unnest($1::uuid[], $2::int[], $3::text[]) AS x(d, s, data)
WHERE t.dispute_id = x.d AND t.sequence = x.s
"""


async def _blank_timelines(conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
    """The timeline entries of the disputes naming each erased person, as a rebuild reads
    them: their personal fields erased, except another resident's."""
    for d in batch:
        if isinstance(d.event, PersonErased):
            await _blank_timelines_of(conn, [d.event.resident_id])
        elif isinstance(d.event, DisputeErased):
            rows = await conn.fetch(_DISPUTE_TIMELINE, d.event.dispute_id)
            await _blank_timeline_rows(conn, rows, None)  # the record alone


async def _blank_timelines_of(conn: asyncpg.Connection, people: Sequence[UUID]) -> None:
    for person in people:
        await _blank_timeline_rows(conn, await conn.fetch(_NAMING_TIMELINE, [person]), person)


async def _blank_timeline_rows(
    conn: asyncpg.Connection, rows: Sequence[asyncpg.Record], person: UUID | None
) -> None:
    erased = [
        (
            row["dispute_id"],
            row["sequence"],
            json.dumps(
                erased_payload(
                    CATALOG.model(f"mediation.{row['type']}"),
                    json.loads(row["data"]),
                    person_id=person,
                    record=True,
                ),
                ensure_ascii=False,
            ),
        )
        for row in rows
    ]
    await write_rows(conn, _BLANK_TIMELINE, erased)


# -- the projection -----------------------------------------------------------------------------

# every event of a dispute's own stream, once (its sequence is unique in the stream)
_TIMELINE = """
INSERT INTO dispute_timeline (dispute_id, sequence, type, occurred_at, actor_id, data)
SELECT d, s, t, at, who, data::jsonb
FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::text[])
     AS x(d, s, t, at, who, data)
ON CONFLICT DO NOTHING
"""


class DisputesProjection:
    """Mediation events → the tables behind the dispute board, timelines and statistics."""

    name = "disputes"
    catalogs: Sequence[EventCatalog] = (CATALOG, REGISTRY)
    # every mediation event (each goes on its dispute's timeline); of the registry's, erasures
    reads = frozenset(m.event_type for m in CATALOG.models) | WRITERS.event_types
    ddl = DDL

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        await WRITERS.apply(conn, batch)
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
        await write_rows(conn, _TIMELINE, timeline)
        await _blank_timelines(conn, batch)
        await _blank_late(conn, batch)
