"""Generate the published contracts: JSON Schema per event and one AsyncAPI document.

The pydantic models in ``contracts/anju_contracts`` are the source; the files under
``contracts/schemas/`` and ``contracts/asyncapi.json`` are generated from them, committed, and
checked by a test so that they never drift. ``anju contracts`` regenerates them.

``contracts/published/`` is the baseline: the schema of every version of every event ever
published, kept for as long as those events stay on the topics (for ever). ``anju contracts``
writes a version's file when the version first appears, and afterwards only to record an
optional field added under the same version; it never removes one, and never writes one that
breaks what was published. :func:`compatibility_problems` holds the current schemas to it by
the rules of :mod:`anju_contracts.compatibility`.

The schemas are open (no ``additionalProperties: false``): consumers are tolerant readers, and
an optional field added under the same version must not make a validator refuse the event.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from anju_contracts import Envelope, Event
from anju_contracts.catalogs import CATALOGS
from anju_contracts.compatibility import compare
from anju_contracts.schema import sealed_personal_fields
from anju_devtools import asyncapi as asyncapi_document, manifest, topics

ROOT = Path(__file__).resolve().parents[3] / "contracts"
PUBLISHED = "published"
_VERSIONED = re.compile(r"^(?P<type>[a-z][a-z0-9_]*\.[A-Za-z0-9]+)\.v(?P<version>[0-9]+)\.json$")

Schema = dict[str, Any]


def _dump(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def _open(node: Any) -> Any:
    """``node`` without ``additionalProperties: false`` anywhere (a map's value schema stays)."""
    if isinstance(node, dict):
        return {
            k: _open(v) for k, v in node.items() if not (k == "additionalProperties" and v is False)
        }
    if isinstance(node, list):
        return [_open(v) for v in node]
    return node


def event_schemas() -> dict[str, Schema]:
    """File name (``<type>.v<version>.json``) → schema, for every event's newest version."""
    schemas = {}
    for catalog in CATALOGS:
        for model in catalog.models:
            schema = _open(model.model_json_schema())
            if not catalog.inbound:  # Anju seals the personal fields of what it publishes
                schema = sealed_personal_fields(schema)
            schemas[f"{model.event_type}.v{model.event_version}.json"] = _named(
                schema, model, catalog.topic
            )
    return schemas


def opened_schemas() -> dict[str, Schema]:
    """Event type → its payload schema on another system's topic (a catalogue's ``also``):
    personal fields in clear, since the relay opens them for that topic."""
    return {
        model.event_type: _named(
            _open(model.model_json_schema()), model, catalog.also[model.event_type]
        )
        for catalog in CATALOGS
        for model in catalog.models
        if model.event_type in catalog.also and not catalog.inbound
    }


def _named(schema: Schema, model: type[Event], topic: str) -> Schema:
    schema["$id"] = f"{model.event_type}.v{model.event_version}"
    schema["x-event-type"] = model.event_type
    schema["x-event-version"] = model.event_version
    schema["x-topic"] = topic
    return schema


def json_schemas() -> dict[str, str]:
    """File name → content, for the envelope and every event's newest version."""
    files = {"envelope.json": _dump(_open(Envelope.model_json_schema()))}
    files.update((name, _dump(schema)) for name, schema in event_schemas().items())
    return files


def published_schemas(root: Path = ROOT) -> dict[str, Schema]:
    """The baseline: file name → schema of every version ever published."""
    return {p.name: json.loads(p.read_text()) for p in sorted((root / PUBLISHED).glob("*.json"))}


def compatibility_problems(
    root: Path = ROOT, current: dict[str, Schema] | None = None
) -> list[str]:
    """What the current schemas (by default, the models') break of the published baseline.

    A published version must still be read: the newest version by a schema that only adds
    optional fields to it, an older one through upcasters in its service's catalogue.
    """
    current = event_schemas() if current is None else current
    catalogs = {c.source: c for c in CATALOGS}
    problems = []
    for name, old in published_schemas(root).items():
        found = _VERSIONED.match(name)
        if found is None:
            problems.append(f"{name}: not a <type>.v<version>.json file")
            continue
        event_type, version = found["type"], int(found["version"])
        catalog = catalogs.get(event_type.partition(".")[0])
        if catalog is None or event_type not in {m.event_type for m in catalog.models}:
            problems.append(f"{event_type} v{version} was published and is no longer")
            continue
        newest = catalog.model(event_type).event_version
        if version == newest:
            new = current.get(name)
            if new is None:
                problems.append(f"{event_type} v{version}: no current schema")
                continue
            problems += [f"{event_type} v{version}: {b}" for b in compare(old, new).breaking]
        elif version > newest:
            problems.append(f"{event_type} v{version} was published; the model is v{newest}")
        elif not catalog.reads(event_type, version):
            problems.append(
                f"{event_type} v{version} was published and {catalog.source}'s catalogue"
                f" has no upcaster from it to v{newest}"
            )
    return problems


def baseline_files(root: Path = ROOT, current: dict[str, Schema] | None = None) -> dict[Path, str]:
    """Baseline files to write: a version published for the first time, or one whose current
    schema adds optional fields to what was published (and breaks nothing of it)."""
    current = event_schemas() if current is None else current
    files = {}
    for name, schema in current.items():
        path = root / PUBLISHED / name
        if path.exists():
            comparison = compare(json.loads(path.read_text()), schema)
            if not comparison.compatible or not comparison.added:
                continue
        files[path] = _dump(schema)
    return files


def asyncapi() -> str:
    """The AsyncAPI 3.0 document: one channel per topic, one message per event type
    (:mod:`anju_devtools.asyncapi`)."""
    payloads = {schema["x-event-type"]: schema for schema in event_schemas().values()}
    return _dump(asyncapi_document.document(CATALOGS, payloads, opened=opened_schemas()))


def readme(root: Path = ROOT) -> str:
    """``README.md`` with its reference of every topic generated afresh
    (:mod:`anju_devtools.topics`); the services' manifests say who reads each topic."""
    payloads = {schema["x-event-type"]: schema for schema in event_schemas().values()}
    block = topics.reference(CATALOGS, manifest.load(root.parent), payloads)
    return topics.replace_block((root / "README.md").read_text(encoding="utf-8"), block)


def expected_files(root: Path = ROOT) -> dict[Path, str]:
    files = {root / "schemas" / name: text for name, text in json_schemas().items()}
    files[root / "asyncapi.json"] = asyncapi()
    files[root / "README.md"] = readme(root)
    return files


def stale_files(root: Path = ROOT) -> list[Path]:
    """Generated files that are missing or differ from what the models produce now, and
    baseline files that a new version or an added optional field calls for."""
    expected = expected_files(root)
    stale = [p for p, text in expected.items() if not p.exists() or p.read_text() != text]
    stale += [p for p in (root / "schemas").glob("*.json") if p not in expected]
    return stale + list(baseline_files(root))


def write(root: Path = ROOT) -> list[Path]:
    """Write every generated file and the baseline files due; remove schema files no model
    produces any more (never a baseline file: those events stay on the topics)."""
    expected = expected_files(root)
    (root / "schemas").mkdir(parents=True, exist_ok=True)
    (root / PUBLISHED).mkdir(parents=True, exist_ok=True)
    for path in (root / "schemas").glob("*.json"):
        if path not in expected:
            path.unlink()
    changed = []
    for path, text in (expected | baseline_files(root)).items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(path)
    return changed
