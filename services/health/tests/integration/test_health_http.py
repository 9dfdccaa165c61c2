"""Health over HTTP on real PostgreSQL and the real broker: enrolment by age and by birthday,
visits due → overdue once, skip and reschedule, check-ups booking the next, death closing the
record, protected care with break-the-glass and its audit, and what reaches health.events."""

from __future__ import annotations

import asyncio
import json
from datetime import date
from typing import Any
from uuid import UUID

import jsonschema
from aiokafka import AIOKafkaConsumer

from anju_contracts.health import CATALOG
from anju_contracts.registry import ResidentDied
from anju_health.application.aggregates import protected_stream
from anju_health.testing import HealthClient
from eventkit import audit
from eventkit.testing.relay import envelope_json, on_the_wire, publish_everything

Json = dict[str, Any]


async def resident(health: HealthClient, born: date, grid_id: str | None = None) -> str:
    return await health.feed.resident(grid_id, born=born, registered_at=health.clock.now)


async def record(health: HealthClient, resident_id: str, headers: Json | None = None) -> Json:
    response = await health.get(f"/records/{resident_id}", headers)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def event_types(health: HealthClient, stream: str) -> list[str]:
    loaded = await health.runtime.store.load(stream)
    return [r.event.event_type for r in loaded.events]


async def test_a_resident_registered_at_65_is_enrolled_and_the_read_is_audited(
    health: HealthClient,
) -> None:
    resident_id = await resident(health, date(1955, 4, 2))
    body = await record(health, resident_id)
    assert body["programmes"] == {"elderly_annual": "2026-03-01"}
    (visit,) = body["visits"]
    assert (visit["kind"], visit["due_on"], visit["overdue"]) == ("check_up", "2026-03-31", False)
    reads = await audit.reads_of(health.runtime.pool, "health_record", resident_id)
    assert [(r["sub"], r["route"]) for r in reads] == [("doctor-1", "GET /records/{resident_id}")]


async def test_the_65th_birthday_enrols_when_the_clock_reaches_it(health: HealthClient) -> None:
    resident_id = await resident(health, date(1961, 3, 11))  # 65 in ten days
    assert (await health.get(f"/records/{resident_id}")).status_code == 404
    assert await health.scheduler(days_ahead=9).fire_due() == 0
    assert await health.scheduler(days_ahead=10).fire_due() == 1
    body = await record(health, resident_id)
    assert list(body["programmes"]) == ["elderly_annual"]
    assert "health.ProgrammeEnrolled" in await event_types(health, f"record-{resident_id}")


async def test_a_missed_check_up_is_overdue_once_and_a_reschedule_opens_a_new_window(
    health: HealthClient,
) -> None:
    resident_id = await resident(health, date(1950, 1, 1))
    # due on 31 March, a week's grace: overdue from 8 April
    assert await health.scheduler(days_ahead=37).fire_due() == 0
    assert await health.scheduler(days_ahead=38).fire_due() == 1
    assert await health.scheduler(days_ahead=60).fire_due() == 0
    (visit,) = (await record(health, resident_id))["visits"]
    assert visit["overdue"] is True
    health.clock.advance(days=40)
    moved = await health.post(
        f"/records/{resident_id}/visits/{visit['visit_id']}/reschedule",
        {"due_on": "2026-04-20", "reason": "resident_asked"},
    )
    assert moved.status_code == 201, moved.text
    (visit,) = (await record(health, resident_id))["visits"]
    assert (visit["due_on"], visit["overdue"]) == ("2026-04-20", False)
    assert await health.scheduler(days_ahead=30).fire_due() == 1
    types = await event_types(health, f"record-{resident_id}")
    assert types.count("health.VisitOverdue") == 2
    skipped = await health.post(
        f"/records/{resident_id}/visits/{visit['visit_id']}/skip", {"reason": "away"}
    )
    assert skipped.status_code == 201, skipped.text
    (after,) = (await record(health, resident_id))["visits"]
    assert after["visit_id"] != visit["visit_id"]
    assert after["due_on"] == "2027-04-20"


async def test_a_check_up_records_readings_books_the_next_and_flags_what_alarms(
    health: HealthClient,
) -> None:
    resident_id = await resident(health, date(1950, 1, 1))
    answer = await health.ok(
        f"/records/{resident_id}/encounters",
        {
            "programme": "elderly_annual",
            "observations": {
                "systolic_mmhg": 200,
                "diastolic_mmhg": 120,
                "fasting_glucose_mmol_l": 6.2,
                "height_cm": 158,
                "weight_kg": 61.5,
                "self_care_score": 5,
            },
            "findings": "血压明显升高，建议复查",
            "next_visit_on": "2026-09-01",
        },
    )
    body = await record(health, resident_id)
    (encounter,) = body["encounters"]
    assert encounter["encounter_id"] == answer["sub_id"]
    assert encounter["review"] == ["systolic_high", "diastolic_high"]
    assert encounter["self_care"] == "mild"
    assert body["checked_up_this_year"] is True
    (visit,) = body["visits"]
    assert visit["due_on"] == "2026-09-01"


async def test_impossible_readings_and_codes_get_a_clear_422(health: HealthClient) -> None:
    resident_id = await resident(health, date(1950, 1, 1))
    url = f"/records/{resident_id}/encounters"
    cases = [
        ({"systolic_mmhg": 120, "diastolic_mmhg": 140}, "implausible_reading"),
        ({"weight_kg": 900}, "implausible_reading"),
        ({}, "nothing_observed"),
    ]
    for observations, code in cases:
        response = await health.post(
            url, {"programme": "elderly_annual", "observations": observations}
        )
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == code
    bad_code = await health.post(f"/records/{resident_id}/conditions", {"icd10": "hypertension"})
    assert bad_code.status_code == 422
    future = await health.post(
        url, {"observations": {"heart_rate_bpm": 70}, "occurred_on": "2026-03-09"}
    )
    assert future.status_code == 422
    assert future.json()["error"]["code"] == "date_in_future"
    assert (await record(health, resident_id))["encounters"] == []


async def test_chronic_programmes_need_their_diagnosis(health: HealthClient) -> None:
    resident_id = await resident(health, date(1970, 1, 1))
    url = f"/records/{resident_id}/programmes"
    refused = await health.post(url, {"programme": "type2_diabetes"})
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "diagnosis_required"
    await health.ok(f"/records/{resident_id}/conditions", {"icd10": "E11.9"})
    await health.ok(url, {"programme": "type2_diabetes"})
    body = await record(health, resident_id)
    assert body["conditions"] == [{"icd10": "E11.9", "diagnosed_on": "2026-03-01"}]
    assert [v["kind"] for v in body["visits"]] == ["follow_up"]


async def test_death_closes_the_record_and_cancels_every_visit(health: HealthClient) -> None:
    resident_id = await resident(health, date(1940, 1, 1))
    await health.ok(f"/protected/{resident_id}", {"icd10": "F20.0", "risk_grade": 0})
    await health.feed.learn(
        ResidentDied(resident_id=UUID(resident_id), died_on=date(2026, 2, 28)),
        subject=f"resident-{resident_id}",
        area=UUID(health.feed.grid_id),
    )
    body = await record(health, resident_id)
    assert body["open"] is False
    assert body["visits"] == []
    assert body["programmes"] == {}
    assert await health.scheduler(days_ahead=400).fire_due() == 0
    assert (await event_types(health, protected_stream(UUID(resident_id))))[-1] == (
        "health.ProtectedCareEnded"
    )


async def test_protected_care_break_the_glass_and_its_audit(health: HealthClient) -> None:
    resident_id = await resident(health, date(1980, 6, 1))
    managing = health.doctor
    other = health.auth("doctor", sub="doctor-2", areas=[health.feed.community_id])
    far = health.auth("doctor", sub="doctor-3", areas=[health.feed.other_community_id])
    director = health.auth("director", sub="director-1", areas=[health.feed.community_id])
    grid_worker = health.auth("grid_worker", sub="gw-1", areas=[health.feed.grid_id])
    await health.ok(f"/protected/{resident_id}", {"icd10": "F31", "risk_grade": 2}, managing)

    assert (await health.get(f"/protected/{resident_id}", managing)).json()["risk_grade"] == 2
    hidden = await health.get(f"/protected/{resident_id}", other)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "protected_care_not_found"
    assert (await health.get(f"/protected/{resident_id}", far)).status_code == 404
    assert (await health.get(f"/protected/{resident_id}", director)).status_code == 403
    assert (await health.get(f"/protected/{resident_id}", grid_worker)).status_code == 403
    # the health record shows nothing of protected care, to anyone
    assert "F31" not in json.dumps(await record(health, resident_id))

    reasonless = await health.post(f"/protected/{resident_id}/glass", {"reason": "x"}, other)
    assert reasonless.status_code == 422
    far_glass = await health.post(
        f"/protected/{resident_id}/glass", {"reason": "夜间急诊需了解用药史"}, far
    )
    assert far_glass.status_code == 404
    opened = await health.ok(
        f"/protected/{resident_id}/glass", {"reason": "夜间急诊需了解用药史", "minutes": 30}, other
    )
    assert (await health.get(f"/protected/{resident_id}", other)).status_code == 200
    reads = await audit.reads_of(health.runtime.pool, "protected_care", resident_id)
    assert [r["sub"] for r in reads] == ["doctor-1", "doctor-2"]

    breaks = await health.get("/glass-breaks", director)
    assert breaks.status_code == 200
    (entry,) = breaks.json()
    assert (entry["doctor_id"], entry["reason"]) == ("doctor-2", "夜间急诊需了解用药史")
    assert entry["expires_at"] == opened["expires_at"]
    assert (await health.get("/glass-breaks", other)).status_code == 403

    health.clock.advance(minutes=31)
    assert (await health.get(f"/protected/{resident_id}", other)).status_code == 404


async def test_directors_read_the_audit_of_health_reads_with_the_glass_reasons(
    health: HealthClient,
) -> None:
    resident_id = await resident(health, date(1980, 6, 1))
    elsewhere = await resident(health, date(1975, 1, 1), grid_id=health.feed.other_grid_id)
    other = health.auth("doctor", sub="doctor-2", areas=[health.feed.community_id])
    director = health.auth("director", sub="director-1", areas=[health.feed.community_id])
    far = health.auth("director", sub="director-9", areas=[health.feed.other_community_id])
    await health.ok(f"/protected/{resident_id}", {"icd10": "F31", "risk_grade": 2})
    await health.get(f"/protected/{resident_id}")  # the managing doctor: no reason needed
    await health.get(f"/records/{resident_id}")
    await health.ok(
        f"/protected/{resident_id}/glass", {"reason": "夜间急诊需了解用药史", "minutes": 30}, other
    )
    assert (await health.get(f"/protected/{resident_id}", other)).status_code == 200

    answer = await health.get("/audit/reads", director)
    assert answer.status_code == 200, answer.text
    page = answer.json()
    assert (page["total"], page["limit"], page["offset"]) == (3, 100, 0)
    # the newest first, each with where the resident lives and, under a broken glass, why
    assert [(r["reader"], r["kind"], r["reason"]) for r in page["items"]] == [
        ("doctor-2", "protected_care", "夜间急诊需了解用药史"),
        ("doctor-1", "health_record", None),
        ("doctor-1", "protected_care", None),
    ]
    first = page["items"][0]
    assert first["subject"] == resident_id
    assert first["community_id"] == health.feed.community_id
    assert first["route"] == "GET /protected/{resident_id}"
    assert first["roles"] == ["doctor"]

    async def reads(headers: dict[str, str], **params: str) -> list[tuple[str, str]]:
        answer = await health.client.get("/audit/reads", params=params, headers=headers)
        assert answer.status_code == 200, answer.text
        return [(r["reader"], r["kind"]) for r in answer.json()["items"]]

    assert await reads(director, reader="doctor-2") == [("doctor-2", "protected_care")]
    assert await reads(director, kind="health_record") == [("doctor-1", "health_record")]
    assert len(await reads(director, record=resident_id)) == 3
    assert await reads(director, record=elsewhere) == []
    assert len(await reads(director, area_id=health.feed.grid_id)) == 3
    assert await reads(director, area_id=health.feed.other_grid_id) == []
    day = first["read_at"][:10]  # recorded by the database's clock, in UTC
    assert len(await reads(director, **{"from": day, "to": day})) == 3
    assert await reads(director, **{"from": "2000-01-01", "to": "2000-01-02"}) == []
    assert len(await reads(director, limit="1")) == 1
    # another community's director sees none of them; doctors review nothing; admins all
    assert await reads(far) == []
    assert (await health.get("/audit/reads", other)).status_code == 403
    admin = health.auth("admin", sub="admin-1")
    assert len(await reads(admin)) == 3
    backwards = await health.client.get(
        "/audit/reads", params={"from": "2026-02-01", "to": "2026-01-01"}, headers=director
    )
    assert backwards.status_code == 400
    assert backwards.json()["error"]["code"] == "bad_date_range"


async def test_grid_workers_and_directors_get_no_clinical_data(health: HealthClient) -> None:
    resident_id = await resident(health, date(1950, 1, 1))
    for role in ("grid_worker", "director", "desk_staff"):
        headers = health.auth(role, sub=f"{role}-1", areas=[health.feed.community_id])
        assert (await health.get(f"/records/{resident_id}", headers)).status_code == 403
    far = health.auth("doctor", sub="doctor-9", areas=[health.feed.other_community_id])
    assert (await health.get(f"/records/{resident_id}", far)).status_code == 404
    unknown = await health.get("/records/00000000-0000-0000-0000-000000000001")
    assert unknown.status_code == 404
    hidden = await health.get(f"/records/{resident_id}", far)
    assert unknown.json()["error"] == hidden.json()["error"] | {
        "details": unknown.json()["error"]["details"]
    }


async def test_activities_are_recorded_in_the_callers_areas(health: HealthClient) -> None:
    desk = health.auth("desk_staff", sub="desk-1", areas=[health.feed.community_id])
    body = {
        "kind": "prevention_talk",
        "held_on": "2026-02-20",
        "area_id": health.feed.community_id,
        "place": "社区服务站便民诊疗台",
        "at_station": True,
        "partner": "社区卫生服务中心",
        "staff": ["李医生", "王护士"],
        "served": 42,
        "topic": "冬季心脑血管疾病预防",
    }
    answer = await health.ok("/activities", body, desk)
    got = await health.get(f"/activities/{answer['id']}", desk)
    assert got.json()["served"] == 42
    far = health.auth("desk_staff", sub="desk-2", areas=[health.feed.other_community_id])
    assert (await health.get(f"/activities/{answer['id']}", far)).status_code == 404
    assert (await health.post("/activities", body, far)).status_code == 404
    assert (await health.post("/activities", {**body, "served": -1}, desk)).status_code == 422


async def test_attendance_is_linked_to_a_resident_only_while_they_consent(
    health: HealthClient,
) -> None:
    desk = health.auth("desk_staff", sub="desk-1", areas=[health.feed.community_id])
    resident_id = await resident(health, date(1950, 5, 1))
    body = {
        "kind": "prevention_talk",
        "held_on": "2026-02-20",
        "area_id": health.feed.community_id,
        "place": "社区服务站便民诊疗台",
        "at_station": True,
        "served": 0,
    }
    activity = (await health.ok("/activities", body, desk))["id"]

    async def attendance() -> tuple[int, list[str]]:
        got = (await health.get(f"/activities/{activity}", desk)).json()
        return got["attended"], got["attendees"]

    attend = {"resident_id": resident_id}
    await health.ok(f"/activities/{activity}/attendance", attend, desk)
    assert await attendance() == (1, [])  # no consent: counted anonymously
    purpose = {"purpose": "activity_attendance"}
    await health.ok(f"/consents/{resident_id}", purpose, desk)
    await health.ok(f"/activities/{activity}/attendance", attend, desk)
    assert await attendance() == (2, [resident_id])
    await health.ok(f"/consents/{resident_id}/withdrawal", purpose, desk)
    assert await attendance() == (2, [])  # no longer linked, still counted
    again = await health.post(f"/consents/{resident_id}/withdrawal", purpose, desk)
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "consent_not_given"
    grid_worker = health.auth("grid_worker", sub="gw-1", areas=[health.feed.grid_id])
    assert (await health.post(f"/consents/{resident_id}", purpose, grid_worker)).status_code == 403
    far = health.auth("desk_staff", sub="desk-9", areas=[health.feed.other_community_id])
    assert (await health.post(f"/consents/{resident_id}", purpose, far)).status_code == 404
    assert (await health.post(f"/activities/{activity}/attendance", {}, far)).status_code == 404


async def test_no_diagnosis_or_reading_reaches_health_events(health: HealthClient) -> None:
    """Decode every message on the topic after a day that wrote every kind of clinical fact."""
    elder = await resident(health, date(1948, 8, 8))
    patient = await resident(health, date(1975, 5, 5))
    await health.ok(f"/records/{elder}/conditions", {"icd10": "I10"})
    await health.ok(f"/records/{elder}/programmes", {"programme": "hypertension"})
    await health.ok(f"/records/{elder}/allergies", {"substance": "青霉素", "reaction": "皮疹"})
    await health.ok(
        f"/records/{elder}/encounters",
        {
            "programme": "elderly_annual",
            "observations": {"systolic_mmhg": 187, "diastolic_mmhg": 97, "heart_rate_bpm": 88},
            "findings": "高血压控制不满意",
            "guidance": "低盐饮食",
        },
    )
    await health.ok(f"/protected/{patient}", {"icd10": "F20.0", "risk_grade": 4})
    await health.ok(f"/protected/{patient}/visits", {"risk_grade": 3, "findings": "情绪激动"})
    relay = health.runtime.relay
    assert relay is not None
    await publish_everything(relay)
    expected = await health.runtime.store.head()
    consumer = AIOKafkaConsumer(
        health.settings.topic,
        bootstrap_servers=health.settings.kafka.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    seen: list[Json] = []
    raw: list[bytes] = []
    try:
        async with asyncio.timeout(20):
            while not any(e["type"] == "health.VisitCompleted" for e in seen) or len(seen) < 8:
                for messages in (await consumer.getmany(timeout_ms=200)).values():
                    for message in messages:
                        raw.append(on_the_wire(message))
                        seen.append(envelope_json(message))
            await asyncio.sleep(0.3)
            for messages in (await consumer.getmany(timeout_ms=300)).values():
                for message in messages:
                    raw.append(on_the_wire(message))
                    seen.append(envelope_json(message))
    finally:
        await consumer.stop()
    # the clinical events stayed in the store (counted by id: delivery is at least once, and a
    # relay that reset its cursor may have published the topic's events a second time)
    assert expected > len({envelope["id"] for envelope in seen})
    schemas = {m.event_type: m.model_json_schema() for m in CATALOG.models}
    for envelope in seen:
        assert envelope["type"] not in CATALOG.restricted
        jsonschema.validate(envelope["data"], schemas[envelope["type"]])
    wire = b"\n".join(raw).decode()
    for clinical in (
        "I10",
        "F20",
        "青霉素",
        "高血压",
        "情绪",
        "低盐",
        "icd10",
        "systolic",
        "findings",
        "observations",
        "risk_grade",
        "protected",
    ):
        assert clinical not in wire, clinical
    assert {e["subject"].split("-")[0] for e in seen} == {"record"}
    # yet everything a consumer needs to count is there (once each: a relay that reset its
    # cursor may have published some twice)
    types = [e["type"] for e in {e["id"]: e for e in seen}.values()]
    assert types.count("health.ProgrammeEnrolled") == 2
    assert "health.VisitCompleted" in types
