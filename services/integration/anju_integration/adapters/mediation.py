"""Mediation's public HTTP command API, called as the integration service (``Role.SERVICE``).

Why the command API and not a command topic or a write of its own: mediation has one way in.
Its commands check permissions and areas, validate, date and audit what they record, and
remember the answer to an ``Idempotency-Key``; a second way in would have to repeat all of
that, and would drift. The call carries ``Idempotency-Key: hotline12345:<order id>``, so sending
an order again (a crash before its record was noted) opens nothing new and answers the id of
the record opened the first time.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx

from anju_contracts.integration import AnjuRecord, WorkOrderReceived
from anju_contracts.mediation import Channel, PartyRole, ReporterRole
from anju_contracts.registry import Location
from anju_integration.domain import orders
from eventkit.auth import Role, issue_token

UNNAMED_CALLER = "12345 caller"


class MediationUnavailable(ConnectionError):
    """Mediation did not answer, or answered that it cannot now (5xx, 503): try again later."""


class MediationRefused(RuntimeError):
    """Mediation refused the command (4xx): the order needs a look before it can go through."""


def idempotency_key(order_id: str) -> str:
    return f"hotline12345:{order_id}"


def command(order: WorkOrderReceived, record: AnjuRecord, location: Location) -> tuple[str, Any]:
    """The path and body of the command that opens ``record`` for ``order``."""
    description = f"12345 {order.order_id}: {order.text}"[:4000]
    category = orders.mediation_category(order.category)
    if record is AnjuRecord.SIGNAL:
        return "/signals", {
            "reporter_role": ReporterRole.DESK_STAFF,
            "area_id": str(location.area_id),
            "category": category,
            "description": description,
        }
    applicant = {
        "role": PartyRole.APPLICANT,
        "name": order.caller.name or UNNAMED_CALLER,
        "contact": order.caller.phone,
    }
    return "/disputes", {
        "channel": Channel.HOTLINE_12345,
        "category": category,
        "description": description,
        "area_id": str(location.area_id),
        "parties": [applicant],
    }


class HttpMediation:
    """Calls mediation at ``base_url`` with a short-lived service token for the order's
    community (a token that names no area covers nothing)."""

    def __init__(
        self, base_url: str, secret: str, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.base_url = base_url
        self.secret = secret
        self.transport = transport

    async def open(self, order: WorkOrderReceived, record: AnjuRecord, location: Location) -> UUID:
        path, body = command(order, record, location)
        token = issue_token(
            self.secret,
            "integration",
            [Role.SERVICE],
            [str(location.path.community_id)],
            ttl_s=300,
        )
        headers = {
            "Authorization": f"Bearer {token}",
            "Idempotency-Key": idempotency_key(order.order_id),
        }
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, transport=self.transport, timeout=10.0
            ) as client:
                response = await client.post(path, json=body, headers=headers)
        except httpx.HTTPError as error:
            raise MediationUnavailable(f"mediation at {self.base_url}: {error!r}") from error
        if response.status_code >= 500 or response.status_code in (409, 429):
            raise MediationUnavailable(f"mediation answered {response.status_code}")
        if response.status_code != 201:
            raise MediationRefused(f"mediation answered {response.status_code}: {response.text}")
        return UUID(response.json()["id"])
