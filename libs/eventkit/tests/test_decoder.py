"""The kernel's decoder: what its fast path takes, and what it leaves to the careful path."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field, replace
from typing import Any

import pytest

from anju_contracts import Envelope
from anju_contracts.cloudevents import to_kafka
from anju_contracts.registry import CATALOG
from eventkit.keys import MemoryKeyStore
from eventkit.messages import Decoder, Delivered, PassedOver, Poison
from eventkit.personal import SEALED_MARK, FieldCipher


@dataclass(frozen=True)
class Message:
    value: bytes | None
    headers: list[tuple[str, bytes]] = field(default_factory=list)
    key: bytes | None = None
    topic: str = "registry.events"
    partition: int = 0
    offset: int = 0


def envelope() -> Envelope:
    resident_id = uuid.uuid4()
    return Envelope.model_validate(
        {
            "id": str(uuid.uuid4()),
            "type": "registry.ResidentMoved",
            "version": 1,
            "source": "registry",
            "subject": f"resident-{resident_id}",
            "sequence": 2,
            "position": 9,
            "occurred_at": "2026-11-27T08:00:00+00:00",
            "recorded_at": "2026-11-28T08:00:00+00:00",
            "correlation_id": "c-1",
            "actor": {"id": "desk-1", "roles": ["desk_staff", "director"]},
            "area": str(uuid.uuid4()),
            "data": {
                "resident_id": str(resident_id),
                "from_path": {"community_id": str(uuid.uuid4())},
                "to_path": {"community_id": str(uuid.uuid4())},
            },
        }
    )


def binary(sent: Envelope, **headers: bytes) -> Message:
    message = to_kafka(sent)
    given = [(k, headers.pop(k, v)) for k, v in message.headers]
    return Message(message.value, given, message.key)


def test_a_binary_message_decodes_to_what_was_sent() -> None:
    sent = envelope()
    delivered = Decoder([CATALOG]).decode(binary(sent))
    assert isinstance(delivered, Delivered)
    assert delivered.envelope.model_dump(exclude={"data"}) == sent.model_dump(exclude={"data"})
    assert delivered.event == CATALOG.decode(sent.type, sent.version, sent.data)


def test_a_message_from_before_cloudevents_still_decodes() -> None:
    sent = envelope()
    legacy = Message(sent.model_dump_json().encode(), [("type", b"registry.ResidentMoved")])
    delivered = Decoder([CATALOG]).decode(legacy)
    assert isinstance(delivered, Delivered)
    assert delivered.envelope.id == sent.id


def poison(message: Any) -> Poison:
    decoded = Decoder([CATALOG]).decode(message)
    assert isinstance(decoded, Poison), decoded
    return decoded


def test_a_type_under_another_sources_name_is_not_delivered() -> None:
    assert poison(binary(envelope(), ce_source=b"elsewhere")).reason == "unknown_type"


def test_a_time_without_its_zone_is_refused_on_both_paths() -> None:
    assert poison(binary(envelope(), ce_time=b"2026-11-27T08:00:00")).reason == "undecodable"


def test_a_payload_that_fails_its_schema_is_invalid() -> None:
    message = binary(envelope())
    assert poison(replace(message, value=b'{"resident_id": "not a uuid"}')).reason == "invalid"


# -- a consumer that reads only some types ----------------------------------------------------


class NoOpening(FieldCipher):
    """A cipher that fails the test if anything is opened."""

    def __init__(self) -> None:
        super().__init__(MemoryKeyStore())

    async def open(self, data: Any, *, event_id: uuid.UUID) -> dict[str, Any]:
        raise AssertionError("a payload the consumer does not read was opened")


async def test_a_type_the_consumer_does_not_read_is_passed_over_unopened() -> None:
    sent = envelope()  # registry.ResidentMoved
    message = binary(sent)
    unread = replace(message, value=b'{"resident_id": "%s"}' % SEALED_MARK.encode())
    reader = Decoder([CATALOG], cipher=NoOpening(), reads={"registry.PersonErased"})
    [passed] = await reader.read_batch([unread])
    assert passed == PassedOver(("registry", sent.subject), sent.sequence, unread)


def test_a_type_the_consumer_reads_is_decoded_and_checked() -> None:
    reader = Decoder([CATALOG], reads={"registry.ResidentMoved"})
    delivered = reader.decode(binary(envelope()))
    assert isinstance(delivered, Delivered)
    message = replace(binary(envelope()), value=b'{"resident_id": "not a uuid"}')
    assert isinstance(reader.decode(message), Poison)


def test_passing_over_still_refuses_what_is_not_an_event() -> None:
    reader = Decoder([CATALOG], reads={"registry.PersonErased"})
    no_zone = binary(envelope(), ce_time=b"2026-11-27T08:00:00")
    assert isinstance(reader.decode(no_zone), Poison)
    unknown = binary(envelope(), ce_type=b"registry.NoSuchThing")
    assert isinstance(reader.decode(unknown), Poison)


def newest(sent: Envelope) -> Envelope:
    """``sent`` as the newest version of its type: what the fast path takes."""
    return sent.model_copy(update={"version": CATALOG.model(sent.type).event_version})


@pytest.mark.parametrize(
    ("header", "value"),
    [
        ("ce_time", b"2026-11-27T08:00:00"),  # no zone
        ("ce_sequence", b"0"),
        ("ce_sequence", b"two"),
        ("ce_sequence", b"-1"),
        ("ce_id", b"not an id"),
        ("ce_source", b"mediation"),
        ("ce_specversion", b"0.3"),
    ],
)
def test_what_is_passed_over_has_its_stream_sequence_id_and_time_checked(
    header: str, value: bytes
) -> None:
    reader = Decoder([CATALOG], reads={"registry.PersonErased"})
    sent = newest(envelope())
    message = binary(sent)
    assert reader.decode(message) == PassedOver(("registry", sent.subject), sent.sequence, message)
    assert isinstance(reader.decode(binary(sent, **{header: value})), Poison)


def test_an_older_version_of_an_unread_type_is_passed_over_too() -> None:
    reader = Decoder([CATALOG], reads={"registry.PersonErased"})
    older = envelope().model_copy(
        update={"type": "registry.RiskTierChanged", "version": 1, "data": {"not": "checked"}}
    )
    passed = reader.decode(binary(older))
    assert isinstance(passed, PassedOver), passed
    assert (passed.stream, passed.sequence) == (("registry", older.subject), older.sequence)
    future = older.model_copy(update={"version": 99})
    assert isinstance(reader.decode(binary(future)), Poison)


async def test_an_unread_message_from_before_cloudevents_is_passed_over_unopened() -> None:
    sent = envelope().model_copy(update={"data": {"resident_id": SEALED_MARK}})
    legacy = Message(sent.model_dump_json().encode(), [("type", b"registry.ResidentMoved")])
    reader = Decoder([CATALOG], cipher=NoOpening(), reads={"registry.PersonErased"})
    [passed] = await reader.read_batch([legacy])
    assert passed == PassedOver(("registry", sent.subject), sent.sequence, legacy)


async def test_a_sealed_looking_value_that_is_no_payload_is_refused_not_raised() -> None:
    reader = Decoder([CATALOG], cipher=FieldCipher(MemoryKeyStore()))
    for value in (b'["pd1:t:k:x"]', b'"pd1:t:k:x"', b'{"pd1:'):
        [result] = await reader.read_batch([replace(binary(envelope()), value=value)])
        assert isinstance(result, Poison), value
    # a whole envelope from before CloudEvents: an id that is no text, data that is no object
    for value in (
        b'{"id": 123, "data": {"x": "pd1:t:k:x"}}',
        b'{"id": "6f1c2a3e-8b4d-4c1e-9f2a-1b2c3d4e5f60", "data": ["pd1:t:k:x"]}',
        b'{"data": {"x": "pd1:t:k:x"}}',
        b'["pd1:t:k:x"]',
    ):
        legacy = Message(value, [("type", b"registry.ResidentMoved")])
        [result] = await reader.read_batch([legacy])
        assert isinstance(result, Poison), value
