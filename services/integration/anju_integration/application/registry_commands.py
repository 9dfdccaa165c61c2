"""The registry's public command API, as the tenancy flow uses it: register, move, move out
(``anju_integration.adapters.registry`` over HTTP; a fake in tests). A command the registry
refuses raises :class:`Refused`; one it cannot take now raises :class:`Unavailable`."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol
from uuid import UUID

from anju_contracts.housing import Tenant
from eventkit.service_calls import Refused, Unavailable

__all__ = ["Refused", "RegistryCommands", "Unavailable"]


class RegistryCommands(Protocol):
    """Each command carries an idempotency ``key``: sent again, it is done once. ``areas`` are
    the communities the command touches (the service's token covers those alone)."""

    async def register(
        self, key: str, tenant: Tenant, *, unit_id: UUID, areas: Iterable[UUID]
    ) -> UUID:
        """Register ``tenant`` as living at the unit; the new resident's id."""
        ...

    async def move(
        self, key: str, resident_id: UUID, *, unit_id: UUID, areas: Iterable[UUID]
    ) -> None:
        """Move the resident to the unit (done already when they live there)."""
        ...

    async def move_out(
        self, key: str, resident_id: UUID, *, on: date, reason: str, areas: Iterable[UUID]
    ) -> None:
        """Record that the resident moved out (done already when their record is closed)."""
        ...
