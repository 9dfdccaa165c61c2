"""Hostile and careless input to mediation: clear 422s with stable codes, never a 500."""

from __future__ import annotations

import pytest

from anju_mediation.testing import MediationClient as Mediation


async def test_a_nul_in_a_description_is_a_422_naming_the_field(mediation: Mediation) -> None:
    response = await mediation.post("/disputes", mediation.dispute_body(description="a\x00b"))
    assert response.status_code == 422, response.text
    fields = response.json()["error"]["details"]["fields"]
    assert [f["field"] for f in fields] == ["description"]


@pytest.mark.parametrize(
    ("when", "code"),
    [("0001-01-01T00:00:00Z", "date_too_early"), ("9999-12-31T00:00:00Z", "date_beyond_horizon")],
)
async def test_a_session_in_year_one_or_9999_is_refused(
    mediation: Mediation, when: str, code: str
) -> None:
    dispute = await mediation.register()
    response = await mediation.post(
        f"/disputes/{dispute}/sessions", {"scheduled_for": when, "place": "station"}
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == code


async def test_a_session_held_before_the_dispute_began_is_refused(mediation: Mediation) -> None:
    dispute = await mediation.register()
    response = await mediation.post(
        f"/disputes/{dispute}/sessions/held",
        {
            "held_at": "0001-01-01T00:00:00Z",
            "place": "station",
            "attendees": ["a"],
            "minutes": "m",
        },
    )
    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "date_too_early"


async def test_a_party_named_twice_is_refused(mediation: Mediation) -> None:
    resident = mediation.residents[0]
    body = mediation.dispute_body(
        parties=[
            {"role": "applicant", "resident_id": resident},
            {"role": "respondent", "resident_id": resident},
        ]
    )
    response = await mediation.post("/disputes", body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "duplicate_party"
