"""Retention: the scheduler erases a moved-out or dead resident when their record's period
ends (real PostgreSQL, the registry's own scheduler on its manual clock, a real key store)."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID

from anju_contracts.registry import PersonErased
from anju_registry.application.aggregates import RESIDENTS, RETENTION_DUE
from anju_registry.testing import RegistryClient as Registry
from eventkit.personal import ERASED_TEXT

MOVED_OUT_ON = date(2024, 4, 30)
ERASE_AT = datetime(2029, 4, 30, tzinfo=UTC)  # 1826 days later (the default: five years)


async def view(registry: Registry, resident_id: str) -> dict[str, Any]:
    response = await registry.client.get(f"/residents/{resident_id}", headers=registry.admin)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def deadline(registry: Registry, resident_id: str) -> Any:
    return await registry.runtime.pool.fetchrow(
        "SELECT due_at, fired_at, attempts, last_error, payload::text FROM deadlines"
        " WHERE kind = $1 AND key = $2",
        RETENTION_DUE,
        resident_id,
    )


async def fired(registry: Registry, resident_id: str) -> Any:
    """Wait for the service's own scheduler to fire the resident's retention deadline."""
    for _ in range(200):
        row = await deadline(registry, resident_id)
        assert row["attempts"] == 0, row["last_error"]
        if row["fired_at"] is not None:
            return row
        await asyncio.sleep(0.05)
    raise AssertionError("the retention deadline did not fire")


async def erased_events(registry: Registry, resident_id: str) -> list[PersonErased]:
    stream = await registry.runtime.store.load(RESIDENTS.stream(UUID(resident_id)))
    return [r.event for r in stream.events if isinstance(r.event, PersonErased)]


async def test_a_moved_out_resident_is_erased_when_the_period_ends_not_their_return(
    registry: Registry,
) -> None:
    body = registry.resident_body(name="王秀英", phone="13900000001")
    left = (await registry.accepted("/residents", body))["id"]
    await registry.accepted(f"/residents/{left}/move-out", {"moved_out_on": "2024-04-30"})
    armed = await deadline(registry, left)
    assert armed["due_at"] == ERASE_AT
    assert "moved_out" in armed["payload"]

    # Moving back in is a new registration: the identity number passes to the new record.
    back = (await registry.accepted("/residents", {**body, "phone": "13900000002"}))["id"]
    assert back != left

    registry.clock.now = ERASE_AT - timedelta(hours=1)
    await asyncio.sleep(1.5)  # the scheduler polls every second: nothing is due yet
    assert (await deadline(registry, left))["fired_at"] is None
    assert (await view(registry, left))["name"] == "王秀英"

    registry.clock.now = ERASE_AT + timedelta(minutes=1)
    await fired(registry, left)

    old = await view(registry, left)
    assert old["status"] == "erased"
    assert old["name"] == ERASED_TEXT
    assert old["phone"] == ERASED_TEXT
    assert old["id_number"] is None
    assert old["date_of_birth"] is None
    [erasure] = await erased_events(registry, left)
    assert erasure.basis == "retention"
    assert erasure.birth_year == 1950  # the one fact the age-based figures keep
    audit = await registry.runtime.pool.fetchrow(
        "SELECT basis, reason, sub, roles FROM registry_erasures WHERE resident_id = $1",
        UUID(left),
    )
    assert audit["basis"] == "retention"
    assert audit["sub"] == "registry"
    assert audit["roles"] == ["service"]
    assert "retention rule moved_out" in audit["reason"]
    assert "2024-04-30" in audit["reason"]

    # The person who came back keeps everything, their identity number included.
    new = await view(registry, back)
    assert new["status"] == "active"
    assert (new["name"], new["phone"]) == ("王秀英", "13900000002")
    assert new["id_number"] == body["id_number"]
    again = await registry.post("/residents", body)
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "duplicate"


async def test_a_death_is_erased_after_its_period_once_and_an_earlier_erasure_stands(
    registry: Registry,
) -> None:
    died = await registry.register(name="李建国")
    await registry.accepted(f"/residents/{died}/death", {"died_on": "2024-04-01"})
    erased = await registry.register(name="赵丽")
    await registry.accepted(f"/residents/{erased}/death", {"died_on": "2024-04-02"})
    by_hand = await registry.post(
        f"/residents/{erased}/erasure", {"basis": "subject_request", "reason": "family asked"}
    )
    assert by_hand.status_code == 201, by_hand.text

    due = (await deadline(registry, died))["due_at"]
    assert due == datetime(2029, 4, 1, tzinfo=UTC)
    registry.clock.now = due + timedelta(days=2)
    await fired(registry, died)
    await fired(registry, erased)

    assert (await view(registry, died))["name"] == ERASED_TEXT
    assert [e.basis for e in await erased_events(registry, died)] == ["retention"]
    # erased by hand before its period ended: the deadline found nothing left to do
    assert [e.basis for e in await erased_events(registry, erased)] == ["subject_request"]
