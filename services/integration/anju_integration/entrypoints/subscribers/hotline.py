"""``inbound.hotline12345.orders``: the city's 12345 hotline dispatches work orders to the
community (接诉即办)."""

from __future__ import annotations

import structlog

from anju_integration.entrypoints.subscribers.inbound import Handle, Inbound, Record, Running

log = structlog.get_logger("anju_integration.hotline")


def handler(running: Running) -> Handle:
    async def handle(record: Record) -> None:
        log.info("hotline_order_received", key=record.key)

    return handle


INBOUND = Inbound(
    name="inbound_hotline12345",
    topic="inbound.hotline12345.orders",
    description="Work orders the 12345 hotline dispatches to the community.",
    handler=handler,
)
