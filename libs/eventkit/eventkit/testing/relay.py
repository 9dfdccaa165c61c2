"""Driving a relay by hand in tests."""

from __future__ import annotations

import asyncio
import time

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
