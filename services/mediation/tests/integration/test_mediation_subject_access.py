"""Data-subject access on mediation over HTTP (real PostgreSQL): mediation keeps no stream keyed
by a resident, so the report is every event naming them — a dispute where they are a party, a
signal that involves them — and nothing of a dispute between others."""

from __future__ import annotations

from anju_mediation.testing import MediationClient as Mediation
from eventkit import audit


async def test_the_report_holds_the_disputes_and_signals_naming_the_resident(
    mediation: Mediation,
) -> None:
    ann, bo, cy = mediation.residents[:3]
    theirs = await mediation.register()  # ann against bo
    others = await mediation.register(
        parties=[
            {"role": "applicant", "resident_id": bo},
            {"role": "respondent", "resident_id": cy},
        ]
    )
    signal = await mediation.ok(
        "/signals",
        {
            "reporter_role": "grid_worker",
            "area_id": mediation.building_id,
            "category": "water_leak",
            "description": "3楼漏水到2楼",
            "involved_resident_ids": [ann],
        },
    )
    director = mediation.auth("director", sub="director-1", areas=[mediation.community_id])
    body = {"resident_id": ann, "reason": "居民本人申请查阅"}

    response = await mediation.post("/subject-access", body, director)
    assert response.status_code == 200, response.text
    report = response.json()
    streams = {event["stream_id"] for event in report["events"]}
    assert f"dispute-{theirs}" in streams
    assert f"signal-{signal}" in streams
    assert f"dispute-{others}" not in streams
    assert report["withheld"] == []
    reads = await audit.reads_of(mediation.runtime.pool, "subject_access", ann)
    assert [r["reason"] for r in reads] == ["居民本人申请查阅"]

    far = mediation.auth("director", sub="director-2", areas=[mediation.other_community_id])
    assert (await mediation.post("/subject-access", body, far)).status_code == 404
    worker = mediation.auth("grid_worker", sub="gw-1", areas=[mediation.grid_id])
    assert (await mediation.post("/subject-access", body, worker)).status_code == 403

    hostile = await mediation.post(
        "/subject-access", {"resident_id": ann, "reason": "居民\x00申请"}, director
    )
    assert hostile.status_code == 422, hostile.text
    assert hostile.json()["error"]["code"] == "validation_failed"
    assert [
        r["reason"] for r in await audit.reads_of(mediation.runtime.pool, "subject_access", ann)
    ] == ["居民本人申请查阅"]
