"""Anju events on Kafka: the CloudEvents Kafka protocol binding 1.0, binary content mode.

A message's key is the stream id (the event's ``subject``), its value the event's payload
(``data``) as JSON, and every other attribute travels in a header (UTF-8 text):

==================  ====================  ==============================================
header              envelope field        note
==================  ====================  ==============================================
ce_specversion      —                     ``1.0``
ce_id               id                    uuid
ce_source           source                the service, e.g. ``registry``
ce_type             type                  e.g. ``registry.ResidentMoved``
ce_time             occurred_at           RFC 3339, business time
ce_subject          subject               the stream id (also the key)
content-type        —                     ``application/json``
ce_dataversion      version               payload schema version
ce_sequence         sequence              stream version
ce_position         position              position in the source's event store
ce_recordedtime     recorded_at           RFC 3339; absent when null
ce_correlationid    correlation_id
ce_causationid      causation_id          absent when null
ce_actorid          actor.id
ce_actorroles       actor.roles           comma-separated; absent when none
ce_area             area                  absent when null
==================  ====================  ==============================================

Messages published before Anju spoke CloudEvents (the whole JSON envelope as the value, no
``ce_specversion`` header) stay on the topics for ever; :func:`from_kafka` and
:func:`read_message` read both.

Two levels, no Kafka client needed (pass a consumer record's ``value`` and ``headers``):

- :func:`read_binary` / :func:`write_binary`: any CloudEvents binary-mode message, as a
  :class:`CloudEvent` whose ``data`` is the raw value;
- :func:`from_kafka` / :func:`to_kafka` / :func:`read_message`: Anju's :class:`Envelope`.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from pydantic import TypeAdapter, ValidationError

from anju_contracts.base import Envelope, EventCatalog, UnknownEvent
from anju_contracts.envelopes import typed_envelope

SPECVERSION = "ce_specversion"
ID = "ce_id"
SOURCE = "ce_source"
TYPE = "ce_type"
TIME = "ce_time"
SUBJECT = "ce_subject"
CONTENT_TYPE = "content-type"
DATASCHEMA = "ce_dataschema"
DATAVERSION = "ce_dataversion"
SEQUENCE = "ce_sequence"
POSITION = "ce_position"
RECORDEDTIME = "ce_recordedtime"
CORRELATIONID = "ce_correlationid"
CAUSATIONID = "ce_causationid"
ACTORID = "ce_actorid"
ACTORROLES = "ce_actorroles"
AREA = "ce_area"

PREFIX = "ce_"
SPEC_1_0 = "1.0"
JSON_CONTENT = "application/json"

# Attributes with a field of their own on :class:`CloudEvent`; every other ``ce_`` header is
# an extension (``dataschema`` included).
_ANY: TypeAdapter[Any] = TypeAdapter(Any)  # dumps a payload, a model or a mapping, as JSON

_CORE = frozenset({SPECVERSION, ID, SOURCE, TYPE, TIME, SUBJECT})
_REQUIRED = (ID, SOURCE, TYPE)


class NotAnEvent(ValueError):
    """A Kafka message that is not a readable event: a required attribute missing or
    malformed, a value that is not the JSON it should be."""


@dataclass(frozen=True)
class KafkaMessage:
    """What to hand a Kafka producer (or what a consumer record holds)."""

    key: bytes | None
    value: bytes
    headers: list[tuple[str, bytes]] = field(default_factory=list)


@dataclass(frozen=True)
class CloudEvent:
    """A CloudEvent read from (or to write as) a binary-mode Kafka message.

    ``extensions`` holds every ``ce_`` attribute but the ones named here, by attribute name
    (``correlationid``, ``dataschema``); ``data`` is the message value as is.
    """

    id: str
    source: str
    type: str
    time: datetime | None = None
    subject: str | None = None
    content_type: str | None = None
    extensions: dict[str, str] = field(default_factory=dict)
    data: bytes = b""


def format_time(moment: datetime) -> str:
    """``moment`` as RFC 3339 in UTC with microseconds (a naive one is taken as UTC), the way
    the relay writes ``ce_time``."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_time(text: str, name: str) -> datetime:
    """An RFC 3339 timestamp (``Z`` or an offset is required)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise NotAnEvent(f"{name} is not an RFC 3339 timestamp: {text!r}") from None
    if moment.tzinfo is None:
        raise NotAnEvent(f"{name} has no time zone offset: {text!r}")
    return moment


def _text_headers(headers: Sequence[tuple[str, bytes]]) -> dict[str, str]:
    """The CloudEvents headers as text: ``ce_*`` (names lower-cased) and ``content-type``."""
    found: dict[str, str] = {}
    for name, raw in headers:
        lowered = name.lower()
        if not (lowered.startswith(PREFIX) or lowered == CONTENT_TYPE):
            continue
        if lowered in found:
            raise NotAnEvent(f"header {lowered} given twice")
        try:
            found[lowered] = raw.decode("utf-8")
        except (UnicodeDecodeError, AttributeError):
            raise NotAnEvent(f"header {lowered} is not UTF-8 text") from None
    return found


def read_binary(value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> CloudEvent:
    """Any CloudEvents 1.0 binary-mode Kafka message as a :class:`CloudEvent`.

    Raises :class:`NotAnEvent` when ``ce_specversion`` is missing or not ``1.0``, when
    ``ce_id``, ``ce_source`` or ``ce_type`` is missing or empty, or ``ce_time`` is not RFC 3339.
    """
    text = _text_headers(headers)
    return _cloud_event(value, text)


def _cloud_event(value: bytes | None, text: Mapping[str, str]) -> CloudEvent:
    version = text.get(SPECVERSION)
    if version is None:
        raise NotAnEvent(f"no {SPECVERSION} header: not a binary-mode CloudEvent")
    if version != SPEC_1_0:
        raise NotAnEvent(f"{SPECVERSION} {version!r} is not {SPEC_1_0}")
    for name in _REQUIRED:
        if not text.get(name):
            raise NotAnEvent(f"no {name} header")
    time = text.get(TIME)
    return CloudEvent(
        id=text[ID],
        source=text[SOURCE],
        type=text[TYPE],
        time=None if time is None else parse_time(time, TIME),
        subject=text.get(SUBJECT),
        content_type=text.get(CONTENT_TYPE),
        extensions={
            name[len(PREFIX) :]: v
            for name, v in text.items()
            if name not in _CORE and name != CONTENT_TYPE
        },
        data=value or b"",
    )


def write_binary(event: CloudEvent, key: bytes | None) -> KafkaMessage:
    """``event`` as a binary-mode Kafka message under ``key``.

    Extension names must be CloudEvents attribute names: lower-case letters and digits.
    """
    headers = [
        (SPECVERSION, SPEC_1_0.encode()),
        (ID, event.id.encode()),
        (SOURCE, event.source.encode()),
        (TYPE, event.type.encode()),
    ]
    if event.time is not None:
        headers.append((TIME, format_time(event.time).encode()))
    if event.subject is not None:
        headers.append((SUBJECT, event.subject.encode()))
    if event.content_type is not None:
        headers.append((CONTENT_TYPE, event.content_type.encode()))
    for name, v in event.extensions.items():
        if not (name.isascii() and name.isalnum() and name == name.lower()):
            raise ValueError(f"{name!r} is not a CloudEvents attribute name")
        headers.append((PREFIX + name, v.encode()))
    return KafkaMessage(key, event.data, headers)


# -- Anju's envelope ------------------------------------------------------------------------


def to_kafka(envelope: Envelope) -> KafkaMessage:
    """``envelope`` as Anju publishes it: key the stream id, value the payload JSON."""
    extensions = {
        "dataversion": str(envelope.version),
        "sequence": str(envelope.sequence),
        "position": str(envelope.position),
    }
    if envelope.recorded_at is not None:
        extensions["recordedtime"] = format_time(envelope.recorded_at)
    extensions["correlationid"] = envelope.correlation_id
    if envelope.causation_id is not None:
        extensions["causationid"] = envelope.causation_id
    extensions["actorid"] = envelope.actor.id
    if envelope.actor.roles:
        extensions["actorroles"] = ",".join(envelope.actor.roles)
    if envelope.area is not None:
        extensions["area"] = envelope.area
    event = CloudEvent(
        id=str(envelope.id),
        source=envelope.source,
        type=envelope.type,
        time=envelope.occurred_at,
        subject=envelope.subject,
        content_type=JSON_CONTENT,
        extensions=extensions,
        data=_ANY.dump_json(envelope.data),
    )
    return write_binary(event, envelope.subject.encode())


def envelope_fields(value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> dict[str, Any]:
    """The envelope's fields of a binary-mode message, not validated (``data`` parsed); or, for
    a message without ``ce_specversion``, the pre-CloudEvents JSON envelope parsed.

    Raises :class:`NotAnEvent` on a message that is neither.
    """
    text = _text_headers(headers)
    if SPECVERSION not in text:
        try:
            parsed = json.loads(value or b"")
        except ValueError as error:
            raise NotAnEvent(f"neither a CloudEvent nor a JSON envelope: {error}") from None
        if not isinstance(parsed, dict):
            raise NotAnEvent("neither a CloudEvent nor a JSON envelope")
        return parsed
    event = _cloud_event(value, text)
    content_type = event.content_type
    if content_type is not None and content_type.split(";")[0].strip() != JSON_CONTENT:
        raise NotAnEvent(f"content-type {content_type!r} is not {JSON_CONTENT}")
    try:
        data = json.loads(event.data)
    except ValueError as error:
        raise NotAnEvent(f"the value is not JSON: {error}") from None
    fields = attributes(text)
    fields["data"] = data
    return fields


_ATTRIBUTES = (
    (ID, "id"),
    (TYPE, "type"),
    (DATAVERSION, "version"),
    (SOURCE, "source"),
    (SUBJECT, "subject"),
    (SEQUENCE, "sequence"),
    (POSITION, "position"),
    (TIME, "occurred_at"),
    (RECORDEDTIME, "recorded_at"),
    (CORRELATIONID, "correlation_id"),
    (CAUSATIONID, "causation_id"),
    (AREA, "area"),
)


def attributes(text: Mapping[str, str]) -> dict[str, Any]:
    """The envelope's fields but ``data``, as found in the headers ``text`` (names lower-case,
    values decoded), not validated: a missing header gives None."""
    fields: dict[str, Any] = {name: text.get(header) for header, name in _ATTRIBUTES}
    roles = text.get(ACTORROLES)
    fields["actor"] = {"id": text.get(ACTORID), "roles": roles.split(",") if roles else ()}
    return fields


def from_kafka(value: bytes | None, headers: Sequence[tuple[str, bytes]]) -> Envelope:
    """A message of an Anju topic as an :class:`Envelope` (payload not checked against its
    schema): binary mode, or the pre-CloudEvents JSON envelope when there is no
    ``ce_specversion`` header. Unknown attributes are ignored.

    Raises :class:`NotAnEvent` when the message is malformed or lacks an envelope field.
    """
    fields = envelope_fields(value, headers)
    try:
        return Envelope.model_validate(fields, extra="ignore")
    except ValidationError as error:
        raise NotAnEvent(f"not an Anju event: {error}") from None


def read_message(
    catalog: EventCatalog, value: bytes | None, headers: Sequence[tuple[str, bytes]]
) -> Envelope:
    """A message of ``catalog``'s topic as the typed envelope of its type's newest version
    (e.g. ``registry_ResidentRegistered``), an older version upcast; fields this version of
    the contracts does not know are ignored.

    Raises :class:`NotAnEvent` for a malformed message, :class:`UnknownEvent` for a type or
    version the catalogue does not read, :class:`InvalidEvent` for a payload that does not match.
    """
    envelope = from_kafka(value, headers)
    if envelope.source != catalog.source:
        raise UnknownEvent(envelope.type, envelope.version)
    event = catalog.decode(envelope.type, envelope.version, envelope.data)
    typed = typed_envelope(type(event))
    fields = {name: getattr(envelope, name) for name in Envelope.model_fields}
    fields["version"] = type(event).event_version
    fields["data"] = event
    return typed.model_validate(fields)
