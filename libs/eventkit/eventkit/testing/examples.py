"""A valid payload for any event model, built from its JSON Schema, for tests that must cover
every published event type (every optional field filled, so personal fields are all there)."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from anju_contracts.base import PERSONAL_DATA

TEXT = "三月例会 议定事项"
"""Text of a field that is not personal."""

PERSONAL_TEXT = "王芳 安居路12号院3号楼301 13800000000"
"""Text of a personal field: what people write about people, found nowhere else."""

PERSONAL_DATE = "1949-12-31"
"""A personal date (a date of birth): no other date of an example is this one."""

PATTERNS = {
    r"^[0-9]{17}[0-9X]$": "11010519491231002X",
    r"^[0-9]{17}[0-9Xx]$": "11010519491231002X",
    r"^[a-z][a-z0-9_]{1,49}$": "street_office",
    r"^ANJU-R-[0-9]{4}-[0-9A-F]{8}$": "ANJU-R-2026-0A1B2C3D",
    r"^ANJU-V-[0-9]{4}-[0-9A-F]{8}$": "ANJU-V-2026-0A1B2C3D",
    r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$": "GD-2026-000123",
    r"^(in|out)-[0-9]{1,2}$": "in-1",
    r"^[0-9]{4}-[0-9]{2}$": "2026-03",
    r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$": "F20.0",
}
"""A value for each pattern the contracts use; :func:`example_payload` fails on another."""

_FORMATS = {
    "uuid": "0b9a3c1e-7d2f-4a6b-9c8d-1e2f3a4b5c6d",
    "date": "2026-02-27",
    "date-time": "2026-03-01T09:30:00Z",
    "email": "someone@example.org",
    "uri": "https://example.org/a",
    "time": "09:30:00",
}


EXAMPLE_ID = _FORMATS["uuid"]
"""The id every uuid field of an example holds: one person, one record, everywhere."""


def example_payload(
    model: type[BaseModel], patterns: dict[str, str] | None = None
) -> dict[str, Any]:
    """A JSON payload ``model`` validates, every field filled (the first choice of each union
    that is not null, the first value of each enum)."""
    schema = model.model_json_schema()
    known = {**PATTERNS, **(patterns or {})}
    value = _build(schema, schema.get("$defs", {}), known, personal=False)
    assert isinstance(value, dict)
    return value


def _build(
    node: dict[str, Any], defs: dict[str, Any], patterns: dict[str, str], *, personal: bool
) -> Any:
    personal = personal or bool(node.get(PERSONAL_DATA))
    if "$ref" in node:
        return _build(defs[node["$ref"].rsplit("/", 1)[-1]], defs, patterns, personal=personal)
    if "const" in node:
        return node["const"]
    if "enum" in node:
        return node["enum"][0]
    for union in ("anyOf", "oneOf", "allOf"):
        if union in node:
            choices = [c for c in node[union] if c.get("type") != "null"]
            return _build(choices[0], defs, patterns, personal=personal)
    kind = node.get("type")
    if isinstance(kind, list):
        kind = next(k for k in kind if k != "null")
    if kind == "object" or "properties" in node:
        return {
            name: _build(prop, defs, patterns, personal=personal)
            for name, prop in node.get("properties", {}).items()
        }
    if kind == "array":
        items = node.get("items", {})
        count = max(1, node.get("minItems", 1))
        return [_build(items, defs, patterns, personal=personal) for _ in range(count)]
    if kind == "string":
        return _string(node, patterns, personal=personal)
    if kind == "integer":
        return max(node.get("minimum", 1), node.get("exclusiveMinimum", 0) + 1)
    if kind == "number":
        return float(max(node.get("minimum", 1), node.get("exclusiveMinimum", 0) + 1))
    if kind == "boolean":
        return True
    return None


def _string(node: dict[str, Any], patterns: dict[str, str], *, personal: bool) -> str:
    if "pattern" in node:
        return patterns[node["pattern"]]
    if personal and node.get("format") == "date":
        return PERSONAL_DATE
    if "format" in node and node["format"] in _FORMATS:
        return _FORMATS[node["format"]]
    text = PERSONAL_TEXT if personal else TEXT
    return text[: node.get("maxLength", len(text))].ljust(node.get("minLength", 0), "安")
