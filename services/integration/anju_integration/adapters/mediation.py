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
from eventkit.service_calls import CommandClient

UNNAMED_CALLER = "12345 caller"


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
        "name": (order.caller and order.caller.name) or UNNAMED_CALLER,
        "contact": order.caller and order.caller.phone,
    }
    return "/disputes", {
        "channel": Channel.HOTLINE_12345,
        "category": category,
        "description": description,
        "area_id": str(location.area_id),
        "parties": [applicant],
    }


class HttpMediation:
    """Calls mediation at ``base_url`` as the integration service, with a token for the order's
    community alone. Mediation not answering raises ``eventkit.service_calls.Unavailable`` (the
    order is tried again); refusing raises ``Refused`` (the order needs a look)."""

    def __init__(
        self, base_url: str, secret: str, *, transport: httpx.AsyncBaseTransport | None = None
    ) -> None:
        self.client = CommandClient(base_url, secret, subject="integration", transport=transport)

    async def open(self, order: WorkOrderReceived, record: AnjuRecord, location: Location) -> UUID:
        path, body = command(order, record, location)
        key = idempotency_key(order.order_id)
        answer = await self.client.post(path, body, key=key, areas=[location.path.community_id])
        return UUID(answer["id"])
