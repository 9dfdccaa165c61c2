"""The coordinator's ledger of volunteer hours uploaded to ``POST /imports/hours``, over HTTP on
real PostgreSQL: each row a shift the volunteer attended on its day, its hours approved, never
doubled when sent again; a ledger with bad rows writes nothing and names every one; a row
volunteering refuses is reported."""

from __future__ import annotations

from typing import Any

import httpx

from anju_volunteering.testing import VolunteeringClient


async def upload(
    v: VolunteeringClient, data: str, headers: dict[str, str] | None = None, **params: Any
) -> httpx.Response:
    query = {"area_id": v.feed.community_id, **params}
    return await v.client.post(
        "/imports/hours", content=data.encode(), params=query, headers=headers or v.coordinator
    )


async def volunteer(v: VolunteeringClient, name: str, joined: str = "2025-01-06") -> str:
    body = {
        "kind": "resident_volunteer",
        "name": name,
        "area_id": v.feed.grid_id,
        "occurred_at": f"{joined}T09:00:00+08:00",
    }
    return await v.ok("/volunteers", body)


async def hours(v: VolunteeringClient, volunteer_id: str) -> Any:
    response = await v.get(f"/volunteers/{volunteer_id}/hours")
    assert response.status_code == 200, response.text
    return response.json()


async def streams(v: VolunteeringClient, prefix: str) -> int:
    async with v.runtime.pool.acquire() as conn:
        n: int = await conn.fetchval(
            "SELECT count(DISTINCT stream_id) FROM events WHERE stream_id LIKE $1 || '-%'", prefix
        )
    return n


async def test_an_hours_ledger_imported_twice_adds_nothing(
    volunteering: VolunteeringClient,
) -> None:
    v = volunteering
    wang, li = await volunteer(v, "王秀英"), await volunteer(v, "李建国")
    ledger = f"""\
volunteer_id,served_on,hours,what,kind,start,approved_on
{wang},2025-03-05,2.5,学雷锋日楼道清扫,practical_things_day,08:30,
{wang},2025-04-12,3,夜间治安巡逻,patrol,19:00,2025-04-14
{li},2025-04-12,1.5,为独居老人代买药品,,,
"""
    first = await upload(v, ledger)
    assert first.status_code == 200, first.text
    assert (first.json()["imported"], first.json()["refused"]) == (3, [])
    before = (await hours(v, wang), await hours(v, li))
    assert (before[0]["approved_hours"], before[0]["pending_hours"]) == (5.5, 0)
    assert before[1]["approved_hours"] == 1.5
    assert [(e["served_on"], e["hours"], e["status"]) for e in before[0]["entries"]] == [
        ("2025-03-05", 2.5, "approved"),
        ("2025-04-12", 3.0, "approved"),
    ]
    assert await streams(v, "activity") == 3

    again = await upload(v, ledger)
    assert (again.json()["imported"], again.json()["already_imported"]) == (0, 3)
    assert (await hours(v, wang), await hours(v, li)) == before
    assert await streams(v, "activity") == 3

    # each row is an activity of one shift on its day, which the volunteer attended
    patrol = next(e for e in before[0]["entries"] if e["served_on"] == "2025-04-12")
    activity = (await v.get(f"/activities/{patrol['source_id']}")).json()
    assert (activity["kind"], activity["title"]) == ("patrol", "夜间治安巡逻")
    (shift,) = activity["shifts"]
    assert shift["starts_at"].startswith("2025-04-12T19:00:00")
    assert shift["attended"] == [wang]


async def test_a_ledger_with_bad_rows_writes_nothing_and_names_every_one(
    volunteering: VolunteeringClient,
) -> None:
    v = volunteering
    wang = await volunteer(v, "王秀英")
    ledger = f"""\
volunteer_id,served_on,hours,what,approved_on
{wang},2025-03-05,2,楼道清扫,
{wang},2025-03-05,0,楼道清扫,
{wang},2025-03-05,25,楼道清扫,
王秀英,2025-03-05,2,楼道清扫,
{wang},2025-03-05,2,,
{wang},2025-03-05,2,楼道清扫,2025-03-01
"""
    answer = await upload(v, ledger)
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "ledger_invalid"
    assert sorted((b["line"], b["column"]) for b in error["details"]["invalid"]) == [
        (3, "hours"),
        (4, "hours"),
        (5, "volunteer_id"),
        (6, "what"),
        (7, None),  # approved before the day served
    ]
    assert await streams(v, "activity") == 0


async def test_a_row_volunteering_refuses_is_reported(volunteering: VolunteeringClient) -> None:
    v = volunteering
    wang = await volunteer(v, "王秀英")
    late = await volunteer(v, "李建国", joined="2025-06-01")
    stranger = "00000000-0000-4000-8000-000000000001"
    ledger = f"""\
volunteer_id,served_on,hours,what
{wang},2025-03-05,2,楼道清扫
{stranger},2025-03-06,2,楼道清扫
{late},2025-03-07,2,楼道清扫
"""
    answer = await upload(v, ledger, skip_bad="true")
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["imported"] == 1
    assert [(r["line"], r["step"], r["code"]) for r in report["refused"]] == [
        (3, "sign_up", "volunteer_not_found"),
        # hours approved before the volunteer joined: the ledger or the roster is wrong
        (4, "approve", "occurred_before_record"),
    ]
    assert (await hours(v, wang))["approved_hours"] == 2
    # the refused row's shift and hours were recorded before its approval was refused: once
    # the roster or the ledger is put right, importing again approves them
    assert (await hours(v, late))["pending_hours"] == 2

    # a grid worker works requests and shifts, but approving hours is the coordinator's
    grid_worker = v.auth("grid_worker", sub="gw-1", areas=[v.feed.community_id])
    only = f"volunteer_id,served_on,hours,what\n{wang},2025-03-09,1,楼道清扫\n"
    refused = await upload(v, only, grid_worker)
    assert [(r["step"], r["code"]) for r in refused.json()["refused"]] == [
        ("schedule", "forbidden")
    ]
