"""Across services: an elder living alone, flagged in the registry, gets volunteering's monthly
home cleaning, and query shows it through to the volunteer's approved hours.

The registry, volunteering and query run their real lifespans on databases of their own and one
topic prefix of the session's broker: volunteering learns residents from ``registry.events``
through its real policy runner (nothing is fed to it by hand) and starts the cleaning plan when
the ``elderly_alone`` flag is raised; query follows all three topics. Every wait is on a
consistency token: a registry write that volunteering must have learnt, then a volunteering
record's version that query must have projected.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

import httpx
import pytest_asyncio
from aiokafka import AIOKafkaConsumer

from anju_query.testing import running_query
from anju_registry.testing import (
    SECRET,
    Clock,
    RegistryClient,
    running_registry,
)
from anju_volunteering.application.aggregates import MONTHLY_CLEANING
from anju_volunteering.application.policies import REGISTRY_POLICY_NAME
from anju_volunteering.application.reactions import deadline_handlers
from anju_volunteering.domain import plans
from anju_volunteering.testing import VolunteeringClient, running_volunteering
from eventkit.commands import ConsistencyToken
from eventkit.scheduler import Scheduler
from eventkit.testing.infra import databases
from eventkit.testing.relay import envelope_json

Json = dict[str, Any]

# The first waits also cover the policy's and the projections' consumer groups joining.
WAIT_S = 20.0


@dataclass
class Stack:
    registry: RegistryClient
    volunteering: VolunteeringClient
    query: httpx.AsyncClient

    @property
    def clock(self) -> Clock:
        return self.registry.clock

    async def volunteering_learnt(self, registry_token: str) -> None:
        """Wait until volunteering's registry policy has applied the registry write (as a
        volunteering command sent with that token would)."""
        token = ConsistencyToken.decode(registry_token)
        runtime = self.volunteering.runtime
        learnt = await runtime.learnt(REGISTRY_POLICY_NAME, token, timeout_s=WAIT_S)
        assert learnt, f"volunteering has not learnt {registry_token}"

    async def scheduler_poll(self) -> int:
        """What volunteering's scheduler does when it next looks (its tests' poll is an hour),
        by the database's clock: real time."""
        v = self.volunteering
        return await Scheduler(v.runtime.store, deadline_handlers(v.config)).fire_due()

    async def registry_stamp(self, registry_token: str) -> datetime:
        """When the registry's store recorded the write the token names."""
        token = ConsistencyToken.decode(registry_token)
        stream = await self.registry.runtime.store.load(token.stream_id)
        (recorded,) = [r for r in stream.events if r.sequence == token.version]
        return recorded.occurred_at

    async def events(self, stream_id: str) -> list[str]:
        """The event types of a stream in volunteering's own store."""
        stream = await self.volunteering.runtime.store.load(stream_id)
        return [r.event.event_type for r in stream.events]

    async def token(self, stream_id: str) -> str:
        """The consistency token of a volunteering stream as it stands now."""
        stream = await self.volunteering.runtime.store.load(stream_id)
        assert stream.version > 0, f"volunteering keeps no {stream_id}"
        return ConsistencyToken("volunteering", stream.id, stream.version).encode()

    async def armed_cleanings(self, resident_id: str) -> list[datetime]:
        """When the resident's monthly cleaning is next due, if a deadline is armed for it."""
        rows = await self.volunteering.runtime.pool.fetch(
            "SELECT due_at FROM deadlines WHERE kind = $1 AND key = $2 AND fired_at IS NULL",
            MONTHLY_CLEANING,
            resident_id,
        )
        return [r["due_at"] for r in rows]

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


@pytest_asyncio.fixture
async def stack(
    database_url: str, pg_server_url: str, kafka_bootstrap: str
) -> AsyncIterator[Stack]:
    # The service and query each on a database of their own, the registry on the test's.
    # Real time: the store stamps events with it, and volunteering dates a plan, and the month
    # its cleaning is for, by the stamp of the registry's flag.
    clock = Clock(datetime.now(UTC))
    async with (
        databases(pg_server_url, "volunteering", "read") as (volunteering_db, read_db),
        running_registry(database_url, kafka_bootstrap, clock=clock) as registry,
        running_volunteering(
            volunteering_db,
            kafka_bootstrap,
            topic_prefix=registry.settings.kafka.topic_prefix,
            clock=clock,
            consistency_wait_s=WAIT_S,
            feed_tree=False,
        ) as volunteering,
        running_query(
            read_db, registry.settings.kafka, SECRET, clock=clock, consistency_wait_s=WAIT_S
        ) as query,
    ):
        yield Stack(registry, volunteering, query)


async def _volunteering_topic(stack: Stack, subjects: dict[str, int]) -> list[Json]:
    """Every message on ``volunteering.events`` until each subject has as many as volunteering
    stored."""
    consumer = AIOKafkaConsumer(
        stack.volunteering.settings.topic,
        bootstrap_servers=stack.volunteering.settings.kafka.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    seen: list[Json] = []

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
                        seen.append(envelope_json(message))
    finally:
        await consumer.stop()
    return seen


async def test_an_elder_living_alone_is_cleaned_by_a_volunteer_until_the_flag_clears(
    stack: Stack,
) -> None:
    registry, v = stack.registry, stack.volunteering
    community, grid = registry.community_id, registry.grid_id
    # Query checks tokens signed with the registry's test secret, volunteering with its own.
    coordinator = registry.auth("volunteer_coordinator", sub="coord-1", areas=[community])
    grid_worker = registry.auth("grid_worker", sub="gw-1", areas=[grid])
    elsewhere = await registry.create_area("community", None, "Riverside")
    far_coordinator = registry.auth("volunteer_coordinator", sub="coord-2", areas=[elsewhere])
    v_coordinator = v.auth("volunteer_coordinator", sub="coord-1", areas=[community])
    v_grid_worker = v.auth("grid_worker", sub="gw-1", areas=[grid])

    resident, registered = await registry.register_born("王秀英", date(1946, 5, 2))
    flagged = await registry.post(
        f"/residents/{resident}/flags", {"flag": "elderly_alone", "tier": "red"}
    )
    assert flagged.status_code == 201, flagged.text
    flag_token = flagged.json()["consistency_token"]

    # Volunteering learns the flag from the registry's topic and raises this month's cleaning;
    # the registration comes on another stream, so maybe on another partition, later: then the
    # scheduler starts the plan once volunteering knows the resident.
    await stack.volunteering_learnt(registered)
    await stack.volunteering_learnt(flag_token)
    await stack.scheduler_poll()
    flagged_at = await stack.registry_stamp(flag_token)
    period = plans.period_of(flagged_at.date())
    request = str(plans.request_id(UUID(resident), period))
    plan_stream, request_stream = f"plan-{resident}", f"request-{request}"
    assert await stack.events(plan_stream) == ["volunteering.CleaningPlanStarted"]
    assert await stack.events(request_stream) == ["volunteering.ServiceRequestRaised"]
    assert await stack.armed_cleanings(resident) == [plans.next_month(flagged_at.date())]

    # Query: the request is open, for the community's coordinator and for the grid's worker.
    raised = await stack.token(request_stream)
    seen_by_coordinator = await stack.read("/volunteering/requests", coordinator, raised)
    (item,) = seen_by_coordinator["items"]
    assert (item["id"], item["resident_id"], item["resident_name"]) == (
        request,
        resident,
        "王秀英",
    )
    assert (item["kind"], item["status"], item["raised_by"], item["period"]) == (
        "home_cleaning",
        "open",
        "elderly_alone_plan",
        period,
    )
    assert (item["community_id"], item["grid_id"]) == (community, grid)
    assert (item["volunteer_id"], item["delivered_at"]) == (None, None)
    (group,) = seen_by_coordinator["groups"]
    assert (group["grid_id"], group["requests"], group["open"]) == (grid, 1, 1)
    seen_by_worker = await stack.read("/volunteering/requests", grid_worker, status="open")
    assert [(i["id"], i["status"]) for i in seen_by_worker["items"]] == [(request, "open")]
    # the profile's services: the request and the plan
    started = await stack.token(plan_stream)
    profile = await stack.read(f"/residents/{resident}", grid_worker, started)
    services = profile["services"]
    assert [(s["id"], s["kind"], s["status"]) for s in services["requests"]] == [
        (request, "home_cleaning", "open")
    ]
    assert services["cleaning_plan"] == {
        "active": True,
        "started_on": flagged_at.date().isoformat(),
        "stopped_on": None,
        "stop_reason": None,
    }

    # A coordinator registers a volunteer and gives them the request; a grid worker records
    # the rest on the volunteer's behalf, two hours on site.
    volunteer = await v.ok(
        "/volunteers",
        {"kind": "resident_volunteer", "name": "李志愿", "area_id": grid},
        v_coordinator,
    )
    await v.ok(f"/requests/{request}/assignment", {"volunteer_id": volunteer}, v_coordinator)
    await v.ok(f"/requests/{request}/acceptance", {"volunteer_id": volunteer}, v_grid_worker)
    stack.clock.now = datetime.now(UTC)  # after the request was raised, by the store's stamp
    arrived = stack.clock.now
    await v.ok(f"/requests/{request}/check-in", {"at": arrived.isoformat()}, v_grid_worker)
    stack.clock.advance(hours=2)
    left = stack.clock.now
    await v.ok(f"/requests/{request}/check-out", {"at": left.isoformat()}, v_grid_worker)
    delivered = await v.accepted(
        f"/requests/{request}/delivery",
        {"satisfaction": 5, "feedback": "打扫得很干净"},
        v_grid_worker,
    )
    assert delivered["consistency_token"].startswith(f"volunteering:{request_stream}:")

    # The hours wait for a coordinator: query counts none of them yet.
    ledger = await v.get(f"/volunteers/{volunteer}/hours", v_coordinator)
    assert ledger.status_code == 200, ledger.text
    assert (ledger.json()["approved_hours"], ledger.json()["pending_hours"]) == (0, 2.0)
    (entry,) = ledger.json()["entries"]
    pending = await stack.token(f"ledger-{volunteer}")
    unapproved = await stack.read("/volunteering/hours", coordinator, pending)
    assert (unapproved["items"], unapproved["hours"], unapproved["entries"]) == ([], 0, 0)
    approved = await v.accepted(
        f"/volunteers/{volunteer}/hours/{entry['entry_id']}/approval", {}, v_coordinator
    )

    # Query: the request delivered, the volunteer's two approved hours.
    done = await stack.read("/volunteering/requests", coordinator, delivered["consistency_token"])
    (item,) = done["items"]
    assert (item["id"], item["status"], item["satisfaction"]) == (request, "delivered", 5)
    assert (item["volunteer_id"], item["volunteer_name"]) == (volunteer, "李志愿")
    assert item["delivered_at"] is not None
    (group,) = done["groups"]
    assert (group["requests"], group["open"]) == (1, 0)
    hours = await stack.read("/volunteering/hours", coordinator, approved["consistency_token"])
    assert [(i["volunteer_id"], i["name"], i["hours"], i["entries"]) for i in hours["items"]] == [
        (volunteer, "李志愿", 2.0, 1)
    ]
    assert (hours["hours"], hours["entries"]) == (2.0, 1)
    volunteers = await stack.read("/volunteering/volunteers", coordinator)
    assert [(i["id"], i["hours_last_12_months"]) for i in volunteers["items"]] == [(volunteer, 2.0)]
    profile = await stack.read(f"/residents/{resident}", grid_worker)
    (received,) = profile["services"]["requests"]
    assert (received["id"], received["status"], received["satisfaction"]) == (
        request,
        "delivered",
        5,
    )
    # A coordinator of another community sees none of it.
    assert (await stack.read("/volunteering/requests", far_coordinator))["items"] == []
    far_hours = await stack.read("/volunteering/hours", far_coordinator)
    assert (far_hours["items"], far_hours["hours"]) == ([], 0)
    assert (await stack.read("/volunteering/volunteers", far_coordinator))["items"] == []

    # The registry clears the flag: volunteering stops the plan and disarms next month's.
    cleared = await registry.client.delete(
        f"/residents/{resident}/flags/elderly_alone",
        params={"reason": "子女已回家同住"},
        headers=registry.admin,
    )
    assert cleared.status_code == 200, cleared.text
    clear_token = cleared.json()["consistency_token"]
    await stack.volunteering_learnt(clear_token)
    assert await stack.events(plan_stream) == [
        "volunteering.CleaningPlanStarted",
        "volunteering.CleaningPlanStopped",
    ]
    assert await stack.armed_cleanings(resident) == []
    # the delivered cleaning stands
    assert (await stack.events(request_stream))[-1] == "volunteering.ServiceRequestDelivered"

    # On the wire: the plan's events, the stop with its reason.
    stored = await v.runtime.store.load(plan_stream)
    seen = [
        e for e in await _volunteering_topic(stack, {plan_stream: 2}) if e["subject"] == plan_stream
    ]
    assert [e["type"] for e in seen] == [r.event.event_type for r in stored.events]
    assert seen[-1]["data"]["reason"] == "flag_cleared"
    stopped = await stack.token(plan_stream)
    plan = (await stack.read(f"/residents/{resident}", grid_worker, stopped))["services"]
    cleared_on = (await stack.registry_stamp(clear_token)).date().isoformat()
    assert plan["cleaning_plan"] == {
        "active": False,
        "started_on": flagged_at.date().isoformat(),
        "stopped_on": cleared_on,
        "stop_reason": "flag_cleared",
    }
