"""The ``governance`` read model: the meeting register and the work list with its history.

Every row belongs to one governance stream: a meeting, its decisions, to ``meeting-<id>``; a
work item, the supervision raised on it and each entry of its history to ``item-<id>``. Which
work items a decision became is joined only when read (an item names its source). Each event
type has one set-based statement over ``unnest`` of its column arrays, run by
:class:`eventkit.rows.Writers` once per group of a batch; every event of an item's stream is
also an entry of its history (what, who, when, and the reason where the fact has one).

What is personal and not needed to answer a read stays in governance: the names of a meeting's
attendees (their number is kept), its minutes and their corrections (whether the minutes are a
draft or confirmed, and how many corrections there are, is kept), an item's description, the
notes of its progress, its completion summary and its verification note. Kept are the
responsible person an item's board shows, and the reasons its history shows: a failed
verification's, a reopening's, a deadline extension's, a withdrawal's.

An item's status is derived from its events as the service's own model derives it (no event
carries it); its supervision colour is the most pressing one raised for the deadline in force
while the work is the owner's to do (:mod:`anju_query.application.work_items` reads it).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC
from uuid import UUID

import asyncpg

from anju_contracts import Envelope, Event, EventCatalog
from anju_contracts.governance import (
    CATALOG,
    CompletionReported,
    DeadlineExtended,
    DecisionRecorded,
    MeetingHeld,
    MeetingScheduled,
    MinutesConfirmed,
    MinutesCorrected,
    MinutesRecorded,
    ProgressReported,
    SupervisionRaised,
    VerificationFailed,
    WorkItemAssigned,
    WorkItemClosed,
    WorkItemOpened,
    WorkItemReceived,
    WorkItemReopened,
    WorkItemVerified,
    WorkItemWithdrawn,
)
from anju_contracts.registry import AreaPath
from eventkit.messages import Delivered
from eventkit.rows import Row, Writers, write_rows

DDL = """
CREATE TABLE meetings (
    meeting_id           uuid PRIMARY KEY,
    kind                 text NOT NULL,
    title                text NOT NULL,
    community_id         uuid NOT NULL,
    grid_id              uuid,
    building_id          uuid,
    unit_id              uuid,
    status               text NOT NULL,
    scheduled_for        timestamptz,
    held_on              date,
    on_date              date NOT NULL,
    place                text,
    convener             text NOT NULL,
    organisation_ids     uuid[] NOT NULL,
    attendees            integer NOT NULL,
    agenda               jsonb NOT NULL,
    minutes              text NOT NULL DEFAULT 'none',
    minutes_recorded_at  timestamptz,
    minutes_confirmed_at timestamptz,
    corrections          integer NOT NULL DEFAULT 0,
    updated_at           timestamptz NOT NULL
);
CREATE INDEX meetings_community ON meetings (community_id, on_date);

CREATE TABLE decisions (
    decision_id uuid PRIMARY KEY,
    meeting_id  uuid NOT NULL,
    sequence    integer NOT NULL,
    text        text NOT NULL,
    recorded_by text NOT NULL,
    recorded_at timestamptz NOT NULL
);
CREATE INDEX decisions_meeting ON decisions (meeting_id);

CREATE TABLE work_items (
    item_id                uuid PRIMARY KEY,
    title                  text NOT NULL,
    source                 text NOT NULL,
    source_record          text NOT NULL,
    source_id              uuid NOT NULL,
    meeting_id             uuid,
    community_id           uuid NOT NULL,
    grid_id                uuid,
    building_id            uuid,
    unit_id                uuid,
    sensitive              boolean NOT NULL,
    owner_organisation_id  uuid,
    co_organisation_ids    uuid[] NOT NULL,
    organisation_ids       uuid[] NOT NULL,
    responsible            text,
    deadline               timestamptz NOT NULL,
    priority               text NOT NULL,
    receipt_due_by         timestamptz,
    convener               text,
    status                 text NOT NULL,
    opened_by              text NOT NULL,
    opened_at              timestamptz NOT NULL,
    received_at            timestamptz,
    received_late          boolean,
    percent                integer,
    progress_at            timestamptz,
    completion_reported_at timestamptz,
    completed_on_time      boolean,
    verified_at            timestamptz,
    verification_failures  integer NOT NULL DEFAULT 0,
    closed_at              timestamptz,
    closed_on_time         boolean,
    closed_event_id        uuid,
    withdrawn_at           timestamptz,
    reopens                integer NOT NULL DEFAULT 0,
    extensions             integer NOT NULL DEFAULT 0,
    updated_at             timestamptz NOT NULL
);
CREATE INDEX work_items_board ON work_items (community_id, status, deadline);
CREATE INDEX work_items_owner ON work_items (owner_organisation_id);
CREATE INDEX work_items_organisations ON work_items USING gin (organisation_ids);
CREATE INDEX work_items_source ON work_items (source_id);

CREATE TABLE item_supervisions (
    item_id   uuid NOT NULL,
    colour    text NOT NULL,
    due_by    timestamptz NOT NULL,
    raised_at timestamptz NOT NULL,
    PRIMARY KEY (item_id, colour, due_by)
);

CREATE TABLE item_history (
    item_id     uuid NOT NULL,
    sequence    integer NOT NULL,
    type        text NOT NULL,
    occurred_at timestamptz NOT NULL,
    actor_id    text NOT NULL,
    by          text NOT NULL,
    reason      text,
    details     jsonb NOT NULL,
    PRIMARY KEY (item_id, sequence)
);
"""

WRITERS = Writers()
"""How each governance event becomes rows of these tables."""


def _path(path: AreaPath) -> Row:
    return (path.community_id, path.grid_id, path.building_id, path.unit_id)


def _ids(values: Sequence[UUID]) -> str:
    """A list of ids as one text (``string_to_array(x, ',')::uuid[]``): an array of arrays
    cannot be unnested row by row."""
    return ",".join(str(v) for v in dict.fromkeys(values))


# -- meetings -----------------------------------------------------------------------------------

_MEETING_COLUMNS = """meeting_id, kind, title, community_id, grid_id, building_id, unit_id,
    status, {when}, on_date, place, convener, organisation_ids, attendees, agenda, updated_at"""
_MEETING_VALUES = """
    SELECT id, k, t, c, g, b, u, {status}, w, d, pl, cv, string_to_array(os, ',')::uuid[], n,
           ag::jsonb, at
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::uuid[],
                $7::uuid[], $8::{when_type}[], $9::date[], $10::text[], $11::text[], $12::text[],
                $13::int[], $14::text[], $15::timestamptz[])
         AS x(id, k, t, c, g, b, u, w, d, pl, cv, os, n, ag, at)
"""
_MEETING_FACTS = """kind = EXCLUDED.kind, title = EXCLUDED.title,
        community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
        building_id = EXCLUDED.building_id, unit_id = EXCLUDED.unit_id,
        place = EXCLUDED.place, convener = EXCLUDED.convener,
        organisation_ids = EXCLUDED.organisation_ids, attendees = EXCLUDED.attendees,
        agenda = EXCLUDED.agenda, updated_at = EXCLUDED.updated_at"""


@WRITERS.row(
    MeetingScheduled,
    f"""
    INSERT INTO meetings ({_MEETING_COLUMNS.format(when="scheduled_for")})
    {_MEETING_VALUES.format(status="'scheduled'", when_type="timestamptz")}
    ON CONFLICT (meeting_id) DO UPDATE SET scheduled_for = EXCLUDED.scheduled_for,
        {_MEETING_FACTS}, on_date = coalesce(meetings.held_on, EXCLUDED.on_date)
    """,
)
def _scheduled(env: Envelope, e: MeetingScheduled) -> Row:
    return (
        e.meeting_id,
        e.kind,
        e.title,
        *_path(e.path),
        e.scheduled_for,
        e.scheduled_for.astimezone(UTC).date(),
        e.place,
        e.convener,
        _ids(e.organisation_ids),
        len(e.attendees),
        json.dumps(e.agenda, ensure_ascii=False),
        env.occurred_at,
    )


# Held after being scheduled, or recorded held straight away (a ledger brought in from paper):
# what it says of the meeting replaces what the schedule said, the schedule's time stays.
@WRITERS.row(
    MeetingHeld,
    f"""
    INSERT INTO meetings ({_MEETING_COLUMNS.format(when="held_on")})
    {_MEETING_VALUES.format(status="'held'", when_type="date")}
    ON CONFLICT (meeting_id) DO UPDATE SET status = 'held', held_on = EXCLUDED.held_on,
        on_date = EXCLUDED.on_date, {_MEETING_FACTS}
    """,
)
def _held(env: Envelope, e: MeetingHeld) -> Row:
    return (
        e.meeting_id,
        e.kind,
        e.title,
        *_path(e.path),
        e.held_on,
        e.held_on,
        e.place,
        e.convener,
        _ids(e.organisation_ids),
        len(e.attendees),
        json.dumps(e.agenda, ensure_ascii=False),
        env.occurred_at,
    )


@WRITERS.row(
    MinutesRecorded,
    """
    UPDATE meetings m SET minutes = 'draft', minutes_recorded_at = x.at, updated_at = x.env
    FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS x(id, at, env)
    WHERE m.meeting_id = x.id
    """,
)
def _minutes(env: Envelope, e: MinutesRecorded) -> Row:
    return (e.meeting_id, e.recorded_at, env.occurred_at)


@WRITERS.row(
    MinutesConfirmed,
    """
    UPDATE meetings m SET minutes = 'confirmed', minutes_confirmed_at = x.at, updated_at = x.env
    FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS x(id, at, env)
    WHERE m.meeting_id = x.id
    """,
)
def _confirmed(env: Envelope, e: MinutesConfirmed) -> Row:
    return (e.meeting_id, e.confirmed_at, env.occurred_at)


@WRITERS.row(
    MinutesCorrected,
    """
    UPDATE meetings m SET corrections = m.corrections + 1, updated_at = x.env
    FROM unnest($1::uuid[], $2::timestamptz[]) AS x(id, env)
    WHERE m.meeting_id = x.id
    """,
)
def _corrected(env: Envelope, e: MinutesCorrected) -> Row:
    return (e.meeting_id, env.occurred_at)


# a decision's row is written by its one event; its place in the meeting's stream orders the
# decisions as the meeting took them
@WRITERS.row(
    DecisionRecorded,
    """
    INSERT INTO decisions (decision_id, meeting_id, sequence, text, recorded_by, recorded_at)
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[],
                         $6::timestamptz[])
    ON CONFLICT DO NOTHING
    """,
)
def _decision(env: Envelope, e: DecisionRecorded) -> Row:
    return (e.decision_id, e.meeting_id, env.sequence, e.text, e.recorded_by, e.recorded_at)


# -- work items ---------------------------------------------------------------------------------


@WRITERS.row(
    WorkItemOpened,
    """
    INSERT INTO work_items (item_id, title, source, source_record, source_id, meeting_id,
        community_id, grid_id, building_id, unit_id, sensitive, owner_organisation_id,
        co_organisation_ids, organisation_ids, responsible, deadline, priority, receipt_due_by,
        convener, status, opened_by, opened_at, updated_at)
    SELECT id, t, s, r, sid, m, c, g, b, u, sens, o, string_to_array(co, ',')::uuid[],
           string_to_array(os, ',')::uuid[], resp, dl, pr, rd, cv,
           CASE WHEN o IS NULL THEN 'unassigned' ELSE 'assigned' END, who, at, env
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::uuid[], $6::uuid[],
                $7::uuid[], $8::uuid[], $9::uuid[], $10::uuid[], $11::boolean[], $12::uuid[],
                $13::text[], $14::text[], $15::text[], $16::timestamptz[], $17::text[],
                $18::timestamptz[], $19::text[], $20::text[], $21::timestamptz[],
                $22::timestamptz[])
         AS x(id, t, s, r, sid, m, c, g, b, u, sens, o, co, os, resp, dl, pr, rd, cv, who, at, env)
    ON CONFLICT (item_id) DO UPDATE SET title = EXCLUDED.title, source = EXCLUDED.source,
        source_record = EXCLUDED.source_record, source_id = EXCLUDED.source_id,
        meeting_id = EXCLUDED.meeting_id, community_id = EXCLUDED.community_id,
        grid_id = EXCLUDED.grid_id, building_id = EXCLUDED.building_id,
        unit_id = EXCLUDED.unit_id, sensitive = EXCLUDED.sensitive,
        owner_organisation_id = EXCLUDED.owner_organisation_id,
        co_organisation_ids = EXCLUDED.co_organisation_ids,
        organisation_ids = EXCLUDED.organisation_ids, responsible = EXCLUDED.responsible,
        deadline = EXCLUDED.deadline, priority = EXCLUDED.priority,
        receipt_due_by = EXCLUDED.receipt_due_by, convener = EXCLUDED.convener,
        status = EXCLUDED.status, opened_by = EXCLUDED.opened_by,
        opened_at = EXCLUDED.opened_at, received_at = NULL, received_late = NULL,
        percent = NULL, progress_at = NULL, completion_reported_at = NULL,
        completed_on_time = NULL, verified_at = NULL, verification_failures = 0,
        closed_at = NULL, closed_on_time = NULL, withdrawn_at = NULL, reopens = 0,
        extensions = 0, updated_at = EXCLUDED.updated_at
    """,
)
def _opened(env: Envelope, e: WorkItemOpened) -> Row:
    owner = [] if e.owner_organisation_id is None else [e.owner_organisation_id]
    return (
        e.item_id,
        e.title,
        e.source.source.value,
        e.source.record.value,
        e.source.id,
        e.meeting_id,
        *_path(e.path),
        e.sensitive,
        e.owner_organisation_id,
        _ids(e.co_organisation_ids),
        _ids([*owner, *e.co_organisation_ids]),
        e.responsible,
        e.deadline,
        e.priority.value,
        e.receipt_due_by,
        e.convener,
        e.opened_by,
        e.opened_at,
        env.occurred_at,
    )


@WRITERS.row(
    WorkItemAssigned,
    """
    UPDATE work_items i SET status = 'assigned', owner_organisation_id = x.o,
        co_organisation_ids = string_to_array(x.co, ',')::uuid[],
        organisation_ids = string_to_array(x.os, ',')::uuid[], responsible = x.resp,
        receipt_due_by = x.rd, received_at = NULL, received_late = NULL, updated_at = x.env
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::timestamptz[],
                $7::timestamptz[]) AS x(id, o, co, os, resp, rd, env)
    WHERE i.item_id = x.id
    """,
)
def _assigned(env: Envelope, e: WorkItemAssigned) -> Row:
    return (
        e.item_id,
        e.owner_organisation_id,
        _ids(e.co_organisation_ids),
        _ids([e.owner_organisation_id, *e.co_organisation_ids]),
        e.responsible,
        e.receipt_due_by,
        env.occurred_at,
    )


@WRITERS.row(
    WorkItemReceived,
    """
    UPDATE work_items i SET status = 'received', received_at = x.at, received_late = x.late,
        updated_at = x.env
    FROM unnest($1::uuid[], $2::timestamptz[], $3::boolean[], $4::timestamptz[])
         AS x(id, at, late, env)
    WHERE i.item_id = x.id
    """,
)
def _received(env: Envelope, e: WorkItemReceived) -> Row:
    return (e.item_id, e.received_at, e.late, env.occurred_at)


# a report without a percentage keeps the last one given
@WRITERS.row(
    ProgressReported,
    """
    UPDATE work_items i SET status = 'in_progress', percent = coalesce(x.p, i.percent),
        progress_at = x.at, updated_at = x.env
    FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::timestamptz[]) AS x(id, p, at, env)
    WHERE i.item_id = x.id
    """,
)
def _progress(env: Envelope, e: ProgressReported) -> Row:
    return (e.item_id, e.percent, e.reported_at, env.occurred_at)


@WRITERS.row(
    CompletionReported,
    """
    UPDATE work_items i SET status = 'completion_reported', completion_reported_at = x.at,
        completed_on_time = x.ok, updated_at = x.env
    FROM unnest($1::uuid[], $2::timestamptz[], $3::boolean[], $4::timestamptz[])
         AS x(id, at, ok, env)
    WHERE i.item_id = x.id
    """,
)
def _completion(env: Envelope, e: CompletionReported) -> Row:
    return (e.item_id, e.reported_at, e.on_time, env.occurred_at)


@WRITERS.row(
    WorkItemVerified,
    """
    UPDATE work_items i SET status = 'verified', verified_at = x.at, updated_at = x.env
    FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS x(id, at, env)
    WHERE i.item_id = x.id
    """,
)
def _verified(env: Envelope, e: WorkItemVerified) -> Row:
    return (e.item_id, e.verified_at, env.occurred_at)


# back to the owner: the completion they reported no longer stands
@WRITERS.row(
    VerificationFailed,
    """
    UPDATE work_items i SET status = 'in_progress', completion_reported_at = NULL,
        completed_on_time = NULL, verification_failures = i.verification_failures + 1,
        updated_at = x.env
    FROM unnest($1::uuid[], $2::timestamptz[]) AS x(id, env)
    WHERE i.item_id = x.id
    """,
)
def _failed(env: Envelope, e: VerificationFailed) -> Row:
    return (e.item_id, env.occurred_at)


@WRITERS.row(
    WorkItemClosed,
    """
    UPDATE work_items i SET status = 'closed', closed_at = x.at, closed_on_time = x.ok,
        closed_event_id = x.ev, updated_at = x.env
    FROM unnest($1::uuid[], $2::timestamptz[], $3::boolean[], $4::timestamptz[], $5::uuid[])
         AS x(id, at, ok, env, ev)
    WHERE i.item_id = x.id
    """,
)
def _closed(env: Envelope, e: WorkItemClosed) -> Row:
    return (e.item_id, e.closed_at, e.on_time, env.occurred_at, env.id)


@WRITERS.row(
    WorkItemReopened,
    """
    UPDATE work_items i SET status = 'in_progress', deadline = x.dl, closed_at = NULL,
        closed_on_time = NULL, closed_event_id = NULL, completion_reported_at = NULL, completed_on_time = NULL,
        verified_at = NULL, reopens = i.reopens + 1, updated_at = x.env
    FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS x(id, dl, env)
    WHERE i.item_id = x.id
    """,
)
def _reopened(env: Envelope, e: WorkItemReopened) -> Row:
    return (e.item_id, e.deadline, env.occurred_at)


# off the list without being done (its escalation withdrawn): neither on time nor late
@WRITERS.row(
    WorkItemWithdrawn,
    """
    UPDATE work_items i SET status = 'withdrawn', withdrawn_at = x.at, updated_at = x.env
    FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS x(id, at, env)
    WHERE i.item_id = x.id
    """,
)
def _withdrawn(env: Envelope, e: WorkItemWithdrawn) -> Row:
    return (e.item_id, e.withdrawn_at, env.occurred_at)


@WRITERS.row(
    DeadlineExtended,
    """
    UPDATE work_items i SET deadline = x.dl, extensions = i.extensions + 1, updated_at = x.env
    FROM unnest($1::uuid[], $2::timestamptz[], $3::timestamptz[]) AS x(id, dl, env)
    WHERE i.item_id = x.id
    """,
)
def _extended(env: Envelope, e: DeadlineExtended) -> Row:
    return (e.item_id, e.to_deadline, env.occurred_at)


# once per colour and deadline (the scheduler raises it so; a second one changes nothing)
@WRITERS.row(
    SupervisionRaised,
    """
    INSERT INTO item_supervisions (item_id, colour, due_by, raised_at)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::timestamptz[], $4::timestamptz[])
    ON CONFLICT DO NOTHING
    """,
)
def _supervision(_: Envelope, e: SupervisionRaised) -> Row:
    return (e.item_id, e.colour.value, e.due_by, e.raised_at)


# -- an item's history --------------------------------------------------------------------------

HISTORY: dict[type[Event], tuple[str | None, str, str | None, set[str]]] = {
    WorkItemOpened: (
        "opened_by",
        "opened_at",
        None,
        {
            "source",
            "owner_organisation_id",
            "co_organisation_ids",
            "deadline",
            "priority",
            "receipt_due_by",
        },
    ),
    WorkItemAssigned: (
        "assigned_by",
        "assigned_at",
        None,
        {"owner_organisation_id", "co_organisation_ids", "receipt_due_by"},
    ),
    WorkItemReceived: ("received_by", "received_at", None, {"late"}),
    ProgressReported: ("reported_by", "reported_at", None, {"percent"}),
    CompletionReported: ("reported_by", "reported_at", None, {"on_time"}),
    WorkItemVerified: ("verified_by", "verified_at", None, set()),
    VerificationFailed: ("verified_by", "failed_at", "reason", set()),
    WorkItemClosed: ("closed_by", "closed_at", None, {"on_time"}),
    WorkItemReopened: ("reopened_by", "reopened_at", "reason", {"deadline"}),
    WorkItemWithdrawn: ("withdrawn_by", "withdrawn_at", "reason", {"dispute_id"}),
    DeadlineExtended: ("extended_by", "extended_at", "reason", {"from_deadline", "to_deadline"}),
    # raised by the scheduler (the envelope's actor); the notice's recipients are named in
    # governance, here only which roles it went to
    SupervisionRaised: (None, "raised_at", None, {"colour", "due_by", "owner_organisation_id"}),
}
"""For each event of an item: the field saying who, the field saying when (business time), the
field holding the reason (if the fact has one), and the facts its history entry shows."""


def _entry(d: Delivered) -> Row | None:
    e, env = d.event, d.envelope
    spec = HISTORY.get(type(e))
    if spec is None or not hasattr(e, "item_id"):
        return None
    by, at, reason, shown = spec
    details = e.model_dump(mode="json", include=shown)
    if isinstance(e, SupervisionRaised):
        details["notified"] = sorted({r.role.value for r in e.notify})
    return (
        e.item_id,
        env.sequence,
        env.type.partition(".")[2],
        getattr(e, at),
        env.actor.id,
        env.actor.id if by is None else getattr(e, by),
        None if reason is None else getattr(e, reason),
        json.dumps(details, ensure_ascii=False),
    )


# every event of an item's own stream, once (its sequence is unique in the stream)
_HISTORY_SQL = """
INSERT INTO item_history (item_id, sequence, type, occurred_at, actor_id, by, reason, details)
SELECT i, s, t, at, a, who, r, d::jsonb
FROM unnest($1::uuid[], $2::int[], $3::text[], $4::timestamptz[], $5::text[], $6::text[],
            $7::text[], $8::text[]) AS x(i, s, t, at, a, who, r, d)
ON CONFLICT DO NOTHING
"""


def _history(batch: Sequence[Delivered]) -> list[Row]:
    rows = (_entry(d) for d in batch if d.envelope.subject.startswith("item-"))
    return [r for r in rows if r is not None]


# -- the projection -----------------------------------------------------------------------------


class GovernanceProjection:
    """Governance events → the tables behind the work-list board, each item's history, the
    meeting register and the on-time completion rates."""

    name = "governance"
    catalogs: Sequence[EventCatalog] = (CATALOG,)
    ddl = DDL

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        await WRITERS.apply(conn, batch)
        await write_rows(conn, _HISTORY_SQL, _history(batch))
