"""The health station's ledger of activities and clinic days uploaded to ``POST /imports/{kind}``,
over HTTP on real PostgreSQL: each recorded as held on its day, never doubled when sent again; a
ledger with bad rows writes nothing and names every one; a row health refuses is reported."""

from __future__ import annotations

from typing import Any

import httpx

from anju_health.testing import HealthClient

ACTIVITIES = """\
kind,held_on,place,at_station,partner,served,topic,staff
free_check_up_day,2025-05-16,社区卫生服务站,true,市第一人民医院,86,65岁以上老年人免费体检,"李医生、王护士"
prevention_talk,2025-06-12,社区活动室,false,,42,夏季传染病预防,
on_site_consultation,2025-09-20,小区广场,false,区中医院,57,,
on_site_consultation,2025-09-20,小区广场,false,区中医院,57,,
"""


async def upload(
    health: HealthClient, data: str, headers: dict[str, str], **params: Any
) -> httpx.Response:
    query = {"area_id": health.feed.community_id, **params}
    return await health.client.post(
        "/imports/activities", content=data.encode(), params=query, headers=headers
    )


async def activities(health: HealthClient) -> dict[str, Any]:
    async with health.runtime.pool.acquire() as conn:
        ids = await conn.fetch("SELECT stream_id FROM events WHERE stream_id LIKE 'activity-%'")
    return {
        r["stream_id"]: (await health.runtime.store.load(r["stream_id"])).events[0] for r in ids
    }


async def test_an_activities_ledger_imported_twice_adds_nothing(health: HealthClient) -> None:
    first = await upload(health, ACTIVITIES, health.doctor)
    assert first.status_code == 200, first.text
    assert (first.json()["imported"], first.json()["refused"]) == (4, [])
    held = await activities(health)
    assert len(held) == 4  # the two alike rows are two clinic days

    again = await upload(health, ACTIVITIES, health.doctor)
    assert (again.json()["imported"], again.json()["already_imported"]) == (0, 4)
    assert await activities(health) == held

    check_up = next(e for e in held.values() if e.event.kind == "free_check_up_day")
    assert check_up.event.held_on.isoformat() == "2025-05-16"
    assert check_up.event.served == 86
    assert check_up.event.staff == ["李医生", "王护士"]
    assert check_up.event.at_station is True
    assert check_up.occurred_at.isoformat() == "2025-05-16T06:00:00+00:00"
    assert sum(e.event.served for e in held.values()) == 86 + 42 + 57 * 2


async def test_a_ledger_with_bad_rows_writes_nothing_and_names_every_one(
    health: HealthClient,
) -> None:
    ledger = """\
kind,held_on,place,served
prevention_talk,2025-06-12,社区活动室,42
karaoke,2025-06-12,社区活动室,42
prevention_talk,2025-06-31,社区活动室,42
prevention_talk,2025-06-12,,42
prevention_talk,2025-06-12,社区活动室,-3
"""
    answer = await upload(health, ledger, health.doctor)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "ledger_invalid"
    assert sorted((b["line"], b["column"]) for b in error["details"]["invalid"]) == [
        (3, "kind"),
        (4, "held_on"),
        (5, "place"),
        (6, "served"),
    ]
    assert await activities(health) == {}


async def test_a_row_health_refuses_is_reported(health: HealthClient) -> None:
    elsewhere = health.feed.other_community_id
    ledger = f"""\
kind,held_on,place,served,area_id
prevention_talk,2025-06-12,社区活动室,42,
prevention_talk,2025-06-13,别的社区,30,{elsewhere}
prevention_talk,2026-03-09,社区活动室,42,
"""
    answer = await upload(health, ledger, health.doctor, skip_bad="true")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["imported"] == 1
    assert [(r["line"], r["code"]) for r in report["refused"]] == [
        (3, "area_not_found"),  # not a place the doctor covers
        (4, "occurred_in_future"),  # the clock says 1 March
    ]
    # the desk records clinic days as they are held; a ledger's past days are the doctors'
    desk = health.auth("desk_staff", sub="desk-1", areas=[health.feed.community_id])
    earlier = "kind,held_on,place,served\nprevention_talk,2025-07-02,社区活动室,25\n"
    refused = await upload(health, earlier, desk)
    assert refused.json()["stopped"]
    assert [r["code"] for r in refused.json()["refused"]] == ["forbidden"]
    assert len(await activities(health)) == 1
