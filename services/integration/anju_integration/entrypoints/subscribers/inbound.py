"""What every inbound topic shares: one FastStream ``KafkaBroker`` for all of them, a subscriber
per topic that commits a message's offset only once the message is handled, and dead letters.

A module per inbound topic declares an :class:`Inbound` (its topic, its consumer name, and a
factory that builds its handler when the service starts) and is listed in
:data:`anju_integration.entrypoints.subscribers.INBOUNDS`. Its handler raises
:class:`BadMessage` for a message it can never take (undecodable, invalid, unknown type); the
subscriber records it in the kernel's ``dead_letters`` table with the reason, commits its offset
and goes on (operators list and inspect it through the kernel's dead-letter routes and ``anju
dead-letters``). Any other error leaves the offset uncommitted: the message comes again after
a backoff (FastStream's ``NACK_ON_ERROR`` seeks back to it). Infrastructure errors (the database
or the broker away) are retried for as long as they last; others are dead-lettered as
``handler_failed`` after ``inbound_retries`` tries, so one message never stops the line.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Protocol

import structlog
from faststream import AckPolicy
from faststream.kafka import KafkaBroker, KafkaRouter
from faststream.kafka.annotations import KafkaMessage

from anju_integration.application.config import IntegrationConfig
from anju_integration.settings import IntegrationSettings
from eventkit import kafka
from eventkit.messages import Poison, RawMessage, Unusable, is_transient
from eventkit.runtime import Runtime

log = structlog.get_logger("anju_integration.inbound")

Record = RawMessage
"""A Kafka message as the handlers see it (aiokafka's ``ConsumerRecord`` fits)."""

Handle = Callable[[Record], Awaitable[None]]
"""Handles one message; returns once its effect is durable (then its offset is committed)."""


class BadMessage(Unusable):
    """A message this service can never take as it is: it is dead-lettered with ``reason``
    (``undecodable``, ``invalid``, ``unknown_type``...) and ``detail``, and the line goes on;
    a replay of its letter that raises it again leaves the letter pending with the new reason."""


@dataclass(frozen=True)
class Running:
    """The service's running parts a handler is built from: the runtime (pool, store) and the
    handlers' config."""

    runtime: Runtime
    config: IntegrationConfig


@dataclass(frozen=True)
class Inbound:
    """One inbound topic of another system, and what handles its messages."""

    name: str
    """Keys the topic's consumer group and its dead letters: never rename it."""
    topic: str
    """The topic, without the stack's prefix (``inbound.<system>.<what>``)."""
    description: str
    handler: Callable[[Running], Handle]
    """Builds the handler when the service starts, from the service's running parts."""


class DeadLetters(Protocol):
    """Where a message set aside goes: the ``dead_letters`` table, or a list in unit tests."""

    async def __call__(self, consumer: str, poison: Poison) -> None: ...


@dataclass
class Subscriber:
    """Runs one inbound topic's handler on each message, setting aside what it cannot take."""

    inbound: Inbound
    handle: Handle
    dead_letters: DeadLetters
    retries: int = 5
    backoff_s: float = 0.5
    _failures: dict[tuple[int, int], int] = field(default_factory=dict)

    async def __call__(self, record: Record) -> None:
        where = (record.partition, record.offset)
        with structlog.contextvars.bound_contextvars(
            inbound=self.inbound.name, partition=record.partition, offset=record.offset
        ):
            try:
                await self.handle(record)
            except BadMessage as bad:
                log.warning("inbound_dead_lettered", reason=bad.reason, detail=bad.detail)
                await self.dead_letters(self.inbound.name, Poison(record, bad.reason, bad.detail))
            except Exception as error:
                failures = self._failures[where] = self._failures.get(where, 0) + 1
                if is_transient(error) or failures < self.retries:
                    wait = min(self.backoff_s * 2 ** (failures - 1), 30.0)
                    log.warning("inbound_retry", error=repr(error), retry_in_s=wait)
                    await asyncio.sleep(wait)
                    raise  # not committed: the subscriber seeks back and it comes again
                log.exception("inbound_failed", inbound=self.inbound.name)
                poison = Poison(record, "handler_failed", repr(error)[:2000])
                await self.dead_letters(self.inbound.name, poison)
            self._failures.pop(where, None)


def build_broker(
    settings: IntegrationSettings, subscribers: list[Subscriber], *, client_id: str
) -> KafkaBroker:
    """One broker for every inbound topic, connected like every other Kafka client of Anju
    (``eventkit.kafka``: TLS and SASL from the settings)."""
    broker = KafkaBroker(
        settings.kafka.bootstrap,
        security=kafka.broker_security(settings.kafka),
        client_id=client_id,
        metadata_max_age_ms=settings.kafka.metadata_max_age_ms,
        graceful_timeout=5.0,
    )
    for subscriber in subscribers:
        broker.include_router(router(settings, subscriber))
    return broker


def group_id(settings: IntegrationSettings, inbound: Inbound) -> str:
    return f"{settings.kafka.topic_prefix}anju.{settings.service}.{inbound.name}"


def router(settings: IntegrationSettings, subscriber: Subscriber) -> KafkaRouter:
    """The topic's FastStream subscriber: its own consumer group, from the earliest message the
    group has not committed, and offsets committed only after the handler returns."""
    inbound, tuning = subscriber.inbound, settings.kafka
    routes = KafkaRouter()

    @routes.subscriber(
        f"{tuning.topic_prefix}{inbound.topic}",
        group_id=group_id(settings, inbound),
        ack_policy=AckPolicy.NACK_ON_ERROR,
        auto_offset_reset="earliest",
        session_timeout_ms=tuning.session_timeout_ms,
        heartbeat_interval_ms=tuning.heartbeat_interval_ms,
        fetch_max_wait_ms=tuning.fetch_max_wait_ms,
        title=f"{inbound.name}:subscriber",
        description=inbound.description,
    )
    async def on_message(message: KafkaMessage) -> None:
        record = message.raw_message
        assert not isinstance(record, tuple)  # one message at a time, never a batch
        await subscriber(record)

    return routes
