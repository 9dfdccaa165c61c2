"""Volunteering over HTTP on real PostgreSQL and the real broker: the elderly-alone plan from the
registry's flag, a request's life, hours once approved, certificates checked without a token,
in-service party members and their host organisation, scoping, and hostile input."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID

from aiokafka import AIOKafkaConsumer

from anju_contracts.registry import (
    FlagType,
    OrganisationKind,
    RiskTier,
    SpecialGroupFlagCleared,
    SpecialGroupFlagRaised,
)
from anju_volunteering.domain import plans
from anju_volunteering.testing import VolunteeringClient
from eventkit.consent import consent_id
from eventkit.testing.relay import envelope_json, publish_everything

Json = dict[str, Any]


async def volunteer(v: VolunteeringClient, name: str = "李志愿", **extra: Any) -> str:
    body = {"kind": "resident_volunteer", "name": name, "area_id": v.feed.grid_id, **extra}
    return await v.ok("/volunteers", body)


async def get(v: VolunteeringClient, url: str, headers: dict[str, str] | None = None) -> Json:
    response = await v.get(url, headers)
    assert response.status_code == 200, response.text
    body: Json = response.json()
    return body


async def flag(v: VolunteeringClient, resident: str, *, raised: bool = True) -> None:
    event = (
        SpecialGroupFlagRaised(
            resident_id=UUID(resident), flag=FlagType.ELDERLY_ALONE, tier=RiskTier.RED
        )
        if raised
        else SpecialGroupFlagCleared(
            resident_id=UUID(resident), flag=FlagType.ELDERLY_ALONE, reason="子女已回家同住"
        )
    )
    await v.feed.learn(
        event,
        subject=f"care-{resident}",
        area=UUID(v.feed.grid_id),
        occurred_at=v.clock.now,
    )


async def test_an_elder_living_alone_gets_a_cleaning_every_month_until_the_flag_clears(
    volunteering: VolunteeringClient,
) -> None:
    v = volunteering
    resident = await v.feed.resident()
    await flag(v, resident)
    march = plans.request_id(UUID(resident), "2026-03")
    first = await get(v, f"/requests/{march}")
    assert (first["kind"], first["raised_by"], first["period"]) == (
        "home_cleaning",
        "elderly_alone_plan",
        "2026-03",
    )
    april = plans.request_id(UUID(resident), "2026-04")
    # nobody took March's up within 48 hours: the coordinator is told (once)
    await v.scheduler(days_ahead=21).fire_due()
    assert (await get(v, f"/requests/{march}"))["response_overdue"] is True
    assert (await v.get(f"/requests/{april}")).status_code == 404
    # the first of April comes; then the scheduler looks again the same month: one request
    await v.scheduler(days_ahead=23).fire_due()
    await v.scheduler(days_ahead=24).fire_due()
    assert (await get(v, f"/requests/{april}"))["status"] == "open"  # and overdue by now
    stream = await v.runtime.store.load(f"request-{april}")
    raised = [r for r in stream.events if r.event.event_type == "volunteering.ServiceRequestRaised"]
    assert len(raised) == 1
    v.clock.advance(days=23)
    await flag(v, resident, raised=False)
    assert (await get(v, f"/requests/{april}"))["status"] == "cancelled"
    # no May
    assert await v.scheduler(days_ahead=60).fire_due() == 0
    may = await v.get(f"/requests/{plans.request_id(UUID(resident), '2026-05')}")
    assert may.status_code == 404


async def test_a_request_is_delivered_and_its_hours_count_once_approved(
    volunteering: VolunteeringClient,
) -> None:
    v = volunteering
    resident = await v.feed.resident()
    grid_worker = v.auth("grid_worker", sub="gw-1", areas=[v.feed.grid_id])
    helper, other = await volunteer(v, "王秀英"), await volunteer(v, "赵强")
    request = await v.ok(
        "/requests",
        {"resident_id": resident, "kind": "errand", "description": "代买降压药"},
        grid_worker,
    )
    await v.ok(f"/requests/{request}/assignment", {"volunteer_id": other})
    await v.ok(f"/requests/{request}/acceptance", {"volunteer_id": other}, grid_worker)
    await v.ok(f"/requests/{request}/decline", {"reason": "unavailable"}, grid_worker)
    await v.ok(f"/requests/{request}/assignment", {"volunteer_id": helper})
    await v.ok(f"/requests/{request}/acceptance", {"volunteer_id": helper}, grid_worker)
    start = v.clock.now
    await v.ok(f"/requests/{request}/check-in", {"at": start.isoformat()}, grid_worker)
    end = start + timedelta(hours=2)
    v.clock.now = end
    await v.ok(f"/requests/{request}/check-out", {"at": end.isoformat()}, grid_worker)
    await v.ok(
        f"/requests/{request}/delivery", {"satisfaction": 5, "feedback": "很及时"}, grid_worker
    )
    assert (await get(v, f"/requests/{request}"))["status"] == "delivered"

    book = await get(v, f"/volunteers/{helper}/hours")
    assert (book["approved_hours"], book["pending_hours"]) == (0, 2.0)
    (entry,) = book["entries"]
    refused = await v.post(
        f"/volunteers/{helper}/hours/{entry['entry_id']}/approval", {}, grid_worker
    )
    assert refused.status_code == 403
    await v.ok(f"/volunteers/{helper}/hours/{entry['entry_id']}/approval")
    again = await v.post(f"/volunteers/{helper}/hours/{entry['entry_id']}/approval")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "hours_already_decided"
    assert (await get(v, f"/volunteers/{helper}/hours"))["approved_hours"] == 2.0

    issued = await v.accepted(
        f"/volunteers/{helper}/certificates",
        {
            "period_from": "2026-01-01",
            "period_to": "2026-03-10",
            "content": "为独居老人代购药品",
            "issuer": "安居社区党支部",
        },
    )
    certificate = await get(v, f"/certificates/{issued['id']}")
    # anyone checks it by its number, without a token
    checked = await v.client.get(f"/public/certificates/{certificate['number']}")
    assert checked.status_code == 200, checked.text
    assert (checked.json()["volunteer"], checked.json()["hours"]) == ("王*英", 2.0)
    assert (await v.client.get("/public/certificates/ANJU-V-2026-0000ABCD")).status_code == 404
    assert (await v.client.get("/public/certificates/not-a-number")).status_code == 422
    assert (await v.client.get(f"/certificates/{issued['id']}")).status_code == 401


async def test_an_in_service_party_member_reports_to_a_known_organisation(
    volunteering: VolunteeringClient,
) -> None:
    v = volunteering
    employer = await v.feed.organisation(OrganisationKind.EMPLOYER, "市供电公司")
    elsewhere = await v.feed.organisation(
        OrganisationKind.EMPLOYER, "外区单位", [v.feed.other_community_id]
    )
    missing = await v.post(
        "/volunteers",
        {"kind": "in_service_party_member", "name": "孙党员", "area_id": v.feed.grid_id},
    )
    assert missing.status_code == 422
    assert missing.json()["error"]["code"] == "organisation_required"
    foreign = await v.post(
        "/volunteers",
        {
            "kind": "in_service_party_member",
            "name": "孙党员",
            "area_id": v.feed.grid_id,
            "organisation_id": elsewhere,
        },
    )
    assert foreign.status_code == 404
    member = await volunteer(v, "孙党员", kind="in_service_party_member", organisation_id=employer)
    assert (await get(v, f"/volunteers/{member}"))["organisation_id"] == employer


async def test_a_coordinator_of_another_community_sees_nothing(
    volunteering: VolunteeringClient,
) -> None:
    v = volunteering
    mine = await volunteer(v)
    request = await v.ok(
        "/requests",
        {"resident_id": await v.feed.resident(), "kind": "repair", "description": "修水龙头"},
    )
    far = v.auth("volunteer_coordinator", sub="coord-9", areas=[v.feed.other_community_id])
    for url in (f"/volunteers/{mine}", f"/requests/{request}", f"/volunteers/{mine}/hours"):
        response = await v.get(url, far)
        assert response.status_code == 404, url
    moved = await v.post(f"/requests/{request}/assignment", {"volunteer_id": mine}, far)
    assert moved.status_code == 404


async def test_hostile_input_gets_clear_errors(volunteering: VolunteeringClient) -> None:
    v = volunteering
    resident = await v.feed.resident()
    cases = [
        ("/requests", {"resident_id": resident, "kind": "errand", "description": "a\x00b"}),
        ("/requests", {"resident_id": resident, "kind": "flying", "description": "x"}),
        ("/volunteers", {"kind": "resident_volunteer", "name": "", "area_id": v.feed.grid_id}),
        ("/volunteers", {"kind": "resident_volunteer", "name": "x", "area_id": "not-an-id"}),
    ]
    for url, body in cases:
        response = await v.post(url, body)
        assert response.status_code == 422, (url, body, response.text)
        assert "code" in response.json()["error"]
    soon = datetime.now(UTC) + timedelta(days=1)
    backwards = await v.post(
        "/activities",
        {
            "kind": "patrol",
            "title": "夜间巡逻",
            "area_id": v.feed.grid_id,
            "shifts": [
                {
                    "shift_id": "00000000-0000-0000-0000-000000000001",
                    "starts_at": soon.isoformat(),
                    "ends_at": (soon - timedelta(hours=1)).isoformat(),
                    "capacity": 3,
                }
            ],
        },
    )
    assert backwards.status_code == 422


async def test_the_topic_carries_requests_keyed_by_stream_with_the_grid_as_area(
    volunteering: VolunteeringClient,
) -> None:
    v = volunteering
    resident = await v.feed.resident()
    await flag(v, resident)
    relay = v.runtime.relay
    assert relay is not None
    await publish_everything(relay)
    consumer = AIOKafkaConsumer(
        v.settings.topic,
        bootstrap_servers=v.settings.kafka.bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=20,
    )
    await consumer.start()
    seen: list[Json] = []
    try:
        async with asyncio.timeout(20):
            while len(seen) < 2:
                for messages in (await consumer.getmany(timeout_ms=200)).values():
                    for message in messages:
                        envelope = envelope_json(message)
                        assert message.key.decode() == envelope["subject"]
                        seen.append(envelope)
    finally:
        await consumer.stop()
    types = {e["type"]: e for e in seen}
    assert set(types) == {"volunteering.CleaningPlanStarted", "volunteering.ServiceRequestRaised"}
    assert {e["area"] for e in seen} == {v.feed.grid_id}


async def test_consents_are_given_and_withdrawn_and_a_withdrawal_hides_the_profile(
    volunteering: VolunteeringClient,
) -> None:
    v = volunteering
    mine = await volunteer(v, "赵志愿")
    grid_worker = v.auth("grid_worker", sub="gw-1", areas=[v.feed.grid_id])
    assert (await get(v, f"/volunteers/{mine}", grid_worker))["name"] == "赵志愿"

    withdrawn = await v.post(f"/volunteers/{mine}/consents/withdrawal", {"purpose": "profile"})
    assert withdrawn.status_code == 201, withdrawn.text
    hidden = await get(v, f"/volunteers/{mine}", grid_worker)
    assert (hidden["name"], hidden["skills"], hidden["profile_shown"]) == (None, [], False)
    assert (await get(v, f"/volunteers/{mine}"))["name"] == "赵志愿"  # the coordinator
    again = await v.post(f"/volunteers/{mine}/consents/withdrawal", {"purpose": "profile"})
    assert again.status_code == 422
    assert again.json()["error"]["code"] == "consent_not_given"

    assert (await v.post(f"/volunteers/{mine}/consents", {"purpose": "profile"})).is_success
    assert (await get(v, f"/volunteers/{mine}", grid_worker))["profile_shown"] is True
    refused = await v.post(f"/volunteers/{mine}/consents", {"purpose": "photos"}, grid_worker)
    assert refused.status_code == 403
    unknown = await v.post(f"/volunteers/{mine}/consents", {"purpose": "fingerprints"})
    assert unknown.status_code == 422

    # a published fact (query needs it): on the volunteer's consent stream, in the contract
    stream = await v.runtime.store.load(f"consent-{consent_id(UUID(mine), 'profile')}")
    assert [e.event_type for e in stream.payloads] == [
        "volunteering.VolunteerConsentWithdrawn",
        "volunteering.VolunteerConsentGiven",
    ]
