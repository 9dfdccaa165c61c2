"""The AsyncAPI document an integrator generates code from, and the schemas it is made of."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Annotated, Any, ClassVar

import jsonschema
import pytest

from anju_contracts import Event, EventCatalog
from anju_contracts.base import Personal, TolerantReader, sealed_upcasters
from anju_contracts.catalogs import CATALOGS
from anju_contracts.compatibility import compare
from anju_contracts.registry import ResidentDetailsCorrected
from anju_contracts.schema import sealed_personal_fields
from anju_devtools import asyncapi, contracts

DOCUMENT: dict[str, Any] = json.loads((contracts.ROOT / "asyncapi.json").read_text())
MESSAGES: dict[str, Any] = DOCUMENT["components"]["messages"]
KEY = re.compile(r"^[A-Za-z0-9_]+$")


def nodes(node: Any) -> Iterator[dict[str, Any]]:
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from nodes(value)


def resolve(ref: str) -> Any:
    assert ref.startswith("#/"), ref
    target: Any = DOCUMENT
    for part in ref[2:].split("/"):
        target = target[part]
    return target


def validator(schema: dict[str, Any]) -> jsonschema.Draft202012Validator:
    """A validator for ``schema`` whose references resolve inside the AsyncAPI document."""
    return jsonschema.Draft202012Validator(
        {**schema, "components": DOCUMENT["components"]},
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


def test_one_channel_per_topic_lists_the_messages_of_its_catalogues() -> None:
    channels = {c["address"]: c for c in DOCUMENT["channels"].values()}
    also = {topic for c in CATALOGS for topic in c.also.values()}
    assert set(channels) == {c.topic for c in CATALOGS} | also
    for catalog in CATALOGS:
        channel = channels[catalog.topic]
        assert channel["bindings"]["kafka"]["topic"] == catalog.topic
        names = {resolve(m["$ref"])["name"] for m in channel["messages"].values()}
        assert names == {m.event_type for m in catalog.models}
        for event_type, topic in catalog.also.items():  # also on another system's topic
            names = {resolve(m["$ref"])["name"] for m in channels[topic]["messages"].values()}
            assert event_type in names
    # a message of its own on another system's topic (its personal fields opened there)
    assert sum(len(c["messages"]) for c in channels.values()) == len(MESSAGES)
    assert channels["outbound.hotline12345.replies"]["messages"]  # the 12345 replies


def test_anju_sends_to_the_topics_it_publishes() -> None:
    for key, operation in DOCUMENT["operations"].items():
        channel = resolve(operation["channel"]["$ref"])
        inbound = {c.inbound for c in CATALOGS if c.topic == channel["address"]}
        assert operation["action"] == ("receive" if inbound == {True} else "send"), key
        channel_key = operation["channel"]["$ref"].rsplit("/", 1)[-1]
        for message in operation["messages"]:  # a channel's own messages, as 3.0 requires
            assert message["$ref"].startswith(f"#/channels/{channel_key}/messages/")
            resolve(message["$ref"])
    published = {c.topic for c in CATALOGS if not c.inbound}
    sent = {resolve(o["channel"]["$ref"])["address"] for o in DOCUMENT["operations"].values()}
    assert published <= sent


def test_messages_are_named_by_their_type_with_plain_keys() -> None:
    for section in ("schemas", "messages", "securitySchemes"):
        assert all(KEY.match(k) for k in DOCUMENT["components"][section]), section
    assert all(KEY.match(k) for k in DOCUMENT["channels"])
    assert all(KEY.match(k) for k in DOCUMENT["operations"])
    models = {m.event_type: m for c in CATALOGS for m in c.models}
    for key, message in MESSAGES.items():
        model = models[message["name"]]
        assert message["title"].removesuffix(" (personal fields in clear)") == model.event_type
        assert key.removesuffix(asyncapi.OPENED) == model.event_type.replace(".", "_")
        assert message["payload"] == {"$ref": f"#/components/schemas/{key}"}
        headers = message["headers"]["properties"]
        assert headers["ce_type"]["const"] == model.event_type
        assert headers["ce_dataversion"]["const"] == str(model.event_version)
        assert {"ce_specversion", "ce_id", "ce_source", "ce_type"} <= set(
            message["headers"]["required"]
        )
        kafka = message["bindings"]["kafka"]
        assert kafka["key"]["type"] == "string"
        assert kafka["bindingVersion"] == asyncapi.BINDING_VERSION


def test_every_reference_resolves_inside_the_document() -> None:
    for node in nodes(DOCUMENT):
        if isinstance(node.get("$ref"), str):
            resolve(node["$ref"])


def as_erased(node: Any) -> Any:
    """``node`` with each sealed value as it reads once its key is destroyed."""
    if isinstance(node, dict):
        return {k: as_erased(v) for k, v in node.items()}
    if isinstance(node, list):
        return [as_erased(v) for v in node]
    if isinstance(node, str) and node.startswith("pd1:"):
        return "[已删除]" if node.startswith("pd1:t:") else None
    return node


def test_every_example_validates_and_is_read_by_the_contracts() -> None:
    catalogs = {m.event_type: c for c in CATALOGS for m in c.models}
    for key, message in MESSAGES.items():
        assert message["examples"], key
        headers = validator(message["headers"])
        payload = validator(message["payload"])
        for sample in message["examples"]:
            headers.validate(sample["headers"])
            payload.validate(sample["payload"])
            # the same payload against the published schema file and the pydantic model
            model = catalogs[message["name"]].model(message["name"])
            path = contracts.ROOT / "schemas" / f"{model.event_type}.v{model.event_version}.json"
            if key.endswith(asyncapi.OPENED):  # in clear: the model's own schema
                jsonschema.validate(sample["payload"], model.model_json_schema())
            else:
                jsonschema.validate(sample["payload"], json.loads(path.read_text()))
            # a reader whose keys are gone reads each sealed value as erased: still valid
            catalogs[message["name"]].decode(
                model.event_type, model.event_version, as_erased(sample["payload"])
            )
            assert sample["headers"]["ce_subject"] in message["examples"][0]["summary"]


def test_servers_and_their_security() -> None:
    servers = DOCUMENT["servers"]
    assert servers["development"]["host"] == "localhost:9092"
    assert servers["development"]["protocol"] == "kafka"
    assert "security" not in servers["development"]
    production = servers["production"]
    assert production["protocol"] == "kafka-secure"  # TLS
    schemes = {resolve(s["$ref"])["type"] for s in production["security"]}
    assert {"scramSha512", "plain"} <= schemes


def test_nullable_fields_are_a_type_list_never_a_union_with_null() -> None:
    documents = [DOCUMENT] + [
        json.loads(p.read_text()) for p in (contracts.ROOT / "schemas").glob("*.json")
    ]
    for document in documents:
        for node in nodes(document):
            for key in ("anyOf", "oneOf"):
                assert {"type": "null"} not in node.get(key, []), node
    schema = ResidentDetailsCorrected.model_json_schema()
    sex = schema["properties"]["sex"]  # an enum by reference, made nullable
    assert sex["type"] == ["string", "null"]
    assert None in sex["enum"]
    jsonschema.validate({"resident_id": _UUID, "reason": "typo", "sex": None}, schema)
    jsonschema.validate({"resident_id": _UUID, "reason": "typo", "phone": None}, schema)
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate({"resident_id": _UUID, "reason": "typo", "sex": "other"}, schema)


_UUID = "0b7e8a64-1f1e-4a57-8d43-2f3cbd4dd0b4"


def test_both_spellings_of_a_nullable_field_are_the_same_contract() -> None:
    union = {
        "$defs": {"Sex": {"enum": ["female", "male"], "type": "string"}},
        "properties": {
            "sex": {"anyOf": [{"$ref": "#/$defs/Sex"}, {"type": "null"}], "default": None},
            "phone": {"anyOf": [{"type": "string"}, {"type": "null"}], "default": None},
        },
        "type": "object",
    }
    listed: dict[str, Any] = {
        "properties": {
            "sex": {"enum": ["female", "male", None], "type": ["string", "null"], "default": None},
            "phone": {"type": ["string", "null"], "default": None},
        },
        "type": "object",
    }
    assert compare(union, listed).breaking == [] == compare(listed, union).breaking
    made_required = {**listed, "properties": {**listed["properties"], "phone": {"type": "string"}}}
    assert "phone: may no longer be null" in compare(union, made_required).breaking


class WorkOrderSubmitted(Event):
    """A work order another system sends (a stand-in for an inbound contract)."""

    event_type: ClassVar[str] = "hotline.WorkOrderSubmitted"
    order_id: str
    deadline: str


class ReplySent(Event):
    """What Anju answers it with."""

    event_type: ClassVar[str] = "hotline.ReplySent"
    order_id: str


def test_a_catalogue_declares_its_topic_and_whether_anju_receives_it() -> None:
    received = EventCatalog(
        "hotline", [WorkOrderSubmitted], topic="inbound.hotline.orders", inbound=True
    )
    answered = EventCatalog("hotline", [ReplySent], topic="outbound.hotline.replies")
    payloads = {m.event_type: m.model_json_schema() for m in (WorkOrderSubmitted, ReplySent)}
    document = asyncapi.document([received, answered], payloads)
    assert {c["address"] for c in document["channels"].values()} == {
        "inbound.hotline.orders",
        "outbound.hotline.replies",
    }
    actions = {o["channel"]["$ref"]: o["action"] for o in document["operations"].values()}
    assert actions == {
        "#/channels/inbound_hotline_orders": "receive",
        "#/channels/outbound_hotline_replies": "send",
    }
    headers = document["components"]["messages"]["hotline_WorkOrderSubmitted"]["headers"]
    assert "const" not in headers["properties"]["ce_source"]  # another system names itself
    assert "ce_sequence" not in headers["required"]
    assert EventCatalog("registry", []).topic == "registry.events"


@pytest.mark.parametrize(
    "pattern",
    [
        "^[0-9]{17}[0-9X]$",
        "^[a-z][a-z0-9_]{1,49}$",
        "^ANJU-R-[0-9]{4}-[0-9A-F]{8}$",
        "^[0-9]{4}-[0-9]{2}$",
    ],
)
def test_examples_match_the_patterns_of_the_contracts(pattern: str) -> None:
    assert re.fullmatch(pattern, asyncapi.from_pattern(pattern))


def test_a_pattern_the_example_builder_cannot_follow_says_so() -> None:
    with pytest.raises(ValueError, match="examples="):
        asyncapi.from_pattern("^(a|b)+$")


def channel_messages(topic: str) -> dict[str, Any]:
    [channel] = [c for c in DOCUMENT["channels"].values() if c["address"] == topic]
    return {k: resolve(m["$ref"]) for k, m in channel["messages"].items()}


def test_the_answer_to_the_12345_platform_is_in_clear_on_its_topic_and_sealed_on_ours() -> None:
    from anju_contracts.integration import WorkOrderAnswered

    [(key, replies)] = channel_messages("outbound.hotline12345.replies").items()
    assert key == f"integration_WorkOrderAnswered{asyncapi.OPENED}"
    assert replies["name"] == "integration.WorkOrderAnswered"
    ours = channel_messages("integration.events")["integration_WorkOrderAnswered"]
    clear = resolve(replies["payload"]["$ref"])["properties"]["text"]
    sealed = resolve(ours["payload"]["$ref"])["properties"]["text"]
    assert "pattern" not in clear
    assert clear["x-personal-data"] is True
    assert sealed["pattern"].startswith("^pd1:")
    assert "outbound.hotline12345.replies" in replies["description"]
    # the relay's message on that topic (the text opened) is what its schema accepts
    answer = json.loads(
        WorkOrderAnswered.model_validate(
            {**replies["examples"][0]["payload"], "text": "已处理，感谢来电"}
        ).model_dump_json()
    )
    validator(replies["payload"]).validate(answer)
    with pytest.raises(jsonschema.ValidationError):
        validator(ours["payload"]).validate(answer)
    assert replies["examples"][0]["payload"]["text"] == "example"  # no sealed value here
    assert ours["examples"][0]["payload"]["text"].startswith("pd1:t:")


class Caller(TolerantReader):
    name: Annotated[str, Personal]


class CallBack(Event):
    """An answer naming the caller (a stand-in with a nested personal model)."""

    event_type: ClassVar[str] = "hotline.CallBack"
    event_version: ClassVar[int] = 2
    order_id: str
    caller: Caller


def test_a_nested_model_sealed_on_one_topic_and_clear_on_another_gets_two_definitions() -> None:
    catalog = EventCatalog(
        "hotline",
        [CallBack],
        upcasters=sealed_upcasters([CallBack]),
        also={CallBack: "outbound.hotline.callbacks"},
    )
    clear = CallBack.model_json_schema()
    document = asyncapi.document(
        [catalog],
        {"hotline.CallBack": sealed_personal_fields(clear)},
        opened={"hotline.CallBack": clear},
    )
    schemas = document["components"]["schemas"]
    assert schemas["Caller"]["properties"]["name"]["pattern"].startswith("^pd1:")
    assert "pattern" not in schemas["Caller_opened"]["properties"]["name"]
    caller = schemas[f"hotline_CallBack{asyncapi.OPENED}"]["properties"]["caller"]
    assert caller == {"$ref": "#/components/schemas/Caller_opened"}
    assert schemas["hotline_CallBack"]["properties"]["caller"] == {
        "$ref": "#/components/schemas/Caller"
    }
