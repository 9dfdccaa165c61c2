"""The ``station`` read model: the desk's receptions and its convenience services.

Only what ``station.events`` carries, and of that nothing personal: a reception's note, a
service's outcome text, a refusal's reason and a callback's note are left out (they would
outlive their erasure here), and the elderly window's bill help is only its bill type.

Every row belongs to one station stream: a reception to its ``reception-<id>`` stream (one
event), a service to its ``service-<id>`` stream, whose first event (:class:`ServiceReceived`)
places it in its community or grid; the later events of the stream update that row. Each event
type has one set-based statement over ``unnest`` of its column arrays, run by
:class:`eventkit.rows.Writers` once per group of a batch.

A reception's day (``logged_on``) is the UTC date of ``logged_at``: the desk's counts per day,
week and month are of UTC calendar days.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC

import asyncpg

from anju_contracts import Envelope, EventCatalog
from anju_contracts.registry import AreaPath
from anju_contracts.station import (
    CATALOG,
    CallbackRecorded,
    HandOffOverdue,
    OneTimeNoticeIssued,
    ReceptionLogged,
    ServiceAccepted,
    ServiceCompleted,
    ServiceHandedOff,
    ServiceReceived,
    ServiceRefused,
)
from eventkit.messages import Delivered
from eventkit.rows import Row, Writers

DDL = """
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
    logged_on    date NOT NULL
);
CREATE INDEX receptions_logged ON receptions (logged_on);
CREATE INDEX receptions_community ON receptions (community_id, logged_on);
CREATE INDEX receptions_resident ON receptions (resident_id) WHERE resident_id IS NOT NULL;

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
    called_at        timestamptz
);
CREATE INDEX services_received ON services (received_at);
CREATE INDEX services_community ON services (community_id, status);
CREATE INDEX services_resident ON services (resident_id) WHERE resident_id IS NOT NULL;
CREATE INDEX services_overdue ON services (due_by) WHERE overdue;
"""

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
                            logged_on)
    SELECT id, r, string_to_array(ps, ','), ref, o, c, g, b, u, s, at, d
    FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::text[], $6::uuid[],
                $7::uuid[], $8::uuid[], $9::uuid[], $10::text[], $11::timestamptz[], $12::date[])
         AS x(id, r, ps, ref, o, c, g, b, u, s, at, d)
    ON CONFLICT (reception_id) DO UPDATE SET resident_id = EXCLUDED.resident_id,
        purposes = EXCLUDED.purposes, referred_by = EXCLUDED.referred_by,
        outcome = EXCLUDED.outcome, community_id = EXCLUDED.community_id,
        grid_id = EXCLUDED.grid_id, building_id = EXCLUDED.building_id,
        unit_id = EXCLUDED.unit_id, staff_id = EXCLUDED.staff_id,
        logged_at = EXCLUDED.logged_at, logged_on = EXCLUDED.logged_on
    """,
)
def _reception(_: Envelope, e: ReceptionLogged) -> Row:
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
    )


# -- convenience services -------------------------------------------------------------------


@WRITERS.row(
    ServiceReceived,
    """
    INSERT INTO services (service_id, service_type, resident_id, reception_id, community_id,
                          grid_id, building_id, unit_id, staff_id, bill_type, status, received_at)
    SELECT id, t, r, rec, c, g, b, u, s, bill, 'received', at
    FROM unnest($1::uuid[], $2::text[], $3::uuid[], $4::uuid[], $5::uuid[], $6::uuid[],
                $7::uuid[], $8::uuid[], $9::text[], $10::text[], $11::timestamptz[])
         AS x(id, t, r, rec, c, g, b, u, s, bill, at)
    ON CONFLICT (service_id) DO UPDATE SET service_type = EXCLUDED.service_type,
        resident_id = EXCLUDED.resident_id, reception_id = EXCLUDED.reception_id,
        community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
        building_id = EXCLUDED.building_id, unit_id = EXCLUDED.unit_id,
        staff_id = EXCLUDED.staff_id, bill_type = EXCLUDED.bill_type, status = 'received',
        received_at = EXCLUDED.received_at, notices = 0, last_notice = NULL,
        notice_issued_at = NULL, accepted_at = NULL, organisation_id = NULL,
        handed_off_at = NULL, due_by = NULL, overdue = false, completed_at = NULL,
        refused_at = NULL, satisfaction = NULL, called_at = NULL
    """,
)
def _received(_: Envelope, e: ServiceReceived) -> Row:
    return (
        e.service_id,
        e.service_type,
        e.resident_id,
        e.reception_id,
        *_path(e.path),
        e.staff_id,
        None if e.bill_type is None else e.bill_type.value,
        e.received_at,
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


# The mark stays once set: a service finished late was overdue.
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
    UPDATE services s SET status = 'completed', completed_at = x.at
    FROM unnest($1::uuid[], $2::timestamptz[]) AS x(id, at)
    WHERE s.service_id = x.id
    """,
)
def _completed(_: Envelope, e: ServiceCompleted) -> Row:
    return (e.service_id, e.completed_at)


@WRITERS.row(
    ServiceRefused,
    """
    UPDATE services s SET status = 'refused', refused_at = x.at
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
    UPDATE services s SET satisfaction = x.n, called_at = x.at
    FROM unnest($1::uuid[], $2::int[], $3::timestamptz[]) AS x(id, n, at)
    WHERE s.service_id = x.id
    """,
)
def _callback(_: Envelope, e: CallbackRecorded) -> Row:
    return (e.service_id, e.satisfaction, e.called_at)


# -- the projection -------------------------------------------------------------------------


class StationProjection:
    """Station events → the tables behind the desk's counts, its services and profiles."""

    name = "station"
    catalogs: Sequence[EventCatalog] = (CATALOG,)
    ddl = DDL

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        await WRITERS.apply(conn, batch)
