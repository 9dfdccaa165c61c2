"""Retention: the scheduler erases a closed dispute's personal data when its period ends
(real PostgreSQL, a real key store, the real broker for what is published)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any
from uuid import UUID

from anju_contracts.mediation import DisputeErased, DisputeRegistered
from anju_mediation.application.aggregates import DISPUTE_RETENTION_DUE, DISPUTES
from anju_mediation.testing import MediationClient as Mediation
from eventkit.personal import ERASED_TEXT
from eventkit.scheduler import Scheduler
from eventkit.testing.relay import envelope_json, on_the_wire, read_topic

PERIOD = timedelta(days=1096)  # the default for closed disputes: three years


async def retention_deadline(mediation: Mediation, dispute_id: str) -> Any:
    return await mediation.runtime.pool.fetchrow(
        "SELECT due_at, fired_at FROM deadlines WHERE kind = $1 AND key = $2",
        DISPUTE_RETENTION_DUE,
        dispute_id,
    )


async def fire(mediation: Mediation) -> None:
    """The service's deadlines, fired on its (advanced) manual clock."""
    await Scheduler(
        mediation.runtime.store, mediation.runtime.deadlines, clock=mediation.clock
    ).fire_due()


async def description(mediation: Mediation, dispute_id: str) -> str:
    """The description as the store opens it (what a replay or a rebuild reads)."""
    stream = await mediation.runtime.store.load(DISPUTES.stream(UUID(dispute_id)))
    registered = stream.events[0].event
    assert isinstance(registered, DisputeRegistered)
    return registered.description


async def published(mediation: Mediation, event_type: str) -> list[Any]:
    topic = f"{mediation.settings.kafka.topic_prefix}mediation.events"
    for _ in range(100):
        records = await read_topic(mediation.settings.kafka.bootstrap, topic)
        found = [r for r in records if envelope_json(r)["type"] == event_type]
        if found:
            return found
        await asyncio.sleep(0.1)
    raise AssertionError(f"{event_type} was not published")


async def test_a_closed_dispute_is_erased_when_its_period_ends(mediation: Mediation) -> None:
    signal = await mediation.ok(
        "/signals",
        {
            "reporter_role": "grid_worker",
            "area_id": mediation.building_id,
            "category": "water_leak",
            "description": "3楼王家漏水到2楼",
            "involved_resident_ids": mediation.residents[:1],
        },
    )
    parties = [
        {"role": "applicant", "resident_id": mediation.residents[0], "name": "李秀兰"},
        {"role": "respondent", "name": "物业公司张经理", "contact": "0571-1234"},
    ]
    dispute = await mediation.ok(f"/signals/{signal}/dispute", {"parties": parties})
    base = f"/disputes/{dispute}"
    await mediation.ok(f"{base}/resolution", {"outcome": "物业修好了水管"})
    closed_at = mediation.clock.now
    await mediation.ok(f"{base}/closing", {"note": "双方满意"})
    assert (await retention_deadline(mediation, dispute))["due_at"] == closed_at + PERIOD

    # Reopened within its window, a dispute is kept while worked on: no deadline.
    reopened = await mediation.register()
    await mediation.ok(f"/disputes/{reopened}/resolution", {"outcome": "ok"})
    await mediation.ok(f"/disputes/{reopened}/closing", {})
    await mediation.ok(f"/disputes/{reopened}/reopening", {"reason": "又吵起来了"})
    assert await retention_deadline(mediation, reopened) is None

    mediation.clock.now = closed_at + PERIOD - timedelta(hours=1)
    await fire(mediation)
    assert await description(mediation, dispute) == "3楼王家漏水到2楼"

    mediation.clock.now = closed_at + PERIOD + timedelta(minutes=1)
    await fire(mediation)
    await fire(mediation)  # once only
    assert (await retention_deadline(mediation, dispute))["fired_at"] is not None

    assert await description(mediation, dispute) == ERASED_TEXT
    view = await mediation.dispute(dispute)
    applicant, respondent = view["parties"]
    assert (respondent["name"], respondent["contact"]) == (ERASED_TEXT, ERASED_TEXT)
    assert applicant["name"] == "李秀兰"  # a registered resident's own key stays theirs
    assert view["status"] == "closed"
    signal_view = await mediation.client.get(f"/signals/{signal}", headers=mediation.admin)
    assert signal_view.json()["description"] == ERASED_TEXT

    stream = await mediation.runtime.store.load(DISPUTES.stream(UUID(dispute)))
    erased = [r.event for r in stream.events if isinstance(r.event, DisputeErased)]
    assert [(e.basis, str(e.signal_id)) for e in erased] == [("retention", signal)]
    [message] = await published(mediation, "mediation.DisputeErased")
    assert envelope_json(message)["data"] == {
        "dispute_id": dispute,
        "signal_id": signal,
        "basis": "retention",
    }
    assert "物业".encode() not in on_the_wire(message)
    assert await description(mediation, reopened) == "楼上夜间噪音"
