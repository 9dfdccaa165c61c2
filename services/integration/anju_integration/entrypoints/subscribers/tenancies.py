"""``inbound.housing.tenancies``: the housing security centre's tenancy changes
(:mod:`anju_contracts.housing`), CloudEvents in binary mode."""

from __future__ import annotations

import json
import re

import structlog

from anju_contracts import InvalidEvent, UnknownEvent, housing
from anju_contracts.cloudevents import JSON_CONTENT, NotAnEvent, read_binary
from anju_integration.application import tenancies
from anju_integration.application.registry_commands import Unavailable
from anju_integration.entrypoints.subscribers.inbound import (
    BadMessage,
    Handle,
    Inbound,
    Record,
    Running,
)

log = structlog.get_logger("anju_integration.tenancies")

_MESSAGE_ID = re.compile(housing.MESSAGE_ID_PATTERN)


def read(record: Record) -> tuple[str, tenancies.TenancyMessage]:
    """The message id and the tenancy change a message carries; :class:`BadMessage` if it is
    not one."""
    try:
        event = read_binary(record.value, record.headers)
    except NotAnEvent as error:
        raise BadMessage("undecodable", str(error)) from None
    if not _MESSAGE_ID.match(event.id):
        raise BadMessage("invalid", f"ce_id {event.id[:120]!r} is not a message id")
    content_type = (event.content_type or JSON_CONTENT).split(";")[0].strip()
    if content_type != JSON_CONTENT:
        raise BadMessage("undecodable", f"content-type {content_type[:80]!r} is not JSON")
    version = event.extensions.get("dataversion", "1")
    if not version.isdigit() or len(version) > 6:
        raise BadMessage("invalid", f"ce_dataversion {version[:20]!r} is not a version number")
    try:
        payload = json.loads(event.data)
    except ValueError as error:
        raise BadMessage("undecodable", f"the value is not JSON: {error}") from None
    if not isinstance(payload, dict):
        raise BadMessage("invalid", "the value is not a JSON object")
    try:
        message = housing.CATALOG.decode(event.type, int(version), payload)
    except UnknownEvent as error:
        raise BadMessage("unknown_type", str(error)) from None
    except InvalidEvent as error:
        raise BadMessage("invalid", str(error)) from None
    assert isinstance(message, tenancies.TenancyMessage)
    return event.id, message


def handler(running: Running) -> Handle:
    async def handle(record: Record) -> None:
        message_id, message = read(record)
        try:
            await tenancies.receive(
                running.runtime.store, running.config.tenancies, message_id, message
            )
        except Unavailable as error:
            # The notice is recorded: its deadline takes it on when the registry answers.
            log.warning("tenancy_notice_waits_for_registry", error=str(error))

    return handle


INBOUND = Inbound(
    name="inbound_housing_tenancies",
    topic=housing.TOPIC,
    description="Tenancies started, ended and transferred, from the housing security centre.",
    handler=handler,
)
