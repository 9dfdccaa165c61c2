"""Business time in the registry, over HTTP on real PostgreSQL: residents, households, flags and
follow-up visits brought in from the paper registers carry the days they happened, the follow-up
plan runs from them, and back-dating is the registering staff's permission, audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from anju_contracts.registry import FollowUpVisitOverdue, FollowUpVisitRecorded
from anju_registry.application.aggregates import CARE, HOUSEHOLDS, RESIDENTS
from anju_registry.testing import RegistryClient as Registry, id_number_for
from eventkit import audit


def dated(at: datetime, body: dict[str, Any] | None = None) -> dict[str, Any]:
    return {**(body or {}), "occurred_at": at.isoformat()}


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


async def test_a_resident_and_household_from_the_paper_register(registry: Registry) -> None:
    areas = [registry.community_id]
    desk = registry.auth("desk_staff", sub="desk-1", areas=areas)
    registered_at = registry.clock.now - timedelta(days=60)
    body = dated(registered_at, registry.resident_body())

    # Staff of other services read the registry; they do not bring in its registers.
    police = await registry.post("/residents", body, registry.auth("police", areas=areas))
    assert police.status_code == 403, police.text
    assert police.json()["error"]["details"]["action"] == "backdate"
    ahead = dated(registry.clock.now + timedelta(hours=1), registry.resident_body())
    future = await registry.post("/residents", ahead, desk)
    assert future.status_code == 422, future.text
    assert future.json()["error"]["code"] == "occurred_in_future"
    # Registered on a day before the resident was born: the birth lies in the future then.
    born = (registered_at + timedelta(days=2)).date()
    unborn = registry.resident_body(
        date_of_birth=born.isoformat(), id_number=id_number_for(born, 7)
    )
    born_later = await registry.post("/residents", dated(registered_at, unborn), desk)
    assert born_later.status_code == 422, born_later.text
    assert born_later.json()["error"]["code"] == "date_in_future"

    resident = (await registry.accepted("/residents", body, desk))["id"]
    stream = await registry.runtime.store.load(RESIDENTS.stream(UUID(resident)))
    (registered,) = stream.events
    assert registered.occurred_at == registered_at
    assert registered.recorded_at > registered_at
    (row,) = await audit.backdates_of(registry.runtime.pool, stream.id)
    assert (row["sub"], row["types"]) == ("desk-1", ["registry.ResidentRegistered"])

    formed_at = registered_at + timedelta(days=1)
    household = await registry.accepted(
        "/households",
        dated(formed_at, {"unit_id": registry.unit_id, "head_resident_id": resident}),
        desk,
    )
    formed = await registry.runtime.store.load(HOUSEHOLDS.stream(UUID(household["id"])))
    assert [e.occurred_at for e in formed.events] == [formed_at]

    # A correction dated before the record began is refused; nothing is written.
    early = dated(registered_at - timedelta(days=1), {"phone": "13900000000", "reason": "x"})
    refused = await registry.post(f"/residents/{resident}/corrections", early, desk)
    assert refused.status_code == 422, refused.text
    assert refused.json()["error"]["code"] == "occurred_before_record"

    moved_out_on = (registered_at + timedelta(days=20)).date()
    await registry.accepted(
        f"/residents/{resident}/move-out",
        dated(registered_at + timedelta(days=21), {"moved_out_on": moved_out_on.isoformat()}),
        desk,
    )
    view = (await registry.get(f"/residents/{resident}")).json()
    assert view["status"] == "moved_out"


async def test_a_visit_from_the_ledger_before_its_due_time_fulfils_the_plan(
    registry: Registry,
) -> None:
    worker = registry.auth("grid_worker", sub="gw-1", areas=[registry.grid_id])
    flagged_at = registry.clock.now - timedelta(days=30)
    registered_at = flagged_at - timedelta(days=1)
    body = dated(registered_at, registry.resident_body())
    resident = (await registry.accepted("/residents", body, worker))["id"]
    base = f"/residents/{resident}"
    flag = {"flag": "elderly_alone", "tier": "red"}
    too_early = await registry.post(
        f"{base}/flags", dated(registered_at - timedelta(hours=1), flag), worker
    )
    assert too_early.status_code == 422, too_early.text
    assert too_early.json()["error"]["code"] == "occurred_before_record"
    await registry.accepted(f"{base}/flags", dated(flagged_at, flag), worker)
    due = flagged_at + timedelta(days=7)
    assert (await registry.get(base)).json()["follow_up_due_by"] == iso(due)

    # Today the plan is three weeks overdue: the scheduler marks it.
    scheduler = registry.scheduler(days_ahead=0)
    assert await scheduler.fire_due() == 1
    # The ledger's visit, five days after the flag, fulfils that plan: the next runs from it.
    visited_at = flagged_at + timedelta(days=5)
    visit = await registry.accepted(f"{base}/visits", dated(visited_at, {"findings": "ok"}), worker)
    view = (await registry.get(base)).json()
    assert view["last_visit_at"] == iso(visited_at)
    assert view["follow_up_due_by"] == iso(visited_at + timedelta(days=7))
    care = [
        r.event for r in (await registry.runtime.store.load(CARE.stream(UUID(resident)))).events
    ]
    overdue = [e for e in care if isinstance(e, FollowUpVisitOverdue)]
    assert [e.due_by for e in overdue] == [due]
    (recorded,) = [e for e in care if isinstance(e, FollowUpVisitRecorded)]
    assert (str(recorded.visit_id), recorded.visited_at) == (visit["sub_id"], visited_at)
