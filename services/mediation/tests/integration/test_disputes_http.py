"""Disputes over HTTP against real PostgreSQL: the life of a dispute and the rules it keeps."""

from __future__ import annotations

from datetime import timedelta
from typing import Any
from uuid import UUID

from anju_contracts.mediation import (
    DisputeEscalated,
    DisputeSlaAtRisk,
    DisputeSlaBreached,
    Tier,
)
from anju_mediation.application.aggregates import DISPUTES
from anju_mediation.testing import MediationClient as Mediation


async def events_of(mediation: Mediation, dispute_id: str) -> list[Any]:
    stream = await mediation.runtime.store.load(DISPUTES.stream(UUID(dispute_id)))
    return [recorded.event for recorded in stream.events]


async def accepted(
    mediation: Mediation, url: str, body: dict[str, Any], headers: dict[str, str] | None = None
) -> dict[str, Any]:
    """POST a command that must be accepted; return the whole answer."""
    response = await mediation.post(url, body, headers)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def test_from_signal_to_return_visit_and_close(mediation: Mediation) -> None:
    worker = mediation.auth("grid_worker", sub="gw-1", areas=[mediation.grid_id])
    signal = await mediation.ok(
        "/signals",
        {
            "reporter_role": "grid_worker",
            "area_id": mediation.building_id,
            "category": "water_leak",
            "description": "3楼漏水到2楼",
            "involved_resident_ids": mediation.residents[:2],
        },
        worker,
    )
    applicant, respondent = mediation.dispute_body()["parties"]
    dispute = await mediation.ok(
        f"/signals/{signal}/dispute", {"parties": [applicant, respondent]}, worker
    )
    view = await mediation.dispute(dispute)
    assert view["tier"] == "building"
    assert view["category"] == "water_leak"
    party_ids = [p["party_id"] for p in view["parties"]]
    again = await mediation.post(f"/signals/{signal}/dismissal", {"reason": "x"}, worker)
    assert again.json()["error"]["code"] == "signal_already_handled"

    base = f"/disputes/{dispute}"
    await mediation.ok(f"{base}/mediators", {"mediator_id": "gw-1", "role": "grid_worker"}, worker)
    soon = (mediation.clock.now + timedelta(days=1)).isoformat()
    scheduled = await accepted(
        mediation, f"{base}/sessions", {"scheduled_for": soon, "place": "fengqiao_hut"}, worker
    )
    assert scheduled["id"] == dispute
    session_id = scheduled["sub_id"]
    view = await mediation.dispute(dispute)
    assert list(view["sessions"]) == [session_id]
    held = await accepted(
        mediation,
        f"{base}/sessions/{session_id}/held",
        {"attendees": ["gw-1", "张三", "李四"], "minutes": "agreed to fix the pipe"},
        worker,
    )
    assert held["sub_id"] == session_id
    on_the_spot = await accepted(
        mediation,
        f"{base}/sessions/held",
        {"place": "on_site", "attendees": ["gw-1"], "minutes": "looked at the ceiling"},
        worker,
    )
    held_sessions = (await mediation.dispute(dispute))["held_sessions"]
    assert sorted(held_sessions) == sorted([session_id, on_the_spot["sub_id"]])
    agreed = await accepted(
        mediation,
        f"{base}/agreement",
        {
            "terms": [{"party_id": party_ids[1], "action": "repair the pipe within a week"}],
            "confirmed_by": party_ids,
        },
        worker,
    )
    assert (await mediation.dispute(dispute))["agreement_id"] == agreed["sub_id"]
    await mediation.ok(f"{base}/agreement/follow-ups", {"carried_out": True}, worker)
    await mediation.ok(
        f"{base}/return-visits",
        {
            "satisfaction": [
                {"party_id": party_ids[0], "score": 5},
                {"party_id": party_ids[1], "score": 4},
            ]
        },
        worker,
    )
    bad = await mediation.post(
        f"{base}/return-visits", {"satisfaction": [{"party_id": party_ids[0], "score": 6}]}, worker
    )
    assert bad.status_code == 422
    await mediation.ok(f"{base}/resolution", {"outcome": "pipe repaired"}, worker)
    await mediation.ok(f"{base}/closing", {}, worker)

    refused = await mediation.post(
        f"{base}/mediators", {"mediator_id": "m-2", "role": "lawyer"}, worker
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "dispute_closed"
    mediation.clock.advance(days=29)
    await mediation.ok(f"{base}/reopening", {"reason": "leaking again"}, worker)
    view = await mediation.dispute(dispute)
    assert view["status"] == "open"
    assert view["sla_due_by"].startswith(
        (mediation.clock.now + timedelta(days=3)).date().isoformat()
    )

    names = [type(e).__name__ for e in await events_of(mediation, dispute)]
    assert names == [
        "DisputeRegistered",
        "MediatorAssigned",
        "MediationSessionScheduled",
        "MediationSessionHeld",
        "MediationSessionHeld",
        "AgreementReached",
        "AgreementFollowedUp",
        "ReturnVisitRecorded",
        "DisputeResolved",
        "DisputeClosed",
        "DisputeReopened",
    ]


async def test_reopening_after_the_window_is_refused(mediation: Mediation) -> None:
    dispute = await mediation.register()
    await mediation.ok(f"/disputes/{dispute}/resolution", {"outcome": "ok"})
    mediation.clock.advance(days=31)
    late = await mediation.post(f"/disputes/{dispute}/reopening", {"reason": "again"})
    assert late.status_code == 422
    assert late.json()["error"]["code"] == "reopen_window_passed"


async def test_parties_must_be_known_residents_or_ad_hoc_with_a_contact(
    mediation: Mediation,
) -> None:
    stranger = "00000000-0000-4000-8000-000000000001"
    unknown = await mediation.post(
        "/disputes",
        mediation.dispute_body(parties=[{"role": "applicant", "resident_id": stranger}]),
    )
    assert unknown.status_code == 422
    assert unknown.json()["error"]["code"] == "unknown_resident"
    incomplete = await mediation.post(
        "/disputes", mediation.dispute_body(parties=[{"role": "applicant", "name": "路人"}])
    )
    assert incomplete.json()["error"]["code"] == "ad_hoc_party_incomplete"
    ad_hoc = await mediation.post(
        "/disputes",
        mediation.dispute_body(
            parties=[
                {"role": "applicant", "resident_id": mediation.residents[0]},
                {"role": "respondent", "name": "物业公司", "contact": "0571-1234"},
            ]
        ),
    )
    assert ad_hoc.status_code == 201, ad_hoc.text


async def test_an_agreement_needs_two_parties(mediation: Mediation) -> None:
    dispute = await mediation.register(
        parties=[{"role": "applicant", "resident_id": mediation.residents[0]}]
    )
    party = (await mediation.dispute(dispute))["parties"][0]["party_id"]
    response = await mediation.post(
        f"/disputes/{dispute}/agreement",
        {"terms": [{"party_id": party, "action": "x"}], "confirmed_by": [party]},
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "agreement_needs_two_parties"


async def test_escalation_by_hand_goes_up_only_and_failure_leads_to_referral(
    mediation: Mediation,
) -> None:
    dispute = await mediation.register()
    base = f"/disputes/{dispute}"
    await mediation.ok(f"{base}/escalations", {"reason": "the building lead cannot settle it"})
    down = await mediation.post(f"{base}/escalations", {"to_tier": "building", "reason": "x"})
    assert down.json()["error"]["code"] == "cannot_escalate"
    early = await mediation.post(f"{base}/referrals", {"to": "court"})
    assert early.json()["error"]["code"] == "mediation_not_failed"
    await mediation.ok(f"{base}/failure", {"reason": "the parties would not meet"})
    referral = (await accepted(mediation, f"{base}/referrals", {"to": "court", "note": "x"}))[
        "sub_id"
    ]
    assert list((await mediation.dispute(dispute))["referrals"]) == [referral]
    answered = await accepted(mediation, f"{base}/referrals/{referral}/answer", {"answer": "filed"})
    assert answered["sub_id"] == referral
    view = await mediation.dispute(dispute)
    assert view["tier"] == "grid"
    assert view["referrals"] == {referral: True}


async def test_the_sla_warns_then_breaches_and_escalates(mediation: Mediation) -> None:
    dispute = await mediation.register()
    assert await mediation.scheduler(days_ahead=2).fire_due() == 0
    assert await mediation.scheduler(days_ahead=2.3).fire_due() == 1
    assert await mediation.scheduler(days_ahead=3).fire_due() == 1
    events = await events_of(mediation, dispute)
    at_risk, breached, escalated = events[-3:]
    assert isinstance(at_risk, DisputeSlaAtRisk)
    assert isinstance(breached, DisputeSlaBreached)
    assert isinstance(escalated, DisputeEscalated)
    assert escalated.automatic
    assert escalated.to_tier == Tier.GRID
    # the grid tier's SLA runs from the breach: 7 days, at risk after 5¼
    assert await mediation.scheduler(days_ahead=8).fire_due() == 0
    assert await mediation.scheduler(days_ahead=8.5).fire_due() == 1
    assert await mediation.scheduler(days_ahead=10).fire_due() == 1
    view = await mediation.dispute(dispute)
    assert view["tier"] == "community"


async def test_resolving_stops_the_sla(mediation: Mediation) -> None:
    dispute = await mediation.register()
    await mediation.ok(f"/disputes/{dispute}/resolution", {"outcome": "settled"})
    assert await mediation.scheduler(days_ahead=30).fire_due() == 0


async def test_only_its_mediators_and_its_communitys_directors_see_a_sensitive_dispute(
    mediation: Mediation,
) -> None:
    worker = mediation.auth("grid_worker", sub="gw-1", areas=[mediation.grid_id])
    dispute = await mediation.register(
        worker, sensitivity="sensitive", category="family_elder_care"
    )
    soon = (mediation.clock.now + timedelta(days=1)).isoformat()
    session = {"scheduled_for": soon, "place": "station"}
    # Not even its reporter sees it afterwards: reads and commands both answer "no such dispute",
    # exactly as for an id nobody registered.
    made_up = "00000000-0000-4000-8000-000000000000"
    for headers in (
        worker,
        mediation.auth("director", sub="d-none"),  # a director whose token names no area
        mediation.auth("director", sub="d-other", areas=[mediation.other_community_id]),
        mediation.auth("mediator", sub="m-8", areas=[mediation.community_id]),
    ):
        for target in (dispute, made_up):
            read = await mediation.client.get(f"/disputes/{target}", headers=headers)
            assert read.status_code == 404, read.text
            assert read.json()["error"] == {
                "code": "dispute_not_found",
                "message": "no such dispute",
                "details": {"dispute_id": target},
            }
            write = await mediation.post(f"/disputes/{target}/sessions", session, headers)
            assert write.json() == read.json()
    # Its community's director sees it and assigns a mediator, who then sees it wherever they are.
    await mediation.ok(
        f"/disputes/{dispute}/mediators",
        {"mediator_id": "m-9", "role": "peoples_mediator"},
        mediation.director,
    )
    assigned = mediation.auth("mediator", sub="m-9")
    assert (await mediation.dispute(dispute, assigned))["sensitivity"] == "sensitive"
    await mediation.ok(f"/disputes/{dispute}/sessions", session, assigned)


async def test_roles_act_only_as_their_permissions_say(mediation: Mediation) -> None:
    dispute = await mediation.register()
    agent = mediation.auth("petition_agent", sub="pa-1", areas=[mediation.community_id])
    police = mediation.auth("police", sub="po-1", areas=[mediation.community_id])
    for headers, url, body in (
        (agent, f"/disputes/{dispute}/resolution", {"outcome": "settled"}),
        (police, f"/disputes/{dispute}/resolution", {"outcome": "settled"}),
        (police, f"/disputes/{dispute}/escalations", {"to_tier": "community", "reason": "r"}),
        (agent, f"/disputes/{dispute}/closing", {}),
    ):
        refused = await mediation.post(url, body, headers)
        assert refused.status_code == 403, (url, refused.text)
        assert refused.json()["error"]["code"] == "forbidden"


async def test_grid_workers_act_within_their_grids(mediation: Mediation) -> None:
    elsewhere = mediation.auth("grid_worker", sub="gw-2", areas=[mediation.other_grid_id])
    response = await mediation.post("/disputes", mediation.dispute_body(), elsewhere)
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "area_not_found"
    nobody = await mediation.post("/disputes", mediation.dispute_body(), mediation.auth("doctor"))
    assert nobody.status_code == 403
