"""The AsyncAPI 3.0 document of every topic Anju publishes or receives, written as a plain dict.

What an integrator generates code from, so it says everything a consumer needs on the wire
(the CloudEvents Kafka binding in binary content mode, ``contracts/README.md``):

- one channel per topic (its address is the topic name) listing the messages on it, taken from
  the catalogues in :mod:`anju_contracts.catalogs`: a catalogue names its topic and whether Anju
  publishes it (an operation ``send``) or receives it from another system (``receive``);
- one message per event type, keyed ``<service>_<Event>`` (named and titled by the type), whose
  payload is the event's payload schema (the Kafka value), whose ``headers`` are the ``ce_``
  headers with ``ce_type`` and ``ce_dataversion`` fixed, with a Kafka binding for the key (the
  stream id) and an example (headers, payload and key) that validates against those schemas;
- the payload schemas under ``components/schemas``, their shared definitions (``AreaPath``,
  enums) beside them, nullable fields spelt ``type: [T, "null"]``;
- the servers: ``development`` (plaintext on localhost) and ``production`` (TLS with SASL).
"""

from __future__ import annotations

import copy
import re
import uuid
from collections.abc import Iterable
from typing import Any

from anju_contracts import Event
from anju_contracts.base import EventCatalog

Schema = dict[str, Any]

BINDING_VERSION = "0.5.0"
CONTENT_TYPE = "application/json"
SPECVERSION = "1.0"

_EXAMPLES = uuid.UUID("5d4c4d1e-8a41-4c69-9a43-6b2f3f0b8a11")
_DATE = "2026-11-27"
_TIME = "2026-11-27T08:30:00+08:00"
_COUNTER = {"type": "string", "pattern": "^[1-9][0-9]*$"}


def _component_key(event_type: str) -> str:
    """``registry.ResidentMoved`` → ``registry_ResidentMoved`` (component keys take no ``.``
    in every tool, and never a ``:``)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", event_type)


def _channel_key(topic: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", topic)


def _summary(model: type[Event]) -> str:
    return (model.__doc__ or "").strip().split("\n\n")[0].replace("\n", " ")


# ---------------------------------------------------------------------------------- headers


def _header_properties(catalog: EventCatalog, model: type[Event]) -> dict[str, Schema]:
    """The ``ce_`` headers of a message (the table in ``contracts/README.md``)."""
    source: Schema = {"type": "string", "description": "The service that published the event."}
    if not catalog.inbound:
        source["const"] = catalog.source
    return {
        "ce_specversion": {"type": "string", "const": SPECVERSION},
        "ce_id": {
            "type": "string",
            "format": "uuid",
            "description": "The event's id: de-duplicate by it.",
        },
        "ce_source": source,
        "ce_type": {"type": "string", "const": model.event_type},
        "ce_time": {
            "type": "string",
            "format": "date-time",
            "description": "Business time: when the fact happened (RFC 3339).",
        },
        "ce_subject": {
            "type": "string",
            "description": "The stream (aggregate) id; the same as the key.",
        },
        "content-type": {"type": "string", "const": CONTENT_TYPE},
        "ce_dataversion": {
            "type": "string",
            "const": str(model.event_version),
            "description": "The version of the payload schema.",
        },
        "ce_sequence": {
            **_COUNTER,
            "description": "The stream version this event made (1, 2, 3, ... without gaps).",
        },
        "ce_position": {
            **_COUNTER,
            "description": "The event's position in its source's event store.",
        },
        "ce_recordedtime": {
            "type": "string",
            "format": "date-time",
            "description": "When the source's store recorded the event; absent in old events.",
        },
        "ce_correlationid": {"type": "string", "description": "The request it belongs to."},
        "ce_causationid": {"type": "string", "description": "The event or command that caused it."},
        "ce_actorid": {"type": "string", "description": "Who caused it: a staff id or a service."},
        "ce_actorroles": {
            "type": "string",
            "description": "The actor's roles, comma-separated; absent when none.",
        },
        "ce_area": {
            "type": "string",
            "description": "The grid or community the fact belongs to; absent when none.",
        },
        "ce_dataschema": {
            "type": "string",
            "format": "uri",
            "description": "The payload schema's URI, when one is configured.",
        },
    }


PUBLISHED_HEADERS = (
    "ce_specversion",
    "ce_id",
    "ce_source",
    "ce_type",
    "ce_time",
    "ce_subject",
    "content-type",
    "ce_dataversion",
    "ce_sequence",
    "ce_position",
    "ce_correlationid",
    "ce_actorid",
)
"""The headers every message Anju publishes carries."""

RECEIVED_HEADERS = ("ce_specversion", "ce_id", "ce_source", "ce_type", "ce_dataversion")
"""The headers Anju needs on a message another system sends it."""


def headers_schema(catalog: EventCatalog, model: type[Event]) -> Schema:
    return {
        "type": "object",
        "description": "Kafka headers (UTF-8 strings): the CloudEvents attributes in binary mode.",
        "properties": _header_properties(catalog, model),
        "required": list(RECEIVED_HEADERS if catalog.inbound else PUBLISHED_HEADERS),
    }


# ---------------------------------------------------------------------------------- examples


class _Examples:
    """A deterministic instance of a JSON Schema: every field filled (optional ones too, so
    the example shows the whole shape), the same values on every run."""

    def __init__(self, root: Schema, seed: str) -> None:
        self.root = root
        self.seed = seed

    def value(self, node: Schema, path: str, depth: int = 0) -> Any:
        if "$ref" in node:
            name = node["$ref"].rsplit("/", 1)[-1]
            return self.value({**self.root["$defs"][name], **_without(node, "$ref")}, path, depth)
        if node.get("examples"):
            return node["examples"][0]
        if "const" in node:
            return node["const"]
        if isinstance(node.get("enum"), list):
            return next(v for v in node["enum"] if v is not None)
        declared = node.get("type")
        kind = (
            next((t for t in declared if t != "null"), "null")
            if isinstance(declared, list)
            else declared
        )
        if kind is None and "properties" in node:
            kind = "object"
        if kind == "object":
            properties: dict[str, Schema] = node.get("properties", {})
            required = set(node.get("required", []))
            return {
                name: self.value(schema, f"{path}.{name}", depth + 1)
                for name, schema in properties.items()
                if name in required or depth < 6
            }
        if kind == "array":
            count = max(1, int(node.get("minItems", 1)))
            items = node.get("items", {})
            return [self.value(items, f"{path}[{i}]", depth + 1) for i in range(count)]
        if kind == "string":
            return self.string(node, path)
        if kind in ("integer", "number"):
            low = node.get("minimum", node.get("exclusiveMinimum", 0) + 1)
            return int(low) if kind == "integer" else float(low)
        if kind == "boolean":
            return True
        if kind == "null":
            return None
        return {}

    def string(self, node: Schema, path: str) -> str:
        fmt = node.get("format")
        if fmt == "uuid":
            return self.uuid(path)
        if fmt == "date":
            return _DATE
        if fmt == "date-time":
            return _TIME
        if "pattern" in node:
            return from_pattern(node["pattern"])
        text = "example"
        low, high = int(node.get("minLength", 0)), int(node.get("maxLength", 1 << 16))
        return (text * (1 + low // len(text)))[: max(low, min(high, len(text)))]

    def uuid(self, path: str) -> str:
        """The same id for the same field name, so that one event's ids agree (``resident_id``
        in the payload and in the key)."""
        return str(uuid.uuid5(_EXAMPLES, f"{self.seed}/{path.rsplit('.', 1)[-1]}"))


def _without(node: Schema, *keys: str) -> Schema:
    return {k: v for k, v in node.items() if k not in keys}


_PATTERN_PART = re.compile(r"\\(.)|\[([^\]]+)\]|([^\\\[{])|\{(\d+)(?:,(\d*))?\}")


def from_pattern(pattern: str) -> str:
    """The shortest string matching an anchored ``pattern`` made of literals, character classes
    and ``{n}``/``{n,m}`` repeats (what the contracts use); ValueError for anything else."""
    body = pattern.removeprefix("^").removesuffix("$")
    out: list[str] = []
    last = ""
    at = 0
    for found in _PATTERN_PART.finditer(body):
        if found.start() != at:
            raise ValueError(f"cannot build an example of {pattern!r}: give the field examples=")
        at = found.end()
        escaped, klass, literal, times = found[1], found[2], found[3], found[4]
        if times is not None:
            out.append(last * (int(times) - 1))
            continue
        if literal is not None and literal in "()|*+?.":
            raise ValueError(f"cannot build an example of {pattern!r}: give the field examples=")
        last = escaped or (klass[0] if klass else literal)
        out.append(last)
    if at != len(body):
        raise ValueError(f"cannot build an example of {pattern!r}: give the field examples=")
    return "".join(out)


def example(catalog: EventCatalog, model: type[Event], payload: Schema) -> Schema:
    """A message of ``model`` as it travels: key, headers and payload."""
    values = _Examples(payload, model.event_type)
    data = values.value(payload, "")
    key = example_key(catalog, payload, data, values)
    headers = {
        "ce_specversion": SPECVERSION,
        "ce_id": values.uuid("event"),
        "ce_source": catalog.source,
        "ce_type": model.event_type,
        "ce_time": _TIME,
        "ce_subject": key,
        "content-type": CONTENT_TYPE,
        "ce_dataversion": str(model.event_version),
        "ce_sequence": "1",
        "ce_position": "1",
        "ce_recordedtime": _TIME,
        "ce_correlationid": values.uuid("correlation"),
        "ce_actorid": f"{catalog.source}-desk-1",
        "ce_actorroles": "admin",
        "ce_area": values.uuid("area"),
    }
    return {
        "name": f"{_component_key(model.event_type)}_example",
        "summary": f"A {model.event_type} v{model.event_version} (key {key})",
        "headers": headers,
        "payload": data,
    }


def example_key(catalog: EventCatalog, payload: Schema, data: Schema, values: _Examples) -> str:
    """An illustrative stream id: ``<name>-<uuid>`` after the event's first required id field
    (``resident_id`` → ``resident-...``); the real streams are listed in the README."""
    for name in payload.get("required", []):
        field = payload["properties"].get(name, {})
        if name.endswith("_id") and field.get("format") == "uuid":
            return f"{name.removesuffix('_id')}-{data[name]}"
    return f"{catalog.source}-{values.uuid('stream')}"


# ---------------------------------------------------------------------------------- document


def _hoist(schema: Schema, shared: dict[str, Schema], *, clashing: str | None = None) -> Schema:
    """``schema`` with its ``$defs`` moved into ``shared`` and its references pointing there.

    A definition named like a different one already shared is an error, unless ``clashing``
    is given: it is then shared under its name with that suffix (a nested model whose personal
    fields are in clear here and sealed elsewhere)."""
    schema = copy.deepcopy(schema)
    definitions: dict[str, Schema] = schema.pop("$defs", {})
    names = {name: name for name in definitions}
    if clashing is not None:
        for name, definition in definitions.items():
            if name in shared and shared[name] != _repoint(definition, names):
                names[name] = f"{name}{clashing}"
    for name, definition in definitions.items():
        definition = _repoint(definition, names)
        if shared.setdefault(names[name], definition) != definition:
            raise ValueError(f"two different schemas are both called {name}")
    schema.pop("$id", None)  # it would change the base that the references resolve against
    hoisted: Schema = _repoint(schema, names)
    return hoisted


def _repoint(node: Any, names: dict[str, str] | None = None) -> Any:
    if isinstance(node, list):
        return [_repoint(v, names) for v in node]
    if isinstance(node, dict):
        return {
            k: (_pointer(v, names) if k == "$ref" else _repoint(v, names)) for k, v in node.items()
        }
    return node


def _pointer(ref: str, names: dict[str, str] | None) -> str:
    if not ref.startswith("#/$defs/"):
        return ref
    name, slash, rest = ref.removeprefix("#/$defs/").partition("/")
    return f"#/components/schemas/{(names or {}).get(name, name)}{slash}{rest}"


SECURITY_SCHEMES: dict[str, Schema] = {
    "saslScramSha512": {
        "type": "scramSha512",
        "description": (
            "SASL/SCRAM-SHA-512 over TLS, what a managed cluster usually wants:"
            " KAFKA__SECURITY_PROTOCOL=SASL_SSL, KAFKA__SASL_MECHANISM=SCRAM-SHA-512,"
            " KAFKA__SASL_USERNAME and KAFKA__SASL_PASSWORD; KAFKA__SSL_CAFILE when the"
            " cluster's CA is not a public one (docs/operations.md)."
        ),
    },
    "saslScramSha256": {
        "type": "scramSha256",
        "description": "SASL/SCRAM-SHA-256 over TLS: as SCRAM-SHA-512, with that mechanism.",
    },
    "saslPlain": {
        "type": "plain",
        "description": (
            "SASL/PLAIN over TLS: KAFKA__SECURITY_PROTOCOL=SASL_SSL,"
            " KAFKA__SASL_MECHANISM=PLAIN (the password travels as is: only over TLS)."
        ),
    },
}


def servers() -> dict[str, Schema]:
    return {
        "development": {
            "host": "localhost:9092",
            "protocol": "kafka",
            "title": "Development",
            "description": (
                "The dev broker of `make run` and the compose stack: plaintext, no"
                " authentication (compose publishes Kafka on 127.0.0.1:9094)."
            ),
        },
        "production": {
            "host": "{bootstrap}",
            "protocol": "kafka-secure",
            "title": "Production",
            "description": (
                "A managed Kafka cluster over TLS with SASL (one of the security schemes);"
                " Anju's services name it in KAFKA__BOOTSTRAP."
            ),
            "variables": {
                "bootstrap": {
                    "description": "The cluster's bootstrap servers, host:port.",
                    "examples": ["kafka-1.example.internal:9096"],
                }
            },
            "security": [
                {"$ref": f"#/components/securitySchemes/{name}"} for name in SECURITY_SCHEMES
            ],
        },
    }


def document(
    catalogs: Iterable[EventCatalog],
    payloads: dict[str, Schema],
    *,
    opened: dict[str, Schema] | None = None,
    version: str = "1.0.0",
) -> Schema:
    """The AsyncAPI 3.0 document; ``payloads`` maps an event type to its payload schema (its
    personal fields sealed, for what Anju publishes), ``opened`` an event type carried on another
    system's topic (a catalogue's ``also``) to its payload schema there: the relay opens the
    personal fields for that topic (docs/personal-data.md, "Exceptions"), so that channel gets a
    message of its own, ``<service>_<Event>_opened``, whose payload has them in clear."""
    opened = opened or {}
    channels: dict[str, Schema] = {}
    operations: dict[str, Schema] = {}
    messages: dict[str, Schema] = {}
    schemas: dict[str, Schema] = {}
    shared: dict[str, Schema] = {}

    def channel(topic: str, description: str, inbound: bool) -> tuple[Schema, Schema]:
        """The channel of ``topic`` and the operation Anju does on it (made on first use)."""
        key = _channel_key(topic)
        made = channels.setdefault(
            key,
            {
                "address": topic,
                "title": topic,
                "description": description,
                "messages": {},
                "bindings": {"kafka": {"topic": topic, "bindingVersion": BINDING_VERSION}},
            },
        )
        action = "receive" if inbound else "send"
        operation = operations.setdefault(
            f"{key}_{action}",
            {
                "action": action,
                "channel": {"$ref": f"#/channels/{key}"},
                "title": f"{'Receive' if inbound else 'Publish'} {topic}",
                "messages": [],
            },
        )
        return made, operation

    def carry(topic: str, description: str, inbound: bool, key: str) -> None:
        made, operation = channel(topic, description, inbound)
        made["messages"][key] = {"$ref": f"#/components/messages/{key}"}
        operation["messages"].append({"$ref": f"#/channels/{_channel_key(topic)}/messages/{key}"})

    for catalog in catalogs:
        channel(catalog.topic, _channel_description(catalog), catalog.inbound)
        for model in catalog.models:
            key = _component_key(model.event_type)
            payload = payloads[model.event_type]
            schemas[key] = _hoist(payload, shared)
            messages[key] = _message(catalog, model, key, payload)
            carry(catalog.topic, _channel_description(catalog), catalog.inbound, key)
            also = catalog.also.get(model.event_type)
            if also is None:
                continue
            clear = opened.get(model.event_type)
            if clear is not None:  # the relay opens its personal fields for that topic
                key = f"{key}{OPENED}"
                schemas[key] = _hoist(clear, shared, clashing=OPENED)
                messages[key] = _message(catalog, model, key, clear, opened_on=also)
            carry(also, f"Anju's {catalog.source} service answers another system here.", False, key)
    clash = shared.keys() & schemas.keys()
    if clash:
        raise ValueError(f"a payload and a shared definition are both called {sorted(clash)}")
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Anju events",
            "version": version,
            "description": (
                "Every topic Anju publishes or receives. Messages follow the CloudEvents Kafka"
                " protocol binding in binary content mode: the value is the event's payload"
                " (JSON), the CloudEvents attributes are `ce_` headers, the key is the stream"
                " id. Readers are tolerant: ignore fields and headers you do not know."
                " contracts/README.md tells the rules of versions and how to generate code."
            ),
        },
        "defaultContentType": CONTENT_TYPE,
        "servers": servers(),
        "channels": channels,
        "operations": operations,
        "components": {
            "schemas": {**dict(sorted(shared.items())), **schemas},
            "messages": messages,
            "securitySchemes": SECURITY_SCHEMES,
        },
    }


OPENED = "_opened"
"""The suffix of the message (and payload schema) of an event on another system's topic, where
the relay opens its personal fields."""


def _message(
    catalog: EventCatalog,
    model: type[Event],
    key: str,
    payload: Schema,
    *,
    opened_on: str | None = None,
) -> Schema:
    description = (model.__doc__ or "").strip()
    title = model.event_type
    if opened_on is not None:
        title = f"{model.event_type} (personal fields in clear)"
        description += (
            f"\n\nOn `{opened_on}` its personal fields travel in clear: Anju's relay opens them"
            " for that topic only, whose reader is their rightful recipient. The same message"
            f" on `{catalog.topic}` has them sealed."
        )
    found = example(catalog, model, payload)
    found["name"] = f"{key}_example"
    return {
        "name": model.event_type,
        "title": title,
        "summary": _summary(model),
        "description": description,
        "contentType": CONTENT_TYPE,
        "headers": headers_schema(catalog, model),
        "payload": {"$ref": f"#/components/schemas/{key}"},
        "correlationId": {
            "description": "The request the event belongs to.",
            "location": "$message.header#/ce_correlationid",
        },
        "bindings": {
            "kafka": {
                "key": {
                    "type": "string",
                    "description": (
                        "The stream (aggregate) id, UTF-8: all events of one stream are"
                        " on one partition, in order."
                    ),
                },
                "bindingVersion": BINDING_VERSION,
            }
        },
        "examples": [found],
        "x-event-type": model.event_type,
        "x-event-version": model.event_version,
    }


def _channel_description(catalog: EventCatalog) -> str:
    if catalog.inbound:
        return f"Events another system ({catalog.source}) sends to Anju, keyed by its record's id."
    return f"Events published by Anju's {catalog.source} service, keyed by stream id."
