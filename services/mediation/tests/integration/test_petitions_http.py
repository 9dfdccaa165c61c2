"""Petitions by proxy over HTTP: the steps, their deadlines, and a missed one."""

from __future__ import annotations

from uuid import UUID

from anju_contracts.mediation import PetitionAccepted, PetitionAnswered
from anju_mediation.application.aggregates import PETITIONS
from anju_mediation.testing import MediationClient as Mediation


async def test_a_petition_is_forwarded_accepted_late_answered_and_closed(
    mediation: Mediation,
) -> None:
    agent = mediation.auth("petition_agent", sub="agent-1", areas=[mediation.community_id])
    petition = await mediation.ok(
        "/petitions",
        {
            "resident_id": mediation.residents[0],
            "subject": "供暖不足",
            "department": "住房保障中心",
        },
        agent,
    )
    base = f"/petitions/{petition}"
    early = await mediation.post(f"{base}/acceptance", {}, agent)
    assert early.json()["error"]["code"] == "petition_out_of_order"
    await mediation.ok(f"{base}/forwarding", {}, agent)
    assert await mediation.scheduler(days_ahead=14).fire_due() == 0
    assert await mediation.scheduler(days_ahead=15).fire_due() == 1
    mediation.clock.advance(days=16)
    await mediation.ok(f"{base}/acceptance", {}, agent)
    mediation.clock.advance(days=10)
    await mediation.ok(f"{base}/answer", {"answer": "radiators replaced"}, agent)
    await mediation.ok(f"{base}/closing", {"outcome": "resolved"}, agent)
    assert await mediation.scheduler(days_ahead=100).fire_due() == 0

    stream = await mediation.runtime.store.load(PETITIONS.stream(UUID(petition)))
    events = [r.event for r in stream.events]
    assert [type(e).__name__ for e in events] == [
        "PetitionProxied",
        "PetitionForwarded",
        "PetitionDeadlineMissed",
        "PetitionAccepted",
        "PetitionAnswered",
        "PetitionClosed",
    ]
    accepted, answered = events[3], events[4]
    assert isinstance(accepted, PetitionAccepted)
    assert isinstance(answered, PetitionAnswered)
    assert accepted.on_time is False
    assert answered.on_time is True
    assert stream.events[0].area == mediation.grid_id


async def test_a_petition_is_for_a_resident_the_registry_knows(mediation: Mediation) -> None:
    response = await mediation.post(
        "/petitions",
        {
            "resident_id": "00000000-0000-4000-8000-000000000002",
            "subject": "x",
            "department": "y",
        },
    )
    assert response.json()["error"]["code"] == "unknown_resident"
