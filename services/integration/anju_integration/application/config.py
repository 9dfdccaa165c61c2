"""What the integration service's handlers need besides the store."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID

from anju_contracts.integration import AnjuRecord, WorkOrderReceived
from anju_contracts.registry import Location
from anju_integration.application.hotline_parked import ParkedOrders, PostgresParked
from anju_integration.application.hotline_records import Records
from anju_integration.application.tenancies import Tenancies
from eventkit.commands import Clock
from eventkit.known import Known


class Mediation(Protocol):
    """Mediation's public command API, as the integration service uses it."""

    async def open(self, order: WorkOrderReceived, record: AnjuRecord, location: Location) -> UUID:
        """Open the dispute or signal ``order`` becomes at ``location``; its id. Sending the
        same order again opens nothing new and answers the same id."""
        ...


@dataclass(frozen=True)
class IntegrationConfig:
    """The time, what the service has learnt of the registry (areas, residents), mediation,
    which order each of mediation's records answers, and the tenancy flow's parts."""

    clock: Clock
    known: Known
    mediation: Mediation
    records: Records
    tenancies: Tenancies
    parked: ParkedOrders = field(default_factory=PostgresParked)
    hotline_communities: Sequence[UUID] | None = None
    """Whose desks see a 12345 order parked without any place (``None``: every community the
    service knows when the order is parked); ``IntegrationSettings.hotline_community_ids``."""
