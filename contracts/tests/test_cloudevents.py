"""Anju events as CloudEvents binary-mode Kafka messages, and the messages from before."""

from __future__ import annotations

import json
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from anju_contracts import (
    Envelope,
    EventCatalog,
    InvalidEvent,
    UnknownEvent,
    cloudevents as ce,
)
from anju_contracts.cloudevents import CloudEvent, KafkaMessage, NotAnEvent
from anju_contracts.registry import CATALOG, ResidentRegistered

from .messages import NoteV2, resident_registered


def envelope(**changes: Any) -> Envelope:
    message = resident_registered()
    message.update(changes)
    return Envelope.model_validate(message)


def headers_of(message: KafkaMessage) -> dict[str, str]:
    return {k: v.decode() for k, v in message.headers}


def test_an_envelope_travels_as_its_payload_with_attributes_in_headers() -> None:
    sent = envelope(
        recorded_at="2026-12-01T09:30:00.250000+08:00",
        causation_id="cmd-9",
    )
    message = ce.to_kafka(sent)
    assert message.key == sent.subject.encode()
    assert json.loads(message.value) == sent.data
    assert headers_of(message) == {
        "ce_specversion": "1.0",
        "ce_id": str(sent.id),
        "ce_source": "registry",
        "ce_type": "registry.ResidentRegistered",
        "ce_time": "2026-11-27T08:00:00.000000Z",
        "ce_subject": sent.subject,
        "content-type": "application/json",
        "ce_dataversion": "2",
        "ce_sequence": "1",
        "ce_position": "7",
        "ce_recordedtime": "2026-12-01T01:30:00.250000Z",
        "ce_correlationid": "c-1",
        "ce_causationid": "cmd-9",
        "ce_actorid": "desk-1",
        "ce_actorroles": "desk_staff",
        "ce_area": sent.area,
    }
    assert ce.from_kafka(message.value, message.headers) == sent


def test_null_attributes_are_left_out_and_read_back_as_null() -> None:
    sent = envelope(area=None, actor={"id": "registry"})
    message = ce.to_kafka(sent)
    names = {k for k, _ in message.headers}
    assert not names & {"ce_recordedtime", "ce_causationid", "ce_actorroles", "ce_area"}
    back = ce.from_kafka(message.value, message.headers)
    assert back == sent
    assert back.actor.roles == ()
    assert back.area is None
    assert back.recorded_at is None


def test_a_typed_envelope_writes_its_payload_as_json() -> None:
    typed = ce.read_message(CATALOG, json.dumps(resident_registered()).encode(), [])
    payload: object = typed.data  # typed envelopes carry the event model, not a mapping
    assert isinstance(payload, ResidentRegistered)
    message = ce.to_kafka(typed)
    assert json.loads(message.value) == json.loads(payload.model_dump_json())
    assert ce.read_message(CATALOG, message.value, message.headers) == typed


def test_messages_from_before_cloudevents_still_read() -> None:
    old = resident_registered()
    value = json.dumps(old).encode()
    legacy_headers = [("id", old["id"].encode()), ("type", old["type"].encode())]
    envelope = ce.from_kafka(value, legacy_headers)
    assert envelope == Envelope.model_validate(old)
    typed = ce.read_message(CATALOG, value, legacy_headers)
    payload: object = typed.data
    assert isinstance(payload, ResidentRegistered)
    assert ce.read_message(CATALOG, *_binary(typed)) == typed


def _binary(envelope: Envelope) -> tuple[bytes, list[tuple[str, bytes]]]:
    message = ce.to_kafka(envelope)
    return message.value, message.headers


def test_readers_ignore_attributes_and_fields_they_do_not_know() -> None:
    sent = envelope()
    message = ce.to_kafka(sent)
    data = dict(sent.data, floor=3)
    headers = [*message.headers, ("ce_tenant", b"beijing"), ("traceparent", b"00-ab")]
    typed = ce.read_message(CATALOG, json.dumps(data).encode(), headers)
    assert typed == ce.read_message(CATALOG, message.value, message.headers)


def test_header_names_are_case_insensitive_and_content_type_may_carry_a_charset() -> None:
    sent = envelope()
    message = ce.to_kafka(sent)
    headers = [
        (k.upper() if k.startswith("ce_") else k, v)
        for k, v in message.headers
        if k != "content-type"
    ]
    headers.append(("Content-Type", b"application/json; charset=utf-8"))
    assert ce.from_kafka(message.value, headers) == sent


def test_read_message_upcasts_older_versions_and_refuses_what_it_does_not_know() -> None:
    catalog = EventCatalog(
        "demo",
        [NoteV2],
        {("demo.NoteTaken", 1): lambda d: {"title": d["text"], "body": ""}},
    )
    old = envelope(type="demo.NoteTaken", version=1, source="demo", data={"text": "hi"})
    typed = ce.read_message(catalog, *_binary(old))
    assert typed.version == 2
    payload: object = typed.data
    assert payload == NoteV2(title="hi", body="")
    assert typed.model_dump(exclude={"version", "data"}) == old.model_dump(
        exclude={"version", "data"}
    )
    with pytest.raises(UnknownEvent):
        ce.read_message(catalog, *_binary(old.model_copy(update={"version": 3})))
    with pytest.raises(UnknownEvent):
        ce.read_message(CATALOG, *_binary(old))  # another service's topic
    with pytest.raises(InvalidEvent):
        ce.read_message(
            catalog, *_binary(old.model_copy(update={"version": 2, "data": {"title": 1}}))
        )


def _without(message: KafkaMessage, name: str) -> list[tuple[str, bytes]]:
    return [(k, v) for k, v in message.headers if k != name]


def _replaced(message: KafkaMessage, name: str, value: bytes) -> list[tuple[str, bytes]]:
    return [*_without(message, name), (name, value)]


def test_malformed_messages_are_not_events() -> None:
    message = ce.to_kafka(envelope())
    for required in ("ce_id", "ce_source", "ce_type"):
        with pytest.raises(NotAnEvent, match=required):
            ce.read_binary(message.value, _without(message, required))
        with pytest.raises(NotAnEvent, match=required):
            ce.read_binary(message.value, _replaced(message, required, b""))
    bad: list[list[tuple[str, bytes]]] = [
        _replaced(message, "ce_specversion", b"0.3"),
        _replaced(message, "ce_time", b"yesterday"),
        _replaced(message, "ce_time", b"2026-11-27T08:00:00"),  # no offset
        _replaced(message, "ce_type", b"\xff\xfe"),
        [*message.headers, ("ce_id", b"again")],
    ]
    for headers in bad:
        with pytest.raises(NotAnEvent):
            ce.read_binary(message.value, headers)
        with pytest.raises(NotAnEvent):
            ce.from_kafka(message.value, headers)
    # an Anju envelope needs its own attributes too, and a JSON value
    anju_bad: list[tuple[bytes | None, list[tuple[str, bytes]]]] = [
        (message.value, _without(message, "ce_dataversion")),
        (message.value, _replaced(message, "ce_sequence", b"first")),
        (message.value, _without(message, "ce_actorid")),
        (message.value, _replaced(message, "content-type", b"application/avro")),
        (b"{not json", message.headers),
        (None, message.headers),
        (b"not json", []),
        (b"[1, 2]", []),
        (b'{"id": "x"}', []),
    ]
    for value, headers in anju_bad:
        with pytest.raises(NotAnEvent):
            ce.from_kafka(value, headers)
    assert issubclass(NotAnEvent, ValueError)


def test_any_binary_mode_message_reads_as_a_cloud_event() -> None:
    headers = [
        ("ce_specversion", b"1.0"),
        ("ce_id", b"WO-20261127-0042"),
        ("ce_source", b"/hotline/12345"),
        ("ce_type", b"cn.gov.beijing.12345.order.created"),
        ("ce_time", b"2026-11-27T16:00:00+08:00"),
        ("ce_dataschema", b"https://example.org/order.json"),
        ("ce_traceid", b"abc"),
        ("content-type", b"application/json"),
        ("x-broker-hop", b"2"),
    ]
    event = ce.read_binary(b'{"order": 42}', headers)
    assert event == CloudEvent(
        id="WO-20261127-0042",
        source="/hotline/12345",
        type="cn.gov.beijing.12345.order.created",
        time=datetime(2026, 11, 27, 16, tzinfo=timezone(timedelta(hours=8))),
        subject=None,
        content_type="application/json",
        extensions={"dataschema": "https://example.org/order.json", "traceid": "abc"},
        data=b'{"order": 42}',
    )
    minimal = ce.read_binary(None, headers[:4])
    assert (minimal.time, minimal.subject, minimal.content_type) == (None, None, None)
    assert minimal.extensions == {}
    assert minimal.data == b""
    with pytest.raises(NotAnEvent, match="ce_specversion"):
        ce.read_binary(b"{}", headers[1:])


def test_write_binary_round_trips_and_refuses_bad_extension_names() -> None:
    event = CloudEvent(
        id=str(uuid.uuid4()),
        source="housing",
        type="tenancy.ended",
        time=datetime(2026, 11, 27, 8, tzinfo=UTC),
        subject="unit-1",
        content_type="text/plain",
        extensions={"area": "a-1"},
        data=b"ended",
    )
    message = ce.write_binary(event, b"unit-1")
    assert message.key == b"unit-1"
    assert message.value == b"ended"
    assert ce.read_binary(message.value, message.headers) == event
    assert ce.write_binary(event, None).key is None
    for name in ("correlation_id", "Area", "ce-x", ""):
        with pytest.raises(ValueError, match="attribute name"):
            ce.write_binary(CloudEvent(id="1", source="s", type="t", extensions={name: "v"}), None)
