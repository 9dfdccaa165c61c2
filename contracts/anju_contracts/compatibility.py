"""Whether a new JSON Schema of an event may keep the version of a published one.

Consumers are tolerant readers (unknown fields are ignored), and topics keep every event
forever, so a schema change must let *old readers read new events* and *new readers read old
events*. The rules (written for people in ``contracts/README.md``, "Versions"):

- **Same version**: adding an optional field (not required), at any depth; changing a title, a
  description, an example or an ``x-`` annotation; how a schema spells itself (an optional field
  as ``anyOf [T, null]`` or as ``type: [T, "null"]``, a ``$ref`` or the schema it names).
- **New version** (with an upcaster from the old one, the old schema kept): removing or renaming
  a field; changing its type, format, allowed values (an enum value added or removed: a reader
  that knows the old list refuses the new value), bounds, default or whether it may be null;
  making an optional field required or a required one optional; adding a required field.

:func:`compare` applies them to two schemas and returns what breaks and what was added. It
needs nothing but the standard library, so an integrator can run it on their own copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

Schema = dict[str, Any]

# Keywords that describe rather than constrain: a change to them never breaks a reader.
_ANNOTATIONS = frozenset(
    {"title", "description", "examples", "example", "$comment", "deprecated", "$id", "$schema"}
)
# Keywords compared member by member rather than as values.
_STRUCTURE = frozenset(
    {"properties", "required", "items", "anyOf", "oneOf", "allOf", "$defs", "$ref"}
    | {"additionalProperties", "discriminator", "type"}
)
_NULL: Schema = {"type": "null"}


@dataclass
class Comparison:
    """What a new schema breaks of an old one, and what it adds (optional fields)."""

    breaking: list[str] = field(default_factory=list)
    added: list[str] = field(default_factory=list)

    @property
    def compatible(self) -> bool:
        return not self.breaking


def compare(old: Schema, new: Schema) -> Comparison:
    """Compare two JSON Schemas of one event version (each resolves ``$ref`` in its ``$defs``)."""
    result = Comparison()
    _Walk(old, new, result).node(old, new, "", set())
    return result


@dataclass
class _Walk:
    old_root: Schema
    new_root: Schema
    result: Comparison

    def node(self, old: Schema, new: Schema, path: str, seen: set[tuple[str, str]]) -> None:
        refs = (old.get("$ref", ""), new.get("$ref", ""))
        if refs != ("", ""):
            if refs in seen:  # a recursive model: this pair is being compared further up
                return
            seen = seen | {refs}
        old, old_null = _split_null(_resolve(self.old_root, old))
        new, new_null = _split_null(_resolve(self.new_root, new))
        old, new = _resolve(self.old_root, old), _resolve(self.new_root, new)
        where = path or "the event"
        if old_null != new_null:
            self.result.breaking.append(
                f"{where}: {'may no longer' if old_null else 'may now'} be null"
            )
        old_types, new_types = _types(old), _types(new)
        if old_types != new_types:
            self.result.breaking.append(
                f"{where}: type changed from {_show(old_types)} to {_show(new_types)}"
            )
            return
        old_rules, new_rules = _constraints(old), _constraints(new)
        if old_rules != new_rules:
            self.result.breaking.append(
                f"{where}: constraints changed from {old_rules} to {new_rules}"
            )
        if "object" in old_types or "properties" in old or "properties" in new:
            self.fields(old, new, path, seen)
        for key in ("items", "additionalProperties"):
            old_sub, new_sub = old.get(key), new.get(key)
            if isinstance(old_sub, dict) and isinstance(new_sub, dict):
                self.node(old_sub, new_sub, f"{path}[]" if key == "items" else f"{path}{{}}", seen)
            elif isinstance(old_sub, dict) != isinstance(new_sub, dict) and key == "items":
                self.result.breaking.append(f"{where}: items changed")
        for key in ("anyOf", "oneOf", "allOf"):
            old_members, new_members = old.get(key, []), new.get(key, [])
            if len(old_members) != len(new_members):
                self.result.breaking.append(f"{where}: {key} changed its members")
                continue
            for i, (o, n) in enumerate(zip(old_members, new_members, strict=True)):
                self.node(o, n, f"{path}<{i}>", seen)

    def fields(self, old: Schema, new: Schema, path: str, seen: set[tuple[str, str]]) -> None:
        old_fields, new_fields = old.get("properties", {}), new.get("properties", {})
        old_required, new_required = set(old.get("required", [])), set(new.get("required", []))
        prefix = f"{path}." if path else ""
        for name, schema in old_fields.items():
            here = prefix + name
            if name not in new_fields:
                self.result.breaking.append(f"{here}: field removed (or renamed)")
                continue
            if name in old_required and name not in new_required:
                self.result.breaking.append(f"{here}: required field made optional")
            if name not in old_required and name in new_required:
                self.result.breaking.append(f"{here}: optional field made required")
            self.node(schema, new_fields[name], here, seen)
        for name in new_fields.keys() - old_fields.keys():
            if name in new_required:
                self.result.breaking.append(f"{prefix}{name}: required field added")
            else:
                self.result.added.append(f"{prefix}{name}")


def _resolve(root: Schema, node: Schema) -> Schema:
    """``node`` with its ``$ref`` (to ``#/$defs/...``) replaced by the schema it names; keywords
    beside the ``$ref`` (a default, a description) win over the target's."""
    seen: set[str] = set()
    while "$ref" in node:
        ref = node["$ref"]
        if ref in seen or not ref.startswith("#/"):
            raise ValueError(f"cannot resolve {ref}")
        seen.add(ref)
        target: Any = root
        for part in ref[2:].split("/"):
            target = target[part]
        node = {**target, **{k: v for k, v in node.items() if k != "$ref"}}
    return node


def _split_null(node: Schema) -> tuple[Schema, bool]:
    """``node`` without the null it admits, and whether it admitted one: ``anyOf [T, null]``
    and ``type: [T, "null"]`` both become ``T`` and True."""
    nullable = False
    types = node.get("type")
    if isinstance(types, list) and "null" in types:
        nullable = True
        rest = [t for t in types if t != "null"]
        node = {**node, "type": rest[0] if len(rest) == 1 else rest}
        if isinstance(node.get("enum"), list):  # a nullable enum lists null among its values
            node["enum"] = [v for v in node["enum"] if v is not None]
    for key in ("anyOf", "oneOf"):
        members = node.get(key)
        if isinstance(members, list) and _NULL in members:
            nullable = True
            others = [m for m in members if m != _NULL]
            outer = {k: v for k, v in node.items() if k != key}
            node = {**others[0], **outer} if len(others) == 1 else {**outer, key: others}
    return node, nullable


def _types(node: Schema) -> frozenset[str]:
    declared = node.get("type")
    if declared is None:
        return frozenset({"object"}) if "properties" in node else frozenset()
    return frozenset([declared] if isinstance(declared, str) else declared)


def _constraints(node: Schema) -> dict[str, Any]:
    rules = {
        k: v
        for k, v in node.items()
        if k not in _ANNOTATIONS and k not in _STRUCTURE and not k.startswith("x-")
    }
    if isinstance(rules.get("enum"), list):  # the order of the allowed values means nothing
        rules["enum"] = sorted(rules["enum"], key=repr)
    return rules


def _show(types: frozenset[str]) -> str:
    return "/".join(sorted(types)) or "any"
