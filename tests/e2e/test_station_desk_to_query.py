"""Across services, through the real relays, broker and policy runners: a residence certificate,
an opinion-gathering session and the duty roster set through the station's HTTP API reach the
query service; an opinion the desk refers to mediation becomes mediation's conflict signal, and
the query's opinion log shows it beside the opinion."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest_asyncio

from anju_mediation.domain.signals import signal_id_of_opinion
from anju_mediation.testing import MediationClient, running_mediation
from anju_query.testing import running_query
from anju_registry.testing import Clock, RegistryClient, running_registry
from anju_station.testing import StationClient, running_station
from eventkit.commands import ConsistencyToken
from eventkit.testing.infra import databases
from eventkit.testing.service import once_learnt

WAIT_S = 60.0


@dataclass
class Stack:
    registry: RegistryClient
    station: StationClient
    mediation: MediationClient
    query: httpx.AsyncClient


@pytest_asyncio.fixture
async def stack(
    database_url: str, pg_server_url: str, kafka_bootstrap: str
) -> AsyncIterator[Stack]:
    clock = Clock(datetime.now(UTC))
    async with (
        databases(pg_server_url, "station", "mediation", "read") as (
            station_db,
            mediation_db,
            read_db,
        ),
        running_registry(database_url, kafka_bootstrap, clock=clock) as registry,
        running_station(
            station_db,
            kafka_bootstrap,
            topic_prefix=registry.settings.kafka.topic_prefix,
            clock=clock,
            feed_tree=False,
        ) as station,
        running_mediation(
            mediation_db,
            kafka_bootstrap,
            topic_prefix=registry.settings.kafka.topic_prefix,
            consistency_wait_s=WAIT_S,
        ) as mediation,
        running_query(
            read_db, registry.settings.kafka, station.secret, clock=clock, consistency_wait_s=WAIT_S
        ) as query,
    ):
        yield Stack(registry, station, mediation, query)


async def _accepted(station: StationClient, url: str, body: Any, headers: dict[str, str]) -> Any:
    """A station command, sent again while the station has not learnt the registry's area or
    resident yet."""
    response = await once_learnt(lambda: station.post(url, body, headers), pause_s=0.2)
    assert response.status_code == 201, response.text
    return response.json()


async def _read(stack: Stack, url: str, token: str, headers: dict[str, str], **params: Any) -> Any:
    response = await stack.query.get(
        url, params={**params, "consistency_token": token}, headers=headers
    )
    assert response.status_code == 200, response.text
    assert response.headers["x-consistency"] == "fresh"
    return response.json()


async def test_the_desks_certificate_session_opinion_and_roster_reach_the_query(
    stack: Stack,
) -> None:
    registry, station = stack.registry, stack.station
    registered = await registry.post("/residents", registry.resident_body(name="王秀英"))
    assert registered.status_code == 201, registered.text
    resident = registered.json()["id"]
    written = ConsistencyToken.decode(registered.json()["consistency_token"])
    assert await station.runtime.learnt("station_registry", written, timeout_s=WAIT_S)
    community = registry.community_id
    clerk = station.auth("desk_staff", sub="desk-1", areas=[community])
    today = station.clock().date()
    # the holder's name comes from the query's resident directory, a projection of its own:
    # read the resident once it has caught up with the registration
    await _read(stack, f"/residents/{resident}", registered.json()["consistency_token"], clerk)

    certificate = await _accepted(station, "/certificates", {"resident_id": resident}, clerk)
    issued = await _read(
        stack,
        "/station/certificates",
        certificate["consistency_token"],
        clerk,
        resident_id=resident,
    )
    (item,) = issued["items"]
    assert (item["id"], item["status"], item["holder_name"]) == (
        certificate["id"],
        "valid",
        "王秀英",
    )
    assert item["number"].startswith(f"ANJU-R-{today.year}-")
    profile = await _read(stack, f"/residents/{resident}", certificate["consistency_token"], clerk)
    assert [c["id"] for c in profile["station"]["certificates"]] == [certificate["id"]]

    session = await _accepted(
        station,
        "/gatherings",
        {
            "area_id": community,
            "kind": "opinion_gathering",
            "topic": "小区停车管理",
            "held_on": today.isoformat(),
            "attendance": 28,
        },
        clerk,
    )
    opinion = await _accepted(
        station,
        f"/gatherings/{session['id']}/opinions",
        {"text": "3幢门前车位长期被占，邻里常争吵", "resident_id": resident},
        clerk,
    )
    referred = await _accepted(
        station, f"/opinions/{opinion['id']}/referral", {"to": "mediation"}, clerk
    )
    gatherings = await _read(stack, "/station/gatherings", referred["consistency_token"], clerk)
    assert [(g["id"], g["opinions"]) for g in gatherings["items"]] == [(session["id"], 1)]
    assert gatherings["by_kind"]["opinion_gathering"] == {"count": 1, "attendance": 28}

    # mediation's policy reports the signal (its id made of the opinion's); wait for it here
    signal = signal_id_of_opinion(uuid.UUID(opinion["id"]))
    log = await _read(stack, "/station/opinions", f"mediation:signal-{signal}:1", clerk)
    (entry,) = log["items"]
    assert (entry["id"], entry["status"], entry["text"]) == (
        opinion["id"],
        "referred_to_mediation",
        "3幢门前车位长期被占，邻里常争吵",
    )
    assert entry["gathering"]["topic"] == "小区停车管理"
    assert entry["signal"] == {"id": str(signal), "status": "reported", "dispute_id": None}

    response = await station.client.put(
        f"/rosters/{community}/{today.isoformat()}",
        json={"desk": ["desk-1", "desk-2"], "pioneer_post": ["陈建国"]},
        headers=clerk,
    )
    assert response.status_code == 201, response.text
    roster = await _read(
        stack,
        "/station/roster",
        response.json()["consistency_token"],
        clerk,
        community_id=community,
    )
    assert [(d["day"], d["desk"], d["pioneer_post"]) for d in roster["items"]] == [
        (today.isoformat(), ["desk-1", "desk-2"], ["陈建国"])
    ]
