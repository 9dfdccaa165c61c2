"""Data-subject access on health over HTTP (real PostgreSQL): a director gets the record's
events and sees the chart and protected care withheld by type and count, never their content;
an admin gets them; a managing doctor's role may not ask; outside the areas the resident does
not exist; the request is audited with its reason."""

from __future__ import annotations

import json
from datetime import date
from typing import Any

from anju_health.testing import HealthClient
from eventkit import audit


async def ask(health: HealthClient, resident_id: str, headers: dict[str, str]) -> Any:
    body = {"resident_id": resident_id, "reason": "本人书面申请 2026-017"}
    return await health.post("/subject-access", body, headers)


async def test_a_director_gets_the_record_and_clinical_events_are_withheld(
    health: HealthClient,
) -> None:
    resident_id = await health.feed.resident(None, born=date(1955, 4, 2))
    await health.ok(f"/records/{resident_id}/conditions", {"icd10": "I10"})
    await health.ok(f"/protected/{resident_id}", {"icd10": "F31", "risk_grade": 2})
    director = health.auth("director", sub="director-1", areas=[health.feed.community_id])

    response = await ask(health, resident_id, director)
    assert response.status_code == 200, response.text
    report = response.json()
    assert report["service"] == "health"
    types = {event["type"] for event in report["events"]}
    assert "health.HealthRecordOpened" in types
    assert all(e["stream_id"] == f"record-{resident_id}" for e in report["events"])
    assert all(e["occurred_at"] for e in report["events"])
    text = json.dumps(report["events"])
    assert "I10" not in text
    assert "F31" not in text
    withheld = {w["type"]: w for w in report["withheld"]}
    assert withheld["health.ConditionDiagnosed"]["count"] == 1
    assert withheld["health.ProtectedCareEnrolled"]["count"] == 1
    assert "glass" in withheld["health.ProtectedCareEnrolled"]["why"]

    reads = await audit.reads_of(health.runtime.pool, "subject_access", resident_id)
    assert [(r["sub"], r["reason"], r["route"]) for r in reads] == [
        ("director-1", "本人书面申请 2026-017", "POST /subject-access")
    ]

    everything = (await ask(health, resident_id, health.admin)).json()
    assert everything["withheld"] == []
    assert "F31" in json.dumps(everything["events"])


async def test_only_directors_of_the_area_may_ask_and_only_with_a_reason(
    health: HealthClient,
) -> None:
    resident_id = await health.feed.resident(None, born=date(1970, 1, 1))
    far = health.auth("director", sub="director-2", areas=[health.feed.other_community_id])
    refused = await ask(health, resident_id, far)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "resident_not_found"
    assert (await ask(health, resident_id, health.doctor)).status_code == 403
    director = health.auth("director", sub="director-1", areas=[health.feed.community_id])
    reasonless = await health.post("/subject-access", {"resident_id": resident_id}, director)
    assert reasonless.status_code == 422
    assert await audit.reads_of(health.runtime.pool, "subject_access", resident_id) == []
