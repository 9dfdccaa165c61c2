"""The ``station`` read model: the desk's receptions, its convenience services, residence
certificates, lectures and activities, the opinions raised at opinion-gathering sessions, and the
duty roster.

Only what ``station.events`` carries, and of that little that is personal: a reception's note, a
service's outcome text, a refusal's reason and a callback's note are left out (they would
outlive their erasure here), and the elderly window's bill help is only its bill type. A
certificate keeps its holder's id, not the name printed on it (reads take the name from the
resident directory, for those who may see the resident), nor its purpose. An opinion keeps its
text and the desk's reply: the opinion log is read for them (by the roles that read it); a
referral's note is left out.

Every row belongs to one station stream: a reception to its ``reception-<id>`` stream (one
event), a service to its ``service-<id>`` stream, whose first event (:class:`ServiceReceived`)
places it in its community or grid; the later events of the stream update that row. A
certificate, a gathering and an opinion likewise. A duty roster row is one
:class:`DutyRosterSet` of a ``roster-<id>`` stream for one day: several streams may set the same
community's day, in any order on the topic, so all are kept and a read takes the latest (by
``set_at``, then by the station's commit order, ``position``) — the same answer whichever
arrived first. Each event type has one set-based statement over ``unnest`` of its column arrays,
run by :class:`eventkit.rows.Writers` once per group of a batch.

What mediation made of an opinion referred to it is on the ``disputes`` read model (a signal
keeps its ``origin``), joined when read, so the order of the two topics does not matter.

A reception's day (``logged_on``) is the UTC date of ``logged_at``, an opinion's (``raised_on``)
of ``raised_at``: the desk's counts per day, week and month are of UTC calendar days.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC

import asyncpg

from anju_contracts import Envelope, EventCatalog
from anju_contracts.registry import CATALOG as REGISTRY, AreaPath
from anju_contracts.station import (
    CATALOG,
    CallbackRecorded,
    DutyRosterSet,
    GatheringHeld,
    HandOffOverdue,
    OneTimeNoticeIssued,
    OpinionAnswered,
    OpinionRaised,
    OpinionReferred,
    ReceptionLogged,
    ResidenceCertificateIssued,
    ResidenceCertificateRevoked,
    ServiceAccepted,
    ServiceCompleted,
    ServiceHandedOff,
    ServiceReceived,
    ServiceRefused,
)
from anju_query.projections.rollups import DailyRollup
from eventkit.erasure import blank_on_erasure, blank_where
from eventkit.messages import Delivered
from eventkit.rows import Row, Writers

RECEPTION_DAYS = DailyRollup(
    "reception_days",
    "receptions",
    {
        "community_id": ("uuid NOT NULL", "x.community_id"),
        "logged_on": ("date NOT NULL", "x.logged_on"),
        "grid_id": ("uuid", "x.grid_id"),
    },
)
"""The receptions of each day and place: what the dashboard counts."""

DDL = (
    """
CREATE TABLE receptions (
    reception_id uuid PRIMARY KEY,
    resident_id  uuid,
    purposes     text[] NOT NULL,
    referred_by  text NOT NULL,
    outcome      text NOT NULL,
    community_id uuid NOT NULL,
    grid_id      uuid,
    building_id  uuid,
    unit_id      uuid,
    staff_id     text NOT NULL,
    logged_at    timestamptz NOT NULL,
    logged_on    date NOT NULL,
    event_id     uuid
);
CREATE INDEX receptions_logged ON receptions (logged_on);
CREATE INDEX receptions_community ON receptions (community_id, logged_on) INCLUDE (grid_id);
CREATE INDEX receptions_resident ON receptions (resident_id) WHERE resident_id IS NOT NULL;
"""
    + RECEPTION_DAYS.ddl()
    + """

CREATE TABLE services (
    service_id       uuid PRIMARY KEY,
    service_type     text NOT NULL,
    resident_id      uuid,
    reception_id     uuid,
    community_id     uuid NOT NULL,
    grid_id          uuid,
    building_id      uuid,
    unit_id          uuid,
    staff_id         text NOT NULL,
    bill_type        text,
    status           text NOT NULL,
    received_at      timestamptz NOT NULL,
    notices          integer NOT NULL DEFAULT 0,
    last_notice      text,
    notice_issued_at timestamptz,
    accepted_at      timestamptz,
    organisation_id  uuid,
    handed_off_at    timestamptz,
    due_by           timestamptz,
    overdue          boolean NOT NULL DEFAULT false,
    completed_at     timestamptz,
    refused_at       timestamptz,
    satisfaction     integer,
    called_at        timestamptz,
    event_id         uuid,
    callback_event_id uuid
);
CREATE INDEX services_received ON services (received_at);
CREATE INDEX services_community ON services (community_id, status);
CREATE INDEX services_resident ON services (resident_id) WHERE resident_id IS NOT NULL;
CREATE INDEX services_overdue ON services (due_by) WHERE overdue;

CREATE TABLE certificates (
    certificate_id uuid PRIMARY KEY,
    number         text NOT NULL,
    resident_id    uuid NOT NULL,
    address        text NOT NULL,
    community_name text NOT NULL,
    living_since   date NOT NULL,
    community_id   uuid NOT NULL,
    grid_id        uuid,
    building_id    uuid,
    unit_id        uuid,
    issued_by      text NOT NULL,
    issued_on      date NOT NULL,
    status         text NOT NULL,
    revoked_reason text,
    revoked_by     text,
    revoked_at     timestamptz
);
CREATE INDEX certificates_resident ON certificates (resident_id);
CREATE INDEX certificates_community ON certificates (community_id, issued_on);

CREATE TABLE gatherings (
    gathering_id uuid PRIMARY KEY,
    kind         text NOT NULL,
    topic        text NOT NULL,
    speaker      text,
    held_on      date NOT NULL,
    attendance   integer NOT NULL,
    partner_id   uuid,
    community_id uuid NOT NULL,
    grid_id      uuid,
    building_id  uuid,
    unit_id      uuid,
    recorded_by  text NOT NULL,
    recorded_at  timestamptz NOT NULL,
    event_id     uuid
);
CREATE INDEX gatherings_community ON gatherings (community_id, held_on);

CREATE TABLE opinions (
    opinion_id   uuid PRIMARY KEY,
    gathering_id uuid NOT NULL,
    text         text NOT NULL,
    resident_id  uuid,
    community_id uuid NOT NULL,
    grid_id      uuid,
    building_id  uuid,
    unit_id      uuid,
    recorded_by  text NOT NULL,
    raised_at    timestamptz NOT NULL,
    raised_on    date NOT NULL,
    status       text NOT NULL,
    reply        text,
    answered_by  text,
    answered_at  timestamptz,
    referred_to  text,
    referred_by  text,
    referred_at  timestamptz
);
CREATE INDEX opinions_community ON opinions (community_id, raised_on);
CREATE INDEX opinions_gathering ON opinions (gathering_id);

CREATE TABLE rosters (
    roster_id    uuid NOT NULL,
    day          date NOT NULL,
    desk         jsonb NOT NULL,
    pioneer_post jsonb NOT NULL,
    community_id uuid NOT NULL,
    grid_id      uuid,
    set_by       text NOT NULL,
    set_at       timestamptz NOT NULL,
    position     bigint NOT NULL,
    PRIMARY KEY (roster_id, day)
);
CREATE INDEX rosters_day ON rosters (community_id, day, set_at DESC, position DESC);
"""
)

WRITERS = Writers()
"""How each station event becomes rows of these tables."""


def _path(path: AreaPath) -> Row:
    return (path.community_id, path.grid_id, path.building_id, path.unit_id)


# -- receptions -----------------------------------------------------------------------------


@WRITERS.row(
    ReceptionLogged,
    """
    INSERT INTO receptions (reception_id, resident_id, purposes, referred_by, outcome,
                            community_id, grid_id, building_id, unit_id, staff_id, logged_at,
                            logged_on, event_id)
    SELECT id, r, string_to_array(ps, ','), ref, o, c, g, b, u, s, at, d, ev
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::uuid[],
                $7::uuid[], $8::uuid[], $9::uuid[], $10::text[], $11::timestamptz[], $12::date[],
                $13::uuid[])
         AS x(id, r, ps, ref, o, c, g, b, u, s, at, d, ev)
    ON CONFLICT (reception_id) DO UPDATE SET resident_id = EXCLUDED.resident_id,
        purposes = EXCLUDED.purposes, referred_by = EXCLUDED.referred_by,
        outcome = EXCLUDED.outcome, community_id = EXCLUDED.community_id,
        grid_id = EXCLUDED.grid_id, building_id = EXCLUDED.building_id,
        unit_id = EXCLUDED.unit_id, staff_id = EXCLUDED.staff_id,
        logged_at = EXCLUDED.logged_at, logged_on = EXCLUDED.logged_on,
        event_id = EXCLUDED.event_id
    """,
)
def _reception(env: Envelope, e: ReceptionLogged) -> Row:
    # purposes are enum values (no comma in any): one text per row keeps the arrays flat
    purposes = ",".join(dict.fromkeys(p.value for p in e.purposes))
    return (
        e.reception_id,
        e.resident_id,
        purposes,
        e.referred_by.value,
        e.outcome.value,
        *_path(e.path),
        e.staff_id,
        e.logged_at,
        e.logged_at.astimezone(UTC).date(),
        env.id,
    )


# -- convenience services -------------------------------------------------------------------


@WRITERS.row(
    ServiceReceived,
    """
    INSERT INTO services (service_id, service_type, resident_id, reception_id, community_id,
                          grid_id, building_id, unit_id, staff_id, bill_type, status, received_at,
                          event_id)
    SELECT id, t, r, rec, c, g, b, u, s, bill, 'received', at, ev
    FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[],
                $7::uuid[], $8::uuid[], $9::text[], $10::text[], $11::timestamptz[], $12::uuid[])
         AS x(id, t, r, rec, c, g, b, u, s, bill, at, ev)
    ON CONFLICT (service_id) DO UPDATE SET service_type = EXCLUDED.service_type,
        resident_id = EXCLUDED.resident_id, reception_id = EXCLUDED.reception_id,
        community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
        building_id = EXCLUDED.building_id, unit_id = EXCLUDED.unit_id,
        staff_id = EXCLUDED.staff_id, bill_type = EXCLUDED.bill_type, status = 'received',
        received_at = EXCLUDED.received_at, notices = 0, last_notice = NULL,
        notice_issued_at = NULL, accepted_at = NULL, organisation_id = NULL,
        handed_off_at = NULL, due_by = NULL, overdue = false, completed_at = NULL,
        refused_at = NULL, satisfaction = NULL, called_at = NULL, event_id = EXCLUDED.event_id,
        callback_event_id = NULL
    """,
)
def _received(env: Envelope, e: ServiceReceived) -> Row:
    return (
        e.service_id,
        e.service_type,
        e.resident_id,
        e.reception_id,
        *_path(e.path),
        e.staff_id,
        None if e.bill_type is None else e.bill_type.value,
        e.received_at,
        env.id,
    )


@WRITERS.row(
    OneTimeNoticeIssued,
    """
    UPDATE services s SET status = 'notice_issued', notices = s.notices + 1,
        last_notice = x.n, notice_issued_at = x.at
    FROM unnest($1::uuid[], $2::text[], $3::timestamptz[]) AS x(id, n, at)
    WHERE s.service_id = x.id
    """,
)
def _notice(_: Envelope, e: OneTimeNoticeIssued) -> Row:
    return (e.service_id, e.notice_number, e.issued_at)


@WRITERS.row(
    ServiceAccepted,
    """
    UPDATE services s SET status = 'accepted', accepted_at = x.at
    FROM unnest($1::uuid[], $2::timestamptz[]) AS x(id, at)
    WHERE s.service_id = x.id
    """,
)
def _accepted(_: Envelope, e: ServiceAccepted) -> Row:
    return (e.service_id, e.accepted_at)


@WRITERS.row(
    ServiceHandedOff,
    """
    UPDATE services s SET status = 'handed_off', organisation_id = x.o, handed_off_at = x.at,
        due_by = x.due, overdue = false
    FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[], $4::timestamptz[]) AS x(id, o, at, due)
    WHERE s.service_id = x.id
    """,
)
def _handed_off(_: Envelope, e: ServiceHandedOff) -> Row:
    return (e.service_id, e.organisation_id, e.handed_off_at, e.due_by)


# The mark stays once set when the service is finished late. Finished by its due date (in business
# time: a completion from the paper ledger, sent after the scheduler marked the back-dated hand-off
# overdue), it was never overdue.
@WRITERS.row(
    HandOffOverdue,
    """
    UPDATE services s SET overdue = true
    FROM unnest($1::uuid[]) AS x(id)
    WHERE s.service_id = x.id
    """,
)
def _overdue(_: Envelope, e: HandOffOverdue) -> Row:
    return (e.service_id,)


@WRITERS.row(
    ServiceCompleted,
    """
    UPDATE services s SET status = 'completed', completed_at = x.at,
        overdue = s.overdue AND coalesce(x.at > s.due_by, true)
    FROM unnest($1::uuid[], $2::timestamptz[]) AS x(id, at)
    WHERE s.service_id = x.id
    """,
)
def _completed(_: Envelope, e: ServiceCompleted) -> Row:
    return (e.service_id, e.completed_at)


@WRITERS.row(
    ServiceRefused,
    """
    UPDATE services s SET status = 'refused', refused_at = x.at,
        overdue = s.overdue AND coalesce(x.at > s.due_by, true)
    FROM unnest($1::uuid[], $2::timestamptz[]) AS x(id, at)
    WHERE s.service_id = x.id
    """,
)
def _refused(_: Envelope, e: ServiceRefused) -> Row:
    return (e.service_id, e.refused_at)


# A later callback replaces an earlier one's rating.
@WRITERS.row(
    CallbackRecorded,
    """
    UPDATE services s SET satisfaction = x.n, called_at = x.at, callback_event_id = x.ev
    FROM unnest($1::uuid[], $2::int[], $3::timestamptz[], $4::uuid[]) AS x(id, n, at, ev)
    WHERE s.service_id = x.id
    """,
)
def _callback(env: Envelope, e: CallbackRecorded) -> Row:
    return (e.service_id, e.satisfaction, e.called_at, env.id)


# -- residence certificates ------------------------------------------------------------------


@WRITERS.row(
    ResidenceCertificateIssued,
    """
    INSERT INTO certificates (certificate_id, number, resident_id, address, community_name,
                              living_since, community_id, grid_id, building_id, unit_id,
                              issued_by, issued_on, status)
    SELECT id, n, r, a, cn, since, c, g, b, u, by, d, 'valid'
    FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::text[], $5::text[], $6::date[],
                $7::uuid[], $8::uuid[], $9::uuid[], $10::uuid[], $11::text[], $12::date[])
         AS x(id, n, r, a, cn, since, c, g, b, u, by, d)
    ON CONFLICT (certificate_id) DO UPDATE SET number = EXCLUDED.number,
        resident_id = EXCLUDED.resident_id, address = EXCLUDED.address,
        community_name = EXCLUDED.community_name, living_since = EXCLUDED.living_since,
        community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
        building_id = EXCLUDED.building_id, unit_id = EXCLUDED.unit_id,
        issued_by = EXCLUDED.issued_by, issued_on = EXCLUDED.issued_on, status = 'valid',
        revoked_reason = NULL, revoked_by = NULL, revoked_at = NULL
    """,
)
def _certificate(_: Envelope, e: ResidenceCertificateIssued) -> Row:
    return (
        e.certificate_id,
        e.number,
        e.resident_id,
        e.address,
        e.community_name,
        e.living_since,
        *_path(e.path),
        e.issued_by,
        e.issued_on,
    )


@WRITERS.row(
    ResidenceCertificateRevoked,
    """
    UPDATE certificates c SET status = 'revoked', revoked_reason = x.reason,
        revoked_by = x.by, revoked_at = x.at
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS x(id, reason, by, at)
    WHERE c.certificate_id = x.id
    """,
)
def _revoked(_: Envelope, e: ResidenceCertificateRevoked) -> Row:
    return (e.certificate_id, e.reason, e.revoked_by, e.revoked_at)


# -- lectures, activities and opinions ---------------------------------------------------------


@WRITERS.row(
    GatheringHeld,
    """
    INSERT INTO gatherings (gathering_id, kind, topic, speaker, held_on, attendance, partner_id,
                            community_id, grid_id, building_id, unit_id, recorded_by,
                            recorded_at, event_id)
    SELECT id, k, t, sp, d, n, pa, c, g, b, u, by, at, ev
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::text[], $5::date[], $6::int[],
                $7::uuid[], $8::uuid[], $9::uuid[], $10::uuid[], $11::uuid[], $12::text[],
                $13::timestamptz[], $14::uuid[])
         AS x(id, k, t, sp, d, n, pa, c, g, b, u, by, at, ev)
    ON CONFLICT (gathering_id) DO UPDATE SET kind = EXCLUDED.kind, topic = EXCLUDED.topic,
        speaker = EXCLUDED.speaker, held_on = EXCLUDED.held_on,
        attendance = EXCLUDED.attendance, partner_id = EXCLUDED.partner_id,
        community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
        building_id = EXCLUDED.building_id, unit_id = EXCLUDED.unit_id,
        recorded_by = EXCLUDED.recorded_by, recorded_at = EXCLUDED.recorded_at,
        event_id = EXCLUDED.event_id
    """,
)
def _gathering(env: Envelope, e: GatheringHeld) -> Row:
    return (
        e.gathering_id,
        e.kind.value,
        e.topic,
        e.speaker,
        e.held_on,
        e.attendance,
        e.partner_id,
        *_path(e.path),
        e.recorded_by,
        e.recorded_at,
        env.id,
    )


@WRITERS.row(
    OpinionRaised,
    """
    INSERT INTO opinions (opinion_id, gathering_id, text, resident_id, community_id, grid_id,
                          building_id, unit_id, recorded_by, raised_at, raised_on, status)
    SELECT id, ga, t, r, c, g, b, u, by, at, d, 'open'
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::uuid[], $6::uuid[],
                $7::uuid[], $8::uuid[], $9::text[], $10::timestamptz[], $11::date[])
         AS x(id, ga, t, r, c, g, b, u, by, at, d)
    ON CONFLICT (opinion_id) DO UPDATE SET gathering_id = EXCLUDED.gathering_id,
        text = EXCLUDED.text, resident_id = EXCLUDED.resident_id,
        community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
        building_id = EXCLUDED.building_id, unit_id = EXCLUDED.unit_id,
        recorded_by = EXCLUDED.recorded_by, raised_at = EXCLUDED.raised_at,
        raised_on = EXCLUDED.raised_on, status = 'open', reply = NULL, answered_by = NULL,
        answered_at = NULL, referred_to = NULL, referred_by = NULL, referred_at = NULL
    """,
)
def _opinion(_: Envelope, e: OpinionRaised) -> Row:
    return (
        e.opinion_id,
        e.gathering_id,
        e.text,
        e.resident_id,
        *_path(e.path),
        e.recorded_by,
        e.raised_at,
        e.raised_at.astimezone(UTC).date(),
    )


@WRITERS.row(
    OpinionAnswered,
    """
    UPDATE opinions o SET status = 'answered', reply = x.reply, answered_by = x.by,
        answered_at = x.at
    FROM unnest($1::uuid[], $2::text[], $3::text[], $4::timestamptz[]) AS x(id, reply, by, at)
    WHERE o.opinion_id = x.id
    """,
)
def _answered(_: Envelope, e: OpinionAnswered) -> Row:
    return (e.opinion_id, e.reply, e.answered_by, e.answered_at)


# A referral carries the whole opinion: should it ever begin its stream, it makes the row (raised
# when referred) instead of updating nothing.
@WRITERS.row(
    OpinionReferred,
    """
    INSERT INTO opinions (opinion_id, gathering_id, text, resident_id, community_id, grid_id,
                          building_id, unit_id, recorded_by, raised_at, raised_on, status,
                          referred_to, referred_by, referred_at)
    SELECT id, ga, t, r, c, g, b, u, by, at, d, 'referred', dest, by, at
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::uuid[], $5::uuid[], $6::uuid[],
                $7::uuid[], $8::uuid[], $9::text[], $10::timestamptz[], $11::date[], $12::text[])
         AS x(id, ga, t, r, c, g, b, u, by, at, d, dest)
    ON CONFLICT (opinion_id) DO UPDATE SET status = 'referred',
        referred_to = EXCLUDED.referred_to, referred_by = EXCLUDED.referred_by,
        referred_at = EXCLUDED.referred_at
    """,
)
def _referred(_: Envelope, e: OpinionReferred) -> Row:
    return (
        e.opinion_id,
        e.gathering_id,
        e.text,
        e.resident_id,
        *_path(e.path),
        e.referred_by,
        e.referred_at,
        e.referred_at.astimezone(UTC).date(),
        e.to.value,
    )


# -- duty roster -----------------------------------------------------------------------------


@WRITERS.row(
    DutyRosterSet,
    """
    INSERT INTO rosters (roster_id, day, desk, pioneer_post, community_id, grid_id, set_by,
                         set_at, position)
    SELECT id, d, desk::jsonb, post::jsonb, c, g, by, at, pos
    FROM unnest($1::uuid[], $2::date[], $3::text[], $4::text[], $5::uuid[], $6::uuid[],
                $7::text[], $8::timestamptz[], $9::bigint[])
         AS x(id, d, desk, post, c, g, by, at, pos)
    ON CONFLICT (roster_id, day) DO UPDATE SET desk = EXCLUDED.desk,
        pioneer_post = EXCLUDED.pioneer_post, community_id = EXCLUDED.community_id,
        grid_id = EXCLUDED.grid_id, set_by = EXCLUDED.set_by, set_at = EXCLUDED.set_at,
        position = EXCLUDED.position
    """,
)
def _roster(env: Envelope, e: DutyRosterSet) -> Row:
    return (
        e.roster_id,
        e.day,
        json.dumps(e.desk, ensure_ascii=False),
        json.dumps(e.pioneer_post, ensure_ascii=False),
        e.path.community_id,
        e.path.grid_id,
        e.set_by,
        e.set_at,
        env.position,
    )


# A person's erasure (docs/personal-data.md, "Erasure"): their certificates' address and
# revocation reason, and the opinions they raised (the whole record names them: its text and
# the reply), read as a rebuild reads them once the keys are gone; counts and dates stay.
_ERASED = "resident_id = ANY($1::uuid[])"

blank_on_erasure(
    WRITERS,
    blank_where("certificates", _ERASED, text=["address", "revoked_reason"]),
    blank_where("opinions", _ERASED, text=["text", "reply"]),
)


# -- the projection -------------------------------------------------------------------------


class StationProjection:
    """Station events → the tables behind the desk's counts, its services, certificates,
    gatherings, opinion log, duty roster and the profiles' station sections."""

    name = "station"
    catalogs: Sequence[EventCatalog] = (CATALOG, REGISTRY)
    reads = WRITERS.event_types  # of the registry's, only what it writes rows for
    ddl = DDL

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        await WRITERS.apply(conn, batch)
