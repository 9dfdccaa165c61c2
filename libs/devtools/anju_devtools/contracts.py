"""Generate the published contracts: JSON Schema per event and one AsyncAPI document.

The pydantic models in ``contracts/anju_contracts`` are the source; the files under
``contracts/schemas/`` and ``contracts/asyncapi.json`` are generated from them, committed, and
checked by a test so that they never drift. ``anju contracts`` regenerates them.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.specification import AsyncAPI

from anju_contracts import Envelope
from anju_contracts.catalogs import CATALOGS
from anju_contracts.envelopes import typed_envelopes
from eventkit.settings import topic_for

ROOT = Path(__file__).resolve().parents[3] / "contracts"


def _dump(document: Any) -> str:
    return json.dumps(document, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def json_schemas() -> dict[str, str]:
    """File name → content, for the envelope and every event's newest version."""
    files = {"envelope.json": _dump(Envelope.model_json_schema())}
    for catalog in CATALOGS:
        for model in catalog.models:
            schema = model.model_json_schema()
            schema["$id"] = f"{model.event_type}.v{model.event_version}"
            schema["x-event-type"] = model.event_type
            schema["x-event-version"] = model.event_version
            schema["x-topic"] = topic_for(catalog.source)
            files[f"{model.event_type}.v{model.event_version}.json"] = _dump(schema)
    return files


def asyncapi() -> str:
    """The AsyncAPI 3.0 document: one channel per event type on its service's topic."""
    broker = KafkaBroker("localhost:9092")
    for catalog in CATALOGS:
        for envelope in typed_envelopes(catalog):
            broker.publisher(
                topic_for(catalog.source),
                schema=envelope,
                title=envelope.__name__,
                description=(envelope.__doc__ or "").strip(),
            )
    spec = AsyncAPI(
        broker,
        title="Anju events",
        version="1.0.0",
        description=(
            "Events published by Anju's services. Each service publishes to `<service>.events`;"
            " the message key is the stream (aggregate) id, so the events of one stream arrive"
            " in order; headers `id`, `type`, `version` and `correlation_id` repeat envelope"
            " fields so a consumer can route without parsing."
        ),
    ).to_specification()
    return _dump(json.loads(spec.to_json()))


def expected_files() -> dict[Path, str]:
    files = {ROOT / "schemas" / name: text for name, text in json_schemas().items()}
    files[ROOT / "asyncapi.json"] = asyncapi()
    return files


def stale_files() -> list[Path]:
    """Generated files that are missing or differ from what the models produce now."""
    stale = [p for p, text in expected_files().items() if not p.exists() or p.read_text() != text]
    known = set(expected_files())
    stale += [p for p in (ROOT / "schemas").glob("*.json") if p not in known]
    return stale


def write() -> list[Path]:
    """Write every generated file; remove schema files no model produces any more."""
    expected = expected_files()
    (ROOT / "schemas").mkdir(parents=True, exist_ok=True)
    for path in (ROOT / "schemas").glob("*.json"):
        if path not in expected:
            path.unlink()
    changed = []
    for path, text in expected.items():
        if not path.exists() or path.read_text() != text:
            path.write_text(text)
            changed.append(path)
    return changed
