"""Business time in mediation, over HTTP on real PostgreSQL: disputes and petitions brought in
from the paper ledgers carry the days they happened, their SLAs and deadlines run from them, and
"on time" is judged from those days — not from the marks the scheduler made on the clock before
the ledger's settling fact arrived. Back-dating is the ledger keepers' permission, audited."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

from anju_contracts.mediation import (
    AgreementReached,
    DisputeEscalationsWithdrawn,
    DisputeResolved,
    MediationSessionHeld,
    PetitionAccepted,
    ReturnVisitRecorded,
    Tier,
)
from anju_mediation.application.aggregates import DISPUTES, PETITIONS
from anju_mediation.testing import MediationClient as Mediation
from eventkit import audit


def iso(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def dated(at: datetime, **body: Any) -> dict[str, Any]:
    return {**body, "occurred_at": at.isoformat()}


async def refused(
    mediation: Mediation, url: str, body: dict[str, Any], headers: dict[str, str]
) -> tuple[int, str]:
    response = await mediation.post(url, body, headers)
    return response.status_code, response.json()["error"]["code"]


async def settle_the_clock(mediation: Mediation) -> None:
    """The scheduler, at today's time, does all it finds due (breaches escalate, on and on)."""
    await mediation.scheduler(days_ahead=0).fire_due()


async def test_a_dispute_from_the_ledger_resolved_before_its_sla_ran_out(
    mediation: Mediation,
) -> None:
    community = [mediation.community_id]
    mediator = mediation.auth("mediator", sub="m-1", areas=community)
    police = mediation.auth("police", sub="po-1", areas=community)
    grid_worker = mediation.auth("grid_worker", sub="gw-1", areas=[mediation.grid_id])
    registered_at = mediation.clock.now - timedelta(days=40)
    body = dated(registered_at, **mediation.dispute_body())

    # Grid workers and the desk record as things happen; they may not back-date.
    for headers in (grid_worker, mediation.auth("desk_staff", sub="desk-1", areas=community)):
        response = await mediation.post("/disputes", body, headers)
        assert response.status_code == 403, response.text
        assert response.json()["error"]["details"]["action"] == "backdate"
    ahead = dated(mediation.clock.now + timedelta(hours=1), **mediation.dispute_body())
    assert await refused(mediation, "/disputes", ahead, mediator) == (422, "occurred_in_future")

    dispute = await mediation.ok("/disputes", body, mediator)
    base = f"/disputes/{dispute}"
    view = await mediation.dispute(dispute)
    assert view["tier_entered_at"] == iso(registered_at)
    assert view["sla_due_by"] == iso(registered_at + timedelta(days=3))
    stream_id = DISPUTES.stream(UUID(dispute))
    (row,) = await audit.backdates_of(mediation.runtime.pool, stream_id)
    assert (row["sub"], row["types"]) == ("m-1", ["mediation.DisputeRegistered"])

    # Today's scheduler finds every SLA of the old dispute run out: it escalates up to external.
    await settle_the_clock(mediation)
    assert (await mediation.dispute(dispute))["tier"] == "external"

    # The ledger: a session at the police point the next day, the agreement and the resolution
    # the day after — before the building tier's three days were up — and a return visit.
    before = dated(registered_at - timedelta(hours=1), outcome="settled")
    assert await refused(mediation, f"{base}/resolution", before, mediator) == (
        422,
        "occurred_before_record",
    )
    party_ids = [p["party_id"] for p in view["parties"]]
    held_at = registered_at + timedelta(days=1)
    session = dated(held_at, place="police_point", attendees=["po-1"], minutes="两家各让一步")
    await mediation.ok(f"{base}/sessions/held", session, police)
    agreed_at = registered_at + timedelta(days=2)
    term = {"party_id": party_ids[1], "action": "晚十点后不再装修"}
    agreement = dated(agreed_at, terms=[term], confirmed_by=party_ids)
    await mediation.ok(f"{base}/agreement", agreement, mediator)
    await mediation.ok(f"{base}/resolution", dated(agreed_at, outcome="达成协议"), mediator)
    visited_at = registered_at + timedelta(days=10)
    satisfaction = [{"party_id": p, "score": 5} for p in party_ids]
    await mediation.ok(
        f"{base}/return-visits", dated(visited_at, satisfaction=satisfaction), mediator
    )

    view = await mediation.dispute(dispute)
    assert (view["status"], view["tier"], view["resolved_on_time"]) == (
        "resolved",
        "building",
        True,
    )
    assert view["resolved_at"] == iso(agreed_at)
    assert view["sla_due_by"] == iso(registered_at + timedelta(days=3))
    assert view["reopen_until"] == iso(agreed_at + timedelta(days=30))
    events = {type(e.event): e for e in (await mediation.runtime.store.load(stream_id)).events}
    held = events[MediationSessionHeld]
    assert isinstance(held.event, MediationSessionHeld)
    assert (held.event.held_at, held.occurred_at) == (held_at, held_at)
    reached = events[AgreementReached].event
    assert isinstance(reached, AgreementReached)
    assert reached.reached_at == agreed_at
    withdrawn = events[DisputeEscalationsWithdrawn].event
    assert isinstance(withdrawn, DisputeEscalationsWithdrawn)
    assert withdrawn.withdrawn == [Tier.GRID, Tier.COMMUNITY, Tier.EXTERNAL]
    resolved = events[DisputeResolved]
    assert isinstance(resolved.event, DisputeResolved)
    assert (resolved.event.tier, resolved.event.on_time) == (Tier.BUILDING, True)
    assert resolved.occurred_at == agreed_at
    assert resolved.recorded_at > agreed_at
    revisit = events[ReturnVisitRecorded].event
    assert isinstance(revisit, ReturnVisitRecorded)
    assert revisit.visited_at == visited_at
    assert await mediation.scheduler(days_ahead=60).fire_due() == 0
    kinds = [r["types"] for r in await audit.backdates_of(mediation.runtime.pool, stream_id)]
    assert ["mediation.DisputeEscalationsWithdrawn", "mediation.DisputeResolved"] in kinds


async def test_an_escalation_by_hand_from_the_ledger_starts_the_grid_sla_on_its_day(
    mediation: Mediation,
) -> None:
    mediator = mediation.auth("mediator", sub="m-1", areas=[mediation.community_id])
    registered_at = mediation.clock.now - timedelta(days=40)
    dispute = await mediation.ok(
        "/disputes", dated(registered_at, **mediation.dispute_body()), mediator
    )
    base = f"/disputes/{dispute}"
    await settle_the_clock(mediation)
    escalated_at = registered_at + timedelta(days=1)
    await mediation.ok(
        f"{base}/escalations",
        dated(escalated_at, to_tier="grid", reason="楼栋长调解不成"),
        mediator,
    )
    view = await mediation.dispute(dispute)
    assert (view["tier"], view["tier_entered_at"]) == ("grid", iso(escalated_at))
    assert view["sla_due_by"] == iso(escalated_at + timedelta(days=7))

    # The grid's seven days are long past too: the scheduler escalates again, on the clock.
    await settle_the_clock(mediation)
    assert (await mediation.dispute(dispute))["tier"] == "external"
    too_early = dated(escalated_at - timedelta(hours=2), outcome="x")
    assert await refused(mediation, f"{base}/resolution", too_early, mediator) == (
        422,
        "occurred_before_tier_entered",
    )
    resolved_at = escalated_at + timedelta(days=5)
    await mediation.ok(f"{base}/resolution", dated(resolved_at, outcome="调解成功"), mediator)
    view = await mediation.dispute(dispute)
    assert (view["tier"], view["resolved_on_time"]) == ("grid", True)


async def test_a_petition_from_the_ledger_accepted_by_its_due_time_is_on_time(
    mediation: Mediation,
) -> None:
    agent = mediation.auth("petition_agent", sub="agent-1", areas=[mediation.community_id])
    filed_at = mediation.clock.now - timedelta(days=50)
    body = {"resident_id": mediation.residents[0], "subject": "供暖不足", "department": "住建局"}
    petition = await mediation.ok("/petitions", dated(filed_at, **body), agent)
    base = f"/petitions/{petition}"
    forwarded_at = filed_at + timedelta(days=1)
    await mediation.ok(f"{base}/forwarding", dated(forwarded_at), agent)
    acceptance_due = forwarded_at + timedelta(days=15)
    view = (await mediation.get(base, agent)).json()
    assert view["registered_at"] == iso(filed_at)
    assert view["due_by"] == iso(acceptance_due)

    # The acceptance deadline passed a month ago: the scheduler marks it missed...
    await settle_the_clock(mediation)
    assert (await mediation.get(base, agent)).json()["missed"] == ["acceptance"]
    # ... and the ledger's acceptance, dated before it, settles the stage on time.
    accepted_at = forwarded_at + timedelta(days=10)
    await mediation.ok(f"{base}/acceptance", dated(accepted_at), agent)
    answered_at = accepted_at + timedelta(days=20)
    await mediation.ok(f"{base}/answer", dated(answered_at, answer="已更换暖气片"), agent)
    await mediation.ok(f"{base}/closing", dated(answered_at, outcome="resolved"), agent)

    view = (await mediation.get(base, agent)).json()
    assert (view["status"], view["missed"], view["due_by"]) == ("closed", [], None)
    stream = await mediation.runtime.store.load(PETITIONS.stream(UUID(petition)))
    (accepted,) = [r.event for r in stream.events if isinstance(r.event, PetitionAccepted)]
    assert (accepted.accepted_at, accepted.on_time) == (accepted_at, True)
    assert accepted.answer_due_by == accepted_at + timedelta(days=60)
