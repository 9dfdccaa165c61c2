"""Nothing personal in clear after ``anju demo`` (issue 16, "done when"; docs/personal-data.md).

Every service runs its real lifespan, sealing with the session's key store, on a database of its
own and one topic prefix of the session's broker, served on a port of 127.0.0.1; ``anju demo``'s
loader (:func:`anju_devtools.demo.load`) loads the demo through their HTTP APIs, the history's
back-dated ledgers included, as ``anju demo`` does, and the 12345 platform sends a work order
whose caller is placed by a desk clerk and answered when the dispute it became is resolved.

Then every message of every topic of the stack is read raw (a plain consumer, no keys: as any
system on the broker would) and every row of every service's event store, and neither may hold
an identity number, a mobile number, nor any name, phone or contact the demo sent, in keys,
headers or values. The exceptions are those of docs/personal-data.md, checked for what they
carry: the inbound topic holds the 12345 platform's own message (its caller in clear), and the
reply on ``outbound.hotline12345.replies`` is opened for the platform.

Who counts as a person: every value the demo's requests (recorded as the services receive them)
send as a phone, a contact or an identity number, and every string shaped like the demo's names
(a surname of :data:`~anju_devtools.demo.SURNAMES` and one or two characters of
:data:`~anju_devtools.demo.GIVEN`): residents, household members, dispute parties, volunteers,
liaisons, visitors of the desk.
"""

from __future__ import annotations

import asyncio
import json
import re
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator, MutableMapping
from contextlib import AsyncExitStack, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from fastapi import FastAPI
from pydantic import SecretStr

from anju_contracts.cloudevents import JSON_CONTENT, CloudEvent, read_binary, write_binary
from anju_devtools.demo import GIVEN, SURNAMES, load
from anju_governance.entrypoints.app import create_app as create_governance
from anju_governance.settings import GovernanceSettings
from anju_health.entrypoints.app import create_app as create_health
from anju_health.settings import HealthSettings
from anju_integration.entrypoints.app import create_app as create_integration
from anju_integration.settings import IntegrationSettings
from anju_mediation.entrypoints.app import create_app as create_mediation
from anju_mediation.settings import MediationSettings
from anju_query.entrypoints.app import create_app as create_query
from anju_query.settings import QuerySettings
from anju_registry.entrypoints.app import create_app as create_registry
from anju_registry.settings import RegistrySettings
from anju_station.entrypoints.app import create_app as create_station
from anju_station.settings import StationSettings
from anju_volunteering.entrypoints.app import create_app as create_volunteering
from anju_volunteering.settings import VolunteeringSettings
from eventkit.auth import Role, issue_token
from eventkit.runtime import Runtime
from eventkit.settings import KafkaSettings
from eventkit.testing.finding import (
    ID_NUMBER,
    PHONE,
    Found,
    find_in_databases,
    find_in_text,
)
from eventkit.testing.infra import databases, free_port
from eventkit.testing.relay import on_the_wire, read_topic
from eventkit.testing.service import listening

SECRET = "demo-sealed-tests-secret-0123456789-0123456789"
RESIDENTS = 40
WAIT_S = 60.0
NAME = re.compile(f"[{SURNAMES}][{GIVEN}]{{1,2}}")
"""The demo's names: a surname and one or two given characters."""
PERSONAL_KEYS = {"phone", "contact", "id_number"}
"""Request fields whose every value is a person's (whatever its shape)."""
PATTERNS = (ID_NUMBER, PHONE)
SERVICES = ("registry", "mediation", "health", "volunteering", "station", "governance")
ORDER_ID = "D2026-0001"
CALLER = {"name": "钱桂兰", "phone": "13912345678"}
"""The 12345 caller: a name and a number the demo never uses."""
EVENTS_TOPICS = {f"{source}.events" for source in (*SERVICES, "integration")}


Asgi = Callable[..., Awaitable[None]]


@dataclass
class Recorder:
    """ASGI middleware keeping the JSON body of every request the service receives."""

    app: Asgi
    bodies: list[Any]

    async def __call__(
        self,
        scope: MutableMapping[str, Any],
        receive: Callable[[], Awaitable[MutableMapping[str, Any]]],
        send: Callable[[MutableMapping[str, Any]], Awaitable[None]],
    ) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []

        async def receiving() -> MutableMapping[str, Any]:
            message = await receive()
            if message["type"] == "http.request":
                chunks.append(message.get("body", b""))
            return message

        await self.app(scope, receiving, send)
        with suppress(ValueError):
            self.bodies.append(json.loads(b"".join(chunks)))


def people_in(node: Any, key: str = "") -> Iterator[str]:
    """The persons' values in a request body: phones, contacts and identity numbers, and every
    string shaped like the demo's names."""
    if isinstance(node, dict):
        for name, value in node.items():
            yield from people_in(value, name)
    elif isinstance(node, list):
        for value in node:
            yield from people_in(value, key)
    elif isinstance(node, str) and (key in PERSONAL_KEYS or NAME.fullmatch(node)):
        yield node


@dataclass
class Stack:
    urls: dict[str, str]
    runtimes: dict[str, Runtime]
    databases: list[str]
    kafka: KafkaSettings
    bodies: list[Any] = field(default_factory=list)

    def people(self) -> set[str]:
        return {value for body in self.bodies for value in people_in(body)}


def bearer(sub: str, roles: list[str], areas: list[str] | None = None) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, roles, areas or [])}"}


@pytest_asyncio.fixture
async def stack(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[Stack]:
    kafka = KafkaSettings(
        bootstrap=kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:10]}.", fetch_max_wait_ms=200
    )
    common: dict[str, Any] = {
        "jwt_secret": SecretStr(SECRET),
        "kafka": kafka,
        "relay_idle_poll_s": 0.1,
        # eight services on the one PostgreSQL server the whole test session shares
        "db_pool_max": 5,
        "scheduler_poll_s": 1.0,
    }
    names = (*SERVICES, "integration", "query")
    ports = {name: free_port() for name in names}
    base = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    async with databases(pg_server_url, *names) as urls, AsyncExitStack() as running:
        db = dict(zip(names, urls, strict=True))
        apps: dict[str, FastAPI] = {
            "registry": create_registry(RegistrySettings(database_url=db["registry"], **common)),
            "mediation": create_mediation(MediationSettings(database_url=db["mediation"], **common)),
            "health": create_health(HealthSettings(database_url=db["health"], **common)),
            "volunteering": create_volunteering(
                VolunteeringSettings(database_url=db["volunteering"], **common)
            ),
            "station": create_station(StationSettings(database_url=db["station"], **common)),
            "governance": create_governance(
                GovernanceSettings(database_url=db["governance"], **common)
            ),
            "integration": create_integration(
                IntegrationSettings(
                    database_url=db["integration"],
                    mediation_url=base["mediation"],
                    registry_url=base["registry"],
                    inbound_backoff_s=0.05,
                    **common,
                )
            ),
            "query": create_query(
                QuerySettings(
                    database_url=db["query"],
                    jwt_secret=SecretStr(SECRET),
                    kafka=kafka,
                    db_pool_max=5,
                )
            ),
        }  # fmt: skip
        found = Stack({}, {}, [db[name] for name in (*SERVICES, "integration")], kafka)
        for name, app in apps.items():
            app.add_middleware(Recorder, bodies=found.bodies)
            found.urls[name] = await running.enter_async_context(
                listening(app, ports[name], keep_alive_s=600)
            )
            found.runtimes[name] = app.state.runtime
        yield found


async def send_order(kafka: KafkaSettings) -> None:
    """The 12345 platform dispatches a work order whose address names no area Anju knows."""
    order = {
        "order_id": ORDER_ID,
        "category": "noise",
        "address": "城南某路 17 号",
        "caller": CALLER,
        "text": "楼上每晚装修噪音到十一点",
        "dispatched_at": datetime.now(UTC).isoformat(),
        "deadline": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
    }
    event = CloudEvent(
        id=str(uuid.uuid4()),
        source="hotline12345",
        type="hotline12345.WorkOrderDispatched",
        time=datetime.now(UTC),
        subject=ORDER_ID,
        content_type=JSON_CONTENT,
        extensions={"dataversion": "1"},
        data=json.dumps(order).encode(),
    )
    message = write_binary(event, ORDER_ID.encode())
    producer = AIOKafkaProducer(bootstrap_servers=kafka.bootstrap)
    await producer.start()
    try:
        await producer.send_and_wait(
            f"{kafka.topic_prefix}inbound.hotline12345.orders",
            message.value,
            key=message.key,
            headers=message.headers,
        )
    finally:
        await producer.stop()


async def eventually(check: Callable[[], Awaitable[Any]], what: str) -> Any:
    deadline = time.monotonic() + WAIT_S
    while (answer := await check()) is None or answer is False:
        assert time.monotonic() < deadline, what
        await asyncio.sleep(0.2)
    return answer


async def answer_the_order(stack: Stack) -> str:
    """The order is parked; a desk clerk places it in a grid of the demo community, mediation
    resolves the dispute it became, naming the caller in its outcome: the reply text."""
    integration, mediation = stack.urls["integration"], stack.urls["mediation"]
    registry = await asyncpg.connect(stack.databases[0])
    try:
        grid = await registry.fetchrow(
            "SELECT data->>'area_id' AS area, data->'path'->>'community_id' AS community"
            " FROM events WHERE type = 'registry.AreaCreated' AND data->>'kind' = 'grid'"
            " ORDER BY position LIMIT 1"
        )
    finally:
        await registry.close()
    assert grid is not None
    clerk = bearer("desk-1", [Role.DESK_STAFF], [grid["community"]])
    outcome = f"已电话联系来电人{CALLER['name']}，双方约定晚八点后停止施工"
    async with httpx.AsyncClient(timeout=30) as client:

        async def parked() -> bool:
            listed = await client.get(f"{integration}/parked-orders", headers=clerk)
            return listed.status_code == 200 and any(
                order["order_id"] == ORDER_ID for order in listed.json()
            )

        await eventually(parked, "the work order was not parked")
        placed = await client.post(
            f"{integration}/orders/{ORDER_ID}/placement",
            json={"area_id": grid["area"]},
            headers=clerk,
        )
        assert placed.status_code == 201, placed.text
        resolved = await client.post(
            f"{mediation}/disputes/{placed.json()['record_id']}/resolution",
            json={"outcome": outcome},
            headers=bearer("admin-1", [Role.ADMIN]),
        )
        assert resolved.status_code == 201, resolved.text
    return outcome


async def settled(stack: Stack) -> None:
    """Wait until every relay has published everything its service stored, and the stores have
    stopped growing (policies answering what others published)."""

    stores = [runtime for runtime in stack.runtimes.values() if runtime.relay is not None]

    async def counts() -> list[int]:
        total = []
        for runtime in stores:
            async with runtime.pool.acquire() as conn:
                total.append(await conn.fetchval("SELECT count(*) FROM events"))
        return total

    async def quiet() -> bool:
        before = await counts()
        for runtime in stores:
            if runtime.relay is not None and await runtime.relay.lag() > 0:
                return False
        await asyncio.sleep(3)
        return await counts() == before

    await eventually(quiet, "the services did not settle")


async def stack_topics(kafka: KafkaSettings) -> list[str]:
    consumer = AIOKafkaConsumer(bootstrap_servers=kafka.bootstrap, group_id=None)
    await consumer.start()
    try:
        topics = await consumer.topics()
    finally:
        await consumer.stop()
    return sorted(
        t.removeprefix(kafka.topic_prefix) for t in topics if t.startswith(kafka.topic_prefix)
    )


@pytest.mark.timeout(1500)
async def test_nothing_personal_in_clear_after_the_demo(stack: Stack) -> None:
    admin = issue_token(SECRET, "demo-loader", [Role.ADMIN])
    urls = stack.urls
    loaded = await load(
        urls["registry"],
        admin,
        residents=RESIDENTS,
        mediation=urls["mediation"],
        health=urls["health"],
        volunteering=urls["volunteering"],
        station=urls["station"],
        governance=urls["governance"],
        query=urls["query"],
        sign=lambda sub, roles, areas: issue_token(SECRET, sub, roles, areas),
        sign_liaison=lambda sub, areas, organisations: issue_token(
            SECRET, sub, [Role.LIAISON], areas, organisations=organisations
        ),
    )
    assert loaded == 0
    await send_order(stack.kafka)
    outcome = await answer_the_order(stack)
    await settled(stack)

    people = stack.people() | set(CALLER.values())
    names = {p for p in people if NAME.fullmatch(p)}
    # the demo's residents, household members, dispute parties, volunteers, liaisons...
    assert len(names) > RESIDENTS, sorted(names)
    assert any(re.search(ID_NUMBER, f" {p} ") for p in people)
    assert any(re.search(PHONE, f" {p} ") for p in people)

    topics = await stack_topics(stack.kafka)
    assert EVENTS_TOPICS | {"inbound.hotline12345.orders", "outbound.hotline12345.replies"} <= set(
        topics
    ), topics
    found: dict[str, list[Found]] = {}
    messages: dict[str, list[Any]] = {}
    for topic in topics:
        records = await read_topic(stack.kafka.bootstrap, stack.kafka.topic_prefix + topic)
        messages[topic] = records
        found[topic] = [
            hit
            for record in records
            for hit in find_in_text(
                topic, on_the_wire(record).decode("utf-8", "replace"), people, PATTERNS
            )
        ]
    assert all(messages[topic] for topic in EVENTS_TOPICS), {t: len(m) for t, m in messages.items()}

    # the exceptions (docs/personal-data.md): the 12345 platform's own message, in its contract's
    # clear form; Anju's reply to it, opened for the platform (its text names the caller)
    assert {hit.value for hit in found.pop("inbound.hotline12345.orders")} == set(CALLER.values())
    [reply] = messages["outbound.hotline12345.replies"]
    event = read_binary(reply.value, reply.headers)
    assert event.type == "integration.WorkOrderAnswered"
    assert json.loads(event.data)["text"] == outcome
    assert {hit.value for hit in found.pop("outbound.hotline12345.replies")} == {CALLER["name"]}
    # the tenancies of the housing security centre: none were sent
    assert found.pop("inbound.housing.tenancies", []) == []

    assert {topic: hits for topic, hits in found.items() if hits} == {}

    in_stores = await find_in_databases(
        stack.databases, people, patterns=PATTERNS, tables=["events"]
    )
    assert in_stores == []
