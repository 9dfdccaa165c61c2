"""``inbound.hotline12345.orders``: the city's 12345 hotline dispatches work orders to the
community (接诉即办); each becomes a dispute or a conflict signal in mediation
(:mod:`anju_integration.application.hotline`)."""

from __future__ import annotations

import json

import structlog

from anju_contracts.base import InvalidEvent, UnknownEvent
from anju_contracts.cloudevents import NotAnEvent, read_binary
from anju_contracts.hotline12345 import CATALOG, TOPIC, WorkOrderDispatched
from anju_integration.application import hotline
from anju_integration.entrypoints.subscribers.inbound import (
    BadMessage,
    Handle,
    Inbound,
    Record,
    Running,
)

log = structlog.get_logger("anju_integration.hotline")


def decode(record: Record) -> tuple[str, WorkOrderDispatched]:
    """The message's CloudEvent id and its work order; :class:`BadMessage` when it is none."""
    try:
        event = read_binary(record.value, record.headers)
    except NotAnEvent as error:
        raise BadMessage("undecodable", str(error)) from error
    raw_version = event.extensions.get("dataversion", "1")
    if not raw_version.isdigit():
        raise BadMessage("invalid", f"ce_dataversion {raw_version!r} is not a version")
    try:
        data = json.loads(event.data)
    except ValueError as error:
        raise BadMessage("undecodable", f"the value is not JSON: {error}") from error
    if not isinstance(data, dict):
        raise BadMessage("undecodable", "the value is not a JSON object")
    try:
        order = CATALOG.decode(event.type, int(raw_version), data)
    except UnknownEvent as error:
        raise BadMessage("unknown_type", str(error)) from error
    except InvalidEvent as error:
        raise BadMessage("invalid", str(error.error)) from error
    assert isinstance(order, WorkOrderDispatched)
    return event.id, order


def handler(running: Running) -> Handle:
    async def handle(record: Record) -> None:
        message_id, order = decode(record)
        with structlog.contextvars.bound_contextvars(order_id=order.order_id):
            state = await hotline.take_order(
                running.runtime.store, running.config, order, message_id=message_id
            )
            log.info(
                "hotline_order_taken",
                parked=state.parked,
                record=None if state.forwarded is None else state.forwarded.record,
            )

    return handle


INBOUND = Inbound(
    name="inbound_hotline12345",
    topic=TOPIC,
    description="Work orders the 12345 hotline dispatches to the community.",
    handler=handler,
)
