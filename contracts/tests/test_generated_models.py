"""Models generated from the AsyncAPI document by a real generator decode real messages.

What an integrator does (contracts/README.md, "Generating code"): take the payload schemas out
of ``asyncapi.json``, run ``datamodel-codegen`` on them, and decode a message's value with the
class its ``ce_type`` header names. The messages here are published to a real broker by the
kernel's relay from a registry event store, nullable fields both set and null.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
import uuid
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import asyncpg
import pytest
from pydantic import BaseModel, SecretStr

from anju_contracts import Actor, Event
from anju_contracts.registry import (
    CATALOG,
    AreaCreated,
    AreaKind,
    AreaPath,
    ResidentDetailsCorrected,
    ResidentRegistered,
    Sex,
)
from anju_devtools import contracts
from eventkit.keys import MemoryKeyStore
from eventkit.personal import FieldCipher
from eventkit.relay import Relay
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore
from eventkit.testing.relay import publish_everything, read_topic

GENERATOR = Path(sys.executable).parent / "datamodel-codegen"


def payload_schemas(document: dict[str, Any]) -> dict[str, Any]:
    """The document's payload schemas as an OpenAPI 3.1 file (what the generator reads as is:
    the references ``#/components/schemas/...`` resolve in it unchanged)."""
    return {
        "openapi": "3.1.0",
        "info": {"title": "Anju event payloads", "version": document["info"]["version"]},
        "paths": {},
        "components": {"schemas": document["components"]["schemas"]},
    }


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> ModuleType:
    where = tmp_path_factory.mktemp("generated")
    document = json.loads((contracts.ROOT / "asyncapi.json").read_text())
    source = where / "payloads.json"
    source.write_text(json.dumps(payload_schemas(document)))
    output = where / "anju_events.py"
    subprocess.run(
        [
            str(GENERATOR),
            "--input",
            str(source),
            "--input-file-type",
            "openapi",
            "--output",
            str(output),
            "--output-model-type",
            "pydantic_v2.BaseModel",
            "--target-python-version",
            "3.11",
            "--formatters",
            "builtin",
        ],
        check=True,
        capture_output=True,
    )
    spec = importlib.util.spec_from_file_location("anju_events_generated", output)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic resolves the module's forward references
    spec.loader.exec_module(module)
    return module


def generated_class(module: ModuleType, event_type: str) -> type[BaseModel]:
    """The class generated for ``event_type``'s payload: its component key
    (``registry_ResidentMoved``) in the generator's CamelCase."""
    name = "".join(part[:1].upper() + part[1:] for part in event_type.replace(".", "_").split("_"))
    model: type[BaseModel] = getattr(module, name)
    return model


def test_a_class_is_generated_for_every_payload(generated: ModuleType) -> None:
    document = json.loads((contracts.ROOT / "asyncapi.json").read_text())
    for message in document["components"]["messages"].values():
        assert issubclass(generated_class(generated, message["name"]), BaseModel)


async def test_generated_models_decode_what_the_relay_publishes(
    generated: ModuleType, database_url: str, kafka_bootstrap: str
) -> None:
    community, grid, resident = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    area = AreaCreated(
        area_id=community,
        kind=AreaKind.COMMUNITY,
        name="安居",
        parent_id=None,
        path=AreaPath(community_id=community),
    )
    path = AreaPath(community_id=community, grid_id=grid)
    registered = ResidentRegistered(
        resident_id=resident,
        name="王秀英",
        sex=Sex.FEMALE,
        date_of_birth=date(1948, 3, 2),
        id_number="11010519480302002X",
        phone=None,
        path=path,
    )
    corrected = ResidentDetailsCorrected(
        resident_id=resident, phone="13800000000", sex=None, reason="电话登记有误"
    )
    published: list[Event] = [area, registered, corrected]

    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    await migrate(pool)
    cipher = FieldCipher(MemoryKeyStore())
    store = EventStore(pool, CATALOG, cipher=cipher)
    settings = ServiceSettings(
        service="registry",
        database_url=database_url,
        jwt_secret=SecretStr("x" * 32),
        kafka=KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"g{uuid.uuid4().hex[:10]}."),
    )
    relay = Relay(store, settings)
    await relay.start()
    try:
        context = Context(actor=Actor(id="desk-1", roles=("desk_staff",)))
        await store.append(f"area-{community}", 0, [area], context=context, area=str(community))
        await store.append(
            f"resident-{resident}", 0, [registered, corrected], context=context, area=str(grid)
        )
        assert await publish_everything(relay) == len(published)
        records = await read_topic(kafka_bootstrap, relay.topic)
    finally:
        await relay.close()
        await pool.close()

    assert len(records) == len(published)
    for record, event in zip(records_in_append_order(records), published, strict=True):
        headers = {k: v.decode() for k, v in record.headers}
        # binary content mode: the value is the payload, the attributes are ce_ headers
        assert headers["ce_specversion"] == "1.0"
        assert headers["ce_type"] == event.event_type
        assert headers["ce_dataversion"] == str(event.event_version)
        assert record.key.decode() == headers["ce_subject"]
        decoded = generated_class(generated, headers["ce_type"]).model_validate_json(record.value)
        # personal fields travel sealed: the generated model reads them as the sealed strings
        # its schema describes, and a holder of the keys opens them
        assert "王秀英".encode() not in record.value
        opened = await cipher.open(
            decoded.model_dump(mode="json"), event_id=uuid.UUID(headers["ce_id"])
        )
        assert opened == event.model_dump(mode="json")


def records_in_append_order(records: list[Any]) -> list[Any]:
    """The area's stream and the resident's may sit on different partitions: order the records
    as they were appended (their ``ce_position``)."""
    return sorted(records, key=lambda r: int(dict(r.headers)["ce_position"]))
