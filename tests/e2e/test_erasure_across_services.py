"""A person erased across Anju (issue 16, "done when"; docs/personal-data.md, "Erasure").

The registry, mediation, health and query run their real lifespans, sealing with the session's
key store, on databases of their own and one topic prefix of the session's broker. Through their
HTTP APIs: 郑淑芬 (76) is registered, flagged as living alone and visited; she brings a dispute
against a neighbour known only by name and phone (褚大海); health enrols her in the elderly
programme and a doctor records her check-up. 冯建国 lives beside her, with the same.

A director erases her through the registry's command. Then:

- no store, topic (read raw, as any system on the broker would) nor read model holds her name,
  identity number or phone, the neighbour's, or the notes and findings written about her, in
  clear; and opened with the deployment's own keys, nothing of it reads either;
- 冯建国's records read as before;
- the figures are unchanged: the dashboard, the dispute statistics, the elderly programme's
  coverage, the grid's residents and flags;
- the relays re-seed the topics from the stores (``anju reseed``): the republished messages
  hold nothing of her either, and the query, which receives them again, reads the same;
- a full rebuild of every read model from the topics reads the same: she is "[已删除]" with her
  counts in place.
"""

from __future__ import annotations

import asyncio
import base64
import json
import os
import uuid
from collections.abc import AsyncIterator, Iterable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio
from fastapi import FastAPI
from pydantic import SecretStr

from anju_contracts.catalogs import CATALOGS
from anju_health.entrypoints.app import create_app as create_health
from anju_health.settings import HealthSettings
from anju_mediation.entrypoints.app import create_app as create_mediation
from anju_mediation.settings import MediationSettings
from anju_query.entrypoints.app import create_app as create_query
from anju_query.projections import projections
from anju_query.settings import QuerySettings
from anju_registry.entrypoints.app import create_app as create_registry
from anju_registry.settings import RegistrySettings
from anju_registry.testing import id_number_for
from eventkit.auth import Role, issue_token
from eventkit.commands import ConsistencyToken
from eventkit.keys import PostgresKeyStore
from eventkit.messages import Decoder, Delivered
from eventkit.personal import ERASED_TEXT, FieldCipher
from eventkit.projection import rebuild, wait_for_stream
from eventkit.relay import Cursor
from eventkit.runtime import Runtime
from eventkit.settings import KafkaSettings
from eventkit.testing.finding import ID_NUMBER, PHONE, find_in_databases, find_in_text
from eventkit.testing.infra import databases
from eventkit.testing.relay import on_the_wire, read_topic
from eventkit.testing.service import serving

SECRET = "erasure-system-tests-secret-0123456789"
WAIT_S = 30.0
SERVICES = ("registry", "mediation", "health")
TODAY = datetime.now(UTC).date()

HER = {"name": "郑淑芬", "phone": "13712345678", "id_number": id_number_for(date(1950, 3, 14), 7)}
NEIGHBOUR = {"name": "褚大海", "contact": "13698765432"}
ABOUT_HER = ("郑淑芬独居，女儿在外地", "郑淑芬行动不便", "郑淑芬血压偏高", "郑淑芬家楼上漏水三天")
"""What staff wrote about her: a flag's note, a visit's and a check-up's findings, a dispute."""
HIM = {"name": "冯建国", "phone": "13787654321", "id_number": id_number_for(date(1948, 6, 1), 8)}
ERASED = (*HER.values(), *NEIGHBOUR.values(), *ABOUT_HER)


def bearer(sub: str, roles: Iterable[str], areas: Iterable[str] = ()) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, sub, list(roles), list(areas))}"}


ADMIN = bearer("admin-1", [Role.ADMIN])


@dataclass
class Stack:
    clients: dict[str, httpx.AsyncClient]
    apps: dict[str, FastAPI]
    databases: list[str]
    kafka: KafkaSettings
    keys_url: str

    def runtime(self, name: str) -> Runtime:
        runtime: Runtime = self.apps[name].state.runtime
        return runtime

    async def post(self, service: str, url: str, body: Any, headers: dict[str, str]) -> str:
        """A command that must be accepted: its consistency token."""
        response = await self.clients[service].post(url, json=body, headers=headers)
        assert response.status_code == 201, response.text
        token: str = response.json()["consistency_token"]
        return token

    async def learnt(self, service: str, policy: str, token: str) -> None:
        decoded = ConsistencyToken.decode(token)
        learnt = await self.runtime(service).learnt(policy, decoded, timeout_s=WAIT_S)
        assert learnt, f"{service} has not learnt {token} ({policy})"

    async def projected(self, token: str) -> None:
        """Wait until every read model that follows the token's source has applied it."""
        decoded = ConsistencyToken.decode(token)
        query = self.runtime("query")
        for projection in projections():
            if decoded.source not in {catalog.source for catalog in projection.catalogs}:
                continue
            reached = await wait_for_stream(
                query.pool,
                projection.name,
                decoded.source,
                decoded.stream_id,
                decoded.version,
                timeout_s=WAIT_S,
            )
            assert reached, f"{projection.name} has not applied {token}"

    async def read(self, url: str, token: str | None = None, **params: Any) -> Any:
        """A query read as an admin; with ``token``, one that must see that write."""
        if token is not None:
            params["consistency_token"] = token
        response = await self.clients["query"].get(url, params=params, headers=ADMIN)
        assert response.status_code == 200, response.text
        if token is not None:
            assert response.headers["x-consistency"] == "fresh", url
        return response.json()


@pytest_asyncio.fixture
async def stack(pg_server_url: str, kafka_bootstrap: str, key_store: str) -> AsyncIterator[Stack]:
    kafka = KafkaSettings(
        bootstrap=kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:10]}.", fetch_max_wait_ms=50
    )
    read: dict[str, Any] = {
        "jwt_secret": SecretStr(SECRET),
        "kafka": kafka,
        "consistency_wait_s": WAIT_S,
        # four services and the key store on the one PostgreSQL server the session shares
        "db_pool_max": 5,
    }
    common: dict[str, Any] = {**read, "relay_idle_poll_s": 0.05}
    names = (*SERVICES, "query")
    async with databases(pg_server_url, *names) as urls, AsyncExitStack() as running:
        db = dict(zip(names, urls, strict=True))
        apps: dict[str, FastAPI] = {
            "registry": create_registry(RegistrySettings(database_url=db["registry"], **common)),
            "mediation": create_mediation(MediationSettings(database_url=db["mediation"], **common)),
            "health": create_health(HealthSettings(database_url=db["health"], **common)),
            "query": create_query(QuerySettings(database_url=db["query"], **read)),
        }  # fmt: skip
        clients = {
            name: await running.enter_async_context(serving(app, name))
            for name, app in apps.items()
        }
        yield Stack(clients, apps, urls, kafka, key_store)


@dataclass
class Community:
    community: str
    grid: str
    building: str
    unit: str


async def community(stack: Stack) -> tuple[Community, str]:
    """A community, a grid, a building and a unit: the ids and the tokens of their writes."""
    parent: str | None = None
    ids: list[str] = []
    tokens: list[str] = []
    for kind in ("community", "grid", "building", "unit"):
        body = {"kind": kind, "name": f"安居{kind}", "parent_id": parent}
        response = await stack.clients["registry"].post("/areas", json=body, headers=ADMIN)
        assert response.status_code == 201, response.text
        parent = response.json()["id"]
        tokens.append(response.json()["consistency_token"])
        ids.append(str(parent))
    return Community(*ids), ",".join(tokens)


async def a_life(stack: Stack, place: Community, area_tokens: str, person: dict[str, str],
                 born: date, *, neighbour: dict[str, str], notes: tuple[str, str, str, str]) -> tuple[str, list[str]]:  # fmt: skip
    """Register ``person``, flag them, visit them, their dispute with ``neighbour``, their
    check-up: their id and the tokens of the writes."""
    flag_note, visit_findings, check_up_findings, complaint = notes
    registry = stack.clients["registry"]
    response = await registry.post(
        "/residents",
        json={
            "name": person["name"],
            "sex": "female",
            "date_of_birth": born.isoformat(),
            "id_number": person["id_number"],
            "phone": person["phone"],
            "unit_id": place.unit,
        },
        headers=ADMIN,
    )
    assert response.status_code == 201, response.text
    resident, registered = response.json()["id"], response.json()["consistency_token"]
    flagged = await stack.post(
        "registry",
        f"/residents/{resident}/flags",
        {"flag": "elderly_alone", "tier": "yellow", "note": flag_note},
        ADMIN,
    )
    grid_worker = bearer("gw-1", [Role.GRID_WORKER], [place.grid])
    visited = await stack.post(
        "registry", f"/residents/{resident}/visits", {"findings": visit_findings}, grid_worker
    )
    disputed = await stack.post(
        "mediation",
        "/disputes",
        {
            "channel": "walk_in",
            "category": "water_leak",
            "description": complaint,
            "area_id": place.building,
            "parties": [
                {"role": "applicant", "resident_id": resident},
                {"role": "respondent", **neighbour},
            ],
        },
        {**ADMIN, "X-Consistency-Token": f"{area_tokens},{registered}"},
    )
    await stack.learnt("health", "health_registry", registered)
    checked_up = await stack.post(
        "health",
        f"/records/{resident}/encounters",
        {
            "programme": "elderly_annual",
            "observations": {"systolic_mmhg": 152, "diastolic_mmhg": 91, "weight_kg": 58.5},
            "findings": check_up_findings,
        },
        bearer("doctor-1", [Role.DOCTOR], [place.community]),
    )
    return resident, [flagged, visited, disputed, checked_up]


async def figures(stack: Stack, place: Community, token: str | None = None) -> dict[str, Any]:
    """The community's figures as the query answers them, each read fresh after ``token``."""
    month_ago = (TODAY - timedelta(days=30)).isoformat()
    tomorrow = TODAY + timedelta(days=1)
    return {
        "dashboard": await stack.read(
            "/dashboard",
            token,
            **{"from": month_ago, "to": tomorrow.isoformat(), "community_id": place.community},
        ),
        "disputes": await stack.read(
            "/disputes/statistics",
            area_id=place.community,
            since=f"{month_ago}T00:00:00Z",
            until=f"{tomorrow.isoformat()}T00:00:00Z",
        ),
        "coverage": await stack.read("/health/coverage", area_id=place.community, year=TODAY.year),
        "areas": await stack.read("/areas/summary", grid_id=place.grid),
    }


async def topics(stack: Stack) -> dict[str, list[Any]]:
    """Every message of every events topic of the stack, read raw."""
    return {
        source: await read_topic(
            stack.kafka.bootstrap, f"{stack.kafka.topic_prefix}{source}.events"
        )
        for source in SERVICES
    }


async def opened(stack: Stack, messages: list[Any]) -> list[str]:
    """The messages opened with the deployment's own keys (a key store of one's own, no cache):
    each event's data as JSON."""
    pool = await asyncpg.create_pool(stack.keys_url, min_size=1, max_size=2)
    try:
        master = base64.b64decode(os.environ["KEYS__MASTER_KEY"])
        decoder = Decoder(CATALOGS, cipher=FieldCipher(PostgresKeyStore(pool, master)))
        read = await decoder.read_batch(messages)
    finally:
        await pool.close()
    assert all(isinstance(r, Delivered) for r in read), [
        r for r in read if not isinstance(r, Delivered)
    ]
    return [
        json.dumps(r.event.model_dump(mode="json"), ensure_ascii=False)
        for r in read
        if isinstance(r, Delivered)
    ]


async def nothing_of_her(stack: Stack) -> None:
    """Nowhere in clear, nor readable with the keys: stores, topics, read models."""
    found = await find_in_databases(stack.databases, ERASED)
    assert found == [], found
    in_stores = await find_in_databases(
        stack.databases[:-1], patterns=(ID_NUMBER, PHONE), tables=["events"]
    )
    assert in_stores == [], in_stores
    for source, messages in (await topics(stack)).items():
        raw = [on_the_wire(m).decode("utf-8", "replace") for m in messages]
        hits = [h for text in raw for h in find_in_text(source, text, ERASED, (ID_NUMBER, PHONE))]
        assert hits == [], hits
        texts = await opened(stack, messages)
        assert [h for t in texts for h in find_in_text(source, t, ERASED)] == []
        # his, opened with the same keys, read as they were written
        if source == "registry":
            assert any(HIM["id_number"] in t for t in texts)


async def relays_reseeded(stack: Stack) -> None:
    """``anju reseed``: each relay's cursor back at the start. Each publishes its store again:
    every topic ends up holding each message twice."""
    before = {source: len(messages) for source, messages in (await topics(stack)).items()}
    relays = [stack.runtime(service).relay for service in SERVICES]
    for relay in relays:
        assert relay is not None
        await relay.save_cursor(Cursor())
    async with asyncio.timeout(WAIT_S):
        for relay in relays:
            assert relay is not None
            while await relay.lag() > 0:  # noqa: ASYNC110 (the relay announces nothing to wait on)
                await asyncio.sleep(0.1)
    after = {source: len(messages) for source, messages in (await topics(stack)).items()}
    assert after == {source: 2 * n for source, n in before.items()}


@pytest.mark.timeout(300)
async def test_a_person_erased_reads_as_erased_everywhere_and_the_figures_stay(
    stack: Stack,
) -> None:
    place, area_tokens = await community(stack)
    her, her_writes = await a_life(
        stack, place, area_tokens, HER, date(1950, 3, 14), neighbour=NEIGHBOUR, notes=ABOUT_HER
    )
    him, his_writes = await a_life(
        stack,
        place,
        area_tokens,
        HIM,
        date(1948, 6, 1),
        neighbour={"name": "卫小红", "contact": "13611112222"},
        notes=("冯建国独居", "冯建国腿脚不便", "冯建国血糖偏高", "冯建国家下水道堵塞"),
    )
    for token in (*her_writes, *his_writes):
        await stack.read(f"/residents/{her}", token)
    before = await figures(stack, place)
    profile = await stack.read(f"/residents/{her}")
    assert profile["resident"]["name"] == HER["name"]
    assert (before["coverage"]["aged_65_plus"], before["coverage"]["checked_up"]) == (2, 2)
    assert before["disputes"]["registered"] == 2

    director = bearer("director-1", [Role.DIRECTOR], [place.community])
    erased = await stack.post(
        "registry",
        f"/residents/{her}/erasure",
        {"basis": "subject_request", "reason": "本人书面申请（2026-11-30）"},
        director,
    )
    for service in ("mediation", "health"):
        await stack.learnt(service, f"{service}_erasure", erased)
    await stack.projected(erased)
    profile = await stack.read(f"/residents/{her}", erased)
    assert (profile["resident"]["name"], profile["resident"]["id_number"]) == (ERASED_TEXT, None)
    assert await stack.read(f"/residents/{him}") != {}

    await nothing_of_her(stack)
    assert await figures(stack, place) == before

    await relays_reseeded(stack)
    await nothing_of_her(stack)
    assert await figures(stack, place) == before

    query = stack.runtime("query")
    cipher = query.cipher
    for projection in projections():
        await rebuild(query.pool, projection, stack.kafka, cipher=cipher)
    await nothing_of_her(stack)
    assert await figures(stack, place) == before
    profile = await stack.read(f"/residents/{her}")
    assert profile["resident"]["name"] == ERASED_TEXT
    his = await stack.read(f"/residents/{him}")
    assert his["resident"]["name"] == HIM["name"]
