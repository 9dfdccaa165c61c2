"""The ``residents`` read model: areas, residents, households, flags, visits, follow-ups and
partner organisations.

One projection keeps every table of the registry's read side, so each event is decoded once and
each batch is one transaction. Every row belongs to exactly one registry stream (an area, a
resident, a household, a resident's care stream or an organisation); facts from different streams are joined
only when read, so it does not matter in which order Kafka delivers different streams.

Each event type has one set-based statement over ``unnest`` of its column arrays, run by
:class:`eventkit.rows.Writers` once per group of a batch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from uuid import UUID

import asyncpg

from anju_contracts import Envelope, EventCatalog
from anju_contracts.registry import (
    CATALOG,
    AreaCreated,
    AreaKind,
    AreaPath,
    FollowUpStopped,
    FollowUpVisitOverdue,
    FollowUpVisitPlanned,
    FollowUpVisitRecorded,
    HouseholdFormed,
    HouseholdHeadChanged,
    HouseholdMemberAdded,
    HouseholdMemberRemoved,
    Liaison,
    OrganisationChanged,
    OrganisationRegistered,
    OrganisationRetired,
    PersonErased,
    ResidentDetailsCorrected,
    ResidentDied,
    ResidentMoved,
    ResidentMovedOut,
    ResidentRegistered,
    RiskTierChanged,
    SpecialGroupFlagCleared,
    SpecialGroupFlagRaised,
    SpecialGroupFlagReviewed,
)
from anju_query.projections.rollups import DailyRollup, placed_by
from eventkit.erasure import blank_on_erasure, blank_where
from eventkit.messages import Delivered
from eventkit.rows import Row, Writers

VISIT_DAYS = DailyRollup(
    "visit_days",
    "visits",
    {
        "community_id": ("uuid NOT NULL", "x.community_id"),
        "visited_on": ("date NOT NULL", "(x.visited_at AT TIME ZONE 'UTC')::date"),
        "grid_id": ("uuid", "x.grid_id"),
        "on_time": ("boolean NOT NULL", "x.on_time"),
    },
    where="x.community_id IS NOT NULL AND x.on_time IS NOT NULL",
)
"""The follow-up visits that fulfilled a planned one, per day (UTC) and place, by whether they
came in time: what the dashboard counts. A visit's place is its resident's (below)."""

DDL = (
    """
CREATE TABLE areas (
    area_id      uuid PRIMARY KEY,
    kind         text NOT NULL,
    name         text NOT NULL,
    parent_id    uuid,
    community_id uuid NOT NULL,
    grid_id      uuid,
    building_id  uuid,
    unit_id      uuid
);
CREATE INDEX areas_community ON areas (community_id);

CREATE TABLE residents (
    resident_id   uuid PRIMARY KEY,
    name          text NOT NULL,
    sex           text NOT NULL,
    date_of_birth date,
    id_number     text,
    phone         text,
    community_id  uuid NOT NULL,
    grid_id       uuid,
    building_id   uuid,
    unit_id       uuid,
    status        text NOT NULL,
    residency     text NOT NULL,
    birth_year    smallint,
    left_on       date,
    registered_at timestamptz NOT NULL,
    updated_at    timestamptz NOT NULL
);
CREATE INDEX residents_name ON residents (lower(name), resident_id);
CREATE INDEX residents_id_suffix ON residents (reverse(id_number) text_pattern_ops);
CREATE INDEX residents_unit ON residents (unit_id);
CREATE INDEX residents_grid ON residents (grid_id, residency, status);
CREATE INDEX residents_community ON residents (community_id);
-- a community's residents lie together (a rebuild orders the table so: eventkit's settle), for
-- the directory's searches within a community
ALTER TABLE residents CLUSTER ON residents_community;

CREATE TABLE households (
    household_id     uuid PRIMARY KEY,
    head_resident_id uuid NOT NULL,
    community_id     uuid NOT NULL,
    grid_id          uuid,
    building_id      uuid,
    unit_id          uuid,
    formed_at        timestamptz NOT NULL
);
CREATE INDEX households_grid ON households (grid_id);

CREATE TABLE household_members (
    household_id uuid NOT NULL,
    resident_id  uuid NOT NULL,
    relation     text NOT NULL,
    joined_at    timestamptz NOT NULL,
    removed_at   timestamptz,
    PRIMARY KEY (household_id, resident_id)
);
CREATE INDEX household_members_resident ON household_members (resident_id);

CREATE TABLE flags (
    resident_id    uuid NOT NULL,
    flag           text NOT NULL,
    tier           text NOT NULL,
    note           text,
    active         boolean NOT NULL,
    since          timestamptz NOT NULL,
    last_review_at timestamptz,
    cleared_at     timestamptz,
    event_id       uuid,
    community_id   uuid,
    grid_id        uuid,
    PRIMARY KEY (resident_id, flag)
);
CREATE INDEX flags_active ON flags (flag, resident_id) WHERE active;
CREATE INDEX flags_active_community ON flags (community_id, flag) INCLUDE (tier) WHERE active;
CREATE INDEX flags_active_grid ON flags (grid_id, flag) INCLUDE (tier) WHERE active;
CREATE INDEX flags_community ON flags (community_id, ((since AT TIME ZONE 'UTC')::date))
    INCLUDE (grid_id, flag);
-- a community's flags lie together, for its follow-up board by flag and its dashboard
ALTER TABLE flags CLUSTER ON flags_community;

CREATE TABLE visits (
    visit_id       uuid PRIMARY KEY,
    resident_id    uuid NOT NULL,
    visited_at     timestamptz NOT NULL,
    grid_worker_id text NOT NULL,
    findings       text NOT NULL,
    actions        text,
    errands        jsonb NOT NULL,
    due_by         timestamptz,
    on_time        boolean,
    event_id       uuid,
    community_id   uuid,
    grid_id        uuid
);
CREATE INDEX visits_resident ON visits (resident_id, visited_at DESC);
-- a resident's visits lie together, for their profile (written a year apart, scattered)
ALTER TABLE visits CLUSTER ON visits_resident;
CREATE INDEX visits_community ON visits (community_id, ((visited_at AT TIME ZONE 'UTC')::date))
    INCLUDE (grid_id, on_time);

CREATE TABLE follow_ups (
    resident_id    uuid PRIMARY KEY,
    community_id   uuid,
    grid_id        uuid,
    due_by         timestamptz,
    interval_days  integer,
    planned_at     timestamptz,
    overdue        boolean NOT NULL DEFAULT false,
    stopped        boolean NOT NULL DEFAULT false,
    stop_reason    text,
    last_visit_at  timestamptz,
    last_worker_id text
);
CREATE INDEX follow_ups_due ON follow_ups (due_by) WHERE due_by IS NOT NULL AND NOT stopped;
CREATE INDEX follow_ups_pending_community ON follow_ups (community_id, due_by)
    WHERE due_by IS NOT NULL AND NOT stopped;
CREATE INDEX follow_ups_pending_grid ON follow_ups (grid_id, due_by)
    WHERE due_by IS NOT NULL AND NOT stopped;

CREATE TABLE organisations (
    organisation_id uuid PRIMARY KEY,
    kind            text NOT NULL,
    name            text NOT NULL,
    community_ids   uuid[] NOT NULL,
    liaisons        jsonb NOT NULL,
    active          boolean NOT NULL,
    retired_reason  text,
    registered_at   timestamptz NOT NULL,
    updated_at      timestamptz NOT NULL
);
CREATE INDEX organisations_communities ON organisations USING gin (community_ids);
CREATE INDEX organisations_name ON organisations (name, organisation_id);

-- A flag, a visit and a pending follow-up carry where their resident lives now (null while
-- the resident is not here): set from the resident row when the row is inserted (each writer
-- below joins the residents: _HOME), and by the database itself whenever the resident row is
-- written, moves or goes (placed_by). So the dashboard counts a community's flags and visits,
-- and the follow-up board finds a grid's pending visits, from their own indexes, with the same
-- answer as a join on the residents whichever of the streams arrived first.

"""
    + placed_by("residents", "resident_id", ("flags", "visits", "follow_ups"), removed=True)
    + VISIT_DAYS.ddl()
    + """
"""
)

WRITERS = Writers()
"""How each registry event becomes rows of these tables."""

_HOME = "LEFT JOIN residents home ON home.resident_id = x.r"
"""Where the resident ``x.r`` lives now, for a flag, a visit or a follow-up inserted: one
join per statement (a trigger doing the same per row cost a fifth of the residents' writes)."""


def _path(path: AreaPath) -> Row:
    return (path.community_id, path.grid_id, path.building_id, path.unit_id)


_PATH = "$5::uuid[], $6::uuid[], $7::uuid[], $8::uuid[]"

# -- areas ----------------------------------------------------------------------------------


@WRITERS.row(
    AreaCreated,
    f"""
    INSERT INTO areas (area_id, kind, name, parent_id, community_id, grid_id, building_id, unit_id)
    SELECT * FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], {_PATH})
    ON CONFLICT (area_id) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name,
        parent_id = EXCLUDED.parent_id, community_id = EXCLUDED.community_id,
        grid_id = EXCLUDED.grid_id, building_id = EXCLUDED.building_id, unit_id = EXCLUDED.unit_id
    """,
)
def _area_created(_: Envelope, e: AreaCreated) -> Row:
    # a node's own level in its path is itself, whether or not the path repeats it
    own = {e.kind: e.area_id}
    p = e.path
    return (
        e.area_id,
        e.kind.value,
        e.name,
        e.parent_id,
        own.get(AreaKind.COMMUNITY, p.community_id),
        own.get(AreaKind.GRID, p.grid_id),
        own.get(AreaKind.BUILDING, p.building_id),
        own.get(AreaKind.UNIT, p.unit_id),
    )


# -- residents ------------------------------------------------------------------------------


@WRITERS.row(
    ResidentRegistered,
    """
    INSERT INTO residents (resident_id, name, sex, date_of_birth, id_number, phone, community_id,
                           grid_id, building_id, unit_id, status, residency, birth_year,
                           registered_at, updated_at)
    SELECT id, name, sex, dob, idn, phone, c, g, b, u, 'active', 'active',
           extract(year FROM dob)::smallint, at, at
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::date[], $5::text[], $6::text[],
                $7::uuid[], $8::uuid[], $9::uuid[], $10::uuid[], $11::timestamptz[])
         AS x(id, name, sex, dob, idn, phone, c, g, b, u, at)
    ON CONFLICT (resident_id) DO UPDATE SET name = EXCLUDED.name, sex = EXCLUDED.sex,
        date_of_birth = EXCLUDED.date_of_birth, id_number = EXCLUDED.id_number,
        phone = EXCLUDED.phone, community_id = EXCLUDED.community_id,
        grid_id = EXCLUDED.grid_id, building_id = EXCLUDED.building_id,
        unit_id = EXCLUDED.unit_id, status = 'active', residency = 'active',
        birth_year = EXCLUDED.birth_year, left_on = NULL, registered_at = EXCLUDED.registered_at, updated_at = EXCLUDED.updated_at
    """,
)
def _registered(env: Envelope, e: ResidentRegistered) -> Row:
    return (
        e.resident_id,
        e.name,
        e.sex.value,
        e.date_of_birth,
        e.id_number,
        e.phone,
        *_path(e.path),
        env.occurred_at,
    )


@WRITERS.row(
    ResidentDetailsCorrected,
    """
    UPDATE residents r SET name = coalesce(x.name, r.name), sex = coalesce(x.sex, r.sex),
        date_of_birth = coalesce(x.dob, r.date_of_birth),
        birth_year = coalesce(extract(year FROM x.dob)::smallint, r.birth_year),
        id_number = coalesce(x.idn, r.id_number), phone = coalesce(x.phone, r.phone),
        updated_at = x.at
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::date[], $5::text[], $6::text[],
                $7::timestamptz[]) AS x(id, name, sex, dob, idn, phone, at)
    WHERE r.resident_id = x.id
    """,
)
def _corrected(env: Envelope, e: ResidentDetailsCorrected) -> Row:
    sex = None if e.sex is None else e.sex.value
    return (e.resident_id, e.name, sex, e.date_of_birth, e.id_number, e.phone, env.occurred_at)


@WRITERS.row(
    ResidentMoved,
    """
    UPDATE residents r SET community_id = x.c, grid_id = x.g, building_id = x.b, unit_id = x.u,
        updated_at = x.at
    FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::timestamptz[])
         AS x(id, c, g, b, u, at)
    WHERE r.resident_id = x.id
    """,
)
def _moved(env: Envelope, e: ResidentMoved) -> Row:
    return (e.resident_id, *_path(e.to_path), env.occurred_at)


_LEFT = """
    UPDATE residents r SET status = '{status}', residency = '{status}', left_on = x.d,
        updated_at = x.at
    FROM unnest($1::uuid[], $2::date[], $3::timestamptz[]) AS x(id, d, at)
    WHERE r.resident_id = x.id
"""


@WRITERS.row(ResidentMovedOut, _LEFT.format(status="moved_out"))
def _moved_out(env: Envelope, e: ResidentMovedOut) -> Row:
    return (e.resident_id, e.moved_out_on, env.occurred_at)


@WRITERS.row(ResidentDied, _LEFT.format(status="deceased"))
def _died(env: Envelope, e: ResidentDied) -> Row:
    return (e.resident_id, e.died_on, env.occurred_at)


# A person's erasure (docs/personal-data.md, "Erasure"): the directory keeps the row, its ids,
# dates and place, with the personal fields as a rebuild reads them once the key is gone, and
# the status "erased"; their flags' notes and visits' findings go too, counts stay. What the
# figures count them by stays too: where they live, whether they still live there (residency),
# and their year of birth (which the erasure carries, for a rebuild that reads no date).
_ERASED = "resident_id = ANY($1::uuid[])"


@WRITERS.row(
    PersonErased,
    """
    UPDATE residents r SET birth_year = coalesce(x.y, r.birth_year)
    FROM unnest($1::uuid[], $2::smallint[]) AS x(id, y)
    WHERE r.resident_id = x.id
    """,
)
def _erased_birth_year(_: Envelope, e: PersonErased) -> Row:
    return (e.resident_id, e.birth_year)


blank_on_erasure(
    WRITERS,
    blank_where(
        "residents",
        _ERASED,
        text=["name"],
        values=["date_of_birth", "id_number", "phone"],
        also=["status = 'erased'"],
    ),
    blank_where("flags", _ERASED, text=["note"]),
    blank_where("visits", _ERASED, text=["findings", "actions"], text_lists=["errands"]),
)


# -- households -----------------------------------------------------------------------------


@WRITERS.row(
    HouseholdFormed,
    """
    WITH x AS (
        SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[],
                             $6::uuid[], $7::timestamptz[]) AS x(h, head, c, g, b, u, at)
    ), formed AS (
        INSERT INTO households (household_id, head_resident_id, community_id, grid_id,
                                building_id, unit_id, formed_at)
        SELECT h, head, c, g, b, u, at FROM x
        ON CONFLICT (household_id) DO UPDATE SET head_resident_id = EXCLUDED.head_resident_id,
            community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
            building_id = EXCLUDED.building_id, unit_id = EXCLUDED.unit_id,
            formed_at = EXCLUDED.formed_at
    )
    INSERT INTO household_members (household_id, resident_id, relation, joined_at)
    SELECT h, head, 'head', at FROM x
    ON CONFLICT (household_id, resident_id) DO UPDATE SET relation = 'head', removed_at = NULL
    """,
)
def _formed(env: Envelope, e: HouseholdFormed) -> Row:
    return (e.household_id, e.head_resident_id, *_path(e.path), env.occurred_at)


@WRITERS.row(
    HouseholdMemberAdded,
    """
    INSERT INTO household_members (household_id, resident_id, relation, joined_at)
    SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::timestamptz[])
    ON CONFLICT (household_id, resident_id) DO UPDATE SET relation = EXCLUDED.relation,
        joined_at = EXCLUDED.joined_at, removed_at = NULL
    """,
)
def _member_added(env: Envelope, e: HouseholdMemberAdded) -> Row:
    return (e.household_id, e.resident_id, e.relation.value, env.occurred_at)


@WRITERS.row(
    HouseholdMemberRemoved,
    """
    UPDATE household_members m SET removed_at = x.at
    FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS x(h, r, at)
    WHERE m.household_id = x.h AND m.resident_id = x.r
    """,
)
def _member_removed(env: Envelope, e: HouseholdMemberRemoved) -> Row:
    return (e.household_id, e.resident_id, env.occurred_at)


@WRITERS.row(
    HouseholdHeadChanged,
    """
    WITH x AS (
        SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[])
            AS x(h, prev, new, at)
    ), household AS (
        UPDATE households SET head_resident_id = x.new FROM x WHERE household_id = x.h
    ), previous AS (
        UPDATE household_members m SET relation = 'other' FROM x
        WHERE m.household_id = x.h AND m.resident_id = x.prev AND x.prev <> x.new
    )
    INSERT INTO household_members (household_id, resident_id, relation, joined_at)
    SELECT h, new, 'head', at FROM x
    ON CONFLICT (household_id, resident_id) DO UPDATE SET relation = 'head', removed_at = NULL
    """,
)
def _head_changed(env: Envelope, e: HouseholdHeadChanged) -> Row:
    return (e.household_id, e.previous_head_id, e.new_head_id, env.occurred_at)


# -- special-group flags --------------------------------------------------------------------


@WRITERS.row(
    SpecialGroupFlagRaised,
    f"""
    INSERT INTO flags (resident_id, flag, tier, note, active, since, event_id, community_id,
                       grid_id)
    SELECT x.r, x.f, x.t, x.n, true, x.at, x.ev, home.community_id, home.grid_id
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::uuid[])
         AS x(r, f, t, n, at, ev) {_HOME}
    ON CONFLICT (resident_id, flag) DO UPDATE SET tier = EXCLUDED.tier, note = EXCLUDED.note,
        active = true, since = EXCLUDED.since, last_review_at = NULL, cleared_at = NULL,
        event_id = EXCLUDED.event_id
    """,
)
def _flag_raised(env: Envelope, e: SpecialGroupFlagRaised) -> Row:
    return (e.resident_id, e.flag.value, e.tier.value, e.note, env.occurred_at, env.id)


@WRITERS.row(
    RiskTierChanged,
    """
    UPDATE flags f SET tier = x.t, last_review_at = x.at
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS x(r, f, t, at)
    WHERE f.resident_id = x.r AND f.flag = x.f
    """,
)
def _tier_changed(env: Envelope, e: RiskTierChanged) -> Row:
    return (e.resident_id, e.flag.value, e.to_tier.value, env.occurred_at)


@WRITERS.row(
    SpecialGroupFlagReviewed,
    """
    UPDATE flags f SET last_review_at = x.at, note = coalesce(x.n, f.note)
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS x(r, f, n, at)
    WHERE f.resident_id = x.r AND f.flag = x.f
    """,
)
def _flag_reviewed(env: Envelope, e: SpecialGroupFlagReviewed) -> Row:
    return (e.resident_id, e.flag.value, e.note, env.occurred_at)


@WRITERS.row(
    SpecialGroupFlagCleared,
    """
    UPDATE flags f SET active = false, cleared_at = x.at
    FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS x(r, f, at)
    WHERE f.resident_id = x.r AND f.flag = x.f
    """,
)
def _flag_cleared(env: Envelope, e: SpecialGroupFlagCleared) -> Row:
    return (e.resident_id, e.flag.value, env.occurred_at)


# -- follow-up visits -----------------------------------------------------------------------


@WRITERS.row(
    FollowUpVisitPlanned,
    f"""
    INSERT INTO follow_ups (resident_id, due_by, interval_days, planned_at, community_id,
                            grid_id)
    SELECT x.r, x.d, x.i, x.at, home.community_id, home.grid_id
    FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::timestamptz[]) AS x(r, d, i, at)
         {_HOME}
    ON CONFLICT (resident_id) DO UPDATE SET due_by = EXCLUDED.due_by,
        interval_days = EXCLUDED.interval_days, planned_at = EXCLUDED.planned_at,
        overdue = false, stopped = false, stop_reason = NULL
    """,
)
def _planned(env: Envelope, e: FollowUpVisitPlanned) -> Row:
    return (e.resident_id, e.due_by, e.interval_days, env.occurred_at)


# A visit fulfils the pending plan when it happened after the plan was made — it keeps that
# plan's due time and whether it came by it (``on_time``; both null when it fulfilled none: what
# the dashboard counts); the last visit (by when it happened, not when it was recorded) names
# the resident's grid worker.
@WRITERS.row(
    FollowUpVisitRecorded,
    f"""
    WITH x AS (
        SELECT x.*, home.community_id, home.grid_id
        FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::text[], $5::text[],
                    $6::text[], $7::text[], $8::uuid[]) AS x(r, v, at, w, f, a, e, ev)
             {_HOME}
    ), visit AS (
        INSERT INTO visits (visit_id, resident_id, visited_at, grid_worker_id, findings,
                            actions, errands, due_by, on_time, event_id, community_id, grid_id)
        SELECT x.v, x.r, x.at, x.w, x.f, x.a, x.e::jsonb, p.due_by, x.at <= p.due_by, x.ev,
               x.community_id, x.grid_id
        FROM x LEFT JOIN follow_ups p
          ON p.resident_id = x.r AND p.planned_at <= x.at AND p.due_by IS NOT NULL
        ON CONFLICT (visit_id) DO NOTHING
    )
    INSERT INTO follow_ups AS fu (resident_id, last_visit_at, last_worker_id, community_id,
                                  grid_id)
    SELECT x.r, x.at, x.w, x.community_id, x.grid_id FROM x
    ON CONFLICT (resident_id) DO UPDATE SET
        last_visit_at = greatest(fu.last_visit_at, EXCLUDED.last_visit_at),
        last_worker_id = CASE WHEN fu.last_visit_at > EXCLUDED.last_visit_at
                              THEN fu.last_worker_id ELSE EXCLUDED.last_worker_id END,
        due_by = CASE WHEN fu.planned_at <= EXCLUDED.last_visit_at THEN NULL ELSE fu.due_by END,
        overdue = CASE WHEN fu.planned_at <= EXCLUDED.last_visit_at THEN false
                       ELSE fu.overdue END
    """,
)
def _visited(env: Envelope, e: FollowUpVisitRecorded) -> Row:
    return (
        e.resident_id,
        e.visit_id,
        e.visited_at,
        e.grid_worker_id,
        e.findings,
        e.actions,
        json.dumps(e.errands, ensure_ascii=False),
        env.id,
    )


@WRITERS.row(
    FollowUpVisitOverdue,
    f"""
    INSERT INTO follow_ups AS fu (resident_id, due_by, overdue, community_id, grid_id)
    SELECT x.r, x.d, true, home.community_id, home.grid_id
    FROM unnest($1::uuid[], $2::timestamptz[]) AS x(r, d) {_HOME}
    ON CONFLICT (resident_id) DO UPDATE SET overdue = true, due_by = EXCLUDED.due_by
    """,
)
def _overdue(_: Envelope, e: FollowUpVisitOverdue) -> Row:
    return (e.resident_id, e.due_by)


@WRITERS.row(
    FollowUpStopped,
    f"""
    INSERT INTO follow_ups AS fu (resident_id, stopped, stop_reason, community_id, grid_id)
    SELECT x.r, true, x.why, home.community_id, home.grid_id
    FROM unnest($1::uuid[], $2::text[]) AS x(r, why) {_HOME}
    ON CONFLICT (resident_id) DO UPDATE SET stopped = true, stop_reason = EXCLUDED.stop_reason,
        due_by = NULL, overdue = false
    """,
)
def _stopped(_: Envelope, e: FollowUpStopped) -> Row:
    return (e.resident_id, e.reason)


# -- partner organisations ------------------------------------------------------------------

# A row's lists travel as JSON text: arrays of arrays cannot be unnest()ed row by row.
_IDS = (
    "ARRAY(SELECT v::uuid FROM jsonb_array_elements_text(x.c::jsonb) WITH ORDINALITY AS e(v, n)"
    " ORDER BY n)"
)


def _ids(ids: Sequence[UUID] | None) -> str | None:
    return None if ids is None else json.dumps([str(i) for i in ids])


def _liaisons(liaisons: Sequence[Liaison] | None) -> str | None:
    if liaisons is None:
        return None
    return json.dumps([x.model_dump(mode="json") for x in liaisons], ensure_ascii=False)


@WRITERS.row(
    OrganisationRegistered,
    f"""
    INSERT INTO organisations (organisation_id, kind, name, community_ids, liaisons, active,
                               registered_at, updated_at)
    SELECT x.id, x.k, x.name, {_IDS}, x.l::jsonb, true, x.at, x.at
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::text[], $6::timestamptz[])
         AS x(id, k, name, c, l, at)
    ON CONFLICT (organisation_id) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name,
        community_ids = EXCLUDED.community_ids, liaisons = EXCLUDED.liaisons, active = true,
        retired_reason = NULL, registered_at = EXCLUDED.registered_at,
        updated_at = EXCLUDED.updated_at
    """,
)
def _organisation_registered(env: Envelope, e: OrganisationRegistered) -> Row:
    return (
        e.organisation_id,
        e.kind.value,
        e.name,
        _ids(e.community_ids),
        _liaisons(e.liaisons),
        env.occurred_at,
    )


@WRITERS.row(
    OrganisationChanged,
    f"""
    UPDATE organisations o SET name = coalesce(x.name, o.name),
        community_ids = CASE WHEN x.c IS NULL THEN o.community_ids ELSE {_IDS} END,
        liaisons = coalesce(x.l::jsonb, o.liaisons), updated_at = x.at
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::timestamptz[])
         AS x(id, name, c, l, at)
    WHERE o.organisation_id = x.id
    """,
)
def _organisation_changed(env: Envelope, e: OrganisationChanged) -> Row:
    return (
        e.organisation_id,
        e.name,
        _ids(e.community_ids),
        _liaisons(e.liaisons),
        env.occurred_at,
    )


@WRITERS.row(
    OrganisationRetired,
    """
    UPDATE organisations o SET active = false, retired_reason = x.why, updated_at = x.at
    FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS x(id, why, at)
    WHERE o.organisation_id = x.id
    """,
)
def _organisation_retired(env: Envelope, e: OrganisationRetired) -> Row:
    return (e.organisation_id, e.reason, env.occurred_at)


# -- the projection -------------------------------------------------------------------------


class ResidentsProjection:
    """Registry events → the tables behind the directory, profiles, follow-ups, summaries and
    partner organisations."""

    name = "residents"
    catalogs: Sequence[EventCatalog] = (CATALOG,)
    ddl = DDL

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        await WRITERS.apply(conn, batch)
