"""The station over HTTP on real PostgreSQL and the real broker: a morning at the desk —
receptions, a service with a one-time notice handed off to the housing security centre and
overdue, payment details refused, strangers refused."""

from __future__ import annotations

from typing import Any

from anju_contracts.registry import OrganisationKind
from anju_station.testing import StationClient


def desk(service: StationClient, community: str | None = None) -> dict[str, str]:
    return service.auth("desk_staff", sub="desk-1", areas=[community or service.feed.community_id])


async def post(
    service: StationClient, url: str, body: dict[str, Any], headers: dict[str, str]
) -> str:
    response = await service.post(url, body, headers)
    assert response.status_code == 201, response.text
    answer_id: str = response.json()["id"]
    return answer_id


async def test_a_morning_at_the_desk(service: StationClient) -> None:
    clerk = desk(service)
    resident = await service.feed.resident()
    community = service.feed.community_id
    centre = await service.feed.organisation(
        OrganisationKind.HOUSING_SECURITY_CENTRE, "市住房保障服务中心"
    )
    reception = await post(
        service,
        "/receptions",
        {
            "area_id": community,
            "resident_id": resident,
            "purposes": ["convenience_service"],
            "referred_by": "grid_worker",
            "outcome": "service_started",
        },
        clerk,
    )
    anonymous = await post(
        service, "/receptions", {"area_id": community, "purposes": ["consultation"]}, clerk
    )
    assert (await service.get(f"/receptions/{anonymous}", clerk)).json()["resident_id"] is None

    catalogue = (await service.get("/catalogue", clerk)).json()
    assert "public_rental_application" in catalogue
    served = await post(
        service,
        "/services",
        {
            "service_type": "public_rental_application",
            "area_id": community,
            "resident_id": resident,
            "reception_id": reception,
        },
        clerk,
    )
    await post(service, f"/services/{served}/documents", {"missing": ["收入证明", "户口簿"]}, clerk)
    # The notice is printed from the service's read, on whatever screen the desk is at.
    noticed = (await service.get(f"/services/{served}", clerk)).json()
    assert noticed["status"] == "notice_issued"
    assert noticed["notice"]["missing"] == ["收入证明", "户口簿"]
    assert noticed["notice"]["number"].endswith("-1")
    await post(service, f"/services/{served}/documents", {"missing": []}, clerk)
    await post(service, f"/services/{served}/hand-off", {"organisation_id": centre}, clerk)
    # twenty days later the centre has not finished: overdue, once
    await service.scheduler(days_ahead=21).fire_due()
    await service.scheduler(days_ahead=22).fire_due()
    view = (await service.get(f"/services/{served}", clerk)).json()
    assert (view["status"], view["overdue"], view["notices"]) == ("handed_off", True, 1)
    await post(service, f"/services/{served}/completion", {"outcome": "已配租"}, clerk)
    await post(service, f"/services/{served}/callback", {"satisfaction": 4}, clerk)
    stream = await service.runtime.store.load(f"service-{served}")
    types = [r.event.event_type for r in stream.events]
    assert types.count("station.HandOffOverdue") == 1
    assert types[-1] == "station.CallbackRecorded"


async def test_payment_details_are_refused_with_a_clear_error(service: StationClient) -> None:
    clerk = desk(service)
    refused = await service.post(
        "/receptions",
        {
            "area_id": service.feed.community_id,
            "purposes": ["elderly_window"],
            "note": "帮忙缴电费，户号 1100223344",
        },
        clerk,
    )
    assert refused.status_code == 422
    assert refused.json()["error"]["code"] == "payment_details_refused"
    no_bill = await service.post(
        "/services",
        {"service_type": "elderly_window_bill_help", "area_id": service.feed.community_id},
        clerk,
    )
    assert no_bill.json()["error"]["code"] == "bill_type_required"


async def test_strangers_and_bad_bodies_are_refused(service: StationClient) -> None:
    clerk = desk(service)
    reception = await post(
        service, "/receptions", {"area_id": service.feed.community_id, "purposes": ["other"]}, clerk
    )
    far = desk(service, service.feed.other_community_id)
    assert (await service.get(f"/receptions/{reception}", far)).status_code == 404
    body = {"area_id": service.feed.community_id, "purposes": ["other"]}
    assert (await service.post("/receptions", body, far)).status_code == 404
    assert (await service.post("/receptions", {**body, "purposes": []}, clerk)).status_code == 422
    unknown = await service.post(
        "/services", {"service_type": "moon_landing", "area_id": service.feed.community_id}, clerk
    )
    assert unknown.json()["error"]["code"] == "unknown_service_type"
    police = service.auth("police", areas=[service.feed.community_id])
    assert (await service.post("/receptions", body, police)).status_code == 403
