"""Minimal events, guarded: no field that looks personal travels unmarked (README, "Privacy").

Every published event type's schema file is read as an integrator reads it, nested definitions
and inlined objects included. A field whose name looks personal must carry
``"x-personal-data": true`` (``Personal`` in the models), so that what must be protected on the
wire — encrypted per person, erased on request — is read off the contracts and never guessed.
A name that looks personal but is not (an organisation's name, a reason that is a code) is
allowed here, one by one, with the reason why.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from typing import Any

import pytest

from anju_contracts.base import PERSONAL_DATA
from anju_devtools import contracts

Schema = dict[str, Any]

PERSONAL_WORDS = frozenset(
    {
        # who someone is
        "name",
        "birth",  # date_of_birth
        "holder",  # a certificate holder
        "speaker",
        "attendees",
        "responsible",  # a person named as responsible, in free text
        # how to reach them or where they live
        "phone",
        "mobile",
        "email",
        "contact",
        "address",
        "caller",
        # free text written by staff or residents about people: it names them, their family,
        # their health and their quarrels whatever the field was meant for
        "note",
        "notes",
        "text",
        "description",
        "reason",
        "outcome",
        "findings",
        "minutes",
        "comment",
        "remark",
        "feedback",
        "answer",
        "reply",
        "summary",
        "correction",
        "subject",
        "terms",
        "action",
        "actions",
        "errands",
        "guidance",
        # clinical facts (they never leave health, README "Privacy"; named here in case one does)
        "diagnosis",
        "icd10",
        "allergy",
        "observations",
        "photo",
    }
)
"""Words (between underscores) that make a field name look personal: identity, contact, free
text about people, clinical facts. Chosen from the fields Anju's events have and the kinds of
data the issue names; a word that is mostly used for codes (``kind``, ``category``, ``number``)
is not listed, so the allow-list stays short and every entry in it is a decision."""

PERSONAL_PHRASES = ("id_number", "date_of_birth")
"""Names that look personal only as a whole (``number`` alone is a certificate's number)."""

PERSONAL_NAMES = frozenset({"staff", "attendees", "members", "tenants"})
"""Whole field names that list people by name (``staff_id`` is an id, ``staff`` names)."""

ALLOWED: dict[tuple[str, str], str] = {
    # (the object that declares the field: an event or a definition title, the field) -> why
    ("AreaCreated", "name"): "a community's, grid's, building's or unit's name",
    ("OrganisationRegistered", "name"): "a partner organisation's name, public master data",
    ("OrganisationChanged", "name"): "a partner organisation's name, public master data",
    ("TeamFormed", "name"): "a volunteer team's name",
    ("ResidenceCertificateIssued", "community_name"): "the community's name, printed on it",
    ("PetitionAccepted", "answer_due_by"): "a deadline, not an answer",
    ("FollowUpStopped", "reason"): "a sentence registry writes (no flag, moved, died, erased)",
    ("PersonErased", "birth_year"): (
        "an erased person's year alone, for the age-based figures: beside an id whose every"
        " other field is unreadable it points at no one (docs/personal-data.md)"
    ),
    ("WorkOrderParked", "reason"): "a code integration writes (unknown_area)",
}
"""Fields whose names look personal but hold nothing about a person, each with why."""


def looks_personal(name: str) -> bool:
    words = set(name.split("_"))
    singular = {w.removesuffix("s") for w in words}  # phones, contacts, reasons
    return (
        bool(PERSONAL_WORDS & (words | singular))
        or any(p in name for p in PERSONAL_PHRASES)
        or name in PERSONAL_NAMES
    )


def _coded(schema: Schema) -> bool:
    """A closed list of codes, a constant or a yes/no: it cannot carry a name or free text."""
    types = schema.get("type")
    types = set(types) - {"null"} if isinstance(types, list) else {types}
    return "enum" in schema or "const" in schema or types == {"boolean"}


def unmarked_personal_fields(schema: Schema) -> list[str]:
    """Dotted paths (``caller.phone``, owner first: ``WorkOrderDispatched.caller.phone``) of the
    leaf fields of a payload schema whose names look personal and that are neither marked
    ``x-personal-data`` nor allowed. Objects and lists are followed, through ``$ref``, inlined
    copies, ``anyOf``/``allOf``; a marked object or list covers everything in it."""
    definitions: Schema = schema.get("$defs", {})

    def resolve(node: Schema, seen: frozenset[str]) -> tuple[Schema, frozenset[str]] | None:
        ref = node.get("$ref")
        if not isinstance(ref, str):
            return node, seen
        target = ref.rsplit("/", 1)[-1]
        if target in seen or target not in definitions:
            return None  # a cycle: the definition is walked where it first appears
        return {**definitions[target], **{k: v for k, v in node.items() if k != "$ref"}}, (
            seen | {target}
        )

    def fields(node: Schema, path: str, seen: frozenset[str]) -> Iterator[str]:
        owner = str(node.get("title", path))
        for name, field in node.get("properties", {}).items():
            yield from value(field, name, f"{path}.{name}", owner, seen)

    def value(
        node: Schema, name: str, path: str, owner: str, seen: frozenset[str]
    ) -> Iterator[str]:
        if node.get(PERSONAL_DATA):
            return
        resolved = resolve(node, seen)
        if resolved is None:
            return
        node, seen = resolved
        if node.get(PERSONAL_DATA):
            return
        members = [m for key in ("anyOf", "oneOf", "allOf") for m in node.get(key, [])]
        for member in members:
            yield from value(member, name, path, owner, seen)
        if isinstance(node.get("items"), dict):
            yield from value(node["items"], name, path, owner, seen)
        if "properties" in node:
            yield from fields(node, path, seen)
            return
        leaf = not members and "items" not in node
        if leaf and looks_personal(name) and not _coded(node) and (owner, name) not in ALLOWED:
            yield path

    return list(dict.fromkeys(fields(schema, str(schema.get("title", "")), frozenset())))


def published_schemas() -> dict[str, Schema]:
    """Every published event type's schema, as committed in ``contracts/schemas``."""
    folder = contracts.ROOT / "schemas"
    return {
        path.name: json.loads(path.read_text())
        for path in sorted(folder.glob("*.v*.json"))
        if path.name != "envelope.json"
    }


def test_every_field_that_looks_personal_is_marked() -> None:
    schemas = published_schemas()
    assert len(schemas) > 100  # every type, not an empty folder
    found = {name: unmarked_personal_fields(s) for name, s in schemas.items()}
    assert {name: paths for name, paths in found.items() if paths} == {}, (
        "mark these fields Personal in anju_contracts (an x- annotation keeps the version), or "
        "allow them in ALLOWED with the reason they hold nothing about a person"
    )


def test_every_allowed_field_exists_and_is_unmarked() -> None:
    """An entry that no longer names a field (renamed, or marked since) goes, so the list never
    allows more than it says."""
    declared: set[tuple[str, str]] = set()

    def collect(node: Any) -> None:
        if isinstance(node, dict):
            for name, field in (node.get("properties") or {}).items():
                if isinstance(field, dict) and not field.get(PERSONAL_DATA):
                    declared.add((str(node.get("title")), name))
            for child in node.values():
                collect(child)
        elif isinstance(node, list):
            for child in node:
                collect(child)

    for schema in published_schemas().values():
        collect(schema)
    assert set(ALLOWED) - declared == set()


def _copy_with(file: str, owner_path: list[str], field: str, spec: Schema) -> Schema:
    schema = copy.deepcopy(published_schemas()[file])
    node = schema
    for key in owner_path:
        node = node[key]
    node["properties"][field] = spec
    return schema


def test_an_unmarked_phone_fails() -> None:
    schema = _copy_with("registry.ResidentMoved.v1.json", [], "phone", {"type": ["string", "null"]})
    assert unmarked_personal_fields(schema) == ["ResidentMoved.phone"]
    schema["properties"]["phone"][PERSONAL_DATA] = True
    assert unmarked_personal_fields(schema) == []


@pytest.mark.parametrize(
    ("field", "spec"),
    [
        ("phone", {"type": "string"}),
        ("emergency_contact", {"type": ["string", "null"], "maxLength": 40}),
        ("resident_phones", {"type": "array", "items": {"type": "string"}}),
    ],
)
def test_an_unmarked_phone_fails_in_a_nested_definition(field: str, spec: Schema) -> None:
    schema = _copy_with(
        "hotline12345.WorkOrderDispatched.v1.json", ["$defs", "CallerContact"], field, spec
    )
    assert unmarked_personal_fields(schema) == [f"WorkOrderDispatched.caller.{field}"]


def test_an_unmarked_phone_fails_in_an_inlined_object() -> None:
    """A nullable object is inlined in the schema (``type: ["object", "null"]``), not a ``$ref``."""
    schema = _copy_with(
        "registry.ResidentMoved.v1.json",
        [],
        "reached_through",
        {
            "type": ["object", "null"],
            "title": "Neighbour",
            "properties": {"phone": {"type": "string"}},
        },
    )
    assert unmarked_personal_fields(schema) == ["ResidentMoved.reached_through.phone"]


def test_codes_and_allowed_names_pass() -> None:
    schema = _copy_with(
        "registry.ResidentMoved.v1.json",
        [],
        "reason",
        {"enum": ["moved", "died"], "type": "string"},
    )
    assert unmarked_personal_fields(schema) == []
    assert looks_personal("date_of_birth")
    assert looks_personal("holder_name")
    assert not looks_personal("resident_id")
    assert not looks_personal("notice_number")
