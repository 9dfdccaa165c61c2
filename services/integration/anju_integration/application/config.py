"""What the integration service's handlers need besides the store."""

from __future__ import annotations

from dataclasses import dataclass

from anju_integration.application.tenancies import Tenancies
from eventkit.commands import Clock
from eventkit.known import Known


@dataclass(frozen=True)
class IntegrationConfig:
    """The time, and what the service has learnt of the registry (areas, residents)."""

    clock: Clock
    known: Known
    tenancies: Tenancies
