"""The station's records as the kernel's command path sees them, and their deadline."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from anju_contracts import Actor, Event
from anju_contracts.station import (
    SOURCE,
    ServiceCompleted,
    ServiceHandedOff,
    ServiceRefused,
)
from anju_station.application.permissions import PERMISSIONS
from anju_station.domain import certificates, gatherings, receptions, roster, services
from anju_station.domain.errors import (
    CertificateNotFound,
    GatheringNotFound,
    OpinionNotFound,
    ReceptionNotFound,
    RosterNotFound,
    ServiceNotFound,
)
from eventkit.access import Guarded
from eventkit.aggregate import Aggregate
from eventkit.store import StoreSession

HANDOFF_DUE = "station.handoff_due"
"""Deadline kind: the agency should have finished the service named by the key by now."""

SERVICE_ACTOR = Actor(id=SOURCE, roles=("service",))


async def follow_handoff(session: StoreSession, service_id: UUID, events: Sequence[Event]) -> None:
    for event in events:
        if isinstance(event, ServiceHandedOff):
            payload = {"due_by": event.due_by.isoformat()}
            await session.schedule(HANDOFF_DUE, str(service_id), event.due_by, payload)
        elif isinstance(event, ServiceCompleted | ServiceRefused):
            await session.cancel(HANDOFF_DUE, str(service_id))


RECEPTIONS: Aggregate[receptions.Reception] = Aggregate(
    name="reception",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: receptions.fold(events),
    guard=lambda r: Guarded.at(r.path),
    not_found=ReceptionNotFound,
)

SERVICES: Aggregate[services.Service] = Aggregate(
    name="service",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: services.fold(events),
    guard=lambda s: Guarded.at(s.path),
    not_found=ServiceNotFound,
    follow=follow_handoff,
)

CERTIFICATES: Aggregate[certificates.Certificate] = Aggregate(
    name="certificate",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: certificates.fold(events),
    guard=lambda c: Guarded.at(c.path),
    not_found=CertificateNotFound,
)

GATHERINGS: Aggregate[gatherings.Gathering] = Aggregate(
    name="gathering",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: gatherings.fold_gathering(events),
    guard=lambda g: Guarded.at(g.path),
    not_found=GatheringNotFound,
)

OPINIONS: Aggregate[gatherings.Opinion] = Aggregate(
    name="opinion",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: gatherings.fold_opinion(events),
    guard=lambda o: Guarded.at(o.path),
    not_found=OpinionNotFound,
)

ROSTERS: Aggregate[roster.Roster] = Aggregate(
    name="roster",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: roster.fold(events),
    guard=lambda r: Guarded.at(r.path),
    not_found=RosterNotFound,
    locked=True,
)
