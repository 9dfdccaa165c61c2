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
from anju_station.domain import receptions, services
from anju_station.domain.errors import ReceptionNotFound, ServiceNotFound
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
