"""The desk's paper ledgers uploaded to ``POST /imports/{kind}``, over HTTP on real PostgreSQL:
checked as a whole (every bad row reported, nothing written), recorded through the desk's own
commands with their real dates, and never doubled when sent again — also idempotency keys on
their own."""

from __future__ import annotations

import asyncio
import io
from datetime import timedelta
from typing import Any

import httpx
from openpyxl import Workbook

from anju_contracts.registry import OrganisationKind
from anju_station.testing import StationClient
from eventkit import audit


def clerk(service: StationClient, sub: str = "desk-1") -> dict[str, str]:
    return service.auth("desk_staff", sub=sub, areas=[service.feed.community_id])


async def upload(
    service: StationClient,
    kind: str,
    data: bytes | str,
    headers: dict[str, str],
    **params: Any,
) -> httpx.Response:
    content = data.encode() if isinstance(data, str) else data
    query = {"area_id": service.feed.community_id, **params}
    return await service.client.post(
        f"/imports/{kind}", content=content, params=query, headers=headers
    )


async def streams(service: StationClient, prefix: str) -> list[str]:
    async with service.runtime.pool.acquire() as conn:
        rows = await conn.fetch(
            "SELECT DISTINCT stream_id FROM events WHERE stream_id LIKE $1 || '-%' ORDER BY 1",
            prefix,
        )
    return [r["stream_id"] for r in rows]


async def test_a_key_sent_again_is_answered_not_done_again(service: StationClient) -> None:
    headers = clerk(service)
    body = {"area_id": service.feed.community_id, "purposes": ["consultation"]}
    keyed = {**headers, "Idempotency-Key": "visit-0001"}

    first = await service.post("/receptions", body, keyed)
    again = await service.post("/receptions", body, keyed)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["Idempotent-Replayed"] == "true"
    assert "Idempotent-Replayed" not in first.headers
    assert len(await streams(service, "reception")) == 1

    # The key is its caller's: another clerk's same key is their own command.
    other = await service.post("/receptions", body, {**keyed, **clerk(service, "desk-2")})
    assert other.status_code == 201
    assert other.headers.get("Idempotent-Replayed") is None
    # The same key for another request is refused, and nothing is written.
    changed = await service.post("/receptions", {**body, "purposes": ["complaint"]}, keyed)
    assert changed.status_code == 422, changed.text
    assert changed.json()["error"]["code"] == "idempotency_key_reused"
    bad = await service.post("/receptions", body, {**headers, "Idempotency-Key": "two words"})
    assert bad.status_code == 400
    assert bad.json()["error"]["code"] == "bad_idempotency_key"
    # Without a key, the same command twice is two visits.
    await service.accepted("/receptions", body, headers)
    await service.accepted("/receptions", body, headers)
    assert len(await streams(service, "reception")) == 4


async def test_one_key_sent_twice_at_once_is_done_once(service: StationClient) -> None:
    keyed = {**clerk(service), "Idempotency-Key": "visit-0002"}
    body = {"area_id": service.feed.community_id, "purposes": ["certificate"]}
    answers = await asyncio.gather(*(service.post("/receptions", body, keyed) for _ in range(6)))
    done = [a for a in answers if a.status_code == 201]
    assert done, [a.text for a in answers]
    assert {a.json()["id"] for a in done} == {done[0].json()["id"]}
    for refused in (a for a in answers if a.status_code != 201):
        assert refused.status_code == 409
        assert refused.json()["error"]["code"] == "idempotency_key_in_use"
    assert len(await streams(service, "reception")) == 1


RECEPTIONS = """\
day,time,purposes,referred_by,outcome,note
2024-03-04,09:15,consultation,self,answered,
2024-03-04,09:40,"convenience_service, elderly_window",grid_worker,service_started,
2024-03-04,09:40,"convenience_service, elderly_window",grid_worker,service_started,
2024-03-05,,complaint,hotline_12345,referred,漏水
"""


async def test_a_reception_ledger_imported_twice_adds_nothing(service: StationClient) -> None:
    service.clock.now = service.clock.now.replace(year=2024, month=6, day=1)
    headers = clerk(service)

    first = await upload(service, "receptions", RECEPTIONS, headers)
    assert first.status_code == 200, first.text
    assert first.json() | {"invalid": [], "refused": []} == {
        "kind": "receptions",
        "rows": 4,
        "imported": 4,
        "already_imported": 0,
        "invalid": [],
        "refused": [],
        "stopped": False,
    }
    logged = await streams(service, "reception")
    assert len(logged) == 4  # the two alike rows are two visits

    again = await upload(service, "receptions", RECEPTIONS, headers)
    assert again.status_code == 200, again.text
    assert (again.json()["imported"], again.json()["already_imported"]) == (0, 4)
    assert await streams(service, "reception") == logged
    # A ledger's rows are the service's: another clerk importing it records nothing either.
    other = await upload(service, "receptions", RECEPTIONS, clerk(service, "desk-2"))
    assert (other.json()["imported"], other.json()["already_imported"]) == (0, 4)
    assert await streams(service, "reception") == logged

    # Each visit carries the ledger's day, in the community's time zone, and is audited.
    dates = set()
    for stream_id in logged:
        (event,) = (await service.runtime.store.load(stream_id)).events
        dates.add(event.occurred_at.isoformat())
        assert len(await audit.backdates_of(service.runtime.pool, stream_id)) == 1
    assert dates == {
        "2024-03-04T01:15:00+00:00",
        "2024-03-04T01:40:00+00:00",
        "2024-03-05T01:00:00+00:00",
    }


async def test_a_ledger_with_bad_rows_writes_nothing_and_names_every_one(
    service: StationClient,
) -> None:
    service.clock.now = service.clock.now.replace(year=2024, month=6, day=1)
    ledger = """\
day,purposes,referred_by
2024-03-04,consultation,self
2024-13-01,consultation,self
2024-03-05,,self
2024-03-06,consultation,neighbour
2024-03-07,"consultation,karaoke",self
"""
    answer = await upload(service, "receptions", ledger, clerk(service))
    assert answer.status_code == 422, answer.text
    error = answer.json()["error"]
    assert error["code"] == "ledger_invalid"
    assert sorted({(b["line"], b["column"]) for b in error["details"]["invalid"]}) == [
        (3, "day"),
        (4, "purposes"),
        (5, "referred_by"),
        (6, "purposes.1"),
    ]
    assert await streams(service, "reception") == []

    skipped = await upload(service, "receptions", ledger, clerk(service), skip_bad="true")
    assert skipped.status_code == 200, skipped.text
    assert (skipped.json()["rows"], skipped.json()["imported"]) == (5, 1)
    assert len(await streams(service, "reception")) == 1


async def test_a_service_ledger_in_xlsx_runs_each_service_to_its_end(
    service: StationClient,
) -> None:
    service.clock.now = service.clock.now.replace(year=2024, month=6, day=1)
    agency = await service.feed.organisation(
        OrganisationKind.HOUSING_SECURITY_CENTRE, "市住房保障服务中心"
    )
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(
        [
            "ID",
            "service_type",
            "received_on",
            "missing",
            "accepted_on",
            "handed_off_on",
            "organisation_id",
            "completed_on",
            "satisfaction",
        ]
    )
    sheet.append(
        [
            "B-1",
            "public_rental_application",
            "2024-03-01",
            "户口本、收入证明",
            "2024-03-04",
            "2024-03-04",
            agency,
            "2024-03-08",
            5,
        ]
    )
    sheet.append(
        ["B-2", "employment_information", "2024-03-02", None, None, None, None, "2024-03-02", 4]
    )
    sheet.append(["B-3", "low_income_certification", "2024-03-03"])
    buffer = io.BytesIO()
    book.save(buffer)

    answer = await upload(service, "services", buffer.getvalue(), clerk(service))
    assert answer.status_code == 200, answer.text
    assert answer.json()["imported"] == 3
    statuses = {}
    for stream_id in await streams(service, "service"):
        events = (await service.runtime.store.load(stream_id)).events
        statuses[events[0].event.service_type] = [type(e.event).__name__ for e in events]  # type: ignore[attr-defined]
    assert statuses == {
        "public_rental_application": [
            "ServiceReceived",
            "OneTimeNoticeIssued",
            "ServiceAccepted",
            "ServiceHandedOff",
            "ServiceCompleted",
            "CallbackRecorded",
        ],
        "employment_information": [
            "ServiceReceived",
            "ServiceAccepted",
            "ServiceCompleted",
            "CallbackRecorded",
        ],
        "low_income_certification": ["ServiceReceived"],
    }
    again = await upload(service, "services", buffer.getvalue(), clerk(service))
    assert (again.json()["imported"], again.json()["already_imported"]) == (0, 3)


async def test_an_import_has_the_callers_permissions(service: StationClient) -> None:
    service.clock.now = service.clock.now.replace(year=2024, month=6, day=1)
    grid_worker = service.auth("grid_worker", sub="grid-1", areas=[service.feed.community_id])
    answer = await upload(service, "receptions", RECEPTIONS, grid_worker)
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["stopped"]
    assert report["imported"] == 0
    assert {r["code"] for r in report["refused"]} == {"forbidden"}  # may not back-date
    assert await streams(service, "reception") == []

    elsewhere = service.auth(
        "desk_staff", sub="desk-9", areas=["00000000-0000-4000-8000-000000000000"]
    )
    outside = await upload(service, "receptions", RECEPTIONS, elsewhere)
    assert {r["code"] for r in outside.json()["refused"]} == {"area_not_found"}

    unknown = await upload(service, "visits", RECEPTIONS, clerk(service))
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_ledger"
    garbage = await upload(service, "receptions", b"\x00\x01\x02", clerk(service))
    assert garbage.status_code == 400, garbage.text
    assert garbage.json()["error"]["code"] == "ledger_unreadable"
    ahead = (
        "day,purposes\n"
        + (service.clock.now + timedelta(days=3)).date().isoformat()
        + ",consultation\n"
    )
    future = await upload(service, "receptions", ahead, clerk(service))
    assert future.json()["refused"][0]["code"] == "occurred_in_future"
