"""Driving a relay by hand in tests, and reading what it published."""

from __future__ import annotations

import asyncio
import time
from typing import Any

from anju_contracts.cloudevents import from_kafka
from eventkit.messages import RawMessage
from eventkit.relay import Relay


async def publish_everything(relay: Relay, *, timeout_s: float = 20.0) -> int:
    """Publish until nothing committed is left behind the cursor; return how many went out.

    One ``publish_batch`` is not enough: the relay never reads past the oldest transaction still
    running anywhere on the PostgreSQL server, so other work can hold it back for a moment.
    """
    published = 0
    deadline = time.monotonic() + timeout_s
    while True:
        published += await relay.publish_batch()
        if await relay.lag() == 0:
            return published
        if time.monotonic() > deadline:
            raise TimeoutError(f"relay still {await relay.lag()} events behind after {timeout_s}s")
        await asyncio.sleep(0.02)


def envelope_json(record: RawMessage) -> dict[str, Any]:
    """A message of an Anju topic (a consumer record: its value and headers) as its envelope,
    in JSON form (``type``, ``subject``, ``data``...)."""
    return from_kafka(record.value, record.headers).model_dump(mode="json")


def on_the_wire(record: RawMessage) -> bytes:
    """Everything a message carries, key, headers and value, to check what is (not) on it."""
    parts = [record.key or b"", *(name.encode() + b"=" + v for name, v in record.headers)]
    return b"\n".join([*parts, record.value or b""])
