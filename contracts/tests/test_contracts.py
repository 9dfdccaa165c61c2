"""The published contracts: generated files are current, and the catalogue decodes and upcasts."""

from __future__ import annotations

import json
import sys
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from anju_contracts import Envelope, EventCatalog, InvalidEvent, UnknownEvent
from anju_contracts.catalogs import CATALOGS
from anju_contracts.envelopes import envelope_adapter, read_envelope
from anju_contracts.hotline12345 import WorkOrderDispatched
from anju_contracts.registry import CATALOG, ResidentRegistered
from anju_devtools import contracts, topics

from .messages import NoteV1, NoteV2, resident_registered


def test_generated_files_are_up_to_date() -> None:
    stale = contracts.stale_files()
    assert not stale, f"run `anju contracts` to regenerate: {[str(p) for p in stale]}"


def test_every_event_has_a_docstring_and_a_schema_file() -> None:
    for model in (m for c in CATALOGS for m in c.models):
        assert model.__doc__, model.event_type
        path = contracts.ROOT / "schemas" / f"{model.event_type}.v{model.event_version}.json"
        assert json.loads(path.read_text())["x-event-type"] == model.event_type


def test_envelope_union_parses_a_message_by_type() -> None:
    parsed = envelope_adapter(CATALOG).validate_python(resident_registered())
    assert isinstance(parsed.data, ResidentRegistered)
    assert parsed.data.name == "王秀英"


def enriched(message: dict[str, Any]) -> dict[str, Any]:
    """``message`` as a newer producer might send it: fields added at every level."""
    data = message["data"]
    return dict(
        message,
        specversion="1.0",
        data=dict(data, floor=3, path=dict(data["path"], door="302")),
        actor=dict(message["actor"], display_name="desk"),
    )


def test_readers_ignore_fields_they_do_not_know_and_builders_refuse_them() -> None:
    message = resident_registered()
    expected = envelope_adapter(CATALOG).validate_python(message)
    newer = enriched(message)
    assert read_envelope(CATALOG, json.dumps(newer)) == expected
    assert read_envelope(CATALOG, newer) == expected
    assert CATALOG.decode("registry.ResidentRegistered", 1, newer["data"]) == expected.data
    assert ResidentRegistered.model_validate(newer["data"]) == expected.data
    assert ResidentRegistered.model_validate_json(json.dumps(newer["data"])) == expected.data
    untyped = Envelope.model_validate(newer)  # the envelope alone: its data is a plain mapping
    assert untyped.model_dump(exclude={"data"}) == expected.model_dump(exclude={"data"})
    # what code builds is strict: Anju never publishes a field its contract does not name
    with pytest.raises(ValidationError, match="floor"):
        ResidentRegistered(**newer["data"])
    with pytest.raises(ValidationError, match="door"):
        ResidentRegistered(**dict(message["data"], path=newer["data"]["path"]))
    with pytest.raises(ValidationError, match="specversion"):
        Envelope(**newer)
    # and a reader that wants to know can still ask
    with pytest.raises(ValidationError, match="floor"):
        ResidentRegistered.model_validate(newer["data"], extra="forbid")


def test_published_schemas_accept_added_fields() -> None:
    newer = enriched(resident_registered())
    envelope = json.loads((contracts.ROOT / "schemas" / "envelope.json").read_text())
    # the payload in clear: as version 1 published it (version 2 seals the personal fields)
    payload = json.loads(
        (contracts.ROOT / "published" / "registry.ResidentRegistered.v1.json").read_text()
    )
    jsonschema.validate(newer, envelope)
    jsonschema.validate(newer["data"], payload)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({k: v for k, v in newer["data"].items() if k != "name"}, payload)
    for path in (contracts.ROOT / "schemas").glob("*.json"):
        assert '"additionalProperties": false' not in path.read_text(), path.name
    assert '"additionalProperties": false' not in (contracts.ROOT / "asyncapi.json").read_text()


def test_old_versions_are_upcast_and_unknown_ones_refused() -> None:
    catalog = EventCatalog(
        "demo",
        [NoteV2],
        upcasters={("demo.NoteTaken", 1): lambda d: {"title": d["text"][:10], "body": d["text"]}},
    )
    upcast = catalog.decode("demo.NoteTaken", 1, {"text": "leaking pipe on floor 3"})
    assert upcast == NoteV2(title="leaking pi", body="leaking pipe on floor 3")
    with pytest.raises(UnknownEvent):
        catalog.decode("demo.NoteTaken", 3, {})
    with pytest.raises(UnknownEvent):
        catalog.decode("demo.Other", 1, {})
    with pytest.raises(InvalidEvent):
        catalog.decode("demo.NoteTaken", 2, {"title": "x"})


def test_catalog_refuses_events_of_another_service() -> None:
    with pytest.raises(ValueError, match="does not belong"):
        EventCatalog("registry", [NoteV1])


def test_personal_data_is_marked_in_the_events_and_their_schemas() -> None:
    from anju_contracts.base import PERSONAL_DATA, personal_fields
    from anju_contracts.mediation import Party, PetitionProxied
    from anju_contracts.registry import Liaison

    assert personal_fields(ResidentRegistered) == {"name", "date_of_birth", "id_number", "phone"}
    assert {"name", "contact"} <= personal_fields(Party)
    assert personal_fields(Liaison) == {"name", "phone"}
    assert "subject" in personal_fields(PetitionProxied)
    schema = ResidentRegistered.model_json_schema()["properties"]
    assert schema["id_number"][PERSONAL_DATA] is True
    assert PERSONAL_DATA not in schema["resident_id"]
    # every catalogued event's schema file says the same as its model
    for catalog in CATALOGS:
        for model in catalog.models:
            properties = model.model_json_schema().get("properties", {})
            marked = {name for name, p in properties.items() if p.get(PERSONAL_DATA)}
            assert marked == personal_fields(model), model.event_type


def test_every_model_and_enum_name_is_unique_across_services() -> None:
    """The AsyncAPI document keys its components by name: two services' ``CancelReason`` would
    overwrite each other (and which one wins would change from run to run)."""
    import enum
    import inspect

    from pydantic import BaseModel

    owners: dict[str, set[str]] = {}
    for catalog in CATALOGS:
        module = sys.modules[catalog.models[0].__module__]
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and value.__module__ == module.__name__
                and issubclass(value, enum.Enum | BaseModel)
            ):
                owners.setdefault(name, set()).add(module.__name__)
    assert {n: m for n, m in owners.items() if len(m) > 1} == {}


def test_the_readme_documents_every_topic_and_event_type() -> None:
    readme = (contracts.ROOT / "README.md").read_text()
    block = readme[readme.index(topics.BEGIN) : readme.index(topics.END)]
    for catalog in CATALOGS:
        assert f"#### `{catalog.topic}`" in block
        for model in catalog.models:
            assert f"| `{model.event_type}` | {model.event_version} |" in block
        for topic in catalog.also.values():
            assert f"#### `{topic}`" in block
        for restricted in catalog.restricted:  # never published, never listed
            assert f"`{restricted}`" not in block


def test_personal_fields_are_found_at_any_depth() -> None:
    schema = WorkOrderDispatched.model_json_schema()
    paths = topics.personal_paths(schema)
    assert {"address", "text", "caller.name", "caller.phone"} <= set(paths)
    assert "order_id" not in paths
    assert "caller" not in paths


def test_the_generated_block_replaces_only_itself() -> None:
    text = f"before\n{topics.BEGIN}\nold\n{topics.END}\nafter\n"
    assert topics.replace_block(text, "NEW") == "before\nNEW\nafter\n"
    with pytest.raises(ValueError, match="markers"):
        topics.replace_block("no markers", "NEW")
