"""The integration service's inbound topics, each a FastStream subscriber on one ``KafkaBroker``
(:mod:`.inbound`), run as a worker of the service's runtime: started with the service's
lifespan once its pool and store are up, restarted with backoff when the broker is away,
stopped with the service.

A new inbound topic is a module beside :mod:`.hotline` declaring its :class:`.inbound.Inbound`,
listed in :data:`INBOUNDS`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from anju_integration.entrypoints.subscribers import hotline, tenancies
from anju_integration.entrypoints.subscribers.inbound import (
    DeadLetters,
    Inbound,
    Running,
    Subscriber,
    build_broker,
)
from anju_integration.settings import IntegrationSettings
from eventkit import kafka
from eventkit.messages import Poison, dead_letter
from eventkit.runtime import Runtime, Worker

INBOUNDS: tuple[Inbound, ...] = (hotline.INBOUND, tenancies.INBOUND)
"""Every inbound topic the service subscribes to."""


def subscribers(
    settings: IntegrationSettings,
    running: Running,
    dead_letters: DeadLetters,
    inbounds: Sequence[Inbound] = INBOUNDS,
) -> list[Subscriber]:
    return [
        Subscriber(
            inbound,
            inbound.handler(running),
            dead_letters,
            retries=settings.inbound_retries,
            backoff_s=settings.inbound_backoff_s,
        )
        for inbound in inbounds
    ]


def table_of(runtime: Runtime) -> DeadLetters:
    """The kernel's ``dead_letters`` table of the service's database."""

    async def put(consumer: str, poison: Poison) -> None:
        async with runtime.pool.acquire() as conn:
            await dead_letter(conn, consumer, [poison])

    return put


def worker(
    settings: IntegrationSettings, running: Running, inbounds: Sequence[Inbound] = INBOUNDS
) -> Worker:
    """The runtime worker that runs the inbound subscribers until the service stops."""

    async def run(stop: asyncio.Event) -> None:
        topics = [f"{settings.kafka.topic_prefix}{i.topic}" for i in inbounds]
        client_id = f"{settings.service}-inbound"
        await kafka.prepare_topics(settings.kafka, topics, client_id=client_id)
        running_subscribers = subscribers(settings, running, table_of(running.runtime), inbounds)
        broker: KafkaBroker = build_broker(settings, running_subscribers, client_id=client_id)
        await broker.start()
        try:
            await stop.wait()
        finally:
            await broker.stop()

    return run
