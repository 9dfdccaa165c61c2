"""Business time in volunteering, over HTTP on real PostgreSQL and the real broker: what the
coordinator's paper ledger holds — a request's work, the hours it earned, their approval — is
recorded with the day it happened; a request taken up before its response time counts as taken
up in time though the scheduler flagged it before the ledger came in; back-dating is the
coordinators' permission, audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from anju_contracts.registry import FlagType, RiskTier, SpecialGroupFlagRaised
from anju_volunteering.domain import plans
from anju_volunteering.testing import VolunteeringClient
from eventkit import audit

Json = dict[str, Any]


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def on(moment: datetime) -> dict[str, str]:
    return {"occurred_at": moment.isoformat()}


async def get(v: VolunteeringClient, url: str) -> Json:
    response = await v.get(url)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def refused(
    v: VolunteeringClient, url: str, body: Json, code: str, headers: dict[str, str] | None = None
) -> None:
    response = await v.post(url, body, headers)
    assert response.status_code in (403, 422), response.text
    error = response.json()["error"]
    assert (error["details"].get("action") if response.status_code == 403 else error["code"]) == (
        code
    )


async def test_a_request_from_the_ledger_was_taken_up_in_time_though_flagged(
    volunteering: VolunteeringClient,
) -> None:
    v = volunteering
    raised = v.clock.now - timedelta(days=30)
    helper = await v.ok(
        "/volunteers",
        {
            "kind": "resident_volunteer",
            "name": "王秀英",
            "area_id": v.feed.grid_id,
            **on(raised - timedelta(days=10)),
        },
    )
    body = {"resident_id": await v.feed.resident(), "kind": "errand", "description": "代买药"}
    request = await v.ok("/requests", {**body, **on(raised)})
    url = f"/requests/{request}"
    # the scheduler, at today's time, finds it not taken up 48 hours after it was raised
    assert await v.scheduler(days_ahead=0).fire_due() == 1
    assert (await get(v, url))["response_overdue"] is True

    await refused(
        v,
        f"{url}/assignment",
        {"volunteer_id": helper, **on(raised - timedelta(hours=1))},
        "occurred_before_record",
    )
    await v.ok(f"{url}/assignment", {"volunteer_id": helper, **on(raised + timedelta(hours=1))})
    grid_worker = v.auth("grid_worker", sub="gw-1", areas=[v.feed.grid_id])
    accepted = raised + timedelta(days=1)  # within the 48 hours
    acceptance = {"volunteer_id": helper, **on(accepted)}
    await refused(v, f"{url}/acceptance", acceptance, "backdate", grid_worker)
    await v.ok(f"{url}/acceptance", acceptance)
    await v.ok(f"{url}/check-in", on(accepted + timedelta(hours=2)))
    await v.ok(f"{url}/check-out", on(accepted + timedelta(hours=5)))
    await v.ok(f"{url}/delivery", {"satisfaction": 5, **on(accepted + timedelta(hours=6))})
    view = await get(v, url)
    assert (view["status"], view["response_overdue"]) == ("delivered", False)
    assert (view["raised_at"], view["respond_by"]) == (
        iso(raised),
        iso(raised + timedelta(hours=48)),
    )

    hours = f"/volunteers/{helper}/hours"
    (entry,) = (await get(v, hours))["entries"]
    assert (entry["served_on"], entry["hours"]) == (str(accepted.date()), 3.0)
    approval = f"{hours}/{entry['entry_id']}/approval"
    await refused(v, approval, on(accepted), "occurred_before_record")
    await refused(v, approval, on(v.clock.now + timedelta(hours=1)), "occurred_in_future")
    approved = accepted + timedelta(days=2)
    await v.ok(approval, on(approved))
    assert (await get(v, hours))["approved_hours"] == 3.0
    ledger = await v.runtime.store.load(f"ledger-{helper}")
    assert [r.occurred_at for r in ledger.events] == [accepted + timedelta(hours=5), approved]
    assert all(r.recorded_at > approved for r in ledger.events)
    rows = await audit.backdates_of(v.runtime.pool, f"request-{request}")
    assert [r["types"] for r in rows][-2:] == [
        ["volunteering.ServiceRequestFinished"],
        ["volunteering.ServiceRequestDelivered"],
    ]
    assert {r["sub"] for r in rows} == {"coord-1"}

    # taken up after its response time: late, whenever that was recorded
    late = await v.ok("/requests", {**body, **on(raised)})
    await v.ok(f"/requests/{late}/assignment", {"volunteer_id": helper, **on(raised)})
    await v.ok(
        f"/requests/{late}/acceptance", {"volunteer_id": helper, **on(raised + timedelta(days=3))}
    )
    assert (await get(v, f"/requests/{late}"))["response_overdue"] is True


async def test_a_cleaning_plan_from_a_flag_of_last_month_starts_on_the_flags_day(
    volunteering: VolunteeringClient,
) -> None:
    v = volunteering
    resident = await v.feed.resident(registered_at=v.clock.now - timedelta(days=60))
    flagged = v.clock.now - timedelta(days=20)  # 18 February
    await v.feed.learn(
        SpecialGroupFlagRaised(
            resident_id=UUID(resident), flag=FlagType.ELDERLY_ALONE, tier=RiskTier.RED
        ),
        subject=f"care-{resident}",
        area=UUID(v.feed.grid_id),
        occurred_at=flagged,
    )
    february = plans.request_id(UUID(resident), "2026-02")
    stream = await v.runtime.store.load(f"request-{february}")
    assert stream.events[0].occurred_at == flagged
    assert (await get(v, f"/requests/{february}"))["raised_at"] == iso(flagged)
    helper = await v.ok(
        "/volunteers",
        {"kind": "resident_volunteer", "name": "赵强", "area_id": v.feed.grid_id, **on(flagged)},
    )
    # the coordinator's ledger: assigned the day after the flag
    await v.ok(
        f"/requests/{february}/assignment",
        {"volunteer_id": helper, **on(flagged + timedelta(days=1))},
    )
    await v.ok(
        f"/requests/{february}/acceptance",
        {"volunteer_id": helper, **on(flagged + timedelta(days=1, hours=2))},
    )
    assert (await get(v, f"/requests/{february}"))["response_overdue"] is False
