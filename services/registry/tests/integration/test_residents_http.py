import asyncio
from datetime import date

from anju_registry.testing import RegistryClient as Registry, id_number_for


async def test_register_and_read_back_masked(registry: Registry) -> None:
    body = registry.resident_body(phone="13800138000")
    response = await registry.post("/residents", body)
    assert response.status_code == 201, response.text
    accepted = response.json()
    resident_id = accepted["id"]
    assert accepted["version"] == 1
    assert accepted["consistency_token"] == f"registry:resident-{resident_id}:1"

    desk = registry.auth("desk_staff", areas=[registry.community_id])
    view = (await registry.client.get(f"/residents/{resident_id}", headers=desk)).json()
    number = body["id_number"]
    assert view["id_number"] == "*" * 14 + number[-4:]
    assert view["id_number_masked"] is True
    assert view["path"]["unit_id"] == registry.unit_id
    assert view["status"] == "active"

    director = registry.auth("director", areas=[registry.community_id])
    full = (await registry.client.get(f"/residents/{resident_id}", headers=director)).json()
    assert full["id_number"] == number

    # A director of another community, or a token naming no area, does not see the resident.
    for areas in (["00000000-0000-0000-0000-000000000000"], []):
        elsewhere = registry.auth("director", areas=areas)
        seen = await registry.client.get(f"/residents/{resident_id}", headers=elsewhere)
        assert seen.status_code == 404


async def test_duplicate_id_number_names_the_existing_resident(registry: Registry) -> None:
    body = registry.resident_body()
    first = await registry.post("/residents", body)
    second = await registry.post("/residents", {**body, "name": "Someone Else"})
    assert second.status_code == 409
    error = second.json()["error"]
    assert error["code"] == "duplicate"
    assert error["details"]["resident_id"] == first.json()["id"]


async def test_concurrent_registrations_of_one_number_let_one_through(registry: Registry) -> None:
    body = registry.resident_body()
    responses = await asyncio.gather(*(registry.post("/residents", body) for _ in range(4)))
    assert sorted(r.status_code for r in responses) == [201, 409, 409, 409]


async def test_bad_id_number_is_a_validation_error_on_the_field(registry: Registry) -> None:
    body = registry.resident_body()
    wrong_check = body["id_number"][:17] + ("0" if body["id_number"][17] != "0" else "1")
    for bad in (wrong_check, id_number_for(date(1960, 1, 1), 7)):
        response = await registry.post("/residents", {**body, "id_number": bad})
        assert response.status_code == 422
        error = response.json()["error"]
        assert error["code"] == "validation_failed"
        assert [f["field"] for f in error["details"]["fields"]] == ["id_number"]


async def test_unknown_fields_are_refused(registry: Registry) -> None:
    response = await registry.post("/residents", registry.resident_body(religion="none"))
    assert response.status_code == 422


async def test_cannot_register_into_a_grid(registry: Registry) -> None:
    response = await registry.post("/residents", registry.resident_body(unit_id=registry.grid_id))
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unit_required"


async def test_wrong_parent_kind_and_unknown_parent(registry: Registry) -> None:
    response = await registry.post(
        "/areas", {"kind": "unit", "name": "x", "parent_id": registry.grid_id}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "wrong_parent_kind"
    response = await registry.post(
        "/areas", {"kind": "unit", "name": "x", "parent_id": "00000000-0000-0000-0000-000000000000"}
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "area_not_found"


async def test_missing_or_invalid_token_is_401_json(registry: Registry) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-jwt"}):
        response = await registry.client.post(
            "/residents", json=registry.resident_body(), headers=headers
        )
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert response.headers["www-authenticate"] == "Bearer"


async def test_roles_without_registry_rights_are_forbidden(registry: Registry) -> None:
    response = await registry.post("/residents", registry.resident_body(), registry.auth("doctor"))
    assert response.status_code == 403


async def test_grid_worker_acts_only_within_their_grids(registry: Registry) -> None:
    resident_id = await registry.register()
    outsider = registry.auth("grid_worker", sub="w-2", areas=["another-grid"])
    insider = registry.auth("grid_worker", sub="w-1", areas=[registry.grid_id])

    assert (
        await registry.client.get(f"/residents/{resident_id}", headers=outsider)
    ).status_code == 404
    write = await registry.post(
        f"/residents/{resident_id}/corrections", {"phone": "1", "reason": "r"}, outsider
    )
    # A record outside the caller's areas does not exist for them, on writes too, and the
    # answer names no area of anyone else's.
    assert write.status_code == 404
    assert write.json()["error"]["code"] == "resident_not_found"
    assert "area" not in write.json()["error"]["details"]
    into_other_grid = await registry.post("/residents", registry.resident_body(), outsider)
    assert into_other_grid.status_code == 404
    assert into_other_grid.json()["error"]["code"] == "area_not_found"

    assert (
        await registry.client.get(f"/residents/{resident_id}", headers=insider)
    ).status_code == 200
    assert (await registry.post("/residents", registry.resident_body(), insider)).status_code == 201


async def test_concurrent_corrections_with_one_expected_version(registry: Registry) -> None:
    resident_id = await registry.register()
    url = f"/residents/{resident_id}/corrections"
    first, second = await asyncio.gather(
        registry.post(url, {"phone": "13900000001", "reason": "typo", "expected_version": 1}),
        registry.post(url, {"phone": "13900000002", "reason": "typo", "expected_version": 1}),
    )
    assert sorted([first.status_code, second.status_code]) == [201, 409]
    loser = first if first.status_code == 409 else second
    assert loser.json()["error"]["code"] == "conflict"
    stale = await registry.post(url, {"name": "Zhang Li", "reason": "r", "expected_version": 1})
    assert stale.status_code == 409


async def test_a_closed_record_accepts_no_more_changes(registry: Registry) -> None:
    resident_id = await registry.register()
    died = await registry.post(f"/residents/{resident_id}/death", {"died_on": "2024-04-30"})
    assert died.status_code == 201
    response = await registry.post(
        f"/residents/{resident_id}/corrections", {"name": "Zhang Li", "reason": "r"}
    )
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "resident_inactive"


async def test_households(registry: Registry) -> None:
    head = await registry.register()
    child = await registry.register(name="Zhang Xiao")
    formed = await registry.post(
        "/households", {"unit_id": registry.unit_id, "head_resident_id": head}
    )
    assert formed.status_code == 201, formed.text
    household = formed.json()["id"]
    members = f"/households/{household}/members"
    added = await registry.post(members, {"resident_id": child, "relation": "child"})
    assert added.status_code == 201
    again = await registry.post(members, {"resident_id": child, "relation": "child"})
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "already_member"

    removed_head = await registry.client.delete(f"{members}/{head}", headers=registry.admin)
    assert removed_head.status_code == 422
    assert removed_head.json()["error"]["code"] == "head_must_change_first"
    changed = await registry.post(f"/households/{household}/head", {"resident_id": child})
    assert changed.status_code == 201
    removed = await registry.client.delete(f"{members}/{head}", headers=registry.admin)
    assert removed.status_code == 200
    assert removed.json()["version"] == 4


async def test_correcting_to_a_taken_id_number_is_a_duplicate(registry: Registry) -> None:
    holder_body = registry.resident_body()
    holder = await registry.post("/residents", holder_body)
    resident_id = await registry.register()
    response = await registry.post(
        f"/residents/{resident_id}/corrections",
        {"id_number": holder_body["id_number"], "reason": "typo"},
    )
    assert response.status_code == 409
    assert response.json()["error"]["details"]["resident_id"] == holder.json()["id"]


async def test_move_to_another_grid_takes_the_follow_up_plan_along(registry: Registry) -> None:
    resident_id = await registry.register()
    await registry.post(f"/residents/{resident_id}/flags", {"flag": "elderly_alone", "tier": "red"})
    grid2 = await registry.create_area("grid", registry.community_id)
    building2 = await registry.create_area("building", grid2)
    unit2 = await registry.create_area("unit", building2)

    worker = registry.auth("grid_worker", areas=[registry.grid_id])
    refused = await registry.post(f"/residents/{resident_id}/move", {"unit_id": unit2}, worker)
    assert refused.status_code == 404
    assert refused.json()["error"]["code"] == "area_not_found"
    moved = await registry.post(f"/residents/{resident_id}/move", {"unit_id": unit2})
    assert moved.status_code == 201, moved.text
    view = (await registry.client.get(f"/residents/{resident_id}", headers=registry.admin)).json()
    assert view["path"]["grid_id"] == grid2
    assert view["follow_up_due_by"] is not None
    stream = await registry.runtime.store.load(f"care-{resident_id}")
    assert stream.events[-1].area == grid2

    out = await registry.post(
        f"/residents/{resident_id}/move-out", {"moved_out_on": "2024-05-01", "reason": "left"}
    )
    assert out.status_code == 201
    view = (await registry.client.get(f"/residents/{resident_id}", headers=registry.admin)).json()
    assert view["status"] == "moved_out"
    assert view["follow_up_due_by"] is None
    closed = await registry.post(f"/residents/{resident_id}/death", {"died_on": "2024-05-01"})
    assert closed.status_code == 422
    assert closed.json()["error"]["code"] == "resident_inactive"


async def test_a_death_cannot_be_recorded_ahead_of_time(registry: Registry) -> None:
    resident_id = await registry.register()
    future = await registry.post(f"/residents/{resident_id}/death", {"died_on": "2024-05-02"})
    assert future.status_code == 422
    assert future.json()["error"]["code"] == "date_in_future"


async def test_a_duplicate_names_its_holder_only_to_a_caller_who_may_see_them(
    registry: Registry,
) -> None:
    holder_body = registry.resident_body()
    holder = await registry.post("/residents", holder_body)
    grid2 = await registry.create_area("grid", registry.community_id)
    unit2 = await registry.create_area("unit", await registry.create_area("building", grid2))
    outsider = registry.auth("grid_worker", sub="w-9", areas=[grid2])
    again = registry.resident_body(id_number=holder_body["id_number"], unit_id=unit2)

    hidden = await registry.post("/residents", again, outsider)
    assert hidden.status_code == 409
    assert hidden.json()["error"]["code"] == "duplicate"
    assert hidden.json()["error"]["details"] == {}

    director = registry.auth("director", areas=[registry.community_id])
    shown = await registry.post("/residents", again, director)
    assert shown.status_code == 409
    assert shown.json()["error"]["details"] == {"resident_id": holder.json()["id"]}


async def test_households_elsewhere_do_not_exist_and_their_members_are_unknown(
    registry: Registry,
) -> None:
    head = await registry.register()
    household = (
        await registry.post("/households", {"unit_id": registry.unit_id, "head_resident_id": head})
    ).json()["id"]
    grid2 = await registry.create_area("grid", registry.community_id)
    outsider = registry.auth("grid_worker", sub="w-9", areas=[grid2])
    made_up = "00000000-0000-4000-8000-000000000000"
    for target in (household, made_up):
        added = await registry.post(
            f"/households/{target}/members", {"resident_id": head, "relation": "child"}, outsider
        )
        assert added.status_code == 404
        assert added.json()["error"] == {
            "code": "household_not_found",
            "message": "no such household",
            "details": {"household_id": target},
        }
    # a household of the outsider's own grid cannot take in a resident they may not see
    unit2 = await registry.create_area("unit", await registry.create_area("building", grid2))
    own_head = (await registry.post("/residents", registry.resident_body(unit_id=unit2))).json()
    own = (
        await registry.post(
            "/households", {"unit_id": unit2, "head_resident_id": own_head["id"]}, outsider
        )
    ).json()["id"]
    named = await registry.post(
        f"/households/{own}/members", {"resident_id": head, "relation": "child"}, outsider
    )
    assert named.status_code == 404
    assert named.json()["error"]["code"] == "resident_not_found"
