"""The ``health`` read model: health records, programme enrolments, visits, health activities.

Only what ``health.events`` carries: ids, programmes, dates, completion and counts. Diagnoses,
readings and findings stay in the health service; nothing here could hold them.

Every row belongs to one health stream: a record, its enrolments and its visits to the
resident's ``record-<resident>`` stream (whose first event opens the record), an activity to its
``activity-<id>`` stream. Each event type has one or two set-based statements over ``unnest``
of its column arrays, run by :class:`eventkit.rows.Writers` once per group of a batch.

A visit carries the record's area (the grid or community of the resident's home) from its
booking on; when the record is relocated its open visits move with it, its closed ones stay
where they were done.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

from anju_contracts import Envelope, EventCatalog
from anju_contracts.health import (
    CATALOG,
    FamilyDoctorAssigned,
    HealthActivityHeld,
    HealthRecordClosed,
    HealthRecordOpened,
    HealthRecordRelocated,
    HealthRecordReopened,
    ProgrammeEnrolled,
    ProgrammeLeft,
    VisitBooked,
    VisitCancelled,
    VisitCompleted,
    VisitOverdue,
    VisitRescheduled,
    VisitSkipped,
)
from anju_contracts.registry import AreaPath
from eventkit.messages import Delivered
from eventkit.rows import Row, Writers

DDL = """
CREATE TABLE records (
    resident_id      uuid PRIMARY KEY,
    community_id     uuid NOT NULL,
    grid_id          uuid,
    building_id      uuid,
    unit_id          uuid,
    health_station   text NOT NULL,
    family_doctor_id text,
    status           text NOT NULL,
    opened_on        date NOT NULL,
    closed_on        date,
    close_reason     text,
    updated_at       timestamptz NOT NULL
);
CREATE INDEX records_grid ON records (grid_id);
CREATE INDEX records_doctor ON records (family_doctor_id);

CREATE TABLE enrolments (
    resident_id uuid NOT NULL,
    programme   text NOT NULL,
    active      boolean NOT NULL,
    enrolled_on date NOT NULL,
    left_on     date,
    PRIMARY KEY (resident_id, programme)
);
CREATE INDEX enrolments_programme ON enrolments (programme, resident_id);

CREATE TABLE visits (
    visit_id     uuid PRIMARY KEY,
    resident_id  uuid NOT NULL,
    programme    text NOT NULL,
    kind         text NOT NULL,
    community_id uuid NOT NULL,
    grid_id      uuid,
    due_on       date NOT NULL,
    overdue      boolean NOT NULL DEFAULT false,
    state        text NOT NULL,
    completed_on date,
    completed_by text,
    skipped_on   date,
    booked_at    timestamptz NOT NULL
);
CREATE INDEX visits_open ON visits (due_on) WHERE state = 'open';
CREATE INDEX visits_resident ON visits (resident_id);
-- a resident's visits lie together (a rebuild orders the table so), for their profile
ALTER TABLE visits CLUSTER ON visits_resident;
CREATE INDEX visits_completed ON visits (programme, completed_on) WHERE state = 'completed';

CREATE TABLE activities (
    activity_id  uuid PRIMARY KEY,
    kind         text NOT NULL,
    held_on      date NOT NULL,
    community_id uuid NOT NULL,
    grid_id      uuid,
    building_id  uuid,
    place        text NOT NULL,
    at_station   boolean NOT NULL,
    partner      text,
    staff        jsonb NOT NULL,
    served       integer NOT NULL,
    topic        text,
    event_id     uuid
);
CREATE INDEX activities_held ON activities (held_on);
CREATE INDEX activities_community ON activities (community_id);
"""

WRITERS = Writers()
"""How each health event becomes rows of these tables."""


def _path(path: AreaPath) -> Row:
    return (path.community_id, path.grid_id, path.building_id, path.unit_id)


# -- the record -----------------------------------------------------------------------------


@WRITERS.row(
    HealthRecordOpened,
    """
    INSERT INTO records (resident_id, community_id, grid_id, building_id, unit_id,
                         health_station, family_doctor_id, status, opened_on, updated_at)
    SELECT r, c, g, b, u, hs, doc, 'open', d, at
    FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::text[],
                $7::text[], $8::date[], $9::timestamptz[]) AS x(r, c, g, b, u, hs, doc, d, at)
    ON CONFLICT (resident_id) DO UPDATE SET community_id = EXCLUDED.community_id,
        grid_id = EXCLUDED.grid_id, building_id = EXCLUDED.building_id,
        unit_id = EXCLUDED.unit_id, health_station = EXCLUDED.health_station,
        family_doctor_id = EXCLUDED.family_doctor_id, status = 'open',
        opened_on = EXCLUDED.opened_on, closed_on = NULL, close_reason = NULL,
        updated_at = EXCLUDED.updated_at
    """,
)
def _opened(env: Envelope, e: HealthRecordOpened) -> Row:
    return (
        e.resident_id,
        *_path(e.path),
        e.health_station,
        e.family_doctor_id,
        e.opened_on,
        env.occurred_at,
    )


_MOVE_RECORD = """
    UPDATE records r SET community_id = x.c, grid_id = x.g, building_id = x.b, unit_id = x.u,
        {also} updated_at = x.at
    FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::timestamptz[])
         AS x(id, c, g, b, u, at)
    WHERE r.resident_id = x.id
"""
_MOVE_OPEN_VISITS = """
    UPDATE visits v SET community_id = x.c, grid_id = x.g
    FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS x(id, c, g)
    WHERE v.resident_id = x.id AND v.state = 'open'
"""


@WRITERS.row(HealthRecordRelocated, _MOVE_RECORD.format(also=""))
def _relocated(env: Envelope, e: HealthRecordRelocated) -> Row:
    return (e.resident_id, *_path(e.path), env.occurred_at)


@WRITERS.row(HealthRecordRelocated, _MOVE_OPEN_VISITS)
def _relocated_visits(_: Envelope, e: HealthRecordRelocated) -> Row:
    return (e.resident_id, e.path.community_id, e.path.grid_id)


@WRITERS.row(
    HealthRecordReopened,
    _MOVE_RECORD.format(also="status = 'open', closed_on = NULL, close_reason = NULL,"),
)
def _reopened(env: Envelope, e: HealthRecordReopened) -> Row:
    return (e.resident_id, *_path(e.path), env.occurred_at)


@WRITERS.row(HealthRecordReopened, _MOVE_OPEN_VISITS)
def _reopened_visits(_: Envelope, e: HealthRecordReopened) -> Row:
    return (e.resident_id, e.path.community_id, e.path.grid_id)


@WRITERS.row(
    FamilyDoctorAssigned,
    """
    UPDATE records r SET health_station = x.hs, family_doctor_id = x.doc, updated_at = x.at
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS x(id, hs, doc, at)
    WHERE r.resident_id = x.id
    """,
)
def _doctor(env: Envelope, e: FamilyDoctorAssigned) -> Row:
    return (e.resident_id, e.health_station, e.family_doctor_id, env.occurred_at)


@WRITERS.row(
    HealthRecordClosed,
    """
    UPDATE records r SET status = 'closed', closed_on = x.d, close_reason = x.why,
        updated_at = x.at
    FROM unnest($1::uuid[], $2::date[], $3::text[], $4::timestamptz[]) AS x(id, d, why, at)
    WHERE r.resident_id = x.id
    """,
)
def _closed(env: Envelope, e: HealthRecordClosed) -> Row:
    return (e.resident_id, e.closed_on, e.reason.value, env.occurred_at)


# -- programmes -----------------------------------------------------------------------------


@WRITERS.row(
    ProgrammeEnrolled,
    """
    INSERT INTO enrolments (resident_id, programme, active, enrolled_on)
    SELECT r, p, true, d FROM unnest($1::uuid[], $2::text[], $3::date[]) AS x(r, p, d)
    ON CONFLICT (resident_id, programme) DO UPDATE SET active = true,
        enrolled_on = EXCLUDED.enrolled_on, left_on = NULL
    """,
)
def _enrolled(_: Envelope, e: ProgrammeEnrolled) -> Row:
    return (e.resident_id, e.programme.value, e.enrolled_on)


@WRITERS.row(
    ProgrammeLeft,
    """
    UPDATE enrolments en SET active = false, left_on = x.d
    FROM unnest($1::uuid[], $2::text[], $3::date[]) AS x(r, p, d)
    WHERE en.resident_id = x.r AND en.programme = x.p
    """,
)
def _left(_: Envelope, e: ProgrammeLeft) -> Row:
    return (e.resident_id, e.programme.value, e.left_on)


# -- visits ---------------------------------------------------------------------------------


# A visit takes the area of its record, which an earlier event of the same stream opened.
@WRITERS.row(
    VisitBooked,
    """
    INSERT INTO visits (visit_id, resident_id, programme, kind, community_id, grid_id, due_on,
                        state, booked_at)
    SELECT x.v, x.r, x.p, x.k, rec.community_id, rec.grid_id, x.d, 'open', x.at
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::date[], $6::timestamptz[])
         AS x(v, r, p, k, d, at)
    JOIN records rec ON rec.resident_id = x.r
    ON CONFLICT (visit_id) DO UPDATE SET programme = EXCLUDED.programme, kind = EXCLUDED.kind,
        community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
        due_on = EXCLUDED.due_on, overdue = false, state = 'open', completed_on = NULL,
        completed_by = NULL, skipped_on = NULL, booked_at = EXCLUDED.booked_at
    """,
)
def _booked(env: Envelope, e: VisitBooked) -> Row:
    return (e.visit_id, e.resident_id, e.programme.value, e.kind.value, e.due_on, env.occurred_at)


@WRITERS.row(
    VisitRescheduled,
    """
    UPDATE visits v SET due_on = x.d, overdue = false
    FROM unnest($1::uuid[], $2::date[]) AS x(id, d)
    WHERE v.visit_id = x.id
    """,
)
def _rescheduled(_: Envelope, e: VisitRescheduled) -> Row:
    return (e.visit_id, e.due_on)


@WRITERS.row(
    VisitOverdue,
    """
    UPDATE visits v SET overdue = true
    FROM unnest($1::uuid[]) AS x(id)
    WHERE v.visit_id = x.id AND v.state = 'open'
    """,
)
def _overdue(_: Envelope, e: VisitOverdue) -> Row:
    return (e.visit_id,)


@WRITERS.row(
    VisitSkipped,
    """
    UPDATE visits v SET state = 'skipped', skipped_on = x.d
    FROM unnest($1::uuid[], $2::date[]) AS x(id, d)
    WHERE v.visit_id = x.id
    """,
)
def _skipped(_: Envelope, e: VisitSkipped) -> Row:
    return (e.visit_id, e.skipped_on)


# A visit may be completed without having been booked (a resident who walks in for the
# check-up): it is then due on the day it was done.
@WRITERS.row(
    VisitCompleted,
    """
    INSERT INTO visits AS v (visit_id, resident_id, programme, kind, community_id, grid_id,
                             due_on, state, completed_on, completed_by, booked_at)
    SELECT x.v, x.r, x.p, x.k, rec.community_id, rec.grid_id, x.d, 'completed', x.d, x.doc, x.at
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::date[], $6::text[],
                $7::timestamptz[]) AS x(v, r, p, k, d, doc, at)
    JOIN records rec ON rec.resident_id = x.r
    ON CONFLICT (visit_id) DO UPDATE SET state = 'completed', kind = EXCLUDED.kind,
        completed_on = EXCLUDED.completed_on, completed_by = EXCLUDED.completed_by
    """,
)
def _completed(env: Envelope, e: VisitCompleted) -> Row:
    return (
        e.visit_id,
        e.resident_id,
        e.programme.value,
        e.kind.value,
        e.completed_on,
        e.doctor_id,
        env.occurred_at,
    )


@WRITERS.row(
    VisitCancelled,
    """
    UPDATE visits v SET state = 'cancelled'
    FROM unnest($1::uuid[]) AS x(id)
    WHERE v.visit_id = x.id
    """,
)
def _cancelled(_: Envelope, e: VisitCancelled) -> Row:
    return (e.visit_id,)


# -- activities -----------------------------------------------------------------------------


@WRITERS.row(
    HealthActivityHeld,
    """
    INSERT INTO activities (activity_id, kind, held_on, community_id, grid_id, building_id,
                            place, at_station, partner, staff, served, topic, event_id)
    SELECT a, k, d, c, g, b, pl, st, pa, s::jsonb, n, t, ev
    FROM unnest($1::uuid[], $2::text[], $3::date[], $4::uuid[], $5::uuid[], $6::uuid[],
                $7::text[], $8::bool[], $9::text[], $10::text[], $11::int[], $12::text[],
                $13::uuid[])
         AS x(a, k, d, c, g, b, pl, st, pa, s, n, t, ev)
    ON CONFLICT (activity_id) DO UPDATE SET kind = EXCLUDED.kind, held_on = EXCLUDED.held_on,
        community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
        building_id = EXCLUDED.building_id, place = EXCLUDED.place,
        at_station = EXCLUDED.at_station, partner = EXCLUDED.partner, staff = EXCLUDED.staff,
        served = EXCLUDED.served, topic = EXCLUDED.topic, event_id = EXCLUDED.event_id
    """,
)
def _activity(env: Envelope, e: HealthActivityHeld) -> Row:
    return (
        e.activity_id,
        e.kind.value,
        e.held_on,
        e.path.community_id,
        e.path.grid_id,
        e.path.building_id,
        e.place,
        e.at_station,
        e.partner,
        json.dumps(e.staff, ensure_ascii=False),
        e.served,
        e.topic,
        env.id,
    )


# -- the projection -------------------------------------------------------------------------


class HealthProjection:
    """Health events → the tables behind the visit board, coverage, activities and profiles."""

    name = "health"
    catalogs: Sequence[EventCatalog] = (CATALOG,)
    ddl = DDL

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        await WRITERS.apply(conn, batch)
