"""Events as another service's relay would publish them, for tests that hand them straight to a
consumer (a policy, a projection, a reach) instead of going through the broker."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from anju_contracts import Actor, Envelope, Event
from anju_contracts.cloudevents import to_kafka
from eventkit.messages import Delivered, PassedOver

TESTER = Actor(id="tester", roles=("admin",))


def envelope_of(
    event: Event,
    *,
    source: str,
    subject: str,
    sequence: int = 1,
    position: int | None = None,
    occurred_at: datetime | None = None,
    actor: Actor = TESTER,
    area: str | None = None,
    correlation_id: str | None = None,
    envelope_id: uuid.UUID | None = None,
) -> Envelope:
    """The envelope ``source``'s relay would publish ``event`` in, as event ``sequence`` of the
    stream ``subject`` (at ``position`` in the store: the sequence unless given); now, and
    under a new id and correlation id, unless given."""
    return Envelope(
        id=envelope_id or uuid.uuid4(),
        type=event.event_type,
        version=event.event_version,
        source=source,
        subject=subject,
        sequence=sequence,
        position=sequence if position is None else position,
        occurred_at=occurred_at or datetime.now(UTC),
        correlation_id=correlation_id or str(uuid.uuid4()),
        actor=actor,
        area=area,
        data=event.model_dump(mode="json"),
    )


def delivered(
    event: Event,
    *,
    source: str,
    subject: str,
    sequence: int = 1,
    position: int | None = None,
    offset: int | None = None,
    occurred_at: datetime | None = None,
    actor: Actor = TESTER,
    area: str | None = None,
    correlation_id: str | None = None,
    envelope_id: uuid.UUID | None = None,
) -> Delivered:
    """``event`` as a consumer receives it from ``<source>.events`` (partition 0, at ``offset``:
    the envelope's position unless given); see :func:`envelope_of`."""
    envelope = envelope_of(
        event,
        source=source,
        subject=subject,
        sequence=sequence,
        position=position,
        occurred_at=occurred_at,
        actor=actor,
        area=area,
        correlation_id=correlation_id,
        envelope_id=envelope_id,
    )
    at = envelope.position if offset is None else offset
    return Delivered(envelope, event, f"{source}.events", 0, at)


@dataclass(frozen=True)
class Received:
    """A Kafka message as a consumer receives it (what it needs of aiokafka's record)."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


def received(envelope: Envelope, *, partition: int = 0, offset: int | None = None) -> Received:
    """``envelope`` as published and received from ``<source>.events`` (offset: its position)."""
    message = to_kafka(envelope)
    at = envelope.position if offset is None else offset
    topic = f"{envelope.source}.events"
    return Received(topic, partition, at, message.key, message.value, message.headers)


def passed_over(event: Event, *, source: str, subject: str, sequence: int = 1) -> PassedOver:
    """``event`` as a consumer that does not read its type receives it (offset: its position)."""
    envelope = envelope_of(event, source=source, subject=subject, sequence=sequence)
    return PassedOver((source, subject), sequence, received(envelope))
