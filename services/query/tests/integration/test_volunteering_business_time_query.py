"""Service requests brought in from a coordinator's paper ledger, through the real relay and broker
into the query API: whether a request was taken up by its response time is judged from when it
was accepted, not from the scheduler's flag, which may have come before the ledger did.

Now is 10 March 2026, 12:00 UTC; community C with grids G1 and G2. Each request was raised on
1 March with 48 hours to be taken up:

- ``in_time``: flagged by the scheduler, then accepted on 2 March (back-dated): in time;
- ``late``: flagged, then accepted on 4 March: late;
- ``waiting``: flagged, still open: late;
- ``declined``: accepted on 2 March and declined on 5 March, flagged meanwhile since (when
  it was recorded) it waited again: open and late;
- ``unflagged``: open past its response time, not flagged yet: late.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest_asyncio

from anju_contracts import Actor, Event
from anju_contracts.registry import CATALOG as REGISTRY_CATALOG
from anju_contracts.volunteering import (
    CATALOG,
    DeclineReason,
    RaisedBy,
    RequestKind,
    ServiceRequestAccepted,
    ServiceRequestAssigned,
    ServiceRequestDeclined,
    ServiceRequestRaised,
    ServiceRequestResponseOverdue,
)
from anju_query.testing import area_tree, caught_up, read_side, write_side
from eventkit.auth import Role, issue_token
from eventkit.settings import KafkaSettings
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import databases

SECRET = "query-tests-secret-0123456789abcdef"
ACTOR = Actor(id="coord-1", roles=("volunteer_coordinator",))
NOW = datetime(2026, 3, 10, 12, tzinfo=UTC)
REQUESTS = ("in_time", "late", "waiting", "declined", "unflagged")


def at(day: int, hour: int = 9) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=UTC)


@dataclass
class World:
    client: httpx.AsyncClient
    ids: dict[str, uuid.UUID]
    coordinator: dict[str, str]


@asynccontextmanager
async def world_of(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"b{uuid.uuid4().hex[:10]}.")
    ids = {key: uuid.uuid4() for key in REQUESTS}
    volunteer = uuid.uuid4()
    async with (
        databases(pg_server_url, "volunteering", "registry", "read") as urls,
        write_side("volunteering", urls[0], kafka, CATALOG, secret=SECRET, actor=ACTOR) as v,
        write_side("registry", urls[1], kafka, REGISTRY_CATALOG, secret=SECRET, actor=ACTOR) as reg,
    ):
        areas, paths = await area_tree(reg)
        g1 = areas["g1"]

        def raised(key: str) -> ServiceRequestRaised:
            return ServiceRequestRaised(
                request_id=ids[key],
                resident_id=uuid.uuid4(),
                kind=RequestKind.ERRAND,
                description="代买药",
                path=paths["g1"],
                raised_by=RaisedBy.STAFF,
                staff_id="coord-1",
                raised_at=at(1),
                respond_by=at(3),
            )

        def assigned(key: str) -> ServiceRequestAssigned:
            return ServiceRequestAssigned(
                request_id=ids[key], volunteer_id=volunteer, assigned_at=at(1, 10)
            )

        def accepted(key: str, day: int) -> ServiceRequestAccepted:
            return ServiceRequestAccepted(
                request_id=ids[key], volunteer_id=volunteer, accepted_at=at(day)
            )

        def flagged(key: str) -> ServiceRequestResponseOverdue:
            return ServiceRequestResponseOverdue(request_id=ids[key], respond_by=at(3))

        streams: dict[str, list[Event]] = {
            "in_time": [raised("in_time"), assigned("in_time"), flagged("in_time")],
            "late": [raised("late"), assigned("late"), flagged("late"), accepted("late", 4)],
            "waiting": [raised("waiting"), flagged("waiting")],
            "declined": [
                raised("declined"),
                assigned("declined"),
                accepted("declined", 2),
                ServiceRequestDeclined(
                    request_id=ids["declined"],
                    volunteer_id=volunteer,
                    reason=DeclineReason.UNAVAILABLE,
                    declined_at=at(5),
                ),
                flagged("declined"),
            ],
            "unflagged": [raised("unflagged")],
        }
        for key, events in streams.items():
            await v.emit(f"request-{ids[key]}", *events, area=g1)
        # the ledger's acceptance comes in after the scheduler's flag
        await v.emit(f"request-{ids['in_time']}", accepted("in_time", 2), area=g1)
        await reg.publish()
        await v.publish()
        async with read_side(urls[2], kafka, SECRET, clock=ManualClock(NOW)) as query:
            await caught_up(query.pool, reg, "residents")
            await caught_up(query.pool, v, "volunteering")
            signed = issue_token(SECRET, "coord-1", [Role.VOLUNTEER_COORDINATOR], [str(areas["c"])])
            yield World(query.client, ids, {"Authorization": f"Bearer {signed}"})


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def world(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    async with world_of(pg_server_url, kafka_bootstrap) as seeded:
        yield seeded


async def _requests(world: World, **params: Any) -> dict[str, Any]:
    response = await world.client.get(
        "/volunteering/requests", params=params, headers=world.coordinator
    )
    assert response.status_code == 200, response.text
    names = {str(i): key for key, i in world.ids.items()}
    body: dict[str, Any] = response.json()
    return {names[item["id"]]: item for item in body["items"]} | {"": body}


async def test_a_request_accepted_by_its_response_time_was_taken_up_in_time(
    world: World,
) -> None:
    items = await _requests(world)
    overdue = {key: items[key]["response_overdue"] for key in REQUESTS}
    assert overdue == {
        "in_time": False,
        "late": True,
        "waiting": True,
        "declined": True,
        "unflagged": True,
    }
    assert items["in_time"]["status"] == "accepted"
    (group,) = items[""]["groups"]
    assert (group["requests"], group["overdue"]) == (5, 4)
    assert set(await _requests(world, overdue="false")) == {"", "in_time"}
    assert set(await _requests(world, overdue="true")) == {"", *REQUESTS[1:]}
