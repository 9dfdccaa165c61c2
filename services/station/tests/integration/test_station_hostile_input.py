"""Hostile and careless input to the station's newer routes: 4xx with stable codes, never a
500 — a NUL in free text, dates in year 1 and 9999, a huge body, a record of another area."""

from __future__ import annotations

from anju_station.testing import StationClient


def desk(service: StationClient, community: str | None = None) -> dict[str, str]:
    return service.auth("desk_staff", sub="desk-1", areas=[community or service.feed.community_id])


async def test_hostile_bodies_and_dates_are_refused_clearly(service: StationClient) -> None:
    clerk = desk(service)
    community = service.feed.community_id
    body = {
        "area_id": community,
        "kind": "opinion_gathering",
        "topic": "停车",
        "held_on": "0001-01-01",
        "attendance": 3,
    }
    # a gathering from the ledger may lie far back; one in year 9999 has not been held
    assert (await service.post("/gatherings", body, clerk)).status_code == 201
    future = await service.post("/gatherings", {**body, "held_on": "9999-12-31"}, clerk)
    assert (future.status_code, future.json()["error"]["code"]) == (422, "held_in_future")
    nul = await service.post("/gatherings", {**body, "topic": "a\x00b"}, clerk)
    assert nul.status_code == 422, nul.text
    huge = await service.post("/gatherings", {**body, "topic": "长" * 2_000_000}, clerk)
    assert 400 <= huge.status_code < 500, huge.text
    roster = await service.client.put(
        f"/rosters/{community}/9999-12-31", json={"desk": ["desk-1"]}, headers=clerk
    )
    assert (roster.status_code, roster.json()["error"]["code"]) == (422, "day_out_of_range")
    far = desk(service, service.feed.other_community_id)
    held = await service.post("/gatherings", {**body, "held_on": "2020-01-01"}, clerk)
    assert held.status_code == 201, held.text
    session = held.json()
    stranger = await service.post(
        f"/gatherings/{session['id']}/opinions", {"text": "别处的意见"}, far
    )
    assert stranger.status_code == 404
    opinion = await service.post(f"/gatherings/{session['id']}/opinions", {"text": "a\x00"}, clerk)
    assert opinion.status_code == 422, opinion.text
