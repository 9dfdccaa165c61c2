"""What the city's 12345 hotline sends Anju: work orders it dispatches to the community
(接诉即办), which the community must answer before their deadline.

Topic ``inbound.hotline12345.orders`` (published by the 12345 platform, read by Anju's
integration service), key = the order id. Each message is a CloudEvent in binary mode
(:mod:`anju_contracts.cloudevents`): headers ``ce_specversion: 1.0``, ``ce_id`` (unique per
message), ``ce_source`` (the platform, e.g. ``hotline12345``), ``ce_type:
hotline12345.WorkOrderDispatched``, ``ce_time``, ``ce_dataversion: 1`` (optional; 1 when absent),
``content-type: application/json``; the value is the payload below as JSON.

Anju answers each order on ``outbound.hotline12345.replies`` with
:class:`anju_contracts.integration.WorkOrderAnswered` once the record it became is closed.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from anju_contracts.base import Event, EventCatalog, Personal, Text

SOURCE = "hotline12345"
TOPIC = "inbound.hotline12345.orders"
"""Where the 12345 platform publishes its work orders for the community."""

ORDER_ID = r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$"
"""The 12345 platform's order number: letters, digits, ``_ . -``; at most 64 characters."""


class OrderCategory(StrEnum):
    """What the caller complains about, as the 12345 platform classifies it."""

    NOISE = "noise"
    WATER_LEAK = "water_leak"
    PARKING = "parking"
    SHARED_SPACE = "shared_space"
    PETS = "pets"
    PROPERTY_FEES = "property_fees"
    NEIGHBOUR_CONFLICT = "neighbour_conflict"
    FAMILY_ELDER_CARE = "family_elder_care"
    TENANCY = "tenancy"
    ENVIRONMENT = "environment"
    FACILITIES = "facilities"
    OTHER = "other"


class CallerContact(BaseModel):
    """Who called the hotline and how to reach them; personal data."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[Text | None, Personal] = Field(default=None, max_length=100)
    phone: Annotated[Text | None, Personal] = Field(default=None, max_length=40)


class WorkOrderDispatched(Event):
    """The 12345 hotline dispatched a citizen's call to the community as a work order, to be
    answered by ``deadline``.

    ``area_id`` is an Anju area (community, grid, building or unit, as ``registry.events``
    announces them) when the platform knows it; otherwise ``address`` names the place and Anju
    finds the area by the names the registry gave its areas.
    """

    event_type: ClassVar[str] = "hotline12345.WorkOrderDispatched"

    order_id: str = Field(pattern=ORDER_ID)
    category: OrderCategory
    area_id: UUID | None = None
    address: Annotated[Text | None, Personal] = Field(default=None, max_length=500)
    caller: CallerContact
    text: Annotated[Text, Personal] = Field(min_length=1, max_length=4000)
    dispatched_at: datetime
    deadline: datetime


CATALOG = EventCatalog(SOURCE, [WorkOrderDispatched], topic=TOPIC, inbound=True)
