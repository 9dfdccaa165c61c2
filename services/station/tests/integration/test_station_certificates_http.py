"""Residence certificates, lectures with opinion gathering, and the duty roster over HTTP on real
PostgreSQL and the real broker: the certificate states what the station learnt from the
registry's events, prints as a PDF, is checked by number without a token and revoked; a resident
who moved out gets none; an opinion is referred to mediation; a day's roster."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

import asyncpg

from anju_contracts.registry import (
    ErasureBasis,
    PersonErased,
    ResidentDetailsCorrected,
    ResidentMovedOut,
)
from anju_contracts.station import OpinionReferred
from anju_station.testing import StationClient


def desk(service: StationClient, community: str | None = None) -> dict[str, str]:
    return service.auth("desk_staff", sub="desk-1", areas=[community or service.feed.community_id])


async def created(
    service: StationClient, url: str, body: dict[str, Any], headers: dict[str, str]
) -> str:
    response = await service.post(url, body, headers)
    assert response.status_code == 201, response.text
    answer_id: str = response.json()["id"]
    return answer_id


async def test_a_residence_certificate_from_issue_to_revocation(service: StationClient) -> None:
    clerk = desk(service)
    since = datetime(2023, 5, 8, 2, 0, tzinfo=UTC)
    resident = await service.feed.resident(registered_at=since)
    await service.feed.learn(
        ResidentDetailsCorrected(resident_id=uuid.UUID(resident), name="王小英", reason="错字"),
        subject=f"resident-{resident}",
    )
    certificate = await created(
        service, "/certificates", {"resident_id": resident, "purpose": "子女入学"}, clerk
    )
    view = (await service.get(f"/certificates/{certificate}", clerk)).json()
    assert (view["holder_name"], view["living_since"], view["valid"]) == (
        "王小英",
        "2023-05-08",
        True,
    )
    assert view["address"] == "community building"  # the names the registry gave the areas
    number = view["number"]
    assert view["verify_url"].endswith(f"/public/certificates/{number}")

    pdf = await service.client.get(f"/certificates/{certificate}/pdf", headers=clerk)
    assert pdf.status_code == 200
    assert pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF-")
    assert pdf.content.rstrip().endswith(b"%%EOF")
    assert f"/Subject ({number})".encode() in pdf.content

    public = await service.client.get(f"/public/certificates/{number}")  # no token
    assert public.status_code == 200, public.text
    assert public.json() == {
        "number": number,
        "status": "valid",
        "holder": "王*英",
        "address": "community building",
        "community_name": "community",
        "living_since": "2023-05-08",
        "issued_on": view["issued_on"],
        "revoked_on": None,
    }
    await created(service, f"/certificates/{certificate}/revocation", {"reason": "开具有误"}, clerk)
    revoked_pdf = await service.client.get(f"/certificates/{certificate}/pdf", headers=clerk)
    assert revoked_pdf.content != pdf.content  # marked 已作废 across the page
    assert (await service.client.get(f"/public/certificates/{number}")).json()["status"] == (
        "revoked"
    )
    again = await service.post(f"/certificates/{certificate}/revocation", {"reason": "x"}, clerk)
    assert (again.status_code, again.json()["error"]["code"]) == (409, "certificate_revoked")
    unknown = await service.client.get("/public/certificates/ANJU-R-2026-0000ABCD")
    assert unknown.status_code == 404
    assert (await service.client.get("/public/certificates/nonsense")).status_code == 422
    far = desk(service, service.feed.other_community_id)
    assert (await service.get(f"/certificates/{certificate}", far)).status_code == 404
    assert (
        await service.client.get(f"/certificates/{certificate}/pdf", headers=far)
    ).status_code == 404


async def test_no_certificate_for_a_resident_who_moved_out(service: StationClient) -> None:
    clerk = desk(service)
    resident = await service.feed.resident()
    await service.feed.learn(
        ResidentMovedOut(resident_id=uuid.UUID(resident), moved_out_on=date(2026, 3, 1)),
        subject=f"resident-{resident}",
    )
    refused = await service.post("/certificates", {"resident_id": resident}, clerk)
    assert (refused.status_code, refused.json()["error"]["code"]) == (
        409,
        "resident_not_living_here",
    )
    far = desk(service, service.feed.other_community_id)
    other = await service.feed.resident()
    stranger = await service.post("/certificates", {"resident_id": other}, far)
    # as for any resident a command names: one the caller may not see is unknown
    assert (stranger.status_code, stranger.json()["error"]["code"]) == (422, "unknown_resident")


async def test_an_opinion_gathering_and_its_referral(service: StationClient) -> None:
    clerk = desk(service)
    community = service.feed.community_id
    body = {
        "area_id": community,
        "kind": "opinion_gathering",
        "topic": "小区停车管理",
        "held_on": service.clock.now.date().isoformat(),
        "attendance": 35,
    }
    session = await created(service, "/gatherings", body, clerk)
    opinion = await created(
        service, f"/gatherings/{session}/opinions", {"text": "车位被长期占用，邻里争吵"}, clerk
    )
    await created(
        service, f"/opinions/{opinion}/referral", {"to": "mediation", "note": "3号楼"}, clerk
    )
    view = (await service.get(f"/opinions/{opinion}", clerk)).json()
    assert (view["status"], view["referred_to"]) == ("referred", "mediation")
    stream = await service.runtime.store.load(f"opinion-{opinion}")
    referred = stream.events[-1].event
    assert isinstance(referred, OpinionReferred)
    assert referred.gathering_id == uuid.UUID(session)
    settled = await service.post(f"/opinions/{opinion}/answer", {"reply": "x"}, clerk)
    assert (settled.status_code, settled.json()["error"]["code"]) == (409, "opinion_settled")
    future = await service.post("/gatherings", {**body, "held_on": "2999-01-01"}, clerk)
    assert (future.status_code, future.json()["error"]["code"]) == (422, "held_in_future")
    grid_worker = service.auth("grid_worker", areas=[community])
    assert (await service.get(f"/gatherings/{session}", grid_worker)).status_code == 200
    assert (await service.get(f"/opinions/{opinion}", grid_worker)).status_code == 403


async def test_the_duty_roster_of_a_day(service: StationClient) -> None:
    clerk = desk(service)
    community = service.feed.community_id
    day = service.clock.now.date().isoformat()
    answer = await service.client.put(
        f"/rosters/{community}/{day}",
        json={"desk": ["desk-1", "desk-2"], "pioneer_post": ["党员-李"]},
        headers=clerk,
    )
    assert answer.status_code == 201, answer.text
    roster = (await service.get(f"/rosters/{community}/{day}", clerk)).json()
    assert (roster["desk"], roster["pioneer_post"]) == (["desk-1", "desk-2"], ["党员-李"])
    grid = await service.client.put(
        f"/rosters/{service.feed.grid_id}/{day}", json={"desk": []}, headers=clerk
    )
    assert grid.status_code == 404  # a roster belongs to a community
    assert (await service.get(f"/rosters/{community}/2020-01-01", clerk)).status_code == 404


async def test_an_erased_persons_name_and_birth_date_leave_the_stations_tables(
    service: StationClient, database_url: str
) -> None:
    erased, kept = (
        uuid.UUID(await service.feed.resident()),
        uuid.UUID(await service.feed.resident()),
    )
    await service.feed.learn(
        ResidentDetailsCorrected(resident_id=erased, name="王芳", reason="错字"),
        subject=f"resident-{erased}",
    )
    await service.feed.learn(
        PersonErased(resident_id=erased, basis=ErasureBasis.SUBJECT_REQUEST),
        subject=f"resident-{erased}",
    )
    conn = await asyncpg.connect(database_url)
    try:
        rows = {
            r["resident_id"]: r
            for r in await conn.fetch(
                "SELECT r.resident_id, r.name, r.living_since, k.date_of_birth, r::text AS row"
                " FROM station_residences r JOIN known_residents k USING (resident_id)"
                " WHERE resident_id = ANY($1::uuid[])",
                [erased, kept],
            )
        }
    finally:
        await conn.close()
    assert "王芳" not in rows[erased]["row"]
    assert (rows[erased]["name"], rows[erased]["date_of_birth"]) == ("[已删除]", None)
    assert rows[erased]["living_since"] is not None  # the day they came stays
    assert (rows[kept]["name"], rows[kept]["date_of_birth"]) == ("张三", date(1960, 1, 1))
