"""Test helpers for the tenancy flow: valid identity numbers, tenancy messages of the housing
security centre, and a registry that records the commands it is sent. Used by this service's
tests and by system-level tests; nothing here runs in production."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from uuid import UUID

from anju_contracts.housing import (
    TenancyEnded,
    TenancyStarted,
    TenancyTransferred,
    Tenant,
    UnitReference,
)
from anju_integration.application.registry_commands import Refused

_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


def id_number(born: date, seq: int, *, male: bool = False) -> str:
    """A valid 18-character identity number for someone born on ``born``."""
    sequence = seq * 2 % 1000 + (1 if male else 0)
    first17 = f"110105{born:%Y%m%d}{sequence:03d}"
    total = sum(int(d) * w for d, w in zip(first17, _WEIGHTS, strict=True))
    return first17 + "10X98765432"[total % 11]


def tenant(name: str, born: date = date(1950, 3, 14), seq: int = 1) -> Tenant:
    return Tenant(
        id_number=id_number(born, seq), name=name, date_of_birth=born, phone="13900000000"
    )


def unit(building: str = "3号楼", number: str = "301") -> UnitReference:
    return UnitReference(building=building, unit=number)


def days_ago(days: int) -> date:
    return date.today() - timedelta(days=days)


def started(
    tenants: Iterable[Tenant], where: UnitReference | None = None, *, on: date | None = None
) -> TenancyStarted:
    return TenancyStarted(
        tenancy_id=f"ZL-{uuid.uuid4().hex[:8]}",
        unit=where or unit(),
        tenants=list(tenants),
        started_on=on or days_ago(30),
    )


def ended(
    tenancy_id: str,
    tenants: Iterable[Tenant],
    where: UnitReference | None = None,
    *,
    on: date | None = None,
) -> TenancyEnded:
    return TenancyEnded(
        tenancy_id=tenancy_id,
        unit=where or unit(),
        tenants=list(tenants),
        ended_on=on or days_ago(1),
    )


def transferred(
    tenancy_id: str,
    previous: Iterable[Tenant],
    new: Iterable[Tenant],
    where: UnitReference | None = None,
    *,
    on: date | None = None,
) -> TenancyTransferred:
    return TenancyTransferred(
        tenancy_id=tenancy_id,
        unit=where or unit(),
        previous_tenants=list(previous),
        new_tenants=list(new),
        transferred_on=on or days_ago(1),
    )


@dataclass
class FakeRegistry:
    """Records the commands it is sent; answers a key sent again as the first time (like the
    registry's idempotency), and refuses identity numbers in ``refuse``."""

    calls: list[tuple[str, str]] = field(default_factory=list)
    """(action, idempotency key) of each command done (not those answered again)."""
    answers: dict[str, UUID] = field(default_factory=dict)
    refuse: set[str] = field(default_factory=set)

    async def register(
        self, key: str, tenant: Tenant, *, unit_id: UUID, areas: Iterable[UUID]
    ) -> UUID:
        if tenant.id_number in self.refuse:
            raise Refused(409, "duplicate_id_number", "already registered")
        if key not in self.answers:
            self.calls.append(("register", key))
            self.answers[key] = uuid.uuid4()
        return self.answers[key]

    async def move(
        self, key: str, resident_id: UUID, *, unit_id: UUID, areas: Iterable[UUID]
    ) -> None:
        if key not in self.answers:
            self.calls.append(("move", key))
            self.answers[key] = resident_id

    async def move_out(
        self, key: str, resident_id: UUID, *, on: date, reason: str, areas: Iterable[UUID]
    ) -> None:
        if key not in self.answers:
            self.calls.append(("move_out", key))
            self.answers[key] = resident_id
