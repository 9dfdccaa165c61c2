"""The one access policy as mediation's HTTP clients meet it: what a caller may not see does not
exist for them, on reads and commands alike, and is "unknown" when a command names it."""

from __future__ import annotations

from anju_mediation.testing import MediationClient as Mediation

MADE_UP = "00000000-0000-4000-8000-000000000000"


async def _signal(mediation: Mediation, headers: dict[str, str]) -> str:
    return await mediation.ok(
        "/signals",
        {
            "reporter_role": "grid_worker",
            "area_id": mediation.building_id,
            "category": "water_leak",
            "description": "3楼漏水到2楼",
            "involved_resident_ids": mediation.residents[:1],
        },
        headers,
    )


async def test_signals_and_petitions_elsewhere_are_not_found_and_name_no_area(
    mediation: Mediation,
) -> None:
    insider = mediation.auth("grid_worker", sub="gw-1", areas=[mediation.grid_id])
    signal = await _signal(mediation, insider)
    agent = mediation.auth("petition_agent", sub="pa-1", areas=[mediation.grid_id])
    petition = await mediation.ok(
        "/petitions",
        {"resident_id": mediation.residents[0], "subject": "供暖", "department": "住房保障中心"},
        agent,
    )
    outsider = mediation.auth("grid_worker", sub="gw-2", areas=[mediation.other_grid_id])
    far_agent = mediation.auth("petition_agent", sub="pa-2", areas=[mediation.other_grid_id])
    for headers, kind, real in (
        (outsider, "signal", signal),
        (far_agent, "petition", petition),
    ):
        for target in (real, MADE_UP):
            read = await mediation.client.get(f"/{kind}s/{target}", headers=headers)
            assert read.status_code == 404, read.text
            assert read.json()["error"]["details"] == {f"{kind}_id": target}
    for target in (signal, MADE_UP):
        dismissed = await mediation.post(
            f"/signals/{target}/dismissal", {"reason": "nothing to do"}, outsider
        )
        assert dismissed.status_code == 404
        assert dismissed.json()["error"] == {
            "code": "signal_not_found",
            "message": "no such signal",
            "details": {"signal_id": target},
        }
    for target in (petition, MADE_UP):
        forwarded = await mediation.post(f"/petitions/{target}/forwarding", {}, far_agent)
        assert forwarded.status_code == 404
        assert forwarded.json()["error"]["code"] == "petition_not_found"


async def test_a_resident_of_another_grid_is_unknown_as_a_party(mediation: Mediation) -> None:
    worker = mediation.auth("grid_worker", sub="gw-1", areas=[mediation.grid_id])
    elsewhere = await mediation.resident(mediation.other_grid_id)
    for stranger in (elsewhere, MADE_UP):
        body = mediation.dispute_body(
            parties=[
                {"role": "applicant", "resident_id": mediation.residents[0]},
                {"role": "respondent", "resident_id": stranger},
            ]
        )
        refused = await mediation.post("/disputes", body, worker)
        assert refused.status_code == 422, refused.text
        assert refused.json()["error"]["code"] == "unknown_resident"
        assert refused.json()["error"]["details"] == {"resident_id": stranger}
        signal = await mediation.post(
            "/signals",
            {
                "reporter_role": "grid_worker",
                "area_id": mediation.building_id,
                "category": "noise",
                "description": "噪音",
                "involved_resident_ids": [stranger],
            },
            worker,
        )
        assert signal.status_code == 422
        assert signal.json()["error"]["code"] == "unknown_resident"
    # the director of the community sees both grids: the same party is known to them
    director_body = mediation.dispute_body(
        parties=[
            {"role": "applicant", "resident_id": mediation.residents[0]},
            {"role": "respondent", "resident_id": elsewhere},
        ]
    )
    assert (await mediation.post("/disputes", director_body, mediation.director)).status_code == 201


async def test_a_petition_for_a_resident_the_agent_may_not_see_is_refused(
    mediation: Mediation,
) -> None:
    elsewhere = await mediation.resident(mediation.other_grid_id)
    agent = mediation.auth("petition_agent", sub="pa-1", areas=[mediation.grid_id])
    refused = await mediation.post(
        "/petitions", {"resident_id": elsewhere, "subject": "s", "department": "d"}, agent
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "unknown_resident"
