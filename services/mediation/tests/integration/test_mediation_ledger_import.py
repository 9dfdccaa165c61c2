"""The mediation point's paper ledgers uploaded to ``POST /imports/{kind}``, over HTTP on real
PostgreSQL: each dispute and petition recorded through mediation's own commands on its own days,
never doubled when sent again; a ledger with bad rows writes nothing and names every one; a row
mediation refuses is reported."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import httpx

from anju_mediation.testing import MediationClient


def mediator(mediation: MediationClient) -> dict[str, str]:
    return mediation.auth("mediator", sub="mediator-1", areas=[mediation.community_id])


def agent(mediation: MediationClient) -> dict[str, str]:
    return mediation.auth("petition_agent", sub="agent-1", areas=[mediation.community_id])


async def upload(
    mediation: MediationClient, kind: str, csv: str, headers: dict[str, str], **params: Any
) -> httpx.Response:
    query = {"area_id": mediation.community_id, **params}
    return await mediation.client.post(
        f"/imports/{kind}", content=csv.encode(), params=query, headers=headers
    )


async def records(mediation: MediationClient, kind: str) -> dict[str, list[Any]]:
    """Each record's events (as the store holds them), by its stream."""
    async with mediation.runtime.pool.acquire() as conn:
        ids = await conn.fetch(
            "SELECT DISTINCT stream_id FROM events WHERE stream_id LIKE $1 || '-%'", kind
        )
    return {
        r["stream_id"]: list((await mediation.runtime.store.load(r["stream_id"])).events)
        for r in ids
    }


def disputes_ledger(mediation: MediationClient) -> str:
    first, second = mediation.residents[:2]
    return f"""\
id,registered_on,channel,category,description,area_id,applicant,applicant_resident_id,\
respondent,respondent_contact,respondent_resident_id,mediator,mediator_id,escalated_on,\
escalation_reason,session_on,session_place,agreed_on,terms,failed_on,failure_reason,referred_on,\
referred_to,resolved_on,outcome,satisfaction
T-1,2024-03-04,walk_in,noise,楼上夜间噪音,{mediation.building_id},王秀英,{first},李建国,,{second},\
刘调解,mediator-1,,,2024-03-05,fengqiao_hut,2024-03-05,晚十点后不再装修,,,,,2024-03-05,\
达成协议并履行,5
T-2,2024-03-11,grid_patrol,parking,占用消防通道,{mediation.grid_id},王秀英,{first},张先生,\
13900001111,,,,2024-03-12,双方分歧较大,2024-03-14,station,,,2024-03-14,被申请人拒绝调解,\
2024-03-15,police,,,
T-3,2024-04-20,hotline_12345,property_fees,物业费收费争议,,李建国,{second},物业公司,\
0571-88880001,,,,,,,,,,,,,,,,
"""


async def test_a_disputes_ledger_imported_twice_adds_nothing(mediation: MediationClient) -> None:
    mediation.clock.now = mediation.clock.now.replace(year=2024, month=6, day=1)
    ledger = disputes_ledger(mediation)

    first = await upload(mediation, "disputes", ledger, mediator(mediation))
    assert first.status_code == 200, first.text
    report = first.json()
    assert (report["rows"], report["imported"], report["refused"]) == (3, 3, [])
    recorded = await records(mediation, "dispute")
    assert len(recorded) == 3

    again = await upload(mediation, "disputes", ledger, mediator(mediation))
    assert (again.json()["imported"], again.json()["already_imported"]) == (0, 3)
    assert await records(mediation, "dispute") == recorded

    by_description = {events[0].event.description: events for events in recorded.values()}
    resolved = by_description["楼上夜间噪音"]
    assert [type(e.event).__name__ for e in resolved] == [
        "DisputeRegistered",
        "MediatorAssigned",
        "MediationSessionHeld",
        "AgreementReached",
        "DisputeResolved",
        "ReturnVisitRecorded",
    ]
    # registered at the building, resolved there on its day (in the community's time zone)
    assert resolved[0].event.tier == "building"
    assert resolved[4].event.tier == "building"
    assert resolved[4].occurred_at.isoformat() == "2024-03-05T08:30:00+00:00"
    assert resolved[4].event.on_time is True
    # a party the registry knows is named by their resident id; the return visit asked both
    parties = resolved[0].event.parties
    assert [p.resident_id for p in parties] == [UUID(r) for r in mediation.residents[:2]]
    assert len(resolved[5].event.satisfaction) == 2

    referred = by_description["占用消防通道"]
    assert [type(e.event).__name__ for e in referred] == [
        "DisputeRegistered",
        "DisputeEscalated",
        "MediationSessionHeld",
        "MediationFailed",
        "DisputeReferred",
    ]
    escalated = referred[1].event
    assert (escalated.from_tier, escalated.to_tier) == ("grid", "community")

    still_open = by_description["物业费收费争议"]
    assert [type(e.event).__name__ for e in still_open] == ["DisputeRegistered"]
    assert still_open[0].event.tier == "community"


async def test_a_disputes_ledger_with_bad_rows_writes_nothing_and_names_every_one(
    mediation: MediationClient,
) -> None:
    mediation.clock.now = mediation.clock.now.replace(year=2024, month=6, day=1)
    resident = mediation.residents[0]
    ledger = f"""\
registered_on,category,description,applicant,applicant_resident_id,respondent,\
respondent_contact,resolved_on,outcome,agreed_on,terms
2024-03-04,noise,噪音,王秀英,{resident},李先生,13900001111,2024-03-05,已化解,,
2024-03-04,noise,噪音,王秀英,{resident},李先生,,2024-03-05,已化解,,
2024-03-04,karaoke,噪音,王秀英,{resident},李先生,13900001111,,,,
2024-03-04,noise,噪音,王秀英,{resident},李先生,13900001111,2024-03-02,已化解,,
2024-03-04,noise,噪音,王秀英,{resident},李先生,13900001111,2024-03-05,,,
2024-03-04,noise,噪音,王秀英,{resident},李先生,13900001111,,,2024-03-05,
"""
    answer = await upload(mediation, "disputes", ledger, mediator(mediation))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "ledger_invalid"
    bad = {b["line"]: b for b in error["details"]["invalid"]}
    assert sorted(bad) == [3, 4, 5, 6, 7]
    assert "respondent_contact" in bad[3]["reason"]  # neither a resident nor reachable
    assert bad[4]["column"] == "category"
    assert "follow each other" in bad[5]["reason"]  # resolved before it was registered
    assert "outcome" in bad[6]["reason"]
    assert "terms" in bad[7]["reason"]
    assert await records(mediation, "dispute") == {}


async def test_a_row_mediation_refuses_is_reported(mediation: MediationClient) -> None:
    mediation.clock.now = mediation.clock.now.replace(year=2024, month=6, day=1)
    stranger = "00000000-0000-4000-8000-000000000001"
    ledger = f"""\
registered_on,category,description,applicant,applicant_resident_id,respondent,respondent_contact
2024-03-04,noise,噪音,王秀英,{mediation.residents[0]},李先生,13900001111
2024-03-05,noise,噪音,陌生人,{stranger},李先生,13900001111
2024-03-06,noise,噪音,王秀英,{mediation.residents[0]},李先生,13900001111
"""
    answer = await upload(mediation, "disputes", ledger, mediator(mediation), skip_bad="true")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["imported"] == 2
    assert [(r["line"], r["step"], r["code"]) for r in report["refused"]] == [
        (3, "register", "unknown_resident")
    ]
    assert len(await records(mediation, "dispute")) == 2

    # a grid worker records disputes as they happen: a ledger's past days are not theirs
    grid_worker = mediation.auth("grid_worker", sub="gw-1", areas=[mediation.community_id])
    refused = await upload(mediation, "disputes", ledger, grid_worker)
    assert refused.json()["stopped"]
    assert {r["code"] for r in refused.json()["refused"]} == {"forbidden"}


PETITIONS = """\
filed_on,resident_id,subject,department,forwarded_on,accepted_on,answered_on,answer,closed_on,\
outcome
2024-01-08,{0},老旧小区加装电梯,住房和城乡建设局,2024-01-09,2024-01-15,2024-02-20,已纳入改造计划,\
2024-02-22,已办结，当事人认可
2024-02-01,{1},低保资格复核,民政局,2024-02-02,,,,2024-04-01,当事人撤回
2024-03-01,{0},供暖不足,住房保障中心,2024-03-01,2024-03-05,,,,
"""


async def test_a_petitions_ledger_runs_each_petition_to_its_end(
    mediation: MediationClient,
) -> None:
    mediation.clock.now = mediation.clock.now.replace(year=2024, month=6, day=1)
    ledger = PETITIONS.format(*mediation.residents[:2])

    first = await upload(mediation, "petitions", ledger, agent(mediation))
    assert first.status_code == 200, first.text
    assert (first.json()["imported"], first.json()["refused"]) == (3, [])
    recorded = await records(mediation, "petition")
    steps = sorted([type(e.event).__name__ for e in events] for events in recorded.values())
    assert steps == [
        ["PetitionProxied", "PetitionForwarded", "PetitionAccepted"],
        [
            "PetitionProxied",
            "PetitionForwarded",
            "PetitionAccepted",
            "PetitionAnswered",
            "PetitionClosed",
        ],
        ["PetitionProxied", "PetitionForwarded", "PetitionClosed"],
    ]
    answered = next(events for events in recorded.values() if len(events) == 5)
    assert answered[3].event.on_time is True
    assert answered[3].occurred_at.isoformat() == "2024-02-20T07:00:00+00:00"

    again = await upload(mediation, "petitions", ledger, agent(mediation))
    assert (again.json()["imported"], again.json()["already_imported"]) == (0, 3)
    assert await records(mediation, "petition") == recorded

    bad = "filed_on,resident_id,subject,department,accepted_on\n2024-01-08,{0},电梯,住建局,2024-01-09\n"
    invalid = await upload(
        mediation, "petitions", bad.format(mediation.residents[0]), agent(mediation)
    )
    assert invalid.status_code == 422, invalid.text
    assert "forwarded_on" in invalid.json()["error"]["details"]["invalid"][0]["reason"]
