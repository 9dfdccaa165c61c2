import asyncio
from datetime import timedelta
from typing import Any
from uuid import UUID

import jsonschema
from aiokafka import AIOKafkaConsumer

from anju_contracts.registry import FollowUpVisitOverdue, FollowUpVisitPlanned
from anju_registry.application.aggregates import CARE, FOLLOWUP_DUE
from anju_registry.application.care import followup_due
from anju_registry.testing import RegistryClient as Registry
from eventkit.scheduler import Deadline, Scheduler
from eventkit.testing.relay import envelope_json


async def care_events(registry: Registry, resident_id: str) -> list[Any]:
    stream = await registry.runtime.store.load(CARE.stream(UUID(resident_id)))
    return [recorded.event for recorded in stream.events]


def assert_documented_error(registry: Registry, body: Any) -> None:
    """The error body matches the ``ErrorBody`` schema of the registry's OpenAPI document."""
    components = registry.app.openapi()["components"]
    schema = {"$ref": "#/components/schemas/ErrorBody", "components": components}
    jsonschema.Draft202012Validator(schema).validate(body)


def scheduler_at(registry: Registry, days_ahead: float) -> Scheduler:
    when = registry.clock.now + timedelta(days=days_ahead)
    return Scheduler(registry.runtime.store, {FOLLOWUP_DUE: followup_due}, clock=lambda: when)


async def test_raising_a_flag_plans_a_visit_by_the_tier(registry: Registry) -> None:
    resident_id = await registry.register()
    response = await registry.post(
        f"/residents/{resident_id}/flags", {"flag": "elderly_alone", "tier": "red"}
    )
    assert response.status_code == 201, response.text
    assert response.json()["consistency_token"] == f"registry:care-{resident_id}:2"
    planned = (await care_events(registry, resident_id))[-1]
    assert isinstance(planned, FollowUpVisitPlanned)
    assert planned.due_by == registry.clock.now + timedelta(days=7)
    assert str(planned.grid_id) == registry.grid_id

    again = await registry.post(
        f"/residents/{resident_id}/flags", {"flag": "elderly_alone", "tier": "blue"}
    )
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "flag_already_raised"
    view = (await registry.client.get(f"/residents/{resident_id}", headers=registry.admin)).json()
    assert view["flags"] == {"elderly_alone": "red"}


async def test_review_clear_and_visits_follow_the_rules(registry: Registry) -> None:
    resident_id = await registry.register()
    base = f"/residents/{resident_id}"
    no_flag = await registry.post(f"{base}/visits", {"findings": "ok"})
    assert no_flag.status_code == 422
    assert no_flag.json()["error"]["code"] == "no_active_flag"
    assert_documented_error(registry, no_flag.json())
    missing = await registry.post(f"{base}/flags/low_income/review", {"note": "checked"})
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "flag_not_raised"
    assert_documented_error(registry, missing.json())

    await registry.post(f"{base}/flags", {"flag": "low_income", "tier": "blue"})
    changed = await registry.post(
        f"{base}/flags/low_income/review", {"tier": "yellow", "reason": "lost job"}
    )
    assert changed.status_code == 201
    worker = registry.auth("grid_worker", sub="worker-7", areas=[registry.grid_id])
    registry.clock.advance(days=3)
    visit = await registry.post(
        f"{base}/visits", {"findings": "fine", "errands": ["pay water bill"]}, worker
    )
    assert visit.status_code == 201, visit.text
    events = await care_events(registry, resident_id)
    assert [type(e).__name__ for e in events] == [
        "SpecialGroupFlagRaised",
        "FollowUpVisitPlanned",
        "RiskTierChanged",
        "FollowUpVisitPlanned",
        "FollowUpVisitRecorded",
        "FollowUpVisitPlanned",
    ]
    assert events[4].grid_worker_id == "worker-7"
    assert visit.json()["id"] == resident_id
    assert visit.json()["sub_id"] == str(events[4].visit_id)
    assert events[-1].due_by == registry.clock.now + timedelta(days=14)

    cleared = await registry.client.delete(
        f"{base}/flags/low_income", params={"reason": "income restored"}, headers=registry.admin
    )
    assert cleared.status_code == 200, cleared.text
    assert type((await care_events(registry, resident_id))[-1]).__name__ == "FollowUpStopped"
    gone = await registry.client.delete(
        f"{base}/flags/low_income", params={"reason": "x"}, headers=registry.admin
    )
    assert gone.status_code == 404


async def test_overdue_is_recorded_exactly_once(registry: Registry) -> None:
    resident_id = await registry.register()
    await registry.post(
        f"/residents/{resident_id}/flags", {"flag": "mental_disorder", "tier": "red"}
    )

    assert await scheduler_at(registry, 6).fire_due() == 0
    late = scheduler_at(registry, 8)
    fired = await asyncio.gather(
        late.fire_due(), late.fire_due(), scheduler_at(registry, 9).fire_due()
    )
    assert sum(fired) == 1
    assert await late.fire_due() == 0

    overdue = [
        e for e in await care_events(registry, resident_id) if isinstance(e, FollowUpVisitOverdue)
    ]
    assert len(overdue) == 1
    assert overdue[0].due_by == registry.clock.now + timedelta(days=7)
    assert str(overdue[0].grid_id) == registry.grid_id


async def test_a_visit_in_time_means_no_overdue(registry: Registry) -> None:
    resident_id = await registry.register()
    await registry.post(f"/residents/{resident_id}/flags", {"flag": "disability", "tier": "red"})
    first_due = registry.clock.now + timedelta(days=7)
    registry.clock.advance(days=5)
    await registry.post(f"/residents/{resident_id}/visits", {"findings": "all well"})

    assert await scheduler_at(registry, 3).fire_due() == 0  # the old due time has passed
    # A deadline that fires late for a plan that moved on changes nothing.
    async with registry.runtime.store.session() as session:
        await followup_due(session, Deadline(FOLLOWUP_DUE, resident_id, first_due, {}))
    events = await care_events(registry, resident_id)
    assert not any(isinstance(e, FollowUpVisitOverdue) for e in events)


async def test_death_stops_follow_up_and_cancels_the_deadline(registry: Registry) -> None:
    resident_id = await registry.register()
    await registry.post(f"/residents/{resident_id}/flags", {"flag": "elderly_alone", "tier": "red"})
    died = await registry.post(f"/residents/{resident_id}/death", {"died_on": "2024-04-30"})
    assert died.status_code == 201
    assert type((await care_events(registry, resident_id))[-1]).__name__ == "FollowUpStopped"
    assert await scheduler_at(registry, 30).fire_due() == 0


async def test_a_flag_raised_beside_a_death_never_leaves_a_plan_behind(
    registry: Registry,
) -> None:
    """Death and a new flag race: whichever commits first, a dead resident has no plan."""
    for _ in range(5):
        resident_id = await registry.register()
        died, flagged = await asyncio.gather(
            registry.post(f"/residents/{resident_id}/death", {"died_on": "2024-04-30"}),
            registry.post(f"/residents/{resident_id}/flags", {"flag": "disability", "tier": "red"}),
        )
        assert died.status_code == 201, died.text
        assert flagged.status_code in (201, 422), flagged.text
        events = await care_events(registry, resident_id)
        if flagged.status_code == 201:
            assert type(events[-1]).__name__ == "FollowUpStopped"
        else:
            assert events == []
        assert await scheduler_at(registry, 30).fire_due() == 0


async def test_events_reach_kafka_keyed_by_stream_with_the_grid_as_area(registry: Registry) -> None:
    resident_id = await registry.register()
    await registry.post(
        f"/residents/{resident_id}/flags", {"flag": "elderly_alone", "tier": "yellow"}
    )
    consumer = AIOKafkaConsumer(
        registry.settings.topic,
        bootstrap_servers=registry.settings.kafka.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        session_timeout_ms=2000,
        heartbeat_interval_ms=300,
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    seen: dict[str, list[dict[str, Any]]] = {}
    try:
        async with asyncio.timeout(20):
            while sum(len(v) for v in seen.values()) < 7:  # 4 areas, 1 resident, 2 care
                batches = await consumer.getmany(timeout_ms=200)
                for messages in batches.values():
                    for message in messages:
                        envelope = envelope_json(message)
                        assert message.key.decode() == envelope["subject"]
                        seen.setdefault(envelope["subject"], []).append(envelope)
    finally:
        await consumer.stop()

    registered = seen[f"resident-{resident_id}"][0]
    assert registered["type"] == "registry.ResidentRegistered"
    assert registered["area"] == registry.grid_id
    assert registered["data"]["path"]["grid_id"] == registry.grid_id
    care = seen[f"care-{resident_id}"]
    assert [e["type"] for e in care] == [
        "registry.SpecialGroupFlagRaised",
        "registry.FollowUpVisitPlanned",
    ]
    assert {e["area"] for e in care} == {registry.grid_id}
    assert seen[f"area-{registry.community_id}"][0]["area"] == registry.community_id
    assert seen[f"area-{registry.grid_id}"][0]["area"] == registry.grid_id
