"""Business time at the desk, over HTTP on real PostgreSQL and the real broker: what the paper
ledger holds is logged with the day it happened, the records' own timestamps and the hand-off
due dates run from it, and back-dating is the desk's permission, audited."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from anju_contracts.registry import OrganisationKind
from anju_station.testing import StationClient
from eventkit import audit


def staff(service: StationClient, role: str, sub: str = "desk-1") -> dict[str, str]:
    return service.auth(role, sub=sub, areas=[service.feed.community_id])


async def post(
    service: StationClient, url: str, body: dict[str, Any], headers: dict[str, str]
) -> str:
    response = await service.post(url, body, headers)
    assert response.status_code == 201, response.text
    answer_id: str = response.json()["id"]
    return answer_id


async def test_a_reception_from_last_months_ledger(service: StationClient) -> None:
    clerk = staff(service, "desk_staff")
    community = service.feed.community_id
    last_month = service.clock.now - timedelta(days=31)
    body = {
        "area_id": community,
        "purposes": ["consultation"],
        "occurred_at": last_month.isoformat(),
    }

    # A grid worker may log a reception, but not one dated in the past: nothing is written.
    refused = await service.post("/receptions", body, staff(service, "grid_worker", "grid-1"))
    assert refused.status_code == 403, refused.text
    assert refused.json()["error"]["details"]["action"] == "backdate"

    reception = await post(service, "/receptions", body, clerk)
    view = (await service.get(f"/receptions/{reception}", clerk)).json()
    assert view["logged_at"] == last_month.isoformat().replace("+00:00", "Z")
    stream = await service.runtime.store.load(f"reception-{reception}")
    (logged,) = stream.events
    assert logged.occurred_at == last_month
    assert logged.recorded_at > last_month
    (row,) = await audit.backdates_of(service.runtime.pool, stream.id)
    assert (row["sub"], row["types"]) == ("desk-1", ["station.ReceptionLogged"])
    assert row["occurred_at"] == last_month

    ahead = dict(body, occurred_at=(service.clock.now + timedelta(hours=1)).isoformat())
    future = await service.post("/receptions", ahead, clerk)
    assert future.status_code == 422, future.text
    assert future.json()["error"]["code"] == "occurred_in_future"


async def test_a_back_dated_hand_off_is_overdue_at_once(service: StationClient) -> None:
    clerk = staff(service, "desk_staff")
    community = service.feed.community_id
    centre = await service.feed.organisation(
        OrganisationKind.HOUSING_SECURITY_CENTRE, "市住房保障服务中心"
    )
    received_at = service.clock.now - timedelta(days=40)
    handed_at = service.clock.now - timedelta(days=30)  # 20 days for a public rental: 10 ago
    served = await post(
        service,
        "/services",
        {
            "service_type": "public_rental_application",
            "area_id": community,
            "occurred_at": received_at.isoformat(),
        },
        clerk,
    )
    url = f"/services/{served}"
    before = await service.post(
        f"{url}/documents",
        {"missing": [], "occurred_at": (received_at - timedelta(days=1)).isoformat()},
        clerk,
    )
    assert before.status_code == 422, before.text
    assert before.json()["error"]["code"] == "occurred_before_record"
    await post(
        service, f"{url}/documents", {"missing": [], "occurred_at": handed_at.isoformat()}, clerk
    )
    await post(
        service,
        f"{url}/hand-off",
        {"organisation_id": centre, "occurred_at": handed_at.isoformat()},
        clerk,
    )
    view = (await service.get(url, clerk)).json()
    assert view["received_at"] == received_at.isoformat().replace("+00:00", "Z")
    assert view["due_by"] == (handed_at + timedelta(days=20)).isoformat().replace("+00:00", "Z")
    assert view["overdue"] is False

    # The scheduler, at today's time, finds the due date ten days behind it.
    await service.scheduler(days_ahead=0).fire_due()
    view = (await service.get(url, clerk)).json()
    assert (view["status"], view["overdue"]) == ("handed_off", True)


async def test_gatherings_and_opinions_carry_the_day_they_happened(service: StationClient) -> None:
    clerk = staff(service, "desk_staff")
    community = service.feed.community_id
    held = service.clock.now - timedelta(days=14)
    gathering = {
        "area_id": community,
        "kind": "opinion_gathering",
        "topic": "楼道停车",
        "held_on": held.date().isoformat(),
        "attendance": 12,
    }
    # Held two weeks ago, but dated a week before it: the gathering lies in the future then.
    early = dict(gathering, occurred_at=(held - timedelta(days=7)).isoformat())
    too_early = await service.post("/gatherings", early, clerk)
    assert too_early.status_code == 422, too_early.text
    session = await post(
        service, "/gatherings", dict(gathering, occurred_at=held.isoformat()), clerk
    )
    opinion = await post(
        service,
        f"/gatherings/{session}/opinions",
        {"text": "电动车不要停楼道", "occurred_at": held.isoformat()},
        clerk,
    )
    view = (await service.get(f"/opinions/{opinion}", clerk)).json()
    assert view["raised_at"] == held.isoformat().replace("+00:00", "Z")
