"""Events of the integration service: what other systems pushed into Anju, and Anju's answers.

Topic ``integration.events``, key = stream id. Streams:

- ``order-<order id>``: one 12345 work order (``inbound.hotline12345.orders``): received once
  (a repeated or redelivered order changes nothing), parked when its place is not an area Anju
  knows (then placed by a desk clerk, or by the service once the registry announces the area
  the order named), forwarded to mediation as a dispute or a conflict signal, answered when that record
  is closed. The envelope's area is the grid (or community) the order belongs to.
- ``tenancy_notice-<uuid>``: one tenancy message of the housing security centre
  (``inbound.housing.tenancies``), restricted: kept in the service's store, never published
  (:mod:`anju_contracts.tenancies`).

:class:`WorkOrderAnswered` is also published on ``outbound.hotline12345.replies`` (the same
CloudEvent, key = the stream id ``order-<order id>``): the 12345 platform's answer.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from anju_contracts import tenancies
from anju_contracts.base import Event, EventCatalog, Personal, Text, sealed_upcasters
from anju_contracts.hotline12345 import ORDER_ID, CallerContact, OrderCategory
from anju_contracts.registry import AreaPath

SOURCE = "integration"

REPLIES_TOPIC = "outbound.hotline12345.replies"
"""Where Anju answers the 12345 platform's work orders."""


class AnjuRecord(StrEnum):
    """What a work order became in Anju."""

    DISPUTE = "dispute"
    SIGNAL = "signal"


class ReplyOutcome(StrEnum):
    RESOLVED = "resolved"
    """The dispute was resolved (mediated, agreed, or settled at its tier)."""
    DISMISSED = "dismissed"
    """The conflict signal was checked and needed no mediation."""


class WorkOrderReceived(Event):
    """A 12345 work order reached Anju (once per order id, however often it is sent)."""

    event_type: ClassVar[str] = "integration.WorkOrderReceived"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    order_id: str = Field(pattern=ORDER_ID)
    message_id: str = Field(min_length=1, max_length=200)
    category: OrderCategory
    path: AreaPath | None
    area_id: UUID | None = None
    address: Annotated[Text | None, Personal] = Field(default=None, max_length=500)
    caller: Annotated[CallerContact | None, Personal]
    """Null once the caller is erased (docs/personal-data.md)."""
    text: Annotated[Text, Personal] = Field(min_length=1, max_length=4000)
    dispatched_at: datetime
    deadline: datetime
    received_at: datetime


class WorkOrderParked(Event):
    """The order names no area Anju knows: it waits for a desk clerk to place it, rather than
    being guessed into one."""

    event_type: ClassVar[str] = "integration.WorkOrderParked"

    order_id: str = Field(pattern=ORDER_ID)
    reason: str = Field(min_length=1, max_length=200)
    parked_at: datetime
    community_ids: list[UUID] = Field(default_factory=list, max_length=200)
    """Whose desks see the order while it has no place: the communities the stack served for
    the 12345 platform when it was parked (none: admins alone). An order parked again after a
    placement mediation refused stays where it was placed, and this is empty."""


class WorkOrderPlaced(Event):
    """A parked order was placed in an area: by a desk clerk who knew where it belongs, or by
    the integration service once the registry announced the area the order named. Mediation
    opens its record next, as for an order placed on arrival."""

    event_type: ClassVar[str] = "integration.WorkOrderPlaced"

    order_id: str = Field(pattern=ORDER_ID)
    area_id: UUID
    path: AreaPath
    placed_at: datetime


class WorkOrderForwarded(Event):
    """The order became a dispute or a conflict signal in mediation."""

    event_type: ClassVar[str] = "integration.WorkOrderForwarded"

    order_id: str = Field(pattern=ORDER_ID)
    record: AnjuRecord
    record_id: UUID
    path: AreaPath
    forwarded_at: datetime


class WorkOrderAnswered(Event):
    """The record the order became was closed: the handling result for the 12345 platform.

    ``on_time``: ``handled_at`` is before the order's deadline. ``record`` / ``record_id``: the
    Anju record that handled it (a signal may have become a dispute: then the dispute).
    """

    event_type: ClassVar[str] = "integration.WorkOrderAnswered"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    order_id: str = Field(pattern=ORDER_ID)
    outcome: ReplyOutcome
    text: Annotated[Text, Personal] = Field(min_length=1, max_length=4000)
    handled_at: datetime
    deadline: datetime
    on_time: bool
    record: AnjuRecord
    record_id: UUID


SEALED: tuple[type[Event], ...] = (
    WorkOrderReceived,
    WorkOrderAnswered,
)
"""The events whose personal fields are sealed since version 2 (docs/personal-data.md): v1
held them in clear, and reads as v2 unchanged."""

CATALOG = EventCatalog(
    SOURCE,
    [WorkOrderReceived, WorkOrderParked, WorkOrderPlaced, WorkOrderForwarded, WorkOrderAnswered],
    upcasters=sealed_upcasters(SEALED),
    also={WorkOrderAnswered: REPLIES_TOPIC},
    restricted=tenancies.EVENTS,
)
