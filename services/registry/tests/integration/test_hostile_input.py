"""Hostile and careless input gets a clear error with a stable code, never a 500."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from anju_registry.testing import RegistryClient, id_number_for

NUL = "a\x00b"


@pytest.mark.parametrize(
    ("url", "body"),
    [
        ("/residents", {"name": NUL}),
        ("/areas", {"kind": "grid", "name": NUL}),
    ],
)
async def test_a_nul_in_any_text_field_is_a_422_naming_the_field(
    registry: RegistryClient, url: str, body: dict[str, Any]
) -> None:
    if url == "/residents":
        body = registry.resident_body(**body)
    else:
        body = {**body, "parent_id": registry.community_id}
    response = await registry.post(url, body)
    assert response.status_code == 422, response.text
    fields = response.json()["error"]["details"]["fields"]
    assert [f["field"] for f in fields] == ["name"]


async def test_nul_in_flag_notes_and_visit_findings_is_refused(registry: RegistryClient) -> None:
    resident = await registry.register()
    flag = await registry.post(
        f"/residents/{resident}/flags", {"flag": "elderly_alone", "tier": "red", "note": NUL}
    )
    assert flag.status_code == 422
    assert flag.json()["error"]["details"]["fields"][0]["field"] == "note"
    visit = await registry.post(f"/residents/{resident}/visits", {"findings": NUL})
    assert visit.status_code == 422
    # Tab and newline are ordinary text.
    ok = await registry.post(
        f"/residents/{resident}/flags",
        {"flag": "elderly_alone", "tier": "red", "note": "行一\n\t行二"},
    )
    assert ok.status_code == 201, ok.text


async def test_clearing_a_flag_without_a_reason_is_a_422(registry: RegistryClient) -> None:
    resident = await registry.register()
    await registry.post(f"/residents/{resident}/flags", {"flag": "elderly_alone", "tier": "red"})
    response = await registry.client.delete(
        f"/residents/{resident}/flags/elderly_alone", headers=registry.admin
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "validation_failed"


@pytest.mark.parametrize(
    ("born", "code"),
    [
        ("2999-01-01", "date_in_future"),
        ("9999-12-31", "date_in_future"),
        ("1800-01-01", "date_too_early"),
    ],
)
async def test_an_impossible_birth_date_is_refused(
    registry: RegistryClient, born: str, code: str
) -> None:
    # an identity number that agrees with the date, so that only the date itself is wrong
    number = id_number_for(date.fromisoformat(born), 7)
    body = registry.resident_body(date_of_birth=born, id_number=number)
    response = await registry.post("/residents", body)
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code
    assert response.json()["error"]["details"]["field"] == "date_of_birth"


async def test_a_death_before_birth_and_a_visit_in_year_one_are_refused(
    registry: RegistryClient,
) -> None:
    resident = await registry.register()
    death = await registry.post(f"/residents/{resident}/death", {"died_on": "1800-01-01"})
    assert death.status_code == 422
    assert death.json()["error"]["code"] == "date_before_birth"
    moved = await registry.post(f"/residents/{resident}/move-out", {"moved_out_on": "1800-01-01"})
    assert moved.status_code == 422
    assert moved.json()["error"]["code"] == "date_before_birth"
    await registry.post(f"/residents/{resident}/flags", {"flag": "elderly_alone", "tier": "red"})
    visit = await registry.post(
        f"/residents/{resident}/visits",
        {"findings": "ok", "visited_at": "0001-01-01T00:00:00Z"},
    )
    assert visit.status_code == 422
    assert visit.json()["error"]["code"] == "date_before_birth"


async def test_without_a_token_the_body_is_never_parsed(registry: RegistryClient) -> None:
    response = await registry.client.post(
        "/residents", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthorized"


async def test_a_body_over_the_limit_is_a_413(registry: RegistryClient) -> None:
    big = b'{"name": "' + b"x" * (2 * 1024 * 1024) + b'"}'
    response = await registry.client.post(
        "/residents",
        content=big,
        headers={**registry.admin, "content-type": "application/json"},
    )
    assert response.status_code == 413
    assert response.json()["error"]["code"] == "too_large"
