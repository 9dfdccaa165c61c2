"""Policies: a service reacting to other services' events with commands of its own.

Each event is handled in one transaction together with an ``inbox`` row keyed by the event id,
so an event delivered twice (the relay publishes at least once) has its effect once. The handler
receives a :class:`~eventkit.store.Session` on that same transaction: whatever it appends commits
with the inbox row or not at all. Poison messages go to dead letters; the runner goes on.

A handler that keeps failing on an event — after the conflict retries, and a few retries with
backoff for any other error that is not transient (:func:`~eventkit.messages.is_transient`) —
sets the event aside as ``handler_failed`` with the error, and the partition goes on. The rule
that keeps per-stream order is the projections' one: *while a stream has a pending dead letter
for this policy, its later events are not handled; they are set aside as ``blocked`` behind that
letter* until an operator replays it (then they are handled after it, in order) or discards it.
Transient errors are raised: the runner restarts and the event comes again.

With its inbox row each handled event also advances the policy's version of the event's stream
(:class:`~eventkit.consistency.StreamVersions`), so that a command given another service's
consistency token can wait until the policy has learnt that write (``eventkit.app.caught_up``).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer

from anju_contracts import EventCatalog, cloudevents as ce
from eventkit import kafka
from eventkit.consistency import Commits, StreamVersions, highest
from eventkit.messages import (
    Decoder,
    Delivered,
    PassedOver,
    Poison,
    RawMessage,
    blocked,
    dead_letter,
    failed,
    is_transient,
    stream_heads,
)
from eventkit.metrics import PROJECTED
from eventkit.settings import KafkaSettings, topic_for
from eventkit.store import ConcurrencyError, EventStore, Session

log = structlog.get_logger("eventkit.policy")

Handler = Callable[[Session, Delivered], Awaitable[None]]


@dataclass(frozen=True)
class Policy:
    """``handle`` is called once per event of ``catalogs``' services (it may ignore most)."""

    name: str
    catalogs: Sequence[EventCatalog]
    handle: Handler
    types: frozenset[str] | None = None
    """The only event types the policy reacts to, when it names them: the others are passed
    over unread (not decoded, not opened, never set aside as poison, and no stream version
    advanced, so no reader can wait on them). ``None``: every event of the catalogues."""


async def handle_once(store: EventStore, policy: Policy, delivered: Delivered) -> bool:
    """Run ``policy`` on ``delivered`` unless it already has; return whether it ran."""
    async with store.pool.acquire() as conn, conn.transaction():
        ran = await apply_once(conn, store, policy, delivered)
    if ran:
        store.notify()
    return ran


async def apply_once(
    conn: asyncpg.Connection, store: EventStore, policy: Policy, delivered: Delivered
) -> bool:
    """:func:`handle_once` inside the caller's transaction (the inbox row commits with it)."""
    fresh = await conn.fetchval(
        """
        INSERT INTO inbox (consumer, event_id) VALUES ($1, $2)
        ON CONFLICT DO NOTHING RETURNING true
        """,
        policy.name,
        delivered.envelope.id,
    )
    if not fresh:
        return False
    async with store.session(conn) as session:
        await policy.handle(session, delivered)
    await StreamVersions.of_policy(policy.name).advance(conn, highest([delivered]))
    return True


class PolicyRunner:
    """Feeds one policy from Kafka in a consumer group of its own; replicas in several
    processes share it, each handling the partitions the broker gives it (the inbox makes an
    event a rebalance hands to two of them take effect once)."""

    def __init__(self, store: EventStore, policy: Policy, settings: KafkaSettings) -> None:
        self.store = store
        self.policy = policy
        self.settings = settings
        self.decoder = Decoder(policy.catalogs, cipher=store.cipher)
        self.handled = 0
        self.commits = Commits()
        self.assignment = kafka.Assignment(f"policy-{policy.name}")

    async def run(self, stop: asyncio.Event) -> None:
        topics = [topic_for(c.source, self.settings.topic_prefix) for c in self.policy.catalogs]
        await kafka.prepare_topics(self.settings, topics, client_id=f"policy-{self.policy.name}")
        consumer = kafka.consumer(
            self.settings,
            *topics,
            group_id=f"{self.settings.topic_prefix}anju.policy.{self.policy.name}",
            client_id=f"policy-{self.policy.name}",
            assignment=self.assignment,
        )
        await consumer.start()
        try:
            while not stop.is_set():
                await self.poll(consumer)
        finally:
            await consumer.stop()

    async def _handle(
        self,
        delivered: Delivered,
        *,
        conflicts: int = 5,
        failures: int = 3,
        backoff_s: float = 0.05,
    ) -> bool:
        """Run the policy; a concurrency conflict (another command moved the stream it appends
        to) is retried from a fresh load, like a user would, before it counts as a failure; any
        other error that is not transient is tried ``failures`` times in all, backing off."""
        conflicted = failed_times = 0
        while True:
            try:
                return await handle_once(self.store, self.policy, delivered)
            except ConcurrencyError:
                conflicted += 1
                if conflicted >= conflicts:
                    raise
                await asyncio.sleep(0.01 * conflicted)
            except Exception as error:
                failed_times += 1
                if is_transient(error) or failed_times >= failures:
                    raise
                await asyncio.sleep(backoff_s * 2 ** (failed_times - 1))

    async def _held(self, delivered: Delivered) -> bool:
        """Set ``delivered`` aside if its stream waits behind a pending letter of this policy."""
        async with self.store.pool.acquire() as conn, conn.transaction():
            head = (await stream_heads(conn, self.policy.name, [delivered.stream])).get(
                delivered.stream
            )
            if head is None or delivered.envelope.sequence < head.sequence:
                return False
            if delivered.envelope.sequence > head.sequence:
                await dead_letter(conn, self.policy.name, [blocked(delivered, head)])
            return True

    def _wanted(self, message: RawMessage) -> bool:
        types = self.policy.types
        if types is None:
            return True
        headers = dict(message.headers)
        named = headers.get(ce.TYPE) or headers.get("type")  # the type header, either form
        return named is not None and named.decode("utf-8", "replace") in types

    async def poll(self, consumer: AIOKafkaConsumer, timeout_ms: int = 200) -> int:
        fetched = await consumer.getmany(timeout_ms=timeout_ms, max_records=self.settings.max_batch)
        if not fetched:
            await kafka.rewind_shrunk(consumer)
        handled = 0
        for batch in fetched.values():
            for message in batch:
                if not self._wanted(message):
                    continue
                decoded = await self.decoder.read(message)
                if isinstance(decoded, Poison):
                    async with self.store.pool.acquire() as conn:
                        await dead_letter(conn, self.policy.name, [decoded])
                    continue
                if isinstance(decoded, PassedOver):
                    continue  # never: a policy's decoder reads every type (_wanted chose them)
                with structlog.contextvars.bound_contextvars(
                    correlation_id=decoded.envelope.correlation_id,
                    event_id=str(decoded.envelope.id),
                    event_type=decoded.envelope.type,
                ):
                    if await self._held(decoded):
                        continue
                    try:
                        if await self._handle(decoded):
                            handled += 1
                            self.commits.committed()
                    except Exception as error:
                        if is_transient(error):
                            raise  # infrastructure: the runner restarts and the event comes again
                        log.exception("policy_failed", policy=self.policy.name)
                        letter = failed(decoded, "handler_failed", repr(error))
                        async with self.store.pool.acquire() as conn:
                            await dead_letter(conn, self.policy.name, [letter])
        if fetched:
            await kafka.commit_applied(
                consumer,
                {tp: batch[-1].offset + 1 for tp, batch in fetched.items() if batch},
                member=self.assignment.member,
            )
        PROJECTED.labels(self.policy.name).inc(handled)
        self.handled += handled
        return handled
