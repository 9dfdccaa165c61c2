"""Turning Kafka messages back into events, and setting aside those that cannot be.

Messages are CloudEvents in the Kafka binding's binary mode (the payload as the value, the
envelope's other fields in ``ce_`` headers: :mod:`anju_contracts.cloudevents`); those
published before that (the whole JSON envelope as the value) still decode.

A message is *poison* when it is not an Anju event in either form (``undecodable``), names an event type or
version this code does not know (``unknown_type``), or carries a payload that fails its schema
(``invalid``). Fields this code does not know, in the envelope or the payload, are not poison:
consumers are tolerant readers and ignore them (a producer may add an optional field without a
new version). Poison goes to the ``dead_letters`` table with the reason and the raw bytes, and
the consumer carries on. Operators list, inspect, replay or discard dead letters.

An event that decodes but then keeps failing in its consumer (a projection's SQL, a policy's
handler) is set aside too, as ``apply_failed`` or ``handler_failed``, and its letter records the
stream and sequence. Such a letter *holds its stream* for that consumer: the later events of the
same stream are set aside behind it (``blocked``) instead of being applied ahead of it, until an
operator replays or discards the first (:func:`stream_heads`). Poison that did not decode holds
nothing: its stream is not known for sure, and the event never meant anything to this code.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, NamedTuple, Protocol, cast
from uuid import UUID

import asyncpg
from pydantic import ValidationError
from pydantic_core import from_json, to_json

from anju_contracts import (
    Envelope,
    Event,
    EventCatalog,
    InvalidEvent,
    UnknownEvent,
    cloudevents as ce,
)
from anju_contracts.envelopes import typed_envelope
from anju_contracts.registry import PersonErased
from eventkit.collector import batch_pause
from eventkit.metrics import DEAD_LETTERS
from eventkit.personal import SEALED_MARK, FieldCipher, SealBroken, resident_subject


class RawMessage(Protocol):
    """What the kernel needs of a Kafka message (aiokafka's ``ConsumerRecord`` fits)."""

    @property
    def topic(self) -> str: ...
    @property
    def partition(self) -> int: ...
    @property
    def offset(self) -> int: ...
    @property
    def key(self) -> bytes | None: ...
    @property
    def value(self) -> bytes | None: ...
    @property
    def headers(self) -> Sequence[tuple[str, bytes]]: ...


@dataclass(frozen=True)
class Delivered:
    """A decoded message: its envelope and its payload, upcast to the newest version."""

    envelope: Envelope
    event: Event
    topic: str
    partition: int
    offset: int
    # The raw message, kept so that a consumer can set the event aside with its exact bytes.
    message: RawMessage | None = field(default=None, compare=False, repr=False)

    @cached_property
    def stream(self) -> tuple[str, str]:
        """``(source, subject)``: asked for several times per event as a batch is applied."""
        return self.envelope.source, self.envelope.subject

    @property
    def sequence(self) -> int:
        return self.envelope.sequence


@dataclass(frozen=True, slots=True)
class PassedOver:
    """A message of a type its consumer does not read (a :class:`Decoder`'s ``reads``): of its
    envelope only what counts for the consumer was decoded and checked, its stream and its
    sequence (and that its id and time are well formed); its payload was neither opened nor
    validated. It counts as applied all the same, so that a consistency token is reached."""

    stream: tuple[str, str]
    sequence: int
    message: RawMessage


class Unusable(Exception):
    """A message its consumer can never take as it is (``undecodable``, ``invalid``,
    ``unknown_type``...): set aside with ``reason`` and ``detail``; raised again when a replay
    finds it still so."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail[:2000]


@dataclass(frozen=True)
class Poison:
    """A message set aside, and why: it could not be decoded, or (``event`` given) it decoded
    but its consumer kept failing on it, or it waits behind such a one of its stream."""

    message: RawMessage
    reason: str
    detail: str
    event: Delivered | PassedOver | None = None


Decoded = Delivered | PassedOver | Poison
"""What a :class:`Decoder` makes of a message."""


def failed(delivered: Delivered | PassedOver, reason: str, detail: str) -> Poison:
    """``delivered`` set aside after decoding: its letter records the stream it holds."""
    if delivered.message is None:
        raise ValueError("only an event decoded from a message can be set aside")
    return Poison(delivered.message, reason, detail[:2000], delivered)


def is_transient(error: BaseException) -> bool:
    """Whether ``error`` says the infrastructure failed rather than the event or the code.

    A lost connection, a server shutting down or cancelling the statement, a serialization
    failure or a deadlock: the same event will likely go through when tried again, so consumers
    let the error restart them instead of setting the event aside.
    """
    return isinstance(
        error,
        OSError
        | TimeoutError
        | asyncpg.PostgresConnectionError
        | asyncpg.InterfaceError
        | asyncpg.OperatorInterventionError
        | asyncpg.SerializationError
        | asyncpg.DeadlockDetectedError,
    )


class _Current(NamedTuple):
    """What the fast path needs of the newest version of an event type: its version and its
    source as the headers spell them, its model and typed envelope, and their validators
    (called straight: what pydantic's ``model_validate`` adds costs as much as the envelope's
    own checks, once per message)."""

    version: bytes
    source: bytes
    model: type[Event]
    typed: type[Envelope]
    payload: Callable[..., Event]
    attributes: Callable[..., Envelope]

    @classmethod
    def of(cls, model: type[Event], source: str) -> _Current:
        typed = typed_envelope(model)
        return cls(
            str(model.event_version).encode(),
            source.encode(),
            model,
            typed,
            model.__pydantic_validator__.validate_json,
            typed.__pydantic_validator__.validate_python,
        )


class Decoder:
    """Decodes envelopes from the sources a consumer listens to.

    With a ``cipher`` (:mod:`eventkit.personal`), :meth:`read` and :meth:`read_batch` open the
    sealed personal fields of each payload first, with the keys of this deployment; a value whose
    key was destroyed reads as erased. A sealed value that does not open (altered, or moved from
    another event) makes the message ``invalid``. The synchronous :meth:`decode` leaves sealed
    values as they are.

    ``reads`` names the event types the consumer reads, when it reads only some of its
    sources' (a read model that follows the registry for its erasures alone). A message of
    another type, in any version the catalogue reads, is *passed over*: it comes out as a
    :class:`PassedOver`, its stream and sequence (which still count) read from its headers, its
    payload left sealed and unchecked. A type or version the catalogue does not know is refused
    as ever. Decoding every registry event for the few a read model reads was most of what such
    a read model's rebuild cost; validating the whole envelope of each was most of the rest.
    """

    def __init__(
        self,
        catalogs: Sequence[EventCatalog],
        *,
        cipher: FieldCipher | None = None,
        reads: Collection[str] | None = None,
    ) -> None:
        self.catalogs: Mapping[str, EventCatalog] = {c.source: c for c in catalogs}
        self.cipher = cipher
        self._unread = frozenset(
            model.event_type.encode()
            for catalog in self.catalogs.values()
            for model in catalog.models
            if reads is not None and model.event_type not in reads
        )
        # For the fast paths, by the raw type header.
        self._current: dict[bytes, _Current] = {
            model.event_type.encode(): _Current.of(model, catalog.source)
            for catalog in self.catalogs.values()
            for model in catalog.models
        }
        self._sources = {c.source.encode(): c.source for c in catalogs}

    def decode(
        self,
        message: RawMessage,
        value: bytes | None = None,
        headers: Mapping[str, bytes] | None = None,
    ) -> Decoded:
        """What ``message`` holds; ``value``, when given, is read in place of its value (its
        payload with the sealed values opened), and what comes out still holds ``message``.
        ``headers`` are the message's, as a mapping, when the caller has made it already."""
        if value is None:
            value = message.value
        if headers is None:
            headers = dict(message.headers)
        fast = self._decode_current(message, value, headers)
        if fast is not None:
            return fast
        try:
            envelope = ce.from_kafka(value, message.headers)
        except ce.NotAnEvent as error:
            return Poison(message, "undecodable", _short(error))
        catalog = self.catalogs.get(envelope.source)
        if catalog is None:
            return Poison(message, "unknown_type", f"unknown source {envelope.source}")
        if envelope.type.encode() in self._unread and catalog.reads(
            envelope.type, envelope.version
        ):
            return PassedOver((envelope.source, envelope.subject), envelope.sequence, message)
        try:
            event = catalog.decode(envelope.type, envelope.version, envelope.data)
        except UnknownEvent as error:
            return Poison(message, "unknown_type", str(error))
        except InvalidEvent as error:
            return Poison(message, "invalid", _short(error.error))
        return Delivered(envelope, event, message.topic, message.partition, message.offset, message)

    async def read(self, message: RawMessage) -> Decoded:
        """:meth:`decode`, after opening the payload's sealed values."""
        return (await self.read_batch([message]))[0]

    async def read_batch(self, messages: Sequence[RawMessage]) -> list[Decoded]:
        """:meth:`decode_batch`, after opening the payloads' sealed values. What is set aside
        keeps the message as it came, sealed."""
        if self.cipher is None:
            return self.decode_batch(messages)
        results: list[Decoded] = []
        with batch_pause():
            for message in messages:
                headers = dict(message.headers)
                value = None
                if not self._passes_over(headers):
                    try:
                        value = await self._opened(message.value, headers, self.cipher)
                    except SealBroken as error:
                        results.append(Poison(message, "invalid", str(error)))
                        continue
                result = self.decode(message, value, headers)
                if isinstance(result, Delivered):
                    _forget_erased(result.event, self.cipher)
                results.append(result)
        return results

    def _passes_over(self, headers: Mapping[str, bytes]) -> bool:
        """Whether a message is of a type the consumer does not read (it is not opened)."""
        if not self._unread:
            return False
        # binary mode, or a whole envelope from before CloudEvents
        named = headers.get(ce.TYPE, headers.get("type"))
        return named in self._unread

    @staticmethod
    async def _opened(
        value: bytes | None, headers: Mapping[str, bytes], cipher: FieldCipher
    ) -> bytes | None:
        """A message's ``value`` with its sealed values opened; None when it has none to open
        (or is not what it claims to be: the decoder then says what is wrong)."""
        if value is None or _SEALED_MARK not in value:
            return None
        try:
            document = from_json(value)
            if ce.TYPE in headers:  # binary mode: the value is the payload
                event_id = UUID(headers[ce.ID].decode())
                await cipher.open_in_place(document, event_id=event_id)
            else:  # a whole envelope, from before CloudEvents
                event_id = UUID(document["id"])
                await cipher.open_in_place(document["data"], event_id=event_id)
        # a document that is not what it claims: no object, no id, an id that is no text
        # (``UUID(123)`` raises AttributeError), data that is no object
        except (ValueError, KeyError, TypeError, AttributeError) as error:
            if isinstance(error, SealBroken):
                raise
            return None
        return to_json(document)

    def decode_batch(self, messages: Sequence[RawMessage]) -> list[Decoded]:
        """Decode a fetched batch, with the cyclic garbage collector paused meanwhile
        (:mod:`eventkit.collector`; a consumer pauses it until the batch is applied, too)."""
        with batch_pause():
            return [self.decode(m) for m in messages]

    def _decode_current(
        self, message: RawMessage, value: bytes | None, headers: Mapping[str, bytes]
    ) -> Delivered | PassedOver | None:
        """One validation pass each for the common case: the newest version of a known type.

        The ``ce_type`` and ``ce_dataversion`` headers name the model (``type`` and ``version``
        on a message from before CloudEvents); anything unusual (no such headers, an old version
        to upcast, an invalid payload or attribute, a type not read from before CloudEvents)
        returns None and takes the careful path, which says what is wrong.
        """
        binary = ce.TYPE in headers
        named = headers.get(ce.TYPE if binary else "type", b"")
        current = self._current.get(named)
        if current is None:
            return None
        version, source, model, typed, payload, attributes = current
        if headers.get(ce.DATAVERSION if binary else "version") != version:
            return None
        if named in self._unread:
            return self._passed_over(headers, source, message) if binary else None
        try:
            if not binary:
                envelope = typed.model_validate_json(value or b"", extra="ignore")
            else:
                if headers.get(ce.SPECVERSION) != _SPEC or headers.get(ce.SOURCE) != source:
                    return None
                # The header values go to pydantic as bytes: it reads them as UTF-8 text.
                roles = headers.get(ce.ACTORROLES)
                fields = {
                    "id": headers.get(ce.ID),
                    "type": model.event_type,  # the headers said so
                    "version": model.event_version,
                    "source": self._sources[source],
                    "subject": headers.get(ce.SUBJECT),
                    "sequence": headers.get(ce.SEQUENCE),
                    "position": headers.get(ce.POSITION),
                    "occurred_at": headers.get(ce.TIME),
                    "recorded_at": headers.get(ce.RECORDEDTIME),
                    "correlation_id": headers.get(ce.CORRELATIONID),
                    "causation_id": headers.get(ce.CAUSATIONID),
                    "actor": {
                        "id": headers.get(ce.ACTORID),
                        "roles": roles.split(b",") if roles else (),
                    },
                    "area": headers.get(ce.AREA),
                    "data": payload(value or b"", extra="ignore"),
                }
                envelope = attributes(fields, extra="ignore")
        except (ValidationError, UnicodeDecodeError):
            return None
        if envelope.source != self._sources[source]:  # a type of another source's name
            return None
        if envelope.occurred_at.utcoffset() is None:  # a time without its zone: refused below
            return None
        event = cast(Event, envelope.data)
        return Delivered(envelope, event, message.topic, message.partition, message.offset, message)

    def _passed_over(
        self, headers: Mapping[str, bytes], source: bytes, message: RawMessage
    ) -> PassedOver | None:
        """A message in binary mode of a type not read: its stream and sequence, once they and
        its id and time are seen to be well formed; None takes the careful path."""
        if headers.get(ce.SPECVERSION) != _SPEC or headers.get(ce.SOURCE) != source:
            return None
        try:
            subject = headers[ce.SUBJECT].decode()
            sequence = headers[ce.SEQUENCE]
            UUID(headers[ce.ID].decode())
            occurred = datetime.fromisoformat(headers[ce.TIME].decode())
        except (KeyError, ValueError):  # a UnicodeDecodeError is a ValueError too
            return None
        if not sequence.isdigit() or int(sequence) < 1 or occurred.utcoffset() is None:
            return None
        return PassedOver((self._sources[source], subject), int(sequence), message)


def _forget_erased(event: Event, cipher: FieldCipher) -> None:
    """Drop an erased person's keys from the cache the moment their erasure is read."""
    if isinstance(event, PersonErased):
        forget = getattr(cipher.keys, "forget", None)
        if forget is not None:
            forget(resident_subject(event.resident_id))


_SPEC = ce.SPEC_1_0.encode()
_SEALED_MARK = SEALED_MARK.encode()


def _short(error: Exception) -> str:
    return str(error)[:2000]


async def dead_letter(conn: asyncpg.Connection, consumer: str, poison: Sequence[Poison]) -> None:
    """Record poison messages for ``consumer``; recording the same message twice is a no-op
    (the same offset, or for a decoded event the same stream and sequence)."""
    if not poison:
        return
    await conn.executemany(
        """
        INSERT INTO dead_letters (consumer, topic, partition, "offset", key, value, headers,
                                  reason, detail, source, stream_id, sequence)
        VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb, $8, $9, $10, $11, $12)
        ON CONFLICT DO NOTHING
        """,
        [
            (
                consumer,
                p.message.topic,
                p.message.partition,
                p.message.offset,
                p.message.key,
                p.message.value,
                json.dumps([[k, v.decode("utf-8", "replace")] for k, v in p.message.headers]),
                p.reason,
                p.detail,
                None if p.event is None else p.event.stream[0],
                None if p.event is None else p.event.stream[1],
                None if p.event is None else p.event.sequence,
            )
            for p in poison
        ],
    )
    for p in poison:
        DEAD_LETTERS.labels(consumer, p.reason).inc()


@dataclass(frozen=True)
class StreamHead:
    """The first pending dead letter of a stream for a consumer: what the stream waits on."""

    letter_id: int
    sequence: int


async def stream_heads(
    conn: asyncpg.Connection, consumer: str, streams: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], StreamHead]:
    """The streams among ``streams`` that ``consumer`` holds, each with its first pending letter.

    The pending letters are share-locked until the transaction ends, so a replay (which locks
    them for update) and a consumer setting an event aside behind them never cross: the
    consumer either waits for the replay and then sees the letters resolved, or the replay
    waits for the consumer and then sees the event it set aside.
    """
    wanted = sorted(set(streams))
    if not wanted:
        return {}
    # Almost always nothing is pending: asked first (one probe of the partial index), a batch's
    # thousands of streams are neither sent nor joined.
    pending = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM dead_letters WHERE consumer = $1 AND status = 'pending')",
        consumer,
    )
    if not pending:
        return {}
    rows = await conn.fetch(
        """
        SELECT d.id, d.source, d.stream_id, d.sequence FROM dead_letters d
        JOIN unnest($2::text[], $3::text[]) AS s(source, stream_id)
          ON d.source = s.source AND d.stream_id = s.stream_id
        WHERE d.consumer = $1 AND d.status = 'pending'
        ORDER BY d.id
        FOR SHARE OF d
        """,
        consumer,
        [s for s, _ in wanted],
        [i for _, i in wanted],
    )
    heads: dict[tuple[str, str], StreamHead] = {}
    for row in rows:
        stream = (row["source"], row["stream_id"])
        head = heads.get(stream)
        if head is None or row["sequence"] < head.sequence:
            heads[stream] = StreamHead(row["id"], row["sequence"])
    return heads


def blocked(delivered: Delivered | PassedOver, head: StreamHead) -> Poison:
    """``delivered`` set aside because an earlier event of its stream is a pending letter."""
    return failed(delivered, "blocked", f"blocked behind dead letter {head.letter_id}")


@dataclass(frozen=True)
class StoredMessage:
    """A dead letter read back from the table: it quacks like a Kafka message."""

    topic: str
    partition: int
    offset: int
    key: bytes | None
    value: bytes | None
    headers: Sequence[tuple[str, bytes]]


def stored_message(row: Mapping[str, Any]) -> StoredMessage:
    headers = [(k, v.encode()) for k, v in json.loads(row["headers"])]
    return StoredMessage(
        row["topic"], row["partition"], row["offset"], row["key"], row["value"], headers
    )
