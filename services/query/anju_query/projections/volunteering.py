"""The ``volunteering`` read model: volunteers, teams, service requests, cleaning plans,
activities with their shifts and sign-ups, hours and certificates.

Every row belongs to one volunteering stream: a volunteer's to ``volunteer-<id>``; a team and
its memberships to ``team-<id>``; a request and who finished it to ``request-<id>``; a cleaning
plan to ``plan-<resident>``; an activity, its shifts and sign-ups to ``activity-<id>``; an hours
entry to its volunteer's ``ledger-<id>``; a certificate to ``certificate-<id>``. Facts of
different streams (whose hours, in which team, for which resident) are joined only when read.

What is personal and not needed to answer a read stays in the volunteering service: a
request's description and the beneficiary's feedback are not kept here. A volunteer who
withdraws consent to their profile is no longer shown by name, skills or availability in any
read (``hidden_profile`` keeps them aside until the consent is given again; the volunteering
service still shows them to the coordinators).

A team's memberships are intervals (joined, left), so hours can be counted "while a member";
the leader named at formation is a member from then on, and a join while already a member
changes nothing. Hours are kept with their state (``pending`` until a coordinator approves or
rejects them); only ``approved`` hours count in any read.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import asyncpg

from anju_contracts import Envelope, EventCatalog
from anju_contracts.registry import CATALOG as REGISTRY, AreaPath
from anju_contracts.volunteering import (
    CATALOG,
    CertificateIssued,
    CleaningPlanStarted,
    CleaningPlanStopped,
    HoursApproved,
    HoursRecorded,
    HoursRejected,
    ServiceRequestAccepted,
    ServiceRequestAssigned,
    ServiceRequestCancelled,
    ServiceRequestDeclined,
    ServiceRequestDelivered,
    ServiceRequestFinished,
    ServiceRequestRaised,
    ServiceRequestResponseOverdue,
    ServiceRequestStarted,
    ShiftAttendanceRecorded,
    ShiftSignedUp,
    ShiftSignUpWithdrawn,
    TeamFormed,
    TeamLeaderChanged,
    TeamMemberJoined,
    TeamMemberLeft,
    VolunteerActivityScheduled,
    VolunteerChanged,
    VolunteerConsentGiven,
    VolunteerConsentWithdrawn,
    VolunteerJoined,
    VolunteerLeft,
    VolunteerPaused,
    VolunteerResumed,
)
from anju_query.projections.rollups import DailyRollup, placed_by
from eventkit.erasure import blank_on_erasure, blank_where
from eventkit.messages import Delivered
from eventkit.rows import Row, Writers

HOUR_DAYS = DailyRollup(
    "hour_days",
    "hours",
    {
        "community_id": ("uuid NOT NULL", "x.community_id"),
        "served_on": ("date NOT NULL", "x.served_on"),
        "grid_id": ("uuid", "x.grid_id"),
        "source": ("text NOT NULL", "x.source"),
    },
    where="x.state = 'approved' AND x.community_id IS NOT NULL",
    amount="x.hours",
)
"""The approved hours served on each day, by where their volunteer serves and by source: what
the dashboard sums."""

DDL = (
    """
CREATE TABLE volunteers (
    volunteer_id    uuid PRIMARY KEY,
    kind            text NOT NULL,
    name            text NOT NULL,
    resident_id     uuid,
    organisation_id uuid,
    community_id    uuid NOT NULL,
    grid_id         uuid,
    building_id     uuid,
    unit_id         uuid,
    skills          jsonb NOT NULL,
    availability    text,
    status          text NOT NULL,
    joined_on       date NOT NULL,
    paused_on       date,
    left_on         date,
    hidden_profile  jsonb
);
CREATE INDEX volunteers_community ON volunteers (community_id);
CREATE INDEX volunteers_organisation ON volunteers (organisation_id);

CREATE TABLE teams (
    team_id                  uuid PRIMARY KEY,
    name                     text NOT NULL,
    purpose                  text NOT NULL,
    community_id             uuid NOT NULL,
    grid_id                  uuid,
    building_id              uuid,
    unit_id                  uuid,
    leader_id                uuid NOT NULL,
    partner_organisation_ids jsonb NOT NULL,
    formed_at                timestamptz NOT NULL
);

CREATE TABLE team_members (
    team_id      uuid NOT NULL,
    volunteer_id uuid NOT NULL,
    joined_at    timestamptz NOT NULL,
    left_at      timestamptz,
    PRIMARY KEY (team_id, volunteer_id, joined_at)
);
CREATE INDEX team_members_volunteer ON team_members (volunteer_id);

CREATE TABLE requests (
    request_id       uuid PRIMARY KEY,
    resident_id      uuid NOT NULL,
    kind             text NOT NULL,
    status           text NOT NULL,
    community_id     uuid NOT NULL,
    grid_id          uuid,
    building_id      uuid,
    unit_id          uuid,
    raised_by        text NOT NULL,
    staff_id         text,
    period           text,
    raised_at        timestamptz NOT NULL,
    respond_by       timestamptz NOT NULL,
    team_id          uuid,
    volunteer_id     uuid,
    assigned_at      timestamptz,
    accepted_at      timestamptz,
    declines         integer NOT NULL DEFAULT 0,
    response_overdue boolean NOT NULL DEFAULT false,
    started_at       timestamptz,
    finished_at      timestamptz,
    hours            numeric(5, 2),
    delivered_at     timestamptz,
    satisfaction     integer,
    cancelled_at     timestamptz,
    cancel_reason    text,
    delivered_event_id uuid
);
CREATE INDEX requests_resident ON requests (resident_id);
CREATE INDEX requests_status ON requests (status, raised_at);
CREATE INDEX requests_delivered ON requests (delivered_at) WHERE status = 'delivered';

CREATE TABLE request_volunteers (
    request_id   uuid NOT NULL,
    volunteer_id uuid NOT NULL,
    finished_at  timestamptz NOT NULL,
    PRIMARY KEY (request_id, volunteer_id)
);
CREATE INDEX request_volunteers_volunteer ON request_volunteers (volunteer_id, finished_at);

CREATE TABLE cleaning_plans (
    resident_id  uuid PRIMARY KEY,
    community_id uuid NOT NULL,
    grid_id      uuid,
    building_id  uuid,
    unit_id      uuid,
    active       boolean NOT NULL,
    started_on   date NOT NULL,
    stopped_on   date,
    stop_reason  text
);

CREATE TABLE activities (
    activity_id  uuid PRIMARY KEY,
    kind         text NOT NULL,
    title        text NOT NULL,
    community_id uuid NOT NULL,
    grid_id      uuid,
    building_id  uuid,
    unit_id      uuid,
    team_id      uuid
);

CREATE TABLE shifts (
    shift_id    uuid PRIMARY KEY,
    activity_id uuid NOT NULL,
    starts_at   timestamptz NOT NULL,
    ends_at     timestamptz NOT NULL,
    capacity    integer NOT NULL
);
CREATE INDEX shifts_activity ON shifts (activity_id);

CREATE TABLE sign_ups (
    shift_id     uuid NOT NULL,
    volunteer_id uuid NOT NULL,
    activity_id  uuid NOT NULL,
    signed_up    boolean NOT NULL,
    attended     boolean,
    hours        numeric(5, 2),
    PRIMARY KEY (shift_id, volunteer_id)
);
CREATE INDEX sign_ups_volunteer ON sign_ups (volunteer_id) WHERE attended;

CREATE TABLE hours (
    entry_id        uuid PRIMARY KEY,
    volunteer_id    uuid NOT NULL,
    source          text NOT NULL,
    source_id       uuid NOT NULL,
    hours           numeric(5, 2) NOT NULL,
    served_on       date NOT NULL,
    organisation_id uuid,
    state           text NOT NULL,
    recorded_at     timestamptz NOT NULL,
    decided_on      date,
    decided_by      text,
    reject_reason   text,
    approved_event_id uuid,
    community_id    uuid,
    grid_id         uuid
);
CREATE INDEX hours_volunteer ON hours (volunteer_id, served_on) WHERE state = 'approved';
CREATE INDEX hours_of_volunteer ON hours (volunteer_id);
-- a volunteer's entries lie together (a rebuild orders the table so), for the dashboard's
-- active volunteers and each volunteer's hours
ALTER TABLE hours CLUSTER ON hours_of_volunteer;
CREATE INDEX hours_community ON hours (community_id, served_on) INCLUDE (grid_id)
    WHERE state = 'approved';
CREATE INDEX hours_rejected ON hours (volunteer_id) WHERE reject_reason IS NOT NULL;
CREATE INDEX hours_organisation ON hours (organisation_id, served_on) WHERE state = 'approved';

-- An entry carries where its volunteer serves now (null while the volunteer is unknown here),
-- kept by the database itself: taken from the volunteer's row when the entry is written, and
-- again whenever the volunteer's row is written or moves. So the dashboard counts a
-- community's hours by their own place, with the same answer as a join on the volunteers
-- whichever stream arrived first.
"""
    + placed_by("volunteers", "volunteer_id", ("hours",))
    + HOUR_DAYS.ddl()
    + """

CREATE TABLE certificates (
    certificate_id uuid PRIMARY KEY,
    number         text NOT NULL UNIQUE,
    volunteer_id   uuid NOT NULL,
    period_from    date NOT NULL,
    period_to      date NOT NULL,
    hours          numeric(8, 2) NOT NULL,
    services       integer NOT NULL,
    content        text NOT NULL,
    issuer         text NOT NULL,
    issued_on      date NOT NULL
);
CREATE INDEX certificates_volunteer ON certificates (volunteer_id);
"""
)

WRITERS = Writers()
"""How each volunteering event becomes rows of these tables."""


def _path(path: AreaPath) -> Row:
    return (path.community_id, path.grid_id, path.building_id, path.unit_id)


# -- volunteers -----------------------------------------------------------------------------


@WRITERS.row(
    VolunteerJoined,
    """
    INSERT INTO volunteers (volunteer_id, kind, name, resident_id, organisation_id, community_id,
                            grid_id, building_id, unit_id, skills, availability, status,
                            joined_on)
    SELECT v, k, n, r, o, c, g, b, u, s::jsonb, a, 'active', d
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::uuid[],
                $7::uuid[], $8::uuid[], $9::uuid[], $10::text[], $11::text[], $12::date[])
         AS x(v, k, n, r, o, c, g, b, u, s, a, d)
    ON CONFLICT (volunteer_id) DO UPDATE SET kind = EXCLUDED.kind, name = EXCLUDED.name,
        resident_id = EXCLUDED.resident_id, organisation_id = EXCLUDED.organisation_id,
        community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
        building_id = EXCLUDED.building_id, unit_id = EXCLUDED.unit_id,
        skills = EXCLUDED.skills, availability = EXCLUDED.availability, status = 'active',
        joined_on = EXCLUDED.joined_on, paused_on = NULL, left_on = NULL
    """,
)
def _joined(_: Envelope, e: VolunteerJoined) -> Row:
    return (
        e.volunteer_id,
        e.kind.value,
        e.name,
        e.resident_id,
        e.organisation_id,
        *_path(e.path),
        json.dumps(e.skills, ensure_ascii=False),
        e.availability,
        e.joined_on,
    )


# Only what changed is given: a missing field keeps its value, a new path replaces all four.
@WRITERS.row(
    VolunteerChanged,
    """
    UPDATE volunteers v SET skills = coalesce(x.s::jsonb, v.skills),
        availability = coalesce(x.a, v.availability),
        community_id = CASE WHEN x.moved THEN x.c ELSE v.community_id END,
        grid_id = CASE WHEN x.moved THEN x.g ELSE v.grid_id END,
        building_id = CASE WHEN x.moved THEN x.b ELSE v.building_id END,
        unit_id = CASE WHEN x.moved THEN x.u ELSE v.unit_id END
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::bool[], $5::uuid[], $6::uuid[],
                $7::uuid[], $8::uuid[]) AS x(id, s, a, moved, c, g, b, u)
    WHERE v.volunteer_id = x.id
    """,
)
def _changed(_: Envelope, e: VolunteerChanged) -> Row:
    skills = None if e.skills is None else json.dumps(e.skills, ensure_ascii=False)
    place = (None, None, None, None) if e.path is None else _path(e.path)
    return (e.volunteer_id, skills, e.availability, e.path is not None, *place)


@WRITERS.row(
    VolunteerConsentWithdrawn,
    """
    UPDATE volunteers v SET hidden_profile = jsonb_build_object(
            'name', v.name, 'skills', v.skills, 'availability', v.availability),
        name = '', skills = '[]'::jsonb, availability = NULL
    FROM unnest($1::uuid[], $2::text[]) AS x(id, purpose)
    WHERE v.volunteer_id = x.id AND x.purpose = 'profile' AND v.hidden_profile IS NULL
    """,
)
def _consent_withdrawn(_: Envelope, e: VolunteerConsentWithdrawn) -> Row:
    return (e.volunteer_id, e.purpose.value)


@WRITERS.row(
    VolunteerConsentGiven,
    """
    UPDATE volunteers v SET name = v.hidden_profile->>'name',
        skills = v.hidden_profile->'skills', availability = v.hidden_profile->>'availability',
        hidden_profile = NULL
    FROM unnest($1::uuid[], $2::text[]) AS x(id, purpose)
    WHERE v.volunteer_id = x.id AND x.purpose = 'profile' AND v.hidden_profile IS NOT NULL
    """,
)
def _consent_given(_: Envelope, e: VolunteerConsentGiven) -> Row:
    return (e.volunteer_id, e.purpose.value)


_STATUS = """
    UPDATE volunteers v SET status = '{status}', {dates}
    FROM unnest($1::uuid[], $2::date[]) AS x(id, d)
    WHERE v.volunteer_id = x.id
"""


@WRITERS.row(VolunteerPaused, _STATUS.format(status="paused", dates="paused_on = x.d"))
def _paused(_: Envelope, e: VolunteerPaused) -> Row:
    return (e.volunteer_id, e.paused_on)


@WRITERS.row(VolunteerResumed, _STATUS.format(status="active", dates="paused_on = NULL"))
def _resumed(_: Envelope, e: VolunteerResumed) -> Row:
    return (e.volunteer_id, e.resumed_on)


@WRITERS.row(VolunteerLeft, _STATUS.format(status="left", dates="left_on = x.d"))
def _left(_: Envelope, e: VolunteerLeft) -> Row:
    return (e.volunteer_id, e.left_on)


# -- teams ----------------------------------------------------------------------------------


@WRITERS.row(
    TeamFormed,
    """
    INSERT INTO teams (team_id, name, purpose, community_id, grid_id, building_id, unit_id,
                       leader_id, partner_organisation_ids, formed_at)
    SELECT t, n, p, c, g, b, u, l, o::jsonb, at
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::uuid[],
                $7::uuid[], $8::uuid[], $9::text[], $10::timestamptz[])
         AS x(t, n, p, c, g, b, u, l, o, at)
    ON CONFLICT (team_id) DO UPDATE SET name = EXCLUDED.name, purpose = EXCLUDED.purpose,
        community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
        building_id = EXCLUDED.building_id, unit_id = EXCLUDED.unit_id,
        leader_id = EXCLUDED.leader_id,
        partner_organisation_ids = EXCLUDED.partner_organisation_ids,
        formed_at = EXCLUDED.formed_at
    """,
)
def _formed(env: Envelope, e: TeamFormed) -> Row:
    partners = json.dumps([str(o) for o in e.partner_organisation_ids])
    return (
        e.team_id,
        e.name,
        e.purpose.value,
        *_path(e.path),
        e.leader_id,
        partners,
        env.occurred_at,
    )


# A membership starts unless the volunteer is a member already (the leader from formation on).
_MEMBER_JOINED = """
    INSERT INTO team_members (team_id, volunteer_id, joined_at)
    SELECT x.t, x.v, x.at FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS x(t, v, at)
    WHERE NOT EXISTS (
        SELECT 1 FROM team_members m
        WHERE m.team_id = x.t AND m.volunteer_id = x.v AND m.left_at IS NULL
    )
    ON CONFLICT DO NOTHING
"""


@WRITERS.row(TeamFormed, _MEMBER_JOINED)
def _leader_member(env: Envelope, e: TeamFormed) -> Row:
    return (e.team_id, e.leader_id, env.occurred_at)


@WRITERS.row(TeamMemberJoined, _MEMBER_JOINED)
def _member_joined(env: Envelope, e: TeamMemberJoined) -> Row:
    return (e.team_id, e.volunteer_id, env.occurred_at)


@WRITERS.row(
    TeamMemberLeft,
    """
    UPDATE team_members m SET left_at = x.at
    FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS x(t, v, at)
    WHERE m.team_id = x.t AND m.volunteer_id = x.v AND m.left_at IS NULL
    """,
)
def _member_left(env: Envelope, e: TeamMemberLeft) -> Row:
    return (e.team_id, e.volunteer_id, env.occurred_at)


@WRITERS.row(
    TeamLeaderChanged,
    """
    UPDATE teams t SET leader_id = x.l
    FROM unnest($1::uuid[], $2::uuid[]) AS x(id, l)
    WHERE t.team_id = x.id
    """,
)
def _leader(_: Envelope, e: TeamLeaderChanged) -> Row:
    return (e.team_id, e.leader_id)


# -- service requests -----------------------------------------------------------------------


@WRITERS.row(
    ServiceRequestRaised,
    """
    INSERT INTO requests (request_id, resident_id, kind, status, community_id, grid_id,
                          building_id, unit_id, raised_by, staff_id, period, raised_at,
                          respond_by)
    SELECT q, r, k, 'open', c, g, b, u, rb, s, pe, at, due
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::uuid[], $6::uuid[],
                $7::uuid[], $8::text[], $9::text[], $10::text[], $11::timestamptz[],
                $12::timestamptz[]) AS x(q, r, k, c, g, b, u, rb, s, pe, at, due)
    ON CONFLICT (request_id) DO UPDATE SET resident_id = EXCLUDED.resident_id,
        kind = EXCLUDED.kind, status = 'open', community_id = EXCLUDED.community_id,
        grid_id = EXCLUDED.grid_id, building_id = EXCLUDED.building_id,
        unit_id = EXCLUDED.unit_id, raised_by = EXCLUDED.raised_by,
        staff_id = EXCLUDED.staff_id, period = EXCLUDED.period,
        raised_at = EXCLUDED.raised_at, respond_by = EXCLUDED.respond_by
    """,
)
def _raised(_: Envelope, e: ServiceRequestRaised) -> Row:
    return (
        e.request_id,
        e.resident_id,
        e.kind.value,
        *_path(e.path),
        e.raised_by.value,
        e.staff_id,
        e.period,
        e.raised_at,
        e.respond_by,
    )


@WRITERS.row(
    ServiceRequestAssigned,
    """
    UPDATE requests q SET status = 'assigned', team_id = x.t, volunteer_id = x.v,
        assigned_at = x.at
    FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::timestamptz[]) AS x(id, t, v, at)
    WHERE q.request_id = x.id
    """,
)
def _assigned(_: Envelope, e: ServiceRequestAssigned) -> Row:
    return (e.request_id, e.team_id, e.volunteer_id, e.assigned_at)


@WRITERS.row(
    ServiceRequestAccepted,
    """
    UPDATE requests q SET status = 'accepted', volunteer_id = x.v, accepted_at = x.at
    FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS x(id, v, at)
    WHERE q.request_id = x.id
    """,
)
def _accepted(_: Envelope, e: ServiceRequestAccepted) -> Row:
    return (e.request_id, e.volunteer_id, e.accepted_at)


# Declined: open for assignment again, given to nobody.
@WRITERS.row(
    ServiceRequestDeclined,
    """
    UPDATE requests q SET status = 'open', team_id = NULL, volunteer_id = NULL,
        assigned_at = NULL, accepted_at = NULL, declines = q.declines + 1
    FROM unnest($1::uuid[]) AS x(id)
    WHERE q.request_id = x.id
    """,
)
def _declined(_: Envelope, e: ServiceRequestDeclined) -> Row:
    return (e.request_id,)


# the scheduler's flag, kept as it came: whether the request was taken up in time is judged when
# read, from when it was accepted (anju_query.application.service_requests)
@WRITERS.row(
    ServiceRequestResponseOverdue,
    """
    UPDATE requests q SET response_overdue = true
    FROM unnest($1::uuid[]) AS x(id)
    WHERE q.request_id = x.id
    """,
)
def _response_overdue(_: Envelope, e: ServiceRequestResponseOverdue) -> Row:
    return (e.request_id,)


@WRITERS.row(
    ServiceRequestStarted,
    """
    UPDATE requests q SET status = 'in_progress', started_at = x.at
    FROM unnest($1::uuid[], $2::timestamptz[]) AS x(id, at)
    WHERE q.request_id = x.id
    """,
)
def _started(_: Envelope, e: ServiceRequestStarted) -> Row:
    return (e.request_id, e.checked_in_at)


@WRITERS.row(
    ServiceRequestFinished,
    """
    UPDATE requests q SET status = 'finished', finished_at = x.at, hours = x.h::numeric(5, 2)
    FROM unnest($1::uuid[], $2::timestamptz[], $3::float8[]) AS x(id, at, h)
    WHERE q.request_id = x.id
    """,
)
def _finished(_: Envelope, e: ServiceRequestFinished) -> Row:
    return (e.request_id, e.checked_out_at, e.hours)


@WRITERS.rows(
    ServiceRequestFinished,
    """
    INSERT INTO request_volunteers (request_id, volunteer_id, finished_at)
    SELECT q, v, at FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) AS x(q, v, at)
    ON CONFLICT (request_id, volunteer_id) DO UPDATE SET finished_at = EXCLUDED.finished_at
    """,
)
def _finished_by(_: Envelope, e: ServiceRequestFinished) -> list[Row]:
    return [(e.request_id, v, e.checked_out_at) for v in dict.fromkeys(e.volunteer_ids)]


@WRITERS.row(
    ServiceRequestDelivered,
    """
    UPDATE requests q SET status = 'delivered', delivered_at = x.at, satisfaction = x.s,
        delivered_event_id = x.ev
    FROM unnest($1::uuid[], $2::timestamptz[], $3::int[], $4::uuid[]) AS x(id, at, s, ev)
    WHERE q.request_id = x.id
    """,
)
def _delivered(env: Envelope, e: ServiceRequestDelivered) -> Row:
    return (e.request_id, e.delivered_at, e.satisfaction, env.id)


@WRITERS.row(
    ServiceRequestCancelled,
    """
    UPDATE requests q SET status = 'cancelled', cancelled_at = x.at, cancel_reason = x.why
    FROM unnest($1::uuid[], $2::timestamptz[], $3::text[]) AS x(id, at, why)
    WHERE q.request_id = x.id
    """,
)
def _cancelled(_: Envelope, e: ServiceRequestCancelled) -> Row:
    return (e.request_id, e.cancelled_at, e.reason.value)


# -- the elderly-alone cleaning plan ----------------------------------------------------------


@WRITERS.row(
    CleaningPlanStarted,
    """
    INSERT INTO cleaning_plans (resident_id, community_id, grid_id, building_id, unit_id, active,
                                started_on)
    SELECT r, c, g, b, u, true, d
    FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::uuid[], $5::uuid[], $6::date[])
         AS x(r, c, g, b, u, d)
    ON CONFLICT (resident_id) DO UPDATE SET community_id = EXCLUDED.community_id,
        grid_id = EXCLUDED.grid_id, building_id = EXCLUDED.building_id,
        unit_id = EXCLUDED.unit_id, active = true, started_on = EXCLUDED.started_on,
        stopped_on = NULL, stop_reason = NULL
    """,
)
def _plan_started(_: Envelope, e: CleaningPlanStarted) -> Row:
    return (e.resident_id, *_path(e.path), e.started_on)


@WRITERS.row(
    CleaningPlanStopped,
    """
    UPDATE cleaning_plans p SET active = false, stopped_on = x.d, stop_reason = x.why
    FROM unnest($1::uuid[], $2::date[], $3::text[]) AS x(id, d, why)
    WHERE p.resident_id = x.id
    """,
)
def _plan_stopped(_: Envelope, e: CleaningPlanStopped) -> Row:
    return (e.resident_id, e.stopped_on, e.reason.value)


# -- activities -----------------------------------------------------------------------------


@WRITERS.row(
    VolunteerActivityScheduled,
    """
    INSERT INTO activities (activity_id, kind, title, community_id, grid_id, building_id,
                            unit_id, team_id)
    SELECT a, k, t, c, g, b, u, tm
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::uuid[], $5::uuid[], $6::uuid[],
                $7::uuid[], $8::uuid[]) AS x(a, k, t, c, g, b, u, tm)
    ON CONFLICT (activity_id) DO UPDATE SET kind = EXCLUDED.kind, title = EXCLUDED.title,
        community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
        building_id = EXCLUDED.building_id, unit_id = EXCLUDED.unit_id,
        team_id = EXCLUDED.team_id
    """,
)
def _scheduled(_: Envelope, e: VolunteerActivityScheduled) -> Row:
    return (e.activity_id, e.kind.value, e.title, *_path(e.path), e.team_id)


@WRITERS.rows(
    VolunteerActivityScheduled,
    """
    INSERT INTO shifts (shift_id, activity_id, starts_at, ends_at, capacity)
    SELECT s, a, st, en, n
    FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[], $5::int[])
         AS x(s, a, st, en, n)
    ON CONFLICT (shift_id) DO UPDATE SET activity_id = EXCLUDED.activity_id,
        starts_at = EXCLUDED.starts_at, ends_at = EXCLUDED.ends_at, capacity = EXCLUDED.capacity
    """,
)
def _shifts(_: Envelope, e: VolunteerActivityScheduled) -> list[Row]:
    shifts = {s.shift_id: s for s in e.shifts}
    return [
        (s.shift_id, e.activity_id, s.starts_at, s.ends_at, s.capacity) for s in shifts.values()
    ]


@WRITERS.row(
    ShiftSignedUp,
    """
    INSERT INTO sign_ups (shift_id, volunteer_id, activity_id, signed_up)
    SELECT s, v, a, true FROM unnest($1::uuid[], $2::uuid[], $3::uuid[]) AS x(s, v, a)
    ON CONFLICT (shift_id, volunteer_id) DO UPDATE SET signed_up = true
    """,
)
def _signed_up(_: Envelope, e: ShiftSignedUp) -> Row:
    return (e.shift_id, e.volunteer_id, e.activity_id)


@WRITERS.row(
    ShiftSignUpWithdrawn,
    """
    UPDATE sign_ups su SET signed_up = false
    FROM unnest($1::uuid[], $2::uuid[]) AS x(s, v)
    WHERE su.shift_id = x.s AND su.volunteer_id = x.v
    """,
)
def _withdrawn(_: Envelope, e: ShiftSignUpWithdrawn) -> Row:
    return (e.shift_id, e.volunteer_id)


@WRITERS.row(
    ShiftAttendanceRecorded,
    """
    INSERT INTO sign_ups (shift_id, volunteer_id, activity_id, signed_up, attended, hours)
    SELECT s, v, a, true, att, h::numeric(5, 2)
    FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::bool[], $5::float8[])
         AS x(s, v, a, att, h)
    ON CONFLICT (shift_id, volunteer_id) DO UPDATE SET attended = EXCLUDED.attended,
        hours = EXCLUDED.hours
    """,
)
def _attendance(_: Envelope, e: ShiftAttendanceRecorded) -> Row:
    return (e.shift_id, e.volunteer_id, e.activity_id, e.attended, e.hours)


# -- hours and certificates -----------------------------------------------------------------


@WRITERS.row(
    HoursRecorded,
    """
    INSERT INTO hours (entry_id, volunteer_id, source, source_id, hours, served_on,
                       organisation_id, state, recorded_at, community_id, grid_id)
    SELECT e, v, s, si, h::numeric(5, 2), d, o, 'pending', at, p.community_id, p.grid_id
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::float8[], $6::date[],
                $7::uuid[], $8::timestamptz[]) AS x(e, v, s, si, h, d, o, at)
    LEFT JOIN volunteers p ON p.volunteer_id = x.v
    ON CONFLICT (entry_id) DO UPDATE SET volunteer_id = EXCLUDED.volunteer_id,
        community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
        source = EXCLUDED.source, source_id = EXCLUDED.source_id, hours = EXCLUDED.hours,
        served_on = EXCLUDED.served_on, organisation_id = EXCLUDED.organisation_id,
        state = 'pending', recorded_at = EXCLUDED.recorded_at, decided_on = NULL,
        decided_by = NULL, reject_reason = NULL
    """,
)
def _recorded(env: Envelope, e: HoursRecorded) -> Row:
    return (
        e.entry_id,
        e.volunteer_id,
        e.source.value,
        e.source_id,
        e.hours,
        e.served_on,
        e.organisation_id,
        env.occurred_at,
    )


@WRITERS.row(
    HoursApproved,
    """
    UPDATE hours h SET state = 'approved', decided_on = x.d, decided_by = x.who,
        approved_event_id = x.ev
    FROM unnest($1::uuid[], $2::date[], $3::text[], $4::uuid[]) AS x(id, d, who, ev)
    WHERE h.entry_id = x.id
    """,
)
def _approved(env: Envelope, e: HoursApproved) -> Row:
    return (e.entry_id, e.approved_on, e.approved_by, env.id)


@WRITERS.row(
    HoursRejected,
    """
    UPDATE hours h SET state = 'rejected', decided_on = x.d, decided_by = x.who,
        reject_reason = x.why
    FROM unnest($1::uuid[], $2::date[], $3::text[], $4::text[]) AS x(id, d, who, why)
    WHERE h.entry_id = x.id
    """,
)
def _rejected(env: Envelope, e: HoursRejected) -> Row:
    return (e.entry_id, env.occurred_at.date(), e.rejected_by, e.reason)


@WRITERS.row(
    CertificateIssued,
    """
    INSERT INTO certificates (certificate_id, number, volunteer_id, period_from, period_to,
                              hours, services, content, issuer, issued_on)
    SELECT c, n, v, pf, pt, h::numeric(8, 2), s, ct, i, d
    FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::date[], $5::date[], $6::float8[],
                $7::int[], $8::text[], $9::text[], $10::date[])
         AS x(c, n, v, pf, pt, h, s, ct, i, d)
    ON CONFLICT (certificate_id) DO UPDATE SET number = EXCLUDED.number,
        volunteer_id = EXCLUDED.volunteer_id, period_from = EXCLUDED.period_from,
        period_to = EXCLUDED.period_to, hours = EXCLUDED.hours, services = EXCLUDED.services,
        content = EXCLUDED.content, issuer = EXCLUDED.issuer, issued_on = EXCLUDED.issued_on
    """,
)
def _certificate(_: Envelope, e: CertificateIssued) -> Row:
    return (
        e.certificate_id,
        e.number,
        e.volunteer_id,
        e.period_from,
        e.period_to,
        e.hours,
        e.services,
        e.content,
        e.issuer,
        e.issued_on,
    )


# A person's erasure (docs/personal-data.md, "Erasure"): a volunteer who is the resident reads
# "[已删除]" by name (a hidden profile too), and so do the reasons their hours were rejected
# (their ledger's key goes with them); hours, requests and counts stay.
_ERASED = "resident_id = ANY($1::uuid[])"
_THEIR_REJECTIONS = (
    "reject_reason IS NOT NULL"
    " AND volunteer_id IN (SELECT volunteer_id FROM volunteers WHERE resident_id = ANY($1::uuid[]))"
)

blank_on_erasure(
    WRITERS,
    blank_where(
        "volunteers",
        _ERASED,
        text=["name"],
        also=[
            "hidden_profile = CASE WHEN hidden_profile IS NULL THEN NULL"
            " ELSE jsonb_set(hidden_profile, '{name}', to_jsonb('[已删除]'::text)) END"
        ],
    ),
    blank_where("hours", _THEIR_REJECTIONS, text=["reject_reason"]),
)


# -- the projection -------------------------------------------------------------------------


class VolunteeringProjection:
    """Volunteering events → the tables behind requests, hours, volunteers and host units."""

    name = "volunteering"
    catalogs: Sequence[EventCatalog] = (CATALOG, REGISTRY)
    reads = WRITERS.event_types  # of the registry's, only what it writes rows for
    ddl = DDL

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        await WRITERS.apply(conn, batch)
