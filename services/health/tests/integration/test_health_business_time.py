"""Business time in health, over HTTP on real PostgreSQL and the real broker: what the doctor's
paper ledger holds is recorded with the day it happened — the record, the programme and the
visits it books run from that day —, a check-up dated before its visit was due completes it on
time though the scheduler marked it overdue meanwhile, and back-dating is the doctors'
permission, audited."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Any

from anju_contracts.health import VisitCompleted, VisitOverdue
from anju_health.testing import HealthClient
from eventkit import audit

Json = dict[str, Any]


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def record(health: HealthClient, resident_id: str) -> Json:
    response = await health.get(f"/records/{resident_id}")
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def test_a_check_up_from_the_ledger_completes_on_time_a_visit_marked_overdue(
    health: HealthClient,
) -> None:
    # registered from the registry's own ledger five months ago, aged 70: the record opens and
    # the first check-up falls due then, so it is long overdue when health learns of it
    registered = health.clock.now - timedelta(days=150)
    resident_id = await health.feed.resident(born=date(1956, 1, 1), registered_at=registered)
    stream_id = f"record-{resident_id}"
    opened = (await health.runtime.store.load(stream_id)).events[0]
    assert opened.occurred_at == registered
    assert await health.scheduler(days_ahead=0).fire_due() == 1
    (visit,) = (await record(health, resident_id))["visits"]
    assert (visit["due_on"], visit["overdue"]) == (str((registered + timedelta(30)).date()), True)

    checked = registered + timedelta(days=20)  # ten days before it was due
    answer = await health.ok(
        f"/records/{resident_id}/encounters",
        {
            "programme": "elderly_annual",
            "observations": {"systolic_mmhg": 132, "diastolic_mmhg": 84},
            "occurred_at": checked.isoformat(),
        },
    )
    body = await record(health, resident_id)
    (encounter,) = body["encounters"]
    assert (encounter["encounter_id"], encounter["occurred_on"]) == (
        answer["sub_id"],
        str(checked.date()),
    )
    (following,) = body["visits"]  # a year after the check-up, not after today
    assert (following["due_on"], following["overdue"]) == ("2026-10-22", False)

    stream = await health.runtime.store.load(stream_id)
    overdue = next(r for r in stream.events if isinstance(r.event, VisitOverdue))
    done = next(r for r in stream.events if isinstance(r.event, VisitCompleted))
    assert isinstance(done.event, VisitCompleted)
    assert isinstance(overdue.event, VisitOverdue)
    assert done.event.visit_id == overdue.event.visit_id
    assert done.event.completed_on <= overdue.event.due_on  # on time, the mark notwithstanding
    assert (done.occurred_at, done.recorded_at > overdue.recorded_at) == (checked, True)
    (row,) = await audit.backdates_of(health.runtime.pool, stream_id)
    assert (row["sub"], row["occurred_at"]) == ("doctor-1", checked)
    assert row["types"] == ["health.VisitCompleted", "health.VisitBooked"]


async def test_a_record_and_programme_opened_from_the_ledger_run_from_that_day(
    health: HealthClient,
) -> None:
    resident_id = await health.feed.resident(born=date(1980, 5, 5))
    opened_at = health.clock.now - timedelta(days=120)
    at = {"occurred_at": opened_at.isoformat()}
    await health.ok(f"/records/{resident_id}", at)
    before = await health.post(
        f"/records/{resident_id}/conditions",
        {"icd10": "I10", "occurred_at": (opened_at - timedelta(days=1)).isoformat()},
    )
    assert before.status_code == 422, before.text
    assert before.json()["error"]["code"] == "occurred_before_record"
    await health.ok(f"/records/{resident_id}/conditions", {"icd10": "I10", **at})
    await health.ok(f"/records/{resident_id}/programmes", {"programme": "hypertension", **at})
    body = await record(health, resident_id)
    assert body["programmes"] == {"hypertension": str(opened_at.date())}
    assert body["conditions"] == [{"icd10": "I10", "diagnosed_on": str(opened_at.date())}]
    (visit,) = body["visits"]  # a quarter after the enrolment: a month ago
    assert visit["due_on"] == str((opened_at + timedelta(days=90)).date())
    assert await health.scheduler(days_ahead=0).fire_due() == 1
    assert (await record(health, resident_id))["visits"][0]["overdue"] is True

    ahead = await health.post(
        f"/records/{resident_id}/encounters",
        {
            "programme": "hypertension",
            "observations": {"systolic_mmhg": 140, "diastolic_mmhg": 90},
            "occurred_at": (health.clock.now + timedelta(hours=1)).isoformat(),
        },
    )
    assert ahead.status_code == 422, ahead.text
    assert ahead.json()["error"]["code"] == "occurred_in_future"


async def test_a_clinic_day_from_the_ledger_and_who_may_back_date_it(
    health: HealthClient,
) -> None:
    held = health.clock.now - timedelta(days=45)
    body = {
        "kind": "free_check_up_day",
        "held_on": str(held.date()),
        "area_id": health.feed.community_id,
        "place": "社区服务站",
        "partner": "社区卫生服务中心",
        "served": 86,
        "occurred_at": held.isoformat(),
    }
    # desk staff record clinic days as they happen, not from the doctors' ledger
    desk = health.auth("desk_staff", sub="desk-1", areas=[health.feed.community_id])
    refused = await health.post("/activities", body, desk)
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["details"]["action"] == "backdate"
    # dated before the day it was held, the clinic day would lie in the future then
    early = dict(body, occurred_at=(held - timedelta(days=2)).isoformat())
    assert (await health.post("/activities", early)).json()["error"]["code"] == "date_in_future"

    answer = await health.ok("/activities", body)
    view = (await health.get(f"/activities/{answer['id']}", desk)).json()
    assert (view["held_on"], view["served"]) == (str(held.date()), 86)
    stream = await health.runtime.store.load(f"activity-{answer['id']}")
    (event,) = stream.events
    assert (event.occurred_at, event.recorded_at > held) == (held, True)
    director = health.auth("director", sub="director-1", areas=[health.feed.community_id])
    also = await health.post("/activities", dict(body, served=12), director)
    assert also.status_code == 201, also.text
