"""Inbound: tenancy changes from the housing security centre (住房保障中心).

Topic ``inbound.housing.tenancies``: the centre publishes, Anju's integration service reads.
Each message is a CloudEvent in Kafka binary mode, like Anju's own topics
(:mod:`anju_contracts.cloudevents`):

- key: the tenancy id (UTF-8), so the changes of one tenancy stay in order;
- ``ce_id``: the message id, unique per message and the same when a message is sent again
  (1–100 of ``A-Z a-z 0-9 . _ : -``); Anju applies a message id once;
- ``ce_type``: ``housing.TenancyStarted``, ``housing.TenancyEnded`` or
  ``housing.TenancyTransferred``; ``ce_source``: the centre (e.g. ``housing-security-centre``);
  ``ce_specversion`` ``1.0``, ``ce_time`` when it happened, ``ce_subject`` the tenancy id,
  ``content-type`` ``application/json``, ``ce_dataversion`` the payload version (``1``);
- value: the payload below, as JSON.

A unit is named as the centre knows it: building and unit number as they are written on the
estate (``3号楼``, ``301``), and/or the address. Anju matches it exactly to a unit of the
registry's area tree, and a person by identity number; what does not match exactly waits for a
desk clerk, and is never guessed.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, ClassVar, Self

from pydantic import Field, model_validator

from anju_contracts.base import Event, EventCatalog, Personal, Text, TolerantReader
from anju_contracts.cloudevents import JSON_CONTENT, CloudEvent, KafkaMessage, write_binary

SOURCE = "housing"
TOPIC = "inbound.housing.tenancies"

MESSAGE_ID_PATTERN = r"^[A-Za-z0-9._:-]{1,100}$"
"""What a message id (``ce_id``) may look like: it becomes part of Anju's idempotency keys."""


class UnitReference(TolerantReader):
    """A unit as the housing security centre names it: building and unit number, and/or the
    address (at least one of the two)."""

    building: Text | None = Field(default=None, min_length=1, max_length=50, examples=["3号楼"])
    unit: Text | None = Field(default=None, min_length=1, max_length=20, examples=["301"])
    address: Annotated[Text | None, Personal] = Field(
        default=None, min_length=1, max_length=200, examples=["安居路12号院3号楼301"]
    )

    @model_validator(mode="after")
    def _named(self) -> Self:
        if (self.building is None) != (self.unit is None):
            raise ValueError("building and unit come together")
        if self.unit is None and self.address is None:
            raise ValueError("a unit is named by building and unit, or by its address")
        return self


class Tenant(TolerantReader):
    """A person on the tenancy, as the housing security centre registered them."""

    id_number: Annotated[str, Personal] = Field(
        pattern=r"^[0-9]{17}[0-9Xx]$", examples=["11010519491231002X"]
    )
    name: Annotated[Text, Personal] = Field(min_length=1, max_length=50)
    date_of_birth: Annotated[date, Personal]
    phone: Annotated[Text | None, Personal] = Field(default=None, max_length=30)


Tenants = Field(min_length=1, max_length=20)


class TenancyStarted(Event):
    """A tenancy of a unit began: its tenants moved in."""

    event_type: ClassVar[str] = "housing.TenancyStarted"

    tenancy_id: str = Field(min_length=1, max_length=100)
    unit: UnitReference
    tenants: list[Tenant] = Tenants
    started_on: date


class TenancyEnded(Event):
    """A tenancy of a unit ended: its tenants moved out of the estate."""

    event_type: ClassVar[str] = "housing.TenancyEnded"

    tenancy_id: str = Field(min_length=1, max_length=100)
    unit: UnitReference
    tenants: list[Tenant] = Tenants
    ended_on: date


class TenancyTransferred(Event):
    """A unit's tenancy passed from its tenants to others (a transfer of the lease, 承租人变更):
    the previous tenants moved out, the new ones moved in."""

    event_type: ClassVar[str] = "housing.TenancyTransferred"

    tenancy_id: str = Field(min_length=1, max_length=100)
    unit: UnitReference
    previous_tenants: list[Tenant] = Tenants
    new_tenants: list[Tenant] = Tenants
    transferred_on: date


EVENTS: tuple[type[Event], ...] = (TenancyStarted, TenancyEnded, TenancyTransferred)

CATALOG = EventCatalog(SOURCE, EVENTS, topic=TOPIC, inbound=True)
"""The housing security centre's messages, read by Anju (``inbound.housing.tenancies``)."""


TenancyChanged = TenancyStarted | TenancyEnded | TenancyTransferred


def to_kafka(
    message_id: str,
    change: TenancyChanged,
    *,
    source: str = "housing-security-centre",
    time: datetime | None = None,
) -> KafkaMessage:
    """``change`` as the housing security centre publishes it on :data:`TOPIC`: key the tenancy
    id, a binary-mode CloudEvent with ``message_id`` as ``ce_id``."""
    event = CloudEvent(
        id=message_id,
        source=source,
        type=change.event_type,
        time=time or datetime.now(UTC),
        subject=change.tenancy_id,
        content_type=JSON_CONTENT,
        extensions={"dataversion": str(change.event_version)},
        data=change.model_dump_json().encode(),
    )
    return write_binary(event, change.tenancy_id.encode())
