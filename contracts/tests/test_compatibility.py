"""Published events may only evolve by the rules of contracts/README.md ("Versions").

``contracts/published/`` holds the schema of every version ever published. The current schemas
must keep them: the first test is the guard CI runs. The others change *copies* of schemas the
way a developer might and show what the guard says.
"""

from __future__ import annotations

import copy
import json
import shutil
from pathlib import Path
from typing import Any, ClassVar

import pytest

from anju_contracts import Event, EventCatalog
from anju_contracts.compatibility import compare
from anju_devtools import contracts

MOVED = "registry.ResidentMoved.v1.json"
REGISTERED = "registry.ResidentRegistered.v2.json"


def test_current_schemas_keep_every_published_contract() -> None:
    problems = contracts.compatibility_problems()
    assert problems == [], (
        "a published event changed other than by an optional field: give it a new version and"
        f" an upcaster (contracts/README.md, Versions): {problems}"
    )


def test_every_published_event_version_is_in_the_baseline() -> None:
    published = contracts.published_schemas()
    for name, schema in contracts.event_schemas().items():
        assert name in published, f"run `anju contracts` to record {name}"
        assert compare(published[name], schema).added == [], f"run `anju contracts` for {name}"


@pytest.fixture
def root(tmp_path: Path) -> Path:
    """A copy of the contracts' baseline, to change without touching the real one."""
    shutil.copytree(contracts.ROOT / contracts.PUBLISHED, tmp_path / contracts.PUBLISHED)
    return tmp_path


def current() -> dict[str, dict[str, Any]]:
    return copy.deepcopy(contracts.event_schemas())


def test_a_renamed_field_breaks_the_published_event(root: Path) -> None:
    schemas = current()
    moved = schemas[MOVED]
    moved["properties"]["destination"] = moved["properties"].pop("to_path")
    moved["required"] = ["resident_id", "from_path", "destination"]

    problems = contracts.compatibility_problems(root, schemas)
    assert problems == [
        "registry.ResidentMoved v1: to_path: field removed (or renamed)",
        "registry.ResidentMoved v1: destination: required field added",
    ]
    # `anju contracts` leaves the published schema as it was
    assert root / contracts.PUBLISHED / MOVED not in contracts.baseline_files(root, schemas)


def test_an_added_optional_field_keeps_the_version_and_joins_the_baseline(root: Path) -> None:
    schemas = current()
    schemas[MOVED]["properties"]["reason"] = {
        "anyOf": [{"type": "string"}, {"type": "null"}],
        "default": None,
    }
    assert contracts.compatibility_problems(root, schemas) == []

    # `anju contracts` records the addition: the field is published now ...
    due = contracts.baseline_files(root, schemas)
    assert list(due) == [root / contracts.PUBLISHED / MOVED]
    for path, text in due.items():
        path.write_text(text)
    assert contracts.baseline_files(root, schemas) == {}
    # ... so taking it away again breaks the contract
    del schemas[MOVED]["properties"]["reason"]
    assert contracts.compatibility_problems(root, schemas) == [
        "registry.ResidentMoved v1: reason: field removed (or renamed)"
    ]


def test_other_changes_to_a_published_event_break_it(root: Path) -> None:
    def problems(change: Any) -> list[str]:
        schemas = current()
        change(schemas[REGISTERED])
        return contracts.compatibility_problems(root, schemas)

    def retype(s: dict[str, Any]) -> None:
        s["properties"]["sex"] = {"type": "integer"}

    def require(s: dict[str, Any]) -> None:
        s["required"].append("phone")

    def add_required(s: dict[str, Any]) -> None:
        s["properties"]["floor"] = {"type": "integer"}
        s["required"].append("floor")

    def add_sex(s: dict[str, Any]) -> None:
        s["$defs"]["Sex"]["enum"].append("unstated")

    def rename_nested(s: dict[str, Any]) -> None:
        path = s["$defs"]["AreaPath"]
        path["properties"]["block_id"] = path["properties"].pop("building_id")

    def reword(s: dict[str, Any]) -> None:
        s["description"] = "Someone came to live here."
        s["properties"]["name"]["title"] = "Full name"

    assert problems(retype) == [
        "registry.ResidentRegistered v2: sex: type changed from string to integer"
    ]
    assert problems(require) == [
        "registry.ResidentRegistered v2: phone: optional field made required"
    ]
    assert problems(add_required) == ["registry.ResidentRegistered v2: floor: required field added"]
    [changed] = problems(add_sex)
    assert changed.startswith("registry.ResidentRegistered v2: sex: constraints changed")
    assert problems(rename_nested) == [
        "registry.ResidentRegistered v2: path.building_id: field removed (or renamed)"
    ]
    assert problems(reword) == []


def test_the_rules_look_past_how_a_schema_is_spelled() -> None:
    old: dict[str, Any] = {
        "$defs": {"Where": {"properties": {"unit": {"type": "string"}}, "required": ["unit"]}},
        "properties": {
            "note": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
            "where": {"$ref": "#/$defs/Where"},
            "kind": {"enum": ["a", "b"], "type": "string"},
        },
        "required": ["where", "kind"],
        "type": "object",
    }
    respelled: dict[str, Any] = {
        "properties": {
            "note": {"type": ["string", "null"], "default": None},
            "where": {
                "type": "object",
                "properties": {"unit": {"type": "string"}, "floor": {"type": "integer"}},
                "required": ["unit"],
            },
            "kind": {"enum": ["b", "a"], "type": "string"},
        },
        "required": ["kind", "where"],
        "type": "object",
    }
    comparison = compare(old, respelled)
    assert comparison.breaking == []
    assert comparison.added == ["where.floor"]

    not_null = copy.deepcopy(respelled)
    not_null["properties"]["note"] = {"type": "string", "default": None}
    assert compare(old, not_null).breaking == ["note: may no longer be null"]


class NoteV1(Event):
    event_type: ClassVar[str] = "registry.NoteTaken"
    text: str


class NoteV2(Event):
    event_type: ClassVar[str] = "registry.NoteTaken"
    event_version: ClassVar[int] = 2
    title: str


def test_a_new_version_needs_an_upcaster_from_every_published_one(
    root: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    published = root / contracts.PUBLISHED
    for model in (NoteV1, NoteV2):
        name = f"{model.event_type}.v{model.event_version}.json"
        (published / name).write_text(json.dumps(model.model_json_schema()))
    schemas = {"registry.NoteTaken.v2.json": NoteV2.model_json_schema()}

    def problems(catalog: EventCatalog) -> list[str]:
        monkeypatch.setattr(contracts, "CATALOGS", (catalog,))
        found = contracts.compatibility_problems(root, schemas)
        return [p for p in found if p.startswith("registry.NoteTaken")]

    assert problems(EventCatalog("registry", [NoteV2])) == [
        "registry.NoteTaken v1 was published and registry's catalogue has no upcaster from it to v2"
    ]
    upcast = {("registry.NoteTaken", 1): lambda d: {"title": d["text"]}}
    assert problems(EventCatalog("registry", [NoteV2], upcasters=upcast)) == []
    # the old schema stays published; an event type never leaves its topic
    assert problems(EventCatalog("registry", [])) == [
        "registry.NoteTaken v1 was published and is no longer",
        "registry.NoteTaken v2 was published and is no longer",
    ]
