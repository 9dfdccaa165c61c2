"""Kafka clients built from settings, and the topics the services publish to."""

from __future__ import annotations

import contextlib
from collections.abc import Iterable

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from eventkit.settings import KafkaSettings

log = structlog.get_logger("eventkit.kafka")

# Event topics keep everything: the event stores can re-seed them, but integrators may
# read them from the beginning too.
TOPIC_CONFIG = {"retention.ms": "-1", "cleanup.policy": "delete"}


def producer(settings: KafkaSettings, *, client_id: str) -> AIOKafkaProducer:
    """A producer for the relay. Idempotence is a setting: the dev broker rejects it."""
    return AIOKafkaProducer(
        bootstrap_servers=settings.bootstrap,
        client_id=client_id,
        acks="all" if settings.acks == "all" else int(settings.acks),
        enable_idempotence=settings.enable_idempotence,
        linger_ms=5,
        max_batch_size=1 << 20,
        metadata_max_age_ms=settings.metadata_max_age_ms,
    )


def consumer(
    settings: KafkaSettings,
    *topics: str,
    group_id: str | None,
    client_id: str,
    max_partition_fetch_bytes: int = 1 << 20,
) -> AIOKafkaConsumer:
    """A consumer that never commits on its own: the runner commits after its transaction."""
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.bootstrap,
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


def admin(settings: KafkaSettings, *, client_id: str) -> AIOKafkaAdminClient:
    return AIOKafkaAdminClient(bootstrap_servers=settings.bootstrap, client_id=client_id)


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
