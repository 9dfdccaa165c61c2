"""The registry's public command API, as the tenancy flow uses it: register, move, move out
(``anju_integration.adapters.registry`` over HTTP; a fake in tests)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Protocol
from uuid import UUID

from anju_contracts.housing import Tenant


class Refused(Exception):
    """The registry refused the command (4xx): it is not done, and sending it again as it is
    will not change that."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class RegistryUnavailable(ConnectionError):
    """The registry did not answer, or cannot now (5xx, a key in use): try again later."""


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
