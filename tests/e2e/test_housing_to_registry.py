"""Across services, on the real broker: the housing security centre's tenancy changes become the
registry's move-ins and move-outs, and a move-out stops the resident's follow-up plan (registry)
and monthly cleaning (volunteering).

The registry, volunteering and the integration service run their real lifespans on databases of
their own and one topic prefix of the session's broker. The integration service learns units
and residents from ``registry.events`` through its real policy runner, reads
``inbound.housing.tenancies`` through its real FastStream subscriber, and calls the registry's
HTTP command API (over ASGI) as its service principal. Messages are produced as the centre would:
binary-mode CloudEvents, key the tenancy id.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from uuid import UUID

import httpx
import pytest_asyncio

from anju_contracts import housing
from anju_integration.adapters.registry import HttpRegistry
from anju_integration.application.policies import REGISTRY_POLICY_NAME as INTEGRATION_POLICY
from anju_integration.application.tenancies import NOTICES
from anju_integration.domain import tenancies as notices
from anju_integration.testing import IntegrationClient, running_integration
from anju_integration.testing_housing import ended, started, tenant, unit
from anju_registry.testing import SECRET, Clock, RegistryClient, running_registry
from anju_volunteering.application.policies import REGISTRY_POLICY_NAME as VOLUNTEERING_POLICY
from anju_volunteering.application.reactions import deadline_handlers
from anju_volunteering.domain import plans
from anju_volunteering.testing import VolunteeringClient, running_volunteering
from eventkit import kafka
from eventkit.commands import ConsistencyToken
from eventkit.runtime import Runtime
from eventkit.scheduler import Scheduler
from eventkit.testing.infra import databases

WAIT_S = 20.0


@dataclass
class Stack:
    registry: RegistryClient
    volunteering: VolunteeringClient
    integration: IntegrationClient

    async def learnt(self, runtime: Runtime, policy: str, token: str) -> None:
        """Wait until ``policy`` of ``runtime`` has applied the registry write ``token`` names."""
        done = await runtime.learnt(policy, ConsistencyToken.decode(token), timeout_s=WAIT_S)
        assert done, f"{policy} has not learnt {token}"

    async def integration_learnt(self, token: str) -> None:
        await self.learnt(self.integration.runtime, INTEGRATION_POLICY, token)

    async def volunteering_learnt(self, token: str) -> None:
        await self.learnt(self.volunteering.runtime, VOLUNTEERING_POLICY, token)

    async def send(self, message_id: str, change: housing.TenancyChanged) -> None:
        """Publish ``change`` on the stack's ``inbound.housing.tenancies``, as the centre would."""
        settings = self.integration.settings.kafka
        message = housing.to_kafka(message_id, change)
        producer = kafka.producer(settings, client_id="housing-security-centre")
        await producer.start()
        try:
            await producer.send_and_wait(
                f"{settings.topic_prefix}{housing.TOPIC}",
                message.value,
                key=message.key,
                headers=message.headers,
            )
        finally:
            await producer.stop()

    async def notice(self, message_id: str) -> tuple[notices.Notice | None, int]:
        store = self.integration.runtime.store
        stream = await store.load(NOTICES.stream(notices.notice_id_of(message_id)))
        return notices.fold(stream.payloads), stream.version

    async def settled(self, message_id: str, status: notices.Status) -> notices.Notice:
        """Wait until the notice of ``message_id`` has reached ``status``."""
        async with asyncio.timeout(WAIT_S):
            while True:
                notice, _ = await self.notice(message_id)
                if notice is not None and notice.status is status:
                    return notice
                await asyncio.sleep(0.05)

    async def registry_events(self, stream_id: str) -> list[str]:
        stream = await self.registry.runtime.store.load(stream_id)
        return [r.event.event_type for r in stream.events]

    async def volunteering_events(self, stream_id: str) -> list[str]:
        stream = await self.volunteering.runtime.store.load(stream_id)
        return [r.event.event_type for r in stream.events]


@pytest_asyncio.fixture
async def stack(
    database_url: str, pg_server_url: str, kafka_bootstrap: str
) -> AsyncIterator[Stack]:
    clock = Clock(datetime.now(UTC))
    async with (
        databases(pg_server_url, "volunteering", "integration") as (volunteering_db, own_db),
        running_registry(database_url, kafka_bootstrap, clock=clock) as registry,
    ):
        prefix = registry.settings.kafka.topic_prefix
        # The integration service signs its registry tokens with the registry's secret.
        to_registry = HttpRegistry(
            "http://registry", SECRET, transport=httpx.ASGITransport(app=registry.app)
        )
        async with (
            running_volunteering(
                volunteering_db,
                kafka_bootstrap,
                topic_prefix=prefix,
                clock=clock,
                consistency_wait_s=WAIT_S,
                feed_tree=False,
            ) as volunteering,
            running_integration(
                own_db,
                kafka_bootstrap,
                topic_prefix=prefix,
                clock=clock,
                feed_tree=False,
                registry=to_registry,
            ) as integration,
        ):
            yield Stack(registry, volunteering, integration)


async def test_tenancies_move_residents_in_and_out_and_a_move_out_stops_their_care(
    stack: Stack,
) -> None:
    registry = stack.registry
    community = registry.community_id
    unit_id = registry.unit_id
    await registry.register_organisation(kind="housing_security_centre", name="市住房保障中心")
    # The integration service knows the unit ("Building 3" / "301") from the registry's topic.
    await stack.integration_learnt(f"registry:area-{unit_id}:1")

    # -- a tenancy starts: the elder is registered at the unit ---------------------------------
    elder = tenant("王秀英", date(1946, 5, 2), 11)
    moved_in = started([elder], unit("Building 3", "301"))
    await stack.send("hs-e2e-1", moved_in)
    applied = await stack.settled("hs-e2e-1", notices.Status.APPLIED)
    resident = str(applied.done["in-0"])
    record = await registry.get(f"/residents/{resident}")
    assert record.status_code == 200, record.text
    assert (record.json()["path"]["unit_id"], record.json()["status"]) == (unit_id, "active")
    assert record.json()["name"] == "王秀英"

    # She lives alone: a follow-up plan in the registry, a monthly cleaning in volunteering.
    flagged = await registry.post(
        f"/residents/{resident}/flags", {"flag": "elderly_alone", "tier": "red"}
    )
    assert flagged.status_code == 201, flagged.text
    await stack.volunteering_learnt(f"registry:resident-{resident}:1")
    await stack.volunteering_learnt(flagged.json()["consistency_token"])
    await Scheduler(
        stack.volunteering.runtime.store, deadline_handlers(stack.volunteering.config)
    ).fire_due()  # the flag may have come before the registration: the plan starts late
    assert "registry.FollowUpVisitPlanned" in await stack.registry_events(f"care-{resident}")
    plan = f"plan-{resident}"
    assert await stack.volunteering_events(plan) == ["volunteering.CleaningPlanStarted"]
    period = plans.period_of(datetime.now(UTC).date())
    cleaning = f"request-{plans.request_id(UUID(resident), period)}"
    assert await stack.volunteering_events(cleaning) == ["volunteering.ServiceRequestRaised"]

    # -- the tenancy ends: she moves out, her follow-ups and cleanings stop --------------------
    await stack.integration_learnt(f"registry:resident-{resident}:1")
    await stack.send("hs-e2e-2", ended(moved_in.tenancy_id, [elder], unit("Building 3", "301")))
    await stack.settled("hs-e2e-2", notices.Status.APPLIED)
    record = await registry.get(f"/residents/{resident}")
    assert record.json()["status"] == "moved_out"
    care = await stack.registry_events(f"care-{resident}")
    assert care[-1] == "registry.FollowUpStopped"
    await stack.volunteering_learnt(f"registry:resident-{resident}:2")
    assert await stack.volunteering_events(plan) == [
        "volunteering.CleaningPlanStarted",
        "volunteering.CleaningPlanStopped",
    ]
    assert await stack.volunteering_events(cleaning) == [
        "volunteering.ServiceRequestRaised",
        "volunteering.ServiceRequestCancelled",
    ]

    # -- an unknown unit waits for the desk, and goes on once matched ----------------------------
    newcomer = tenant("赵磊", date(1988, 8, 8), 12)
    await stack.send("hs-e2e-3", started([newcomer], unit("Building 9", "901")))
    parked = await stack.settled("hs-e2e-3", notices.Status.PARKED)
    assert [p.kind for p in parked.problems] == ["unknown_unit"]
    desk = stack.integration.auth("desk_staff", sub="desk-1", areas=[community])
    listed = await stack.integration.get("/tenancies/parked", headers=desk)
    assert [n["message_id"] for n in listed.json()] == ["hs-e2e-3"]
    matched = await stack.integration.post(
        f"/tenancies/parked/{parked.id}/match", {"unit_id": unit_id}, desk
    )
    assert matched.status_code == 201, matched.text
    assert matched.json()["status"] == "applied"
    newcomer_id = matched.json()["tenants"][0]["resident_id"]
    record = await registry.get(f"/residents/{newcomer_id}")
    assert (record.json()["name"], record.json()["path"]["unit_id"]) == ("赵磊", unit_id)

    # -- the first message again: nothing new --------------------------------------------------
    _, before = await stack.notice("hs-e2e-1")
    residents_before = await _residents(stack)
    await stack.send("hs-e2e-1", moved_in)
    # a later message of the same tenancy (same key, same partition) shows it was read
    await stack.send("hs-e2e-4", ended(moved_in.tenancy_id, [elder], unit("Building 3", "301")))
    await stack.settled("hs-e2e-4", notices.Status.APPLIED)  # she has moved out already
    _, after = await stack.notice("hs-e2e-1")
    assert after == before
    assert await _residents(stack) == residents_before


async def _residents(stack: Stack) -> int:
    count: int = await stack.registry.runtime.pool.fetchval(
        "SELECT count(DISTINCT stream_id) FROM events WHERE stream_id LIKE 'resident-%'"
    )
    return count
