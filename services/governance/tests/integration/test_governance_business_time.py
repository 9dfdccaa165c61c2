"""Business time in governance, over HTTP on real PostgreSQL and the real broker: a meeting, its
decision and the work item it became, brought in from the paper ledger with the days they
happened. The item's deadline had passed before it was recorded, so the scheduler raised blue,
yellow and red at once; signed for, completed and closed on the ledger's days before the
deadline, it is on time all the same, and shows no colour. Back-dating is the directors'
permission, audited; an item referred by the station last month starts on the referral's day."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from anju_contracts.registry import AreaPath, OrganisationKind
from anju_contracts.station import OpinionDestination, OpinionReferred
from anju_governance.application.reactions import item_id_for
from anju_governance.testing import GovernanceClient
from eventkit import audit
from eventkit.messages import Delivered
from eventkit.policy import handle_once

Json = dict[str, Any]


def on(moment: datetime) -> dict[str, str]:
    return {"occurred_at": moment.isoformat()}


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


async def post(
    service: GovernanceClient, url: str, body: Json, headers: dict[str, str] | None = None
) -> Json:
    response = await service.post(url, body, headers or service.director())
    assert response.status_code == 201, response.text
    answer: Json = response.json()
    return answer


async def rejected(
    service: GovernanceClient, url: str, body: Json, headers: dict[str, str] | None = None
) -> str:
    response = await service.post(url, body, headers or service.director())
    assert response.status_code in (403, 422), response.text
    error = response.json()["error"]
    code: str = error["details"]["action"] if response.status_code == 403 else error["code"]
    return code


async def ledger_meeting(service: GovernanceClient, held: datetime, owner: str) -> tuple[str, str]:
    meeting = await post(
        service,
        "/meetings",
        {
            "kind": "joint_party_building",
            "title": "二季度党建联席会",
            "area_id": service.feed.community_id,
            "held_on": str(held.date()),
            "organisation_ids": [owner],
            **on(held),
        },
    )
    url = f"/meetings/{meeting['id']}/decisions"
    early = {"text": "物业十天内修好3幢屋顶", **on(held - timedelta(days=1))}
    assert await rejected(service, url, early) == "occurred_before_record"
    decision = await post(service, url, {**early, **on(held + timedelta(hours=1))})
    return meeting["id"], decision["sub_id"]


async def test_an_item_from_the_ledger_closed_before_its_deadline_is_on_time(
    service: GovernanceClient,
) -> None:
    owner = await service.feed.organisation(OrganisationKind.PROPERTY_COMPANY, "安居物业")
    held = service.clock.now - timedelta(days=40)
    meeting_id, decision_id = await ledger_meeting(service, held, owner)
    deadline = held + timedelta(days=10)  # a month ago
    url = f"/meetings/{meeting_id}/decisions/{decision_id}/items"
    opening = {
        "title": "修好3幢屋顶",
        "owner_organisation_id": owner,
        "deadline": deadline.isoformat(),
    }
    early = {**opening, **on(held + timedelta(minutes=30))}
    assert await rejected(service, url, early) == "occurred_before_record"
    opened = held + timedelta(hours=2)
    item_id = (await post(service, url, {**opening, **on(opened)}))["id"]
    item = await service.item(item_id)
    assert item["receipt_due_by"] == iso(opened + timedelta(hours=48))

    # today, the scheduler finds every deadline of the item behind it: blue, yellow, red
    assert await service.scheduler(days_ahead=0).fire_due() == 3
    assert (await service.item(item_id))["colour"] == "red"

    at = f"/items/{item_id}"
    liaison = service.liaison(owner)
    done = {"summary": "屋顶已修好", **on(held + timedelta(days=8))}
    assert await rejected(service, f"{at}/completion", done, liaison) == "backdate"
    await post(service, f"{at}/receipt", on(held + timedelta(days=1)))
    assert (await service.item(item_id))["colour"] == "red"  # still the owner's, deadline past
    await post(service, f"{at}/completion", done)
    # verified and closed by another director (the first signed and reported for the owner)
    other = service.director(sub="director-2")
    await post(service, f"{at}/verification", on(held + timedelta(days=9)), other)
    closed = held + timedelta(days=9, hours=2)
    await post(service, f"{at}/closing", on(closed), other)
    ahead = on(service.clock.now + timedelta(hours=1))
    again = {"reason": "又漏了", "deadline": (service.clock.now + timedelta(days=9)).isoformat()}
    assert await rejected(service, f"{at}/reopening", {**again, **ahead}) == "occurred_in_future"

    item = await service.item(item_id)
    assert (item["status"], item["colour"]) == ("closed", None)
    history = {h["type"].partition(".")[2]: h for h in item["history"]}
    assert history["WorkItemReceived"]["data"]["late"] is False
    assert history["CompletionReported"]["data"]["on_time"] is True
    assert history["WorkItemClosed"]["data"]["on_time"] is True
    assert history["WorkItemClosed"]["recorded_at"] == iso(closed)  # the fact's business time
    raised = [h["data"]["colour"] for h in item["history"] if h["type"].endswith("Raised")]
    assert sorted(raised) == ["blue", "red", "yellow"]
    rows = await audit.backdates_of(service.runtime.pool, f"item-{item_id}")
    assert [(r["sub"], r["types"]) for r in rows] == [
        ("director-1", ["governance.WorkItemOpened"]),
        ("director-1", ["governance.WorkItemReceived"]),
        ("director-1", ["governance.CompletionReported"]),
        ("director-2", ["governance.WorkItemVerified"]),
        ("director-2", ["governance.WorkItemClosed"]),
    ]


async def test_completion_from_the_ledger_after_the_deadline_is_late(
    service: GovernanceClient,
) -> None:
    owner = await service.feed.organisation(OrganisationKind.PAIRED_UNIT)
    held = service.clock.now - timedelta(days=40)
    meeting_id, decision_id = await ledger_meeting(service, held, owner)
    url = f"/meetings/{meeting_id}/decisions/{decision_id}/items"
    opening = {
        "title": "清理楼道杂物",
        "owner_organisation_id": owner,
        "deadline": (held + timedelta(days=10)).isoformat(),
        **on(held + timedelta(hours=2)),
    }
    item_id = (await post(service, url, opening))["id"]
    at = f"/items/{item_id}"
    await post(service, f"{at}/receipt", on(held + timedelta(days=3)))  # receipt was due in 2
    await post(service, f"{at}/completion", {"summary": "已清理", **on(held + timedelta(days=12))})
    item = await service.item(item_id)
    history = {h["type"].partition(".")[2]: h for h in item["history"]}
    assert history["WorkItemReceived"]["data"]["late"] is True
    assert history["CompletionReported"]["data"]["on_time"] is False


async def test_an_opinion_referred_last_month_is_an_item_from_that_day(
    service: GovernanceClient,
) -> None:
    referred_at = service.clock.now - timedelta(days=25)
    opinion_id = uuid.uuid4()
    grid = uuid.UUID(service.feed.grid_id)
    event = OpinionReferred(
        opinion_id=opinion_id,
        gathering_id=uuid.uuid4(),
        to=OpinionDestination.GOVERNANCE,
        text="小区东门路灯坏了三个月",
        path=AreaPath(community_id=uuid.UUID(service.feed.community_id), grid_id=grid),
        referred_by="desk-li",
        referred_at=referred_at,
    )
    envelope = service.mediation.envelope(
        event, subject=f"opinion-{opinion_id}", area=str(grid), at=referred_at
    ).model_copy(update={"source": "station"})
    policy = service.runtime.policies[2]
    await handle_once(
        service.runtime.store, policy, Delivered(envelope, event, "station.events", 0, 0)
    )
    item_id = item_id_for(opinion_id, envelope.id)
    item = await service.item(str(item_id))
    assert item["history"][0]["recorded_at"] == iso(referred_at)
    owner = await service.feed.organisation(OrganisationKind.PROPERTY_COMPANY)
    assigned = referred_at + timedelta(days=2)
    await post(
        service, f"/items/{item_id}/assignment", {"owner_organisation_id": owner, **on(assigned)}
    )
    item = await service.item(str(item_id))
    assert (item["status"], item["receipt_due_by"]) == (
        "assigned",
        iso(assigned + timedelta(hours=48)),
    )
