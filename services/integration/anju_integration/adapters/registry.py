"""The registry's public HTTP command API, called as the integration service (``Role.SERVICE``).

Why the command API: the registry has one way in. Its commands check permissions and areas,
validate identity numbers, claim them, and plan or stop follow-ups in the same transaction;
a second way in would have to repeat all of that. Each call carries ``Idempotency-Key:
housing:<message id>:<step>`` and a short-lived token covering only the communities the command
touches.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date
from typing import Any
from uuid import UUID

import httpx

from anju_contracts.housing import Tenant
from eventkit.service_calls import CommandClient, Refused


def sex_of(id_number: str) -> str:
    """The sex an identity number records (GB 11643: the 17th digit is odd for men)."""
    return "male" if int(id_number[16]) % 2 else "female"


class HttpRegistry:
    """Calls the registry at ``base_url`` as the integration service."""

    def __init__(
        self, base_url: str, secret: str, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.client = CommandClient(base_url, secret, subject="integration", transport=transport)

    async def register(
        self, key: str, tenant: Tenant, *, unit_id: UUID, areas: Iterable[UUID]
    ) -> UUID:
        body = {
            "name": tenant.name,
            "sex": sex_of(tenant.id_number),
            "date_of_birth": tenant.date_of_birth.isoformat(),
            "id_number": tenant.id_number.upper(),
            "phone": tenant.phone,
            "unit_id": str(unit_id),
        }
        answer = await self.client.post("/residents", body, key=key, areas=areas)
        return UUID(answer["id"])

    async def move(
        self, key: str, resident_id: UUID, *, unit_id: UUID, areas: Iterable[UUID]
    ) -> None:
        body = {"unit_id": str(unit_id)}
        await self._done(f"/residents/{resident_id}/move", body, key, areas, "same_unit")

    async def move_out(
        self, key: str, resident_id: UUID, *, on: date, reason: str, areas: Iterable[UUID]
    ) -> None:
        body = {"moved_out_on": on.isoformat(), "reason": reason}
        path = f"/residents/{resident_id}/move-out"
        await self._done(path, body, key, areas, "resident_inactive")

    async def _done(
        self, path: str, body: dict[str, Any], key: str, areas: Iterable[UUID], already: str
    ) -> None:
        """Send the command; the registry answering ``already`` (it is so) counts as done."""
        try:
            await self.client.post(path, body, key=key, areas=areas)
        except Refused as refused:
            if refused.code != already:
                raise
