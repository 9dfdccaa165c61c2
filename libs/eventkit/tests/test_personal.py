"""The field cipher (:mod:`eventkit.personal`): every published event type with personal fields
seals and opens back to itself, nothing personal is left in clear, and a sealed value that was
altered, moved or whose key is gone never reads as the clear value."""

from __future__ import annotations

import json
import uuid
from typing import Annotated, Any

import pytest

from anju_contracts import Event, EventCatalog
from anju_contracts.base import Personal
from anju_contracts.catalogs import CATALOGS
from anju_contracts.mediation import DisputeRegistered, Party
from anju_contracts.registry import OrganisationRegistered, ResidentRegistered
from anju_devtools.topics import personal_paths
from eventkit.erasure import erased_payload
from eventkit.keys import MemoryKeyStore
from eventkit.personal import (
    ERASED_TEXT,
    FieldCipher,
    SealBroken,
    Sealed,
    SealedValueInInput,
    carries_personal,
    is_sealed,
    record_subject,
    resident_subject,
)
from eventkit.testing.examples import EXAMPLE_ID, PERSONAL_DATE, example_payload

PERSONAL = [
    model
    for catalog in CATALOGS
    for model in catalog.models
    if personal_paths(model.model_json_schema())
]
"""Every published event type that carries a personal field, at any depth."""

RECORD = record_subject("test", "record-1")


def _at(data: Any, path: str) -> list[Any]:
    """The values at a dotted path, through every element of a list."""
    nodes = [data]
    for part in path.split("."):
        found: list[Any] = []
        for node in nodes:
            items = node if isinstance(node, list) else [node]
            found.extend(i[part] for i in items if isinstance(i, dict) and part in i)
        nodes = found
    return nodes


def _clear_strings(data: Any) -> list[str]:
    if isinstance(data, dict):
        return [s for v in data.values() for s in _clear_strings(v)]
    if isinstance(data, list):
        return [s for v in data for s in _clear_strings(v)]
    return [data] if isinstance(data, str) and not is_sealed(data) else []


@pytest.fixture
def keys() -> MemoryKeyStore:
    return MemoryKeyStore()


@pytest.fixture
def cipher(keys: MemoryKeyStore) -> FieldCipher:
    return FieldCipher(keys)


def test_the_examples_cover_every_service_that_publishes_personal_data() -> None:
    assert {m.event_type.split(".")[0] for m in PERSONAL} >= {
        "registry",
        "mediation",
        "station",
        "volunteering",
        "governance",
        "integration",
    }


@pytest.mark.parametrize("model", PERSONAL, ids=lambda m: m.event_type)
async def test_every_personal_field_seals_and_opens_back(
    cipher: FieldCipher, model: type[Event]
) -> None:
    event = model.model_validate(example_payload(model), extra="forbid")
    clear = event.model_dump(mode="json")
    event_id = uuid.uuid4()

    sealed = await cipher.seal(model, clear, event_id=event_id, record=RECORD)

    paths = personal_paths(model.model_json_schema())
    for path in paths:
        values = _at(sealed, path)
        assert values, path
        assert all(v is None or is_sealed(v) for v in values), path
    # what is left in clear is what was not personal, exactly
    assert sealed.keys() == clear.keys()
    text = json.dumps(sealed, ensure_ascii=False)
    for path in paths:
        for value in _at(clear, path):
            for part in _clear_strings(value) if not isinstance(value, str) else [value]:
                assert part not in _clear_strings(sealed), path
    for clear_text in ("王芳", "11010519491231002X", PERSONAL_DATE):
        assert clear_text not in text

    kept = json.loads(json.dumps(sealed))
    opened = await cipher.open(sealed, event_id=event_id)
    assert opened == clear
    assert model.model_validate(opened) == event
    assert sealed == kept  # opened into a copy: what was read is left sealed, at every depth


async def test_a_residents_fields_take_the_residents_key_and_others_the_records(
    cipher: FieldCipher, keys: MemoryKeyStore
) -> None:
    resident, dispute = uuid.uuid4(), f"dispute-{uuid.uuid4()}"
    event = DisputeRegistered.model_validate(example_payload(DisputeRegistered))
    parties = [
        Party(party_id=uuid.uuid4(), role=event.parties[0].role, resident_id=resident, name="李伟"),
        Party(party_id=uuid.uuid4(), role=event.parties[0].role, name="赵六", contact="139"),
    ]
    data = event.model_copy(update={"parties": parties}).model_dump(mode="json")
    record = record_subject("mediation", dispute)

    sealed = await cipher.seal(DisputeRegistered, data, event_id=uuid.uuid4(), record=record)

    def key_of(value: str) -> str:
        parsed = Sealed.parse(value)
        assert parsed is not None
        return parsed.key_id

    person = await keys.obtain(resident_subject(resident))
    owner = await keys.obtain(record)
    assert key_of(sealed["parties"][0]["name"]) == person.id
    assert key_of(sealed["parties"][1]["name"]) == owner.id
    assert key_of(sealed["parties"][1]["contact"]) == owner.id
    assert key_of(sealed["description"]) == owner.id

    registered = example_payload(ResidentRegistered)
    sealed = await cipher.seal(ResidentRegistered, registered, event_id=uuid.uuid4(), record=record)
    mine = await keys.obtain(resident_subject(registered["resident_id"]))
    assert {key_of(sealed[f]) for f in ("name", "date_of_birth", "id_number", "phone")} == {mine.id}


async def test_a_destroyed_key_reads_as_erased_and_spares_everything_else(
    cipher: FieldCipher, keys: MemoryKeyStore
) -> None:
    data = example_payload(ResidentRegistered)
    event_id = uuid.uuid4()
    sealed = await cipher.seal(ResidentRegistered, data, event_id=event_id, record=RECORD)

    assert await keys.destroy(resident_subject(data["resident_id"])) == 1
    opened = await cipher.open(sealed, event_id=event_id)

    assert opened["name"] == ERASED_TEXT  # text reads as erased
    assert opened["phone"] == ERASED_TEXT
    assert opened["date_of_birth"] is None  # a date is no text
    assert opened["id_number"] is None  # "[已删除]" is no identity number
    for name in data.keys() - {"name", "phone", "date_of_birth", "id_number"}:
        assert opened[name] == data[name], name  # ids, dates, facts and figures stay


async def test_an_erased_liaison_leaves_the_organisation(
    cipher: FieldCipher, keys: MemoryKeyStore
) -> None:
    data = example_payload(OrganisationRegistered)
    event_id = uuid.uuid4()
    sealed = await cipher.seal(OrganisationRegistered, data, event_id=event_id, record=RECORD)
    await keys.destroy(RECORD)
    opened = await cipher.open(sealed, event_id=event_id)
    assert opened["name"] == data["name"]  # an organisation's name is not personal
    assert opened["liaisons"][0]["name"] == ERASED_TEXT
    assert opened["liaisons"][0]["role"] == data["liaisons"][0]["role"]


async def test_an_altered_value_does_not_open(cipher: FieldCipher) -> None:
    data = example_payload(ResidentRegistered)
    event_id = uuid.uuid4()
    sealed = await cipher.seal(ResidentRegistered, data, event_id=event_id, record=RECORD)
    parsed = Sealed.parse(sealed["name"])
    assert parsed is not None
    flipped = bytes([parsed.ciphertext[0] ^ 1]) + parsed.ciphertext[1:]
    for altered in (
        Sealed(parsed.kind, parsed.key_id, parsed.nonce, flipped),
        Sealed(parsed.kind, parsed.key_id, bytes(12), parsed.ciphertext),
        Sealed("v", parsed.key_id, parsed.nonce, parsed.ciphertext),  # the kind is bound too
    ):
        with pytest.raises(SealBroken, match="name"):
            await cipher.open({**sealed, "name": altered.render()}, event_id=event_id)


async def test_a_value_moved_to_another_field_or_event_does_not_open(cipher: FieldCipher) -> None:
    data = example_payload(ResidentRegistered)
    event_id = uuid.uuid4()
    sealed = await cipher.seal(ResidentRegistered, data, event_id=event_id, record=RECORD)
    with pytest.raises(SealBroken, match="phone"):
        await cipher.open({**sealed, "phone": sealed["name"]}, event_id=event_id)
    with pytest.raises(SealBroken, match="name"):
        await cipher.open(sealed, event_id=uuid.uuid4())


async def test_a_party_moved_to_another_place_in_the_list_does_not_open(
    cipher: FieldCipher,
) -> None:
    event = DisputeRegistered.model_validate(example_payload(DisputeRegistered))
    two = [event.parties[0], event.parties[0].model_copy(update={"party_id": uuid.uuid4()})]
    data = event.model_copy(update={"parties": two}).model_dump(mode="json")
    event_id = uuid.uuid4()
    sealed = await cipher.seal(DisputeRegistered, data, event_id=event_id, record=RECORD)
    swapped = {**sealed, "parties": sealed["parties"][::-1]}
    with pytest.raises(SealBroken, match=r"parties\.0\."):
        await cipher.open(swapped, event_id=event_id)


async def test_each_value_has_its_own_nonce(cipher: FieldCipher) -> None:
    data = example_payload(ResidentRegistered)
    data["phone"] = data["name"]
    event_id = uuid.uuid4()
    once = await cipher.seal(ResidentRegistered, data, event_id=event_id, record=RECORD)
    twice = await cipher.seal(ResidentRegistered, data, event_id=event_id, record=RECORD)
    assert once["name"] != twice["name"]  # the same value sealed twice never repeats
    assert len({once["name"], once["phone"]}) == 2


async def test_null_stays_null_and_clear_text_spelling_a_sealed_value_is_refused(
    cipher: FieldCipher,
) -> None:
    data = {**example_payload(ResidentRegistered), "phone": None}
    sealed = await cipher.seal(ResidentRegistered, data, event_id=uuid.uuid4(), record=RECORD)
    assert sealed["phone"] is None
    with pytest.raises(SealedValueInInput, match="spells a sealed value"):
        await cipher.seal(
            ResidentRegistered,
            {**data, "name": sealed["name"]},
            event_id=uuid.uuid4(),
            record=RECORD,
        )


def test_the_sealed_form_names_its_version_kind_and_key() -> None:
    sealed = Sealed("t", "abc_DEF-123", bytes(12), bytes(20))
    text = sealed.render()
    assert text.startswith("pd1:t:abc_DEF-123:")
    assert Sealed.parse(text) == sealed
    for clear in ("pd1: 你好", "王芳", "pd1:x:k:AAAAAAAAAAAAAAAA:AAAAAAAAAAAAAAAAAAAAAAAAAAA", ""):
        assert Sealed.parse(clear) is None
    assert Sealed.parse(text.replace("AAAAAAAAAAAAAAAA", "AAAAAAAAAAAAAAA", 1)) is None


class _NamedV1(Event):
    event_type = "test.Named"
    event_version = 1
    person_id: uuid.UUID
    name: Annotated[str, Personal]


class _NamedV2(Event):
    event_type = "test.Named"
    event_version = 2
    person_id: uuid.UUID
    first: Annotated[str, Personal]
    last: Annotated[str, Personal]


def _split(data: dict[str, Any]) -> dict[str, Any]:
    first, _, last = data["name"].partition(" ")
    return {"person_id": data["person_id"], "first": first, "last": last}


async def test_a_payload_of_an_older_version_opens_before_its_upcasters_run(
    cipher: FieldCipher,
) -> None:
    """Opening walks the payload, so it needs no model of the version it was sealed under."""
    catalog = EventCatalog("test", [_NamedV2], upcasters={("test.Named", 1): _split})
    old = _NamedV1(person_id=uuid.uuid4(), name="李 伟").model_dump(mode="json")
    event_id = uuid.uuid4()
    stored = await cipher.seal(_NamedV1, old, event_id=event_id, record=RECORD)

    opened = await cipher.open(stored, event_id=event_id)
    assert catalog.decode("test.Named", 1, opened) == _NamedV2(
        person_id=old["person_id"], first="李", last="伟"
    )
    with pytest.raises(SealBroken):  # the path is part of what was sealed
        await cipher.open({"v1": stored}, event_id=event_id)


ERASABLE = [
    model
    for catalog in CATALOGS
    if not catalog.inbound
    for model in (*catalog.models, *catalog.restricted_models)
    if carries_personal(model)
]
"""Every event type Anju seals, published or kept in its store only (clinical facts)."""


@pytest.mark.parametrize("model", ERASABLE, ids=lambda m: m.event_type)
def test_every_sealed_event_still_reads_once_everyone_in_it_is_erased(
    model: type[Event],
) -> None:
    """Once the keys are gone every personal field reads ``[已删除]`` or null: the model must
    accept that, or every load and replay of the event would fail after an erasure."""
    payload = example_payload(model)
    everyone = uuid.UUID(EXAMPLE_ID)  # the example names one person everywhere
    erased = erased_payload(model, payload, person_id=everyone, record=True)
    assert erased != payload
    model.model_validate(erased)
