"""Across services: a resident registered in the registry reaches query's 65+ list through health.

The registry, health and query run their real lifespans on databases of their own and one topic
prefix of the session's broker: health learns residents from ``registry.events`` through its real
policy runner (nothing is fed to it by hand) and enrols the over-65s; query follows both topics.
Every wait is on a consistency token: a registry write that health must have learnt, then the
health record's version that query must have projected.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

import httpx
import pytest_asyncio
from aiokafka import AIOKafkaConsumer

from anju_contracts.health import CATALOG
from anju_health.testing import HealthClient, running_health
from anju_query.testing import running_query
from anju_registry.testing import (
    SECRET,
    Clock,
    RegistryClient,
    running_registry,
)
from eventkit.commands import ConsistencyToken
from eventkit.testing.infra import databases
from eventkit.testing.relay import envelope_json, on_the_wire

Json = dict[str, Any]

# The first waits also cover the policy's and the projections' consumer groups joining.
WAIT_S = 20.0
HEALTH_POLICY = "health_registry"


@dataclass
class Stack:
    registry: RegistryClient
    health: HealthClient
    query: httpx.AsyncClient

    @property
    def today(self) -> date:
        return self.registry.clock.now.date()

    async def health_learnt(self, registry_token: str) -> None:
        """Wait until health's registry policy has applied the registry write (as a health
        command sent with that token would)."""
        token = ConsistencyToken.decode(registry_token)
        learnt = await self.health.runtime.learnt(HEALTH_POLICY, token, timeout_s=WAIT_S)
        assert learnt, f"health has not learnt {registry_token}"

    async def record_events(self, resident_id: str) -> list[str]:
        """The event types of the resident's health record, in health's own store."""
        stream = await self.health.runtime.store.load(f"record-{resident_id}")
        return [r.event.event_type for r in stream.events]

    async def record_token(self, resident_id: str) -> str:
        """The consistency token of the health record as it stands now."""
        stream = await self.health.runtime.store.load(f"record-{resident_id}")
        assert stream.version > 0, "health keeps no record of this resident"
        return ConsistencyToken("health", stream.id, stream.version).encode()

    async def read(
        self, url: str, headers: dict[str, str], token: str | None = None, **params: str | int
    ) -> Json:
        """A query read; with ``token``, one that must see that write (``fresh``)."""
        if token is not None:
            params["consistency_token"] = token
        response = await self.query.get(url, params=params, headers=headers)
        assert response.status_code == 200, response.text
        if token is not None:
            assert response.headers["x-consistency"] == "fresh", url
        body: Json = response.json()
        return body

    async def coverage(self, headers: dict[str, str], token: str | None = None) -> Json:
        """The community's 65+ coverage this year."""
        community, year = self.registry.community_id, self.today.year
        return await self.read("/health/coverage", headers, token, area_id=community, year=year)


@pytest_asyncio.fixture
async def stack(
    database_url: str, pg_server_url: str, kafka_bootstrap: str
) -> AsyncIterator[Stack]:
    # The service and query each on a database of their own, the registry on the test's.
    # Real time: the store stamps events with it, and health dates what it learns by that stamp.
    clock = Clock(datetime.now(UTC))
    async with (
        databases(pg_server_url, "health", "read") as (health_db, read_db),
        running_registry(database_url, kafka_bootstrap, clock=clock) as registry,
        running_health(
            health_db,
            kafka_bootstrap,
            topic_prefix=registry.settings.kafka.topic_prefix,
            clock=clock,
            consistency_wait_s=WAIT_S,
            feed_tree=False,
        ) as health,
        running_query(
            read_db, registry.settings.kafka, SECRET, clock=clock, consistency_wait_s=WAIT_S
        ) as query,
    ):
        yield Stack(registry, health, query)


async def _health_topic(stack: Stack, subjects: dict[str, int]) -> tuple[list[Json], bytes]:
    """Every message on ``health.events`` until each subject has as many as health stored."""
    consumer = AIOKafkaConsumer(
        stack.health.settings.topic,
        bootstrap_servers=stack.health.settings.kafka.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    seen: list[Json] = []
    raw: list[bytes] = []

    def short() -> bool:
        return any(
            sum(e["subject"] == subject for e in seen) < n for subject, n in subjects.items()
        )

    try:
        async with asyncio.timeout(WAIT_S):
            while short():
                for messages in (await consumer.getmany(timeout_ms=200)).values():
                    for message in messages:
                        assert message.value is not None
                        raw.append(on_the_wire(message))
                        seen.append(envelope_json(message))
    finally:
        await consumer.stop()
    return seen, b"\n".join(raw)


async def test_an_elder_registered_in_the_registry_is_checked_up_and_closed_on_death(
    stack: Stack,
) -> None:
    registry, health = stack.registry, stack.health
    grid_worker = registry.auth("grid_worker", sub="gw-1", areas=[registry.grid_id])
    doctor = registry.auth("doctor", sub="doctor-1", areas=[registry.community_id])

    year = stack.today.year
    younger, younger_token = await registry.register_born("李伟", date(year - 40, 1, 1))
    elder, elder_token = await registry.register_born("王秀英", date(year - 70, 1, 1))

    # Health learns both from the registry's topic; only the elder gets a record.
    await stack.health_learnt(younger_token)
    await stack.health_learnt(elder_token)
    assert await stack.record_events(younger) == []
    assert await stack.record_events(elder) == [
        "health.HealthRecordOpened",
        "health.ProgrammeEnrolled",
        "health.VisitBooked",
    ]
    enrolled = await stack.record_token(elder)
    # the visit's name and grid come from the residents read model, another projection: the
    # read below waits for health's write, so first for the registry's
    await stack.read(f"/residents/{elder}", registry.admin, elder_token)

    # Query: the check-up is due; the programme is shown to the doctor only.
    seen_by_worker = await stack.read("/health/visits", grid_worker, enrolled, within_days=60)
    (item,) = seen_by_worker["items"]
    assert item["resident_id"] == elder
    assert item["name"] == "王秀英"
    assert item["grid_id"] == registry.grid_id
    assert item["kind"] == "check_up"
    assert item["state"] == "due"
    booked = (await health.runtime.store.load(f"record-{elder}")).events[-1].event
    assert item["due_on"] == booked.model_dump(mode="json")["due_on"]  # as health booked it
    assert item["programme"] is None
    seen_by_doctor = await stack.read("/health/visits", doctor, within_days=60)
    assert [(i["resident_id"], i["kind"], i["programme"]) for i in seen_by_doctor["items"]] == [
        (elder, "check_up", "elderly_annual")
    ]
    # The 40-year-old is in the directory, not in the 65+ figures.
    directory = await stack.read("/residents", registry.admin, younger_token)
    assert {r["id"] for r in directory["items"]} == {elder, younger}
    coverage = await stack.coverage(doctor)
    assert (coverage["aged_65_plus"], coverage["enrolled"], coverage["checked_up"]) == (1, 1, 0)
    assert coverage["share"] == 0.0

    # A doctor records the check-up on health; query counts it once it has the new version.
    check_up = await health.post(
        f"/records/{elder}/encounters",
        {
            "programme": "elderly_annual",
            "observations": {"systolic_mmhg": 152, "diastolic_mmhg": 91, "weight_kg": 58.5},
            "findings": "血压偏高，建议复查",
        },
        headers=health.auth("doctor", sub="doctor-1", areas=[registry.community_id]),
    )
    assert check_up.status_code == 201, check_up.text
    assert check_up.json()["consistency_token"].startswith(f"health:record-{elder}:")
    coverage = await stack.coverage(doctor, check_up.json()["consistency_token"])
    assert (coverage["aged_65_plus"], coverage["enrolled"], coverage["checked_up"]) == (1, 1, 1)
    assert coverage["share"] == 1.0
    (grid,) = [g for g in coverage["grids"] if g["grid_id"] == registry.grid_id]
    assert (grid["aged_65_plus"], grid["checked_up"], grid["share"]) == (1, 1, 1.0)

    # The registry records the death; health closes the record; query shows it closed.
    died = await registry.post(f"/residents/{elder}/death", {"died_on": stack.today.isoformat()})
    assert died.status_code == 201, died.text
    await stack.health_learnt(died.json()["consistency_token"])
    assert (await stack.record_events(elder))[-3:] == [
        "health.VisitCancelled",  # next year's check-up, booked by this year's
        "health.ProgrammeLeft",
        "health.HealthRecordClosed",
    ]
    closed = await stack.record_token(elder)
    profile = await stack.read(f"/residents/{elder}", doctor, closed)
    assert profile["health"]["status"] == "closed"
    assert profile["health"]["closed_on"] == stack.today.isoformat()
    assert profile["health"]["open_visits"] == []
    assert (await stack.read("/health/visits", doctor, within_days=366))["items"] == []

    # On the wire: the record's events, none clinical, no reading.
    stored = await health.runtime.store.load(f"record-{elder}")
    chart = await health.runtime.store.load(f"chart-{elder}")
    assert "health.EncounterRecorded" in [r.event.event_type for r in chart.events]
    seen, raw = await _health_topic(stack, {f"record-{elder}": stored.version})
    assert [e["type"] for e in seen] == [r.event.event_type for r in stored.events]
    assert not {e["type"] for e in seen} & set(CATALOG.restricted)
    assert younger not in raw.decode()
    for clinical in ("observations", "systolic", "weight_kg", "findings", "血压"):
        assert clinical not in raw.decode(), clinical
    # the reading itself, in the payloads (a timestamp's seconds may well read 58.5…)
    assert not any(58.5 in _numbers(e["data"]) for e in seen)


def _numbers(value: Any) -> list[float]:
    """Every number inside a JSON value."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in _numbers(v)]
    return []
