"""Mediation's own read routes: a signal, a petition, a dispute — scoped, and sensitive
disputes' reads audited."""

from __future__ import annotations

from anju_mediation.testing import MediationClient as Mediation
from eventkit.audit import reads_of


async def test_a_signal_reads_back_within_the_callers_areas(mediation: Mediation) -> None:
    worker = mediation.auth("grid_worker", sub="gw-1", areas=[mediation.grid_id])
    signal = await mediation.ok(
        "/signals",
        {
            "reporter_role": "grid_worker",
            "area_id": mediation.building_id,
            "category": "parking",
            "description": "占用消防通道停车",
            "involved_resident_ids": mediation.residents[:1],
        },
        worker,
    )
    response = await mediation.client.get(f"/signals/{signal}", headers=worker)
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["status"] == "reported"
    assert view["category"] == "parking"
    assert view["description"] == "占用消防通道停车"
    assert view["reporter_id"] == "gw-1"
    assert view["reporter_role"] == "grid_worker"
    assert view["involved_resident_ids"] == mediation.residents[:1]
    assert view["location"]["area_id"] == mediation.building_id
    assert view["version"] == 1

    dispute = await mediation.ok(
        f"/signals/{signal}/dispute", {"parties": mediation.dispute_body()["parties"]}, worker
    )
    converted = (await mediation.client.get(f"/signals/{signal}", headers=worker)).json()
    assert converted["status"] == "converted"
    assert converted["dispute_id"] == dispute

    outsider = mediation.auth("grid_worker", sub="gw-2", areas=[mediation.other_grid_id])
    hidden = await mediation.client.get(f"/signals/{signal}", headers=outsider)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "signal_not_found"
    unknown = await mediation.client.get(f"/signals/{mediation.residents[0]}", headers=worker)
    assert unknown.status_code == 404


async def test_a_petition_reads_back_within_the_callers_areas(mediation: Mediation) -> None:
    agent = mediation.auth("petition_agent", sub="agent-1", areas=[mediation.community_id])
    petition = await mediation.ok(
        "/petitions",
        {"resident_id": mediation.residents[0], "subject": "供暖不足", "department": "住建局"},
        agent,
    )
    await mediation.ok(f"/petitions/{petition}/forwarding", {}, agent)
    response = await mediation.client.get(f"/petitions/{petition}", headers=agent)
    assert response.status_code == 200, response.text
    view = response.json()
    assert view["status"] == "forwarded"
    assert view["resident_id"] == mediation.residents[0]
    assert view["agent_id"] == "agent-1"
    assert view["subject"] == "供暖不足"
    assert view["department"] == "住建局"
    assert view["due_by"] is not None
    assert view["missed"] == []
    assert view["version"] == 2

    outsider = mediation.auth("petition_agent", areas=[mediation.other_grid_id])
    hidden = await mediation.client.get(f"/petitions/{petition}", headers=outsider)
    assert hidden.status_code == 404
    assert hidden.json()["error"]["code"] == "petition_not_found"


async def test_reads_of_a_sensitive_dispute_are_audited(mediation: Mediation) -> None:
    pool = mediation.runtime.pool
    sensitive = await mediation.register(sensitivity="sensitive")
    standard = await mediation.register()
    await mediation.ok(
        f"/disputes/{sensitive}/mediators", {"mediator_id": "pm-1", "role": "peoples_mediator"}
    )

    director = mediation.auth("director", sub="director-1", areas=[mediation.community_id])
    await mediation.dispute(standard, director)
    assert await reads_of(pool, "dispute", standard) == []

    await mediation.dispute(sensitive, director)
    mediator = mediation.auth("mediator", sub="pm-1")
    await mediation.dispute(sensitive, mediator)
    rows = await reads_of(pool, "dispute", sensitive)
    assert [(r["sub"], r["roles"]) for r in rows] == [
        ("director-1", ["director"]),
        ("pm-1", ["mediator"]),
    ]
    assert {r["route"] for r in rows} == {"GET /disputes/{dispute_id}"}

    # Refused reads show nothing and are not recorded as reads.
    worker = mediation.auth("grid_worker", sub="gw-1", areas=[mediation.grid_id])
    refused = await mediation.client.get(f"/disputes/{sensitive}", headers=worker)
    assert refused.status_code == 404
    assert len(await reads_of(pool, "dispute", sensitive)) == 2
