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
from anju_integration.application.registry_commands import Refused, RegistryUnavailable
from eventkit.auth import Role, issue_token
from eventkit.idempotency import HEADER

SUBJECT = "integration"
RETRY_LATER = frozenset({"idempotency_key_in_use", "conflict", "consistency_timeout"})
"""Answers (409, 503) that say "not now": the same command may go through when sent again."""


def sex_of(id_number: str) -> str:
    """The sex an identity number records (GB 11643: the 17th digit is odd for men)."""
    return "male" if int(id_number[16]) % 2 else "female"


class HttpRegistry:
    """Calls the registry at ``base_url``."""

    def __init__(
        self, base_url: str, secret: str, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.base_url = base_url
        self.secret = secret
        self.transport = transport

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
        answer = await self._post("/residents", body, key, areas, done_if=frozenset())
        assert answer is not None
        return UUID(answer["id"])

    async def move(
        self, key: str, resident_id: UUID, *, unit_id: UUID, areas: Iterable[UUID]
    ) -> None:
        body = {"unit_id": str(unit_id)}
        path = f"/residents/{resident_id}/move"
        await self._post(path, body, key, areas, done_if=frozenset({"same_unit"}))

    async def move_out(
        self, key: str, resident_id: UUID, *, on: date, reason: str, areas: Iterable[UUID]
    ) -> None:
        body = {"moved_out_on": on.isoformat(), "reason": reason}
        path = f"/residents/{resident_id}/move-out"
        await self._post(path, body, key, areas, done_if=frozenset({"resident_inactive"}))

    async def _post(
        self,
        path: str,
        body: dict[str, Any],
        key: str,
        areas: Iterable[UUID],
        *,
        done_if: frozenset[str],
    ) -> dict[str, Any] | None:
        """The answer of a command accepted (or sent before); ``None`` when the registry says
        it is so already (``done_if``)."""
        token = issue_token(
            self.secret, SUBJECT, [Role.SERVICE], sorted({str(a) for a in areas}), ttl_s=300
        )
        headers = {"Authorization": f"Bearer {token}", HEADER: key}
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, transport=self.transport, timeout=10.0
            ) as client:
                response = await client.post(path, json=body, headers=headers)
        except httpx.HTTPError as error:
            raise RegistryUnavailable(f"the registry at {self.base_url}: {error!r}") from error
        code, message = _error(response)
        if response.status_code >= 500 or response.status_code == 429 or code in RETRY_LATER:
            raise RegistryUnavailable(f"the registry answered {response.status_code} {code}")
        if response.status_code >= 400:
            if code in done_if:
                return None
            raise Refused(response.status_code, code, message)
        answer: dict[str, Any] = response.json()
        return answer


def _error(response: httpx.Response) -> tuple[str, str]:
    if response.status_code < 400:
        return "", ""
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"])[:300]
    except (ValueError, KeyError, TypeError):
        return "error", response.text[:300]
