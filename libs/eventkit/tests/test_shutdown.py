"""Stopping a runtime is bounded in time even when the broker hangs.

A broker that accepts connections but never answers (here: a Tansu process stopped with
SIGSTOP) leaves the relay waiting inside a request to it, which aiokafka would only give up after
its request timeout. Leaving the runtime must not wait for that: it cancels the stuck workers
after ``stop_timeout_s`` and closes the pool.
"""

from __future__ import annotations

import asyncio
import os
import signal
import time
import uuid

from pydantic import SecretStr

from anju_contracts import Event, EventCatalog
from eventkit.runtime import Runtime
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.testing.infra import TansuBroker


class Noted(Event):
    event_type = "shutdowndemo.Noted"


CATALOG = EventCatalog("shutdowndemo", [Noted])


async def test_leaving_the_runtime_with_a_hung_broker_takes_seconds_not_minutes(
    database_url: str,
) -> None:
    with TansuBroker() as broker:
        settings = ServiceSettings(
            service="shutdowndemo",
            database_url=database_url,
            jwt_secret=SecretStr("x" * 32),
            kafka=KafkaSettings(
                bootstrap=broker.bootstrap, topic_prefix=f"s{uuid.uuid4().hex[:8]}."
            ),
            topic_check_interval_s=0.1,
        )
        runtime = Runtime(settings, catalog=CATALOG)
        runtime.stop_timeout_s = 1.0
        assert broker.pid is not None
        try:
            async with runtime:
                relay = runtime.relay
                assert relay is not None
                deadline = time.monotonic() + 20
                while not relay.active:
                    assert time.monotonic() < deadline, "the relay did not start"
                    await asyncio.sleep(0.05)
                os.kill(broker.pid, signal.SIGSTOP)
                await asyncio.sleep(1.0)  # the relay is now inside a request the broker ignores
                started = time.monotonic()
            took = time.monotonic() - started
        finally:
            os.kill(broker.pid, signal.SIGCONT)
    # stop_timeout_s for the workers, up to two cancellation waits, the pool's close.
    assert took < 1.0 + 2 * 1.0 + 1.5, f"stopping took {took:.1f} s"
    assert runtime.relay is not None
    assert not runtime.relay.active
    assert runtime.pool.is_closing()
