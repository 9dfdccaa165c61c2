"""How Anju's contracts spell themselves in JSON Schema: a nullable field as ``type: [T, "null"]``.

Pydantic writes ``x: T | None`` as ``anyOf: [T, {"type": "null"}]``. Code generators read that
as a union of two types: Modelina makes it ``Object`` in Java and ``interface{}`` in Go, which
then fails to decode. ``type: [T, "null"]`` is the spelling they all read as "a T that may be
null" (a pointer in Go, a boxed type in Java, ``Optional[T]`` in Python), so
:class:`ContractJsonSchema` writes every nullable field that way:

- a plain type, with its format, bounds or items: ``{"type": ["string", "null"], "format":
  "uuid"}`` (a format or a bound constrains only its own type, so null still passes);
- a reference to an enum or to an object (``AreaPath | None``): the referenced schema inlined
  with its type widened, and ``null`` added to an enum's values (an ``enum`` is checked on its
  own, so without it null would be refused). JSON Schema has no way to make a ``$ref`` nullable
  other than a union, and a union is what the generators get wrong; the copy keeps the
  definition's title, so a generator still names the type after it.

Every schema the project generates goes through it: :class:`~anju_contracts.base.TolerantReader`
makes it the default of ``model_json_schema``. :mod:`anju_contracts.compatibility` treats both
spellings as the same schema, so the baseline of published schemas stays valid.
"""

from __future__ import annotations

import copy
from typing import Any

from pydantic.json_schema import GenerateJsonSchema, JsonSchemaMode, JsonSchemaValue

Schema = dict[str, Any]

_NULL: Schema = {"type": "null"}
_DEFS = "#/$defs/"


class ContractJsonSchema(GenerateJsonSchema):
    """Pydantic's JSON Schema with nullable fields spelt ``type: [T, "null"]`` (module doc)."""

    def generate(self, schema: Any, mode: JsonSchemaMode = "validation") -> JsonSchemaValue:
        return nullable_as_type_list(super().generate(schema, mode))


def nullable_as_type_list(root: Schema) -> Schema:
    """``root`` with each ``anyOf [T, {"type": "null"}]`` rewritten as ``type: [T, "null"]``
    where T allows it, and the definitions no longer referenced dropped."""
    defs: Schema = root.get("$defs", {})
    rewritten: Schema = _rewrite(root, defs)
    if "$defs" in rewritten:
        used = _referenced(rewritten, rewritten["$defs"])
        kept = {k: v for k, v in rewritten["$defs"].items() if k in used}
        if kept:
            rewritten["$defs"] = kept
        else:
            del rewritten["$defs"]
    return rewritten


def _rewrite(node: Any, defs: Schema) -> Any:
    if isinstance(node, list):
        return [_rewrite(v, defs) for v in node]
    if not isinstance(node, dict):
        return node
    node = {k: _rewrite(v, defs) for k, v in node.items()}
    members = node.get("anyOf")
    if isinstance(members, list) and len(members) == 2 and _NULL in members:
        other = members[0] if members[1] == _NULL else members[1]
        outer = {k: v for k, v in node.items() if k != "anyOf"}
        widened = _nullable(other, defs)
        if widened is not None:
            if "$ref" in other:  # the type is named after the definition, not the field
                outer.pop("title", None)
            return {**widened, **outer}
    return node


def _nullable(schema: Schema, defs: Schema) -> Schema | None:
    """``schema`` admitting null through its ``type``, or None when it has no single type."""
    if set(schema) == {"$ref"} and schema["$ref"].startswith(_DEFS):
        target = defs.get(schema["$ref"].removeprefix(_DEFS))
        if target is None:
            return None
        schema = _rewrite(copy.deepcopy(target), defs)
    declared = schema.get("type")
    if not isinstance(declared, str) or any(k in schema for k in ("anyOf", "oneOf", "allOf")):
        return None
    if "const" in schema:
        return None
    widened = {**schema, "type": [declared, "null"]}
    if isinstance(schema.get("enum"), list) and None not in schema["enum"]:
        widened["enum"] = [*schema["enum"], None]
    return widened


def _referenced(root: Schema, defs: Schema) -> set[str]:
    """Names of the definitions reachable from ``root`` outside ``$defs`` itself."""
    seen: set[str] = set()
    pending = [v for k, v in root.items() if k != "$defs"]
    while pending:
        node = pending.pop()
        if isinstance(node, list):
            pending.extend(node)
        elif isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith(_DEFS):
                name = ref.removeprefix(_DEFS)
                if name not in seen and name in defs:
                    seen.add(name)
                    pending.append(defs[name])
            pending.extend(node.values())
    return seen


SEALED_PATTERN = r"^pd1:[tv]:[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22,}$"
"""The wire form of a sealed personal value (docs/personal-data.md, "The encrypted form")."""

SEALED_EXAMPLES = {
    "t": "pd1:t:q4U0n2m8Zx1Yb7Vd3Kc9Wg:3m9x1Q0b7VdKc9Wg:Jd8s0Qe1cV0xg1n9LZ3k2Ue6t0yA",
    "v": "pd1:v:q4U0n2m8Zx1Yb7Vd3Kc9Wg:Wd7Kc9Wg3m9x1Q0b:LZ3k2Ue6t0yAJd8s0Qe1cV0xg1n9",
}
"""A value of that form per kind (``t``: text, which reads ``[已删除]`` once erased; ``v``: any
other value, which reads null), for examples: they open under no key."""

SEALED_DESCRIPTION = (
    "Personal data, sealed with the key of the person it describes "
    "(pd1:<kind>:<key id>:<nonce>:<ciphertext>, AES-256-GCM; docs/personal-data.md). "
    "Anju's services open it; once the person is erased it opens as [已删除] or null."
)


def sealed_personal_fields(root: Schema) -> Schema:
    """``root`` with every schema marked ``x-personal-data`` replaced by the sealed string that
    travels in its place (null stays allowed where it was): the wire form of an event whose
    personal fields are sealed."""
    return copy.deepcopy(_seal(root))


def _seal(node: Any) -> Any:
    if isinstance(node, list):
        return [_seal(v) for v in node]
    if not isinstance(node, dict):
        return node
    if node.get("x-personal-data") is True:
        sealed: Schema = {
            "type": ["string", "null"] if _admits_null(node) else "string",
            "pattern": SEALED_PATTERN,
            "x-personal-data": True,
            "description": SEALED_DESCRIPTION,
            "examples": [SEALED_EXAMPLES[_kind(node)]],
        }
        if "title" in node:
            sealed["title"] = node["title"]
        return sealed
    return {k: _seal(v) for k, v in node.items()}


def _kind(node: Schema) -> str:
    """``t`` for free text (it reads ``[已删除]`` once erased), ``v`` for any other value."""
    kind = node.get("type")
    types = {kind} if isinstance(kind, str) else set(kind or ())
    constrained = any(k in node for k in ("pattern", "format", "enum", "const"))
    return "t" if types - {"null"} == {"string"} and not constrained else "v"


def _admits_null(node: Schema) -> bool:
    kind = node.get("type")
    if kind == "null" or (isinstance(kind, list) and "null" in kind):
        return True
    return any(_admits_null(c) for c in node.get("anyOf", ()) if isinstance(c, dict))
