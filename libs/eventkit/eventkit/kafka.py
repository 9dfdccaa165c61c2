"""Kafka clients built from settings, and the topics the services publish to.

Every client Anju builds (the relay's producer and admin client, the projections' and policies'
consumers, the operator commands', a FastStream broker) connects through :func:`connection`, so
TLS and SASL are set in one place; ``tests/architecture`` checks that none is built without it.
"""

from __future__ import annotations

import contextlib
import ssl
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRebalanceListener, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import CommitFailedError, IllegalStateError, TopicAlreadyExistsError
from aiokafka.helpers import create_ssl_context

from eventkit.settings import KafkaSettings

if TYPE_CHECKING:
    from faststream.security import BaseSecurity

log = structlog.get_logger("eventkit.kafka")

# Event topics keep everything: the event stores can re-seed them, but integrators may
# read them from the beginning too.
TOPIC_CONFIG = {"retention.ms": "-1", "cleanup.policy": "delete"}


class KafkaSecurityError(ValueError):
    """The TLS files named in the settings exist but cannot be used (not PEM, wrong key...)."""


def connection(settings: KafkaSettings) -> dict[str, Any]:
    """The keyword arguments that say where Kafka is and how to connect to it, for any aiokafka
    client: ``bootstrap_servers``, ``security_protocol`` and, as the protocol needs them, the
    SASL mechanism and credentials and an ``ssl_context``.

    Raises :class:`KafkaSecurityError` when the CA, certificate or key cannot be loaded.
    """
    kwargs: dict[str, Any] = {
        "bootstrap_servers": settings.bootstrap,
        "security_protocol": settings.security_protocol,
    }
    if settings.uses_sasl:
        assert settings.sasl_password is not None  # the settings refuse SASL without one
        kwargs["sasl_mechanism"] = settings.sasl_mechanism
        kwargs["sasl_plain_username"] = settings.sasl_username
        kwargs["sasl_plain_password"] = settings.sasl_password.get_secret_value()
    if settings.uses_tls:
        kwargs["ssl_context"] = ssl_context(settings)
    return kwargs


def ssl_context(settings: KafkaSettings) -> ssl.SSLContext:
    """The TLS context of ``SSL`` and ``SASL_SSL``: the configured CA (else the system's), the
    client certificate if any, hostname checked unless turned off."""
    password = settings.ssl_key_password
    try:
        context: ssl.SSLContext = create_ssl_context(
            cafile=settings.ssl_cafile,
            certfile=settings.ssl_certfile,
            keyfile=settings.ssl_keyfile,
            password=password.get_secret_value() if password is not None else None,
        )
    except (ssl.SSLError, OSError) as error:
        files = {
            "KAFKA__SSL_CAFILE": settings.ssl_cafile,
            "KAFKA__SSL_CERTFILE": settings.ssl_certfile,
            "KAFKA__SSL_KEYFILE": settings.ssl_keyfile,
        }
        named = ", ".join(f"{k}={v}" for k, v in files.items() if v is not None)
        raise KafkaSecurityError(f"cannot load Kafka TLS files ({named}): {error}") from error
    context.check_hostname = settings.ssl_check_hostname
    return context


def broker_security(settings: KafkaSettings) -> BaseSecurity | None:
    """The same connection for a FastStream ``KafkaBroker``, whose ``security=`` takes an object
    (pass ``bootstrap_servers=settings.bootstrap`` beside it); ``None`` for plaintext."""
    from faststream.security import (
        BaseSecurity,
        SASLPlaintext,
        SASLScram256,
        SASLScram512,
    )

    kwargs = connection(settings)
    context: ssl.SSLContext | None = kwargs.get("ssl_context")
    if not settings.uses_sasl:
        return BaseSecurity(ssl_context=context) if context is not None else None
    sasl = {"PLAIN": SASLPlaintext, "SCRAM-SHA-256": SASLScram256, "SCRAM-SHA-512": SASLScram512}
    return sasl[kwargs["sasl_mechanism"]](
        kwargs["sasl_plain_username"],
        kwargs["sasl_plain_password"],
        ssl_context=context,
        use_ssl=settings.uses_tls,
    )


def producer(settings: KafkaSettings, *, client_id: str) -> AIOKafkaProducer:
    """A producer for the relay. Idempotence is a setting: the dev broker rejects it."""
    return AIOKafkaProducer(
        **connection(settings),
        client_id=client_id,
        acks="all" if settings.acks == "all" else int(settings.acks),
        enable_idempotence=settings.enable_idempotence,
        linger_ms=settings.linger_ms,
        max_batch_size=1 << 20,
        metadata_max_age_ms=settings.metadata_max_age_ms,
    )


def consumer(
    settings: KafkaSettings,
    *topics: str,
    group_id: str | None,
    client_id: str,
    max_partition_fetch_bytes: int = 1 << 20,
    assignment: Assignment | None = None,
) -> AIOKafkaConsumer:
    """A consumer that never commits on its own: the runner commits after its transaction.

    With ``assignment``, the consumer subscribes to ``topics`` with it as its rebalance listener,
    so the runner knows (and logs) which partitions it holds.
    """
    client = AIOKafkaConsumer(
        *(() if assignment is not None else topics),
        **connection(settings),
        group_id=group_id,
        client_id=client_id,
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=settings.session_timeout_ms,
        heartbeat_interval_ms=settings.heartbeat_interval_ms,
        fetch_max_wait_ms=settings.fetch_max_wait_ms,
        metadata_max_age_ms=settings.metadata_max_age_ms,
        max_poll_records=settings.max_batch,
        max_partition_fetch_bytes=max_partition_fetch_bytes,
    )
    if assignment is not None:
        client.subscribe(list(topics), listener=assignment)
    return client


class Assignment(ConsumerRebalanceListener):  # type: ignore[misc]
    """The partitions a group member holds now, logged at each rebalance.

    Several replicas of a projection or a policy share one consumer group: the broker splits the
    topics' partitions among them and moves a leaving replica's partitions to the others.
    """

    def __init__(self, member: str) -> None:
        self.member = member
        self.partitions: frozenset[TopicPartition] = frozenset()
        self.rebalances = 0

    async def on_partitions_revoked(self, revoked: Iterable[TopicPartition]) -> None:
        self.partitions = frozenset()

    async def on_partitions_assigned(self, assigned: Iterable[TopicPartition]) -> None:
        self.partitions = frozenset(assigned)
        self.rebalances += 1
        log.info(
            "partitions_assigned",
            member=self.member,
            partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in self.partitions),
        )


async def commit_applied(
    consumer: AIOKafkaConsumer, offsets: dict[TopicPartition, int], *, member: str
) -> bool:
    """Commit the offsets after what a runner has applied; False when a rebalance took some of
    the partitions away meanwhile (those offsets are not committed).

    That is no error: the applied events are in the database with their stream versions (or the
    inbox), so the replica that now holds the partition skips them when they come again. Raising
    instead would restart the runner, leave the group and join it again: one more rebalance.
    """
    assigned = consumer.assignment()
    kept = {tp: offset for tp, offset in offsets.items() if tp in assigned}
    try:
        if kept:
            await consumer.commit(kept)
    except (CommitFailedError, IllegalStateError) as error:
        log.info("commit_skipped_after_rebalance", member=member, error=repr(error))
        return False
    if len(kept) < len(offsets):
        log.info(
            "commit_skipped_after_rebalance",
            member=member,
            partitions=sorted(f"{tp.topic}:{tp.partition}" for tp in offsets if tp not in kept),
        )
        return False
    return True


def admin(settings: KafkaSettings, *, client_id: str) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(**connection(settings), client_id=client_id)


async def existing_topics(client: AIOKafkaAdminClient) -> set[str]:
    return set(await client.list_topics())


async def ensure_topics(
    client: AIOKafkaAdminClient, topics: Iterable[str], settings: KafkaSettings
) -> list[str]:
    """Create the missing ones among ``topics``; return the names it created."""
    missing = [t for t in topics if t not in await existing_topics(client)]
    if not missing:
        return []
    new = [
        NewTopic(
            name,
            num_partitions=settings.partitions,
            replication_factor=settings.replication_factor,
            topic_configs=TOPIC_CONFIG,
        )
        for name in missing
    ]
    with contextlib.suppress(TopicAlreadyExistsError):
        await client.create_topics(new)
    return missing


async def prepare_topics(settings: KafkaSettings, topics: Iterable[str], *, client_id: str) -> None:
    """Create ``topics`` (if missing) with the configured partitions before subscribing.

    A broker that creates topics on demand would otherwise create them at a consumer's first
    metadata request, with its own default partition count.
    """
    client = admin(settings, client_id=client_id)
    await client.start()
    try:
        await ensure_topics(client, topics, settings)
    finally:
        await client.close()


async def rewind_shrunk(consumer: AIOKafkaConsumer) -> list[TopicPartition]:
    """Read again from the start every assigned partition that now ends before this consumer's
    position, and return them.

    That happens when the broker lost its data and the relays re-seeded it from the event stores
    (guarantee 9) while this consumer kept its position: the topic is shorter than before, and the
    dev broker answers a fetch past its end with the new, lower high-water mark rather than an
    out-of-range error, so the consumer would wait for offsets that are not coming. Reading again
    is safe: projections skip what they have applied, policies what is in their inbox.
    """
    rewound: list[TopicPartition] = []
    for tp in consumer.assignment():
        highwater = consumer.highwater(tp)
        if highwater is None:
            continue
        try:
            position = await consumer.position(tp)
        except Exception:  # no longer assigned (a rebalance): the next poll sees it again
            continue
        if position > highwater:
            consumer.seek(tp, 0)
            rewound.append(tp)
    if rewound:
        log.warning(
            "partitions_rewound", partitions=[f"{tp.topic}:{tp.partition}" for tp in rewound]
        )
    return rewound
