"""Governance over HTTP on real PostgreSQL and the real broker: a joint meeting whose decision
becomes a work item and goes from receipt to closing; a failed verification and a reopen; the
convener's deadline; blue, yellow and red supervision raised exactly once — fired twice, across
a restart and by two replicas at once; and a liaison's scope."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from anju_contracts.registry import Liaison, OrganisationKind
from anju_governance.testing import GovernanceClient, running_governance
from eventkit.testing.clocks import ManualClock


async def post(
    service: GovernanceClient, url: str, body: dict[str, Any], headers: dict[str, str]
) -> dict[str, Any]:
    response = await service.post(url, body, headers)
    assert response.status_code == 201, response.text
    answer: dict[str, Any] = response.json()
    return answer


async def meeting_with_decision(
    service: GovernanceClient, director: dict[str, str], organisations: list[str]
) -> tuple[str, str]:
    meeting = await post(
        service,
        "/meetings",
        {
            "kind": "joint_party_building",
            "title": "三季度党建联席会",
            "area_id": service.feed.community_id,
            "scheduled_for": (service.clock.now + timedelta(days=1)).isoformat(),
            "organisation_ids": organisations,
            "agenda": ["3幢漏水", "电动车充电"],
        },
        director,
    )
    meeting_id = meeting["id"]
    service.clock.advance(days=1)
    await post(service, f"/meetings/{meeting_id}/held", {"attendees": ["王主任", "周强"]}, director)
    decision = await post(
        service, f"/meetings/{meeting_id}/decisions", {"text": "物业一个月内修好3幢屋顶"}, director
    )
    return meeting_id, decision["sub_id"]


async def open_item(
    service: GovernanceClient,
    director: dict[str, str],
    meeting_id: str,
    decision_id: str,
    owner: str,
    *,
    days: float = 30,
    co: list[str] | None = None,
) -> str:
    item = await post(
        service,
        f"/meetings/{meeting_id}/decisions/{decision_id}/items",
        {
            "title": "修好3幢屋顶",
            "owner_organisation_id": owner,
            "co_organisation_ids": co or [],
            "responsible": "周强",
            "deadline": (service.clock.now + timedelta(days=days)).isoformat(),
            "priority": "high",
        },
        director,
    )
    item_id: str = item["id"]
    return item_id


async def test_a_decision_becomes_an_item_and_is_closed_after_verification_by_another(
    service: GovernanceClient,
) -> None:
    director = service.director()
    property_co = await service.feed.organisation(OrganisationKind.PROPERTY_COMPANY, "安居物业")
    meeting_id, decision_id = await meeting_with_decision(service, director, [property_co])

    await post(service, f"/meetings/{meeting_id}/minutes", {"minutes": "议定修屋顶"}, director)
    other_director = service.director(sub="director-2")
    refused = await service.post(f"/meetings/{meeting_id}/minutes/confirmation", {}, other_director)
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "not_the_convener"
    await post(service, f"/meetings/{meeting_id}/minutes/confirmation", {}, director)
    again = await service.post(f"/meetings/{meeting_id}/minutes", {"minutes": "改"}, director)
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "minutes_confirmed"
    await post(
        service,
        f"/meetings/{meeting_id}/minutes/corrections",
        {"correction": "参会单位补记派出所", "reason": "漏记"},
        director,
    )

    item_id = await open_item(service, director, meeting_id, decision_id, property_co)
    liaison = service.liaison(property_co)
    await post(service, f"/items/{item_id}/receipt", {}, liaison)
    await post(service, f"/items/{item_id}/progress", {"note": "已进场", "percent": 40}, liaison)
    await post(service, f"/items/{item_id}/completion", {"summary": "屋顶已修好"}, liaison)
    own = await service.post(f"/items/{item_id}/verification", {}, liaison)
    assert own.status_code == 403  # a liaison does not verify at all
    grid_worker = service.auth("grid_worker", sub="liaison-1", areas=[service.feed.community_id])
    same_person = await service.post(f"/items/{item_id}/verification", {}, grid_worker)
    assert same_person.status_code == 422
    assert same_person.json()["error"]["code"] == "owner_may_not_verify"
    await post(service, f"/items/{item_id}/verification", {"note": "现场查看无渗漏"}, director)
    await post(service, f"/items/{item_id}/closing", {}, director)

    item = await service.item(item_id, director)
    assert item["status"] == "closed"
    assert item["source"] == {"source": "governance", "record": "decision", "id": decision_id}
    assert [h["type"] for h in item["history"]] == [
        "governance.WorkItemOpened",
        "governance.WorkItemReceived",
        "governance.ProgressReported",
        "governance.CompletionReported",
        "governance.WorkItemVerified",
        "governance.WorkItemClosed",
    ]
    assert item["history"][-1]["data"]["on_time"] is True
    meeting = (await service.get(f"/meetings/{meeting_id}", director)).json()
    assert meeting["minutes_confirmed"] is True
    assert meeting["corrections"] == ["参会单位补记派出所"]
    assert meeting["decisions"][0]["id"] == decision_id


async def test_a_failed_verification_goes_back_to_the_owner_and_a_closed_item_reopens_in_time(
    service: GovernanceClient,
) -> None:
    director = service.director()
    owner = await service.feed.organisation(OrganisationKind.PROPERTY_COMPANY, "安居物业")
    meeting_id, decision_id = await meeting_with_decision(service, director, [owner])
    item_id = await open_item(service, director, meeting_id, decision_id, owner)
    liaison = service.liaison(owner)
    await post(service, f"/items/{item_id}/receipt", {}, liaison)
    await post(service, f"/items/{item_id}/completion", {"summary": "修好了"}, liaison)
    await post(service, f"/items/{item_id}/verification-failure", {"reason": "仍有渗水"}, director)
    assert (await service.item(item_id, director))["status"] == "in_progress"
    early = await service.post(f"/items/{item_id}/closing", {}, director)
    assert early.status_code == 409
    assert early.json()["error"]["code"] == "wrong_item_state"

    await post(service, f"/items/{item_id}/completion", {"summary": "重新做了防水"}, liaison)
    await post(service, f"/items/{item_id}/verification", {}, director)
    await post(service, f"/items/{item_id}/closing", {}, director)
    service.clock.advance(days=10)
    deadline = (service.clock.now + timedelta(days=14)).isoformat()
    await post(
        service,
        f"/items/{item_id}/reopening",
        {"reason": "下雨后又漏了", "deadline": deadline},
        director,
    )
    item = await service.item(item_id, director)
    assert (item["status"], item["reopens"]) == ("in_progress", 1)

    await post(service, f"/items/{item_id}/completion", {"summary": "更换防水层"}, liaison)
    await post(service, f"/items/{item_id}/verification", {}, director)
    await post(service, f"/items/{item_id}/closing", {}, director)
    service.clock.advance(days=31)
    late = await service.post(
        f"/items/{item_id}/reopening",
        {"reason": "又漏了", "deadline": (service.clock.now + timedelta(days=7)).isoformat()},
        director,
    )
    assert late.status_code == 422
    assert late.json()["error"]["code"] == "reopen_window_passed"


async def test_only_the_convener_extends_a_deadline_and_the_reason_stays_in_the_history(
    service: GovernanceClient,
) -> None:
    director = service.director()
    owner = await service.feed.organisation(OrganisationKind.PAIRED_UNIT)
    meeting_id, decision_id = await meeting_with_decision(service, director, [owner])
    item_id = await open_item(service, director, meeting_id, decision_id, owner, days=10)
    to = (service.clock.now + timedelta(days=20)).isoformat()
    other = await service.post(
        f"/items/{item_id}/deadline", {"to": to, "reason": "材料未到"}, service.director("d-2")
    )
    assert other.status_code == 422
    assert other.json()["error"]["code"] == "not_the_convener"
    liaison = await service.post(
        f"/items/{item_id}/deadline", {"to": to, "reason": "材料未到"}, service.liaison(owner)
    )
    assert liaison.status_code == 403
    await post(service, f"/items/{item_id}/deadline", {"to": to, "reason": "材料未到"}, director)
    earlier = await service.post(
        f"/items/{item_id}/deadline",
        {"to": (service.clock.now + timedelta(days=15)).isoformat(), "reason": "提前"},
        director,
    )
    assert earlier.status_code == 422
    item = await service.item(item_id, director)
    extended = [h for h in item["history"] if h["type"] == "governance.DeadlineExtended"]
    assert extended[0]["data"]["reason"] == "材料未到"
    assert item["deadline"].startswith(to[:19])


async def rearm(service: GovernanceClient) -> None:
    """Every deadline that fired is armed again, as if it had not (a second firing)."""
    async with service.runtime.pool.acquire() as conn:
        await conn.execute("UPDATE deadlines SET fired_at = NULL WHERE fired_at IS NOT NULL")


def colours(item: dict[str, Any]) -> list[str]:
    return [h["data"]["colour"] for h in item["history"] if h["type"].endswith("Raised")]


async def test_blue_yellow_and_red_are_each_raised_once_and_red_names_director_and_liaison(
    service: GovernanceClient,
) -> None:
    director = service.director()
    owner = await service.feed.organisation(
        OrganisationKind.PROPERTY_COMPANY,
        "安居物业",
        liaisons=[Liaison(name="周强", role="项目经理")],
    )
    meeting_id, decision_id = await meeting_with_decision(service, director, [owner])
    item_id = await open_item(service, director, meeting_id, decision_id, owner, days=10)

    # receipt is due in 48 hours: blue, however often its deadline fires
    assert await service.scheduler(days_ahead=2.5).fire_due() == 1
    assert await service.scheduler(days_ahead=2.5).fire_due() == 0
    await rearm(service)
    assert await service.scheduler(days_ahead=2.5).fire_due() == 1  # fired again: nothing new
    assert colours(await service.item(item_id, director)) == ["blue"]
    await post(service, f"/items/{item_id}/receipt", {}, service.liaison(owner))
    assert (await service.item(item_id, director))["history"][-1]["data"]["late"] is False

    await service.scheduler(days_ahead=8).fire_due()  # three days before the deadline
    await rearm(service)
    await service.scheduler(days_ahead=8).fire_due()
    item = await service.item(item_id, director)
    assert (colours(item), item["colour"]) == (["blue", "yellow"], "yellow")
    await service.scheduler(days_ahead=11).fire_due()
    await rearm(service)
    await service.scheduler(days_ahead=12).fire_due()
    item = await service.item(item_id, director)
    assert (colours(item), item["colour"]) == (["blue", "yellow", "red"], "red")
    notify = item["history"][-1]["data"]["notify"]
    assert {"role": "director", "community_id": service.feed.community_id} in [
        {k: v for k, v in n.items() if v is not None} for n in notify
    ]
    assert any(n["role"] == "liaison" and n["name"] == "周强" for n in notify)

    # a failed verification arms the deadlines again: nothing is raised twice for them
    await post(service, f"/items/{item_id}/completion", {"summary": "完成"}, service.liaison(owner))
    await post(service, f"/items/{item_id}/verification-failure", {"reason": "未完成"}, director)
    await service.scheduler(days_ahead=13).fire_due()
    assert colours(await service.item(item_id, director)) == ["blue", "yellow", "red"]


async def test_supervision_is_raised_once_across_a_restart_and_with_two_replicas(
    database_url: str, kafka_bootstrap: str
) -> None:
    clock = ManualClock()
    async with running_governance(database_url, kafka_bootstrap, clock=clock) as first:
        director = first.director()
        owner = await first.feed.organisation(OrganisationKind.PROPERTY_COMPANY)
        meeting_id, decision_id = await meeting_with_decision(first, director, [owner])
        item_ids = [
            await open_item(first, director, meeting_id, decision_id, owner, days=5)
            for _ in range(6)
        ]
        await first.scheduler(days_ahead=2.5).fire_due()  # blue for all, before the restart
        community = first.feed.community_id
        prefix = first.settings.kafka.topic_prefix

    # restarted, twice over: two replicas on the same database fire at the same time
    async with (
        running_governance(
            database_url, kafka_bootstrap, clock=clock, topic_prefix=prefix, feed_tree=False
        ) as one,
        running_governance(
            database_url, kafka_bootstrap, clock=clock, topic_prefix=prefix, feed_tree=False
        ) as two,
    ):
        director = one.auth("director", sub="director-1", areas=[community])
        for days in (2.5, 3, 6, 7):
            await asyncio.gather(
                one.scheduler(days_ahead=days).fire_due(),
                two.scheduler(days_ahead=days).fire_due(),
                one.scheduler(days_ahead=days).fire_due(),
            )
        for item_id in item_ids:
            assert colours(await one.item(item_id, director)) == ["blue", "yellow", "red"]


async def test_a_liaison_sees_only_the_items_their_organisation_owns_or_co_owns(
    service: GovernanceClient,
) -> None:
    director = service.director()
    property_co = await service.feed.organisation(OrganisationKind.PROPERTY_COMPANY)
    police = await service.feed.organisation(OrganisationKind.POLICE_STATION)
    paired = await service.feed.organisation(OrganisationKind.PAIRED_UNIT)
    meeting_id, decision_id = await meeting_with_decision(service, director, [property_co])
    owned = await open_item(service, director, meeting_id, decision_id, property_co)
    co_owned = await open_item(service, director, meeting_id, decision_id, police, co=[property_co])
    others = await open_item(service, director, meeting_id, decision_id, paired, co=[police])

    liaison = service.liaison(property_co)
    assert (await service.get(f"/items/{owned}", liaison)).status_code == 200
    assert (await service.get(f"/items/{co_owned}", liaison)).status_code == 200
    unseen = await service.get(f"/items/{others}", liaison)
    assert unseen.status_code == 404
    assert unseen.json()["error"]["code"] == "item_not_found"
    assert (await service.post(f"/items/{others}/receipt", {}, liaison)).status_code == 404
    assert (await service.get(f"/meetings/{meeting_id}", liaison)).status_code == 403
    # co-owners report progress but only the owner signs for receipt
    co_receipt = await service.post(f"/items/{co_owned}/receipt", {}, liaison)
    assert co_receipt.json()["error"]["code"] == "not_the_owner"
    # a liaison of the same organisation whose areas are another community's sees nothing
    elsewhere = service.auth(
        "liaison",
        sub="liaison-9",
        areas=[service.feed.other_community_id],
        organisations=[property_co],
    )
    assert (await service.get(f"/items/{owned}", elsewhere)).status_code == 404
