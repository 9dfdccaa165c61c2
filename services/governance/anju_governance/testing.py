"""Test helpers for the governance service.

:func:`running_governance`: the app with its lifespan running, a hand-moved clock, an HTTP
client over ASGI, the registry's news fed straight to the service's registry policy
(:class:`~eventkit.testing.registry.RegistryFeed`), and :class:`MediationFeed`, which publishes
mediation's events onto the real broker as mediation's relay would (twice, if asked). Used by
this service's integration tests and by system-level tests; nothing here runs in production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import ClassVar

from aiokafka.structs import TopicPartition

from anju_contracts import Actor, Envelope, Event
from anju_contracts.cloudevents import to_kafka
from anju_contracts.mediation import SOURCE as MEDIATION
from anju_governance.application.reactions import MEDIATION_POLICY_NAME
from anju_governance.entrypoints.app import create_app
from anju_governance.settings import GovernanceSettings
from eventkit import kafka
from eventkit.runtime import Runtime
from eventkit.settings import KafkaSettings, topic_for
from eventkit.testing.clocks import ManualClock
from eventkit.testing.delivery import envelope_of
from eventkit.testing.registry import RegistryFeed
from eventkit.testing.service import Json, ServiceClient, serving, settings_for_test

SECRET = "governance-tests-secret-0123456789-0123456789"


@dataclass
class MediationFeed:
    """Mediation's events on the broker's ``mediation.events`` of the service's prefix."""

    settings: KafkaSettings
    sequences: dict[str, int]

    def envelope(
        self, event: Event, *, subject: str, area: str | None, at: datetime | None = None
    ) -> Envelope:
        sequence = self.sequences[subject] = self.sequences.get(subject, 0) + 1
        return envelope_of(
            event,
            source=MEDIATION,
            subject=subject,
            sequence=sequence,
            occurred_at=at,
            actor=Actor(id="mediation-tests", roles=("mediator",)),
            area=area,
        )

    @property
    def topic(self) -> str:
        return topic_for(MEDIATION, self.settings.topic_prefix)

    async def publish(self, *envelopes: Envelope) -> None:
        """Publish ``envelopes`` in order (repeat one to deliver it twice), keyed by stream."""
        await kafka.prepare_topics(self.settings, [self.topic], client_id="mediation-feed")
        producer = kafka.producer(self.settings, client_id="mediation-feed")
        await producer.start()
        try:
            for e in envelopes:
                message = to_kafka(e)  # as mediation's relay publishes it
                await producer.send_and_wait(
                    self.topic, message.value, key=message.key, headers=message.headers
                )
        finally:
            await producer.stop()

    async def consumed(self) -> int:
        """How many messages of the topic the governance policy has committed past."""
        group = f"{self.settings.topic_prefix}anju.policy.{MEDIATION_POLICY_NAME}"
        reader = kafka.consumer(self.settings, group_id=group, client_id="mediation-feed-offsets")
        await reader.start()
        try:
            await reader.topics()  # fetches the cluster's metadata
            partitions = reader.partitions_for_topic(self.topic) or set()
            total = 0
            for partition in partitions:
                committed = await reader.committed(TopicPartition(self.topic, partition))
                total += committed or 0
            return total
        finally:
            await reader.stop()


@dataclass
class GovernanceClient(ServiceClient):
    settings: GovernanceSettings
    feed: RegistryFeed
    mediation: MediationFeed

    secret: ClassVar[str] = SECRET

    def director(self, sub: str = "director-1", community: str | None = None) -> dict[str, str]:
        return self.auth("director", sub=sub, areas=[community or self.feed.community_id])

    def liaison(self, organisation: str, sub: str = "liaison-1") -> dict[str, str]:
        return self.auth(
            "liaison", sub=sub, areas=[self.feed.community_id], organisations=[organisation]
        )

    async def item(self, item_id: str, headers: dict[str, str] | None = None) -> Json:
        response = await self.get(f"/items/{item_id}", headers)
        assert response.status_code == 200, response.text
        answer: Json = response.json()
        return answer


@asynccontextmanager
async def running_governance(
    database_url: str,
    kafka_bootstrap: str,
    *,
    topic_prefix: str | None = None,
    clock: ManualClock | None = None,
    feed_tree: bool = True,
    consistency_wait_s: float = 5.0,
) -> AsyncIterator[GovernanceClient]:
    """The service on ``database_url``, on a fresh topic prefix unless one is given (the
    registry's, in a system test, with ``feed_tree=False``: then it learns only what the
    registry publishes)."""
    settings = settings_for_test(
        GovernanceSettings,
        database_url,
        kafka_bootstrap,
        SECRET,
        topic_prefix=topic_prefix,
        consistency_wait_s=consistency_wait_s,
    )
    clock = clock or ManualClock()
    app = create_app(settings, clock=clock)
    async with serving(app, "governance") as client:
        runtime: Runtime = app.state.runtime
        feed = RegistryFeed(runtime.store, runtime.policies[0])
        if feed_tree:
            await feed.build_tree(residents=0)
        mediation = MediationFeed(settings.kafka, {})
        yield GovernanceClient(app, client, clock, settings, feed, mediation)
