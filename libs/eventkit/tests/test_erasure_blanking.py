"""What a read model's erasure writes: the statements of :func:`eventkit.erasure.blank_where`
against PostgreSQL, and :func:`eventkit.erasure.erased_payload` against the field cipher — a
payload erased in place reads as the same payload sealed and opened once the keys are gone."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

import asyncpg

from anju_contracts.mediation import (
    Category,
    Channel,
    DisputeRegistered,
    Location,
    MediationSessionHeld,
    Party,
    PartyRole,
    Sensitivity,
    SessionPlace,
    Tier,
)
from anju_contracts.registry import AreaKind, AreaPath
from eventkit.erasure import blank_where, erased_payload
from eventkit.keys import MemoryKeyStore
from eventkit.personal import ERASED_TEXT, FieldCipher, record_subject, resident_subject

NOW = datetime(2025, 5, 6, 9, 0, tzinfo=UTC)


def _dispute(her: uuid.UUID, him: uuid.UUID) -> DisputeRegistered:
    c = uuid.uuid4()
    return DisputeRegistered(
        dispute_id=uuid.uuid4(),
        channel=Channel.WALK_IN,
        category=Category.NOISE,
        description="王芳与赵大因噪音争吵",
        location=Location(area_id=c, kind=AreaKind.COMMUNITY, path=AreaPath(community_id=c)),
        parties=[
            Party(party_id=uuid.uuid4(), role=PartyRole.APPLICANT, resident_id=her, name="王芳"),
            Party(party_id=uuid.uuid4(), role=PartyRole.RESPONDENT, name="赵大", contact="139"),
            Party(party_id=uuid.uuid4(), role=PartyRole.AFFECTED, resident_id=him, name="李强"),
        ],
        sensitivity=Sensitivity.STANDARD,
        tier=Tier.GRID,
        registered_at=NOW,
        sla_due_by=None,
    )


async def test_an_erased_payload_reads_as_the_sealed_one_under_destroyed_keys() -> None:
    her, him = uuid.uuid4(), uuid.uuid4()
    event = _dispute(her, him)
    data = event.model_dump(mode="json")
    keys = MemoryKeyStore()
    cipher = FieldCipher(keys)
    event_id, record = uuid.uuid4(), record_subject("mediation", f"dispute-{event.dispute_id}")
    sealed = await cipher.seal(DisputeRegistered, data, event_id=event_id, record=record)
    await keys.destroy(resident_subject(her))
    await keys.destroy(record)

    erased = erased_payload(DisputeRegistered, data, person_id=her, record=True)

    assert erased == await cipher.open(sealed, event_id=event_id)
    assert erased["description"] == ERASED_TEXT
    assert [(p["name"], p.get("contact")) for p in erased["parties"]] == [
        (ERASED_TEXT, None),
        (ERASED_TEXT, ERASED_TEXT),
        ("李强", None),  # another resident's own fields stay under their key
    ]
    assert erased["dispute_id"] == data["dispute_id"]
    assert data["description"] == "王芳与赵大因噪音争吵"  # the caller's payload is left alone


def test_a_record_not_naming_the_person_keeps_all_but_their_own_fields() -> None:
    her, him = uuid.uuid4(), uuid.uuid4()
    data = _dispute(her, him).model_dump(mode="json")
    erased = erased_payload(DisputeRegistered, data, person_id=her, record=False)
    assert erased["description"] == data["description"]
    assert [p["name"] for p in erased["parties"]] == [ERASED_TEXT, "赵大", "李强"]


def test_a_list_of_personal_items_keeps_its_length() -> None:
    data = MediationSessionHeld(
        dispute_id=uuid.uuid4(),
        session_id=uuid.uuid4(),
        held_at=NOW,
        place=SessionPlace.STATION,
        attendees=["王芳", "赵大"],
        minutes="王芳同意",
    ).model_dump(mode="json")
    erased = erased_payload(MediationSessionHeld, data, person_id=uuid.uuid4(), record=True)
    assert erased["attendees"] == [ERASED_TEXT, ERASED_TEXT]
    assert erased["minutes"] == ERASED_TEXT


async def test_blank_where_erases_text_values_and_lists_of_the_rows_it_selects(
    database_url: str,
) -> None:
    her, him = uuid.uuid4(), uuid.uuid4()
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(
            """
            CREATE TABLE people (id uuid PRIMARY KEY, name text, note text, born date,
                                 errands jsonb NOT NULL, visits integer NOT NULL,
                                 status text NOT NULL)
            """
        )
        await conn.executemany(
            "INSERT INTO people VALUES ($1, $2, $3, '1950-01-01', $4::jsonb, 3, 'active')",
            [(her, "王芳", None, '["买药", "送饭"]'), (him, "李强", "独居", '["买药"]')],
        )
        await conn.execute(
            blank_where(
                "people",
                "id = ANY($1::uuid[])",
                text=["name", "note"],
                values=["born"],
                text_lists=["errands"],
                also=["status = 'erased'"],
            ),
            [her],
        )
        rows = {r["id"]: dict(r) for r in await conn.fetch("SELECT * FROM people")}
    finally:
        await conn.close()
    assert rows[her] == {
        "id": her,
        "name": ERASED_TEXT,
        "note": None,  # nothing was there: a null stays null, as sealing leaves it
        "born": None,
        "errands": f'["{ERASED_TEXT}", "{ERASED_TEXT}"]',
        "visits": 3,
        "status": "erased",
    }
    assert rows[him]["name"] == "李强"
    assert rows[him]["note"] == "独居"
