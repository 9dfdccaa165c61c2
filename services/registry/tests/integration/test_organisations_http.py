"""Partner organisations over HTTP: register, read, change and retire, and who sees them."""

from __future__ import annotations

import pytest

from anju_registry.testing import RegistryClient as Registry

NUL = "a\x00b"


async def test_register_change_and_retire(registry: Registry) -> None:
    director = registry.auth("director", areas=[registry.community_id])
    response = await registry.post("/organisations", registry.organisation_body(), director)
    assert response.status_code == 201, response.text
    accepted = response.json()
    organisation_id = accepted["id"]
    assert accepted["consistency_token"] == f"registry:organisation-{organisation_id}:1"

    view = (await registry.get(f"/organisations/{organisation_id}", director)).json()
    assert view == {
        "id": organisation_id,
        "kind": "paired_unit",
        "name": "市税务局",
        "community_ids": [registry.community_id],
        "liaisons": [{"name": "李明", "role": "党委办公室主任", "phone": "13800000000"}],
        "phones_shown": True,
        "status": "active",
        "retired_reason": None,
        "version": 1,
    }

    changed = await registry.post(
        f"/organisations/{organisation_id}/changes",
        {"name": "市税务局一分局", "liaisons": [{"name": "王芳", "role": "联络员"}]},
        director,
    )
    assert changed.status_code == 201, changed.text
    same = await registry.post(
        f"/organisations/{organisation_id}/changes", {"name": "市税务局一分局"}, director
    )
    assert (same.status_code, same.json()["error"]["code"]) == (422, "nothing_to_change")

    retired = await registry.post(
        f"/organisations/{organisation_id}/retirement",
        {"reason": "结对期满", "expected_version": 2},
        director,
    )
    assert retired.status_code == 201, retired.text
    view = (await registry.get(f"/organisations/{organisation_id}", director)).json()
    assert (view["name"], view["liaisons"], view["status"], view["version"]) == (
        "市税务局一分局",
        [{"name": "王芳", "role": "联络员", "phone": None}],
        "retired",
        3,
    )
    again = await registry.post(
        f"/organisations/{organisation_id}/changes", {"name": "x"}, director
    )
    assert (again.status_code, again.json()["error"]["code"]) == (422, "organisation_retired")


async def test_who_sees_an_organisation_and_its_liaisons_phones(registry: Registry) -> None:
    other = await registry.create_area("community", None, "Second Estate")
    shared = await registry.register_organisation(community_ids=[other, registry.community_id])

    for role in ("desk_staff", "volunteer_coordinator", "doctor", "police", "petition_agent"):
        staff = registry.auth(role, areas=[registry.community_id])
        response = await registry.get(f"/organisations/{shared}", staff)
        assert response.status_code == 200, (role, response.text)
        view = response.json()
        assert view["phones_shown"] is False
        assert view["liaisons"] == [{"name": "李明", "role": "党委办公室主任", "phone": None}]

    theirs = await registry.register_organisation(community_ids=[other])
    director = registry.auth("director", areas=[registry.community_id])
    for url, body in (
        (f"/organisations/{theirs}/changes", {"name": "x"}),
        (f"/organisations/{theirs}/retirement", {"reason": "x"}),
    ):
        response = await registry.post(url, body, director)
        assert response.status_code == 404, response.text
        assert response.json()["error"]["code"] == "organisation_not_found"
    hidden = await registry.get(f"/organisations/{theirs}", director)
    assert (hidden.status_code, hidden.json()["error"]["code"]) == (404, "organisation_not_found")
    assert (await registry.get(f"/organisations/{shared}", director)).status_code == 200


async def test_a_director_registers_only_for_communities_they_cover(registry: Registry) -> None:
    other = await registry.create_area("community", None, "Second Estate")
    elsewhere = registry.auth("director", areas=[other])
    response = await registry.post("/organisations", registry.organisation_body(), elsewhere)
    assert response.status_code == 404, response.text
    error = response.json()["error"]
    assert error["code"] == "area_not_found"
    assert error["details"] == {"area_id": registry.community_id}

    grid = await registry.post(
        "/organisations", registry.organisation_body(community_ids=[registry.grid_id])
    )
    assert (grid.status_code, grid.json()["error"]["code"]) == (422, "not_a_community")

    coordinator = registry.auth("volunteer_coordinator", areas=[registry.community_id])
    forbidden = await registry.post("/organisations", registry.organisation_body(), coordinator)
    assert (forbidden.status_code, forbidden.json()["error"]["code"]) == (403, "forbidden")


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"name": NUL}, "name"),
        ({"name": ""}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"community_ids": []}, "community_ids"),
        ({"kind": "bank"}, "kind"),
        ({"liaisons": [{"name": NUL, "role": "联络员"}]}, "liaisons.0.name"),
        ({"liaisons": [{"name": "王芳", "role": "联络员", "phone": "1\x1b3"}]}, "liaisons.0.phone"),
    ],
)
async def test_bad_input_is_a_422_naming_the_field(
    registry: Registry, overrides: dict[str, object], field: str
) -> None:
    response = await registry.post("/organisations", registry.organisation_body(**overrides))
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "validation_failed"
    assert [f["field"] for f in error["details"]["fields"]] == [field]


async def test_a_change_with_a_control_character_is_refused(registry: Registry) -> None:
    organisation = await registry.register_organisation()
    response = await registry.post(f"/organisations/{organisation}/changes", {"name": NUL})
    assert response.status_code == 422, response.text
    assert [f["field"] for f in response.json()["error"]["details"]["fields"]] == ["name"]
