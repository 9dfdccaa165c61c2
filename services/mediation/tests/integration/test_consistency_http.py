"""Commands that name the registry's writes by their consistency tokens wait until mediation's
policy has learnt them (``eventkit.app.caught_up``): real PostgreSQL, a real broker, over HTTP.

The registry's events here are fed to the policy as the broker would deliver them
(:meth:`MediationClient.learn`); ``tests/e2e`` runs the registry itself beside mediation.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

from anju_contracts.registry import AreaPath, ResidentRegistered, Sex
from anju_mediation.testing import MediationClient, running_mediation


def new_resident(mediation: MediationClient) -> tuple[str, ResidentRegistered]:
    """A resident the registry registers in the building: their stream and event."""
    resident_id = uuid.uuid4()
    event = ResidentRegistered(
        resident_id=resident_id,
        name="王秀英",
        sex=Sex.FEMALE,
        date_of_birth=date(1948, 3, 2),
        id_number="11010519480302002X",
        path=AreaPath(
            community_id=uuid.UUID(mediation.community_id),
            grid_id=uuid.UUID(mediation.grid_id),
            building_id=uuid.UUID(mediation.building_id),
        ),
    )
    return f"resident-{resident_id}", event


def naming(mediation: MediationClient, resident_id: uuid.UUID) -> dict[str, object]:
    return mediation.dispute_body(
        parties=[
            {"role": "applicant", "resident_id": str(resident_id)},
            {"role": "respondent", "resident_id": mediation.residents[1]},
        ]
    )


async def disputes_written(mediation: MediationClient) -> int:
    async with mediation.runtime.pool.acquire() as conn:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM events WHERE stream_id LIKE 'dispute-%'"
        )
    return count


async def test_a_command_waits_for_the_write_its_token_names(mediation: MediationClient) -> None:
    stream, registered = new_resident(mediation)
    token = f"registry:{stream}:1"
    body = naming(mediation, registered.resident_id)

    # Sent before mediation has learnt of the resident: it waits, and decides once it has.
    sent = asyncio.create_task(
        mediation.client.post(
            "/disputes", json=body, headers={**mediation.admin, "X-Consistency-Token": token}
        )
    )
    await asyncio.sleep(0.3)
    assert not sent.done()
    await mediation.learn(registered, subject=stream)
    response = await asyncio.wait_for(sent, 10)
    assert response.status_code == 201, response.text
    assert response.headers["x-consistency"] == "fresh"


async def test_several_tokens_by_query_parameter_and_its_own_source(
    mediation: MediationClient,
) -> None:
    stream, registered = new_resident(mediation)
    await mediation.learn(registered, subject=stream)
    tokens = ",".join(
        [
            f"registry:{stream}:1",
            f"registry:area-{mediation.building_id}:1",
            # mediation's own writes: a command always sees them, nothing to wait for
            f"mediation:dispute-{uuid.uuid4()}:7",
        ]
    )
    response = await mediation.client.post(
        "/disputes",
        params={"consistency_token": tokens},
        json=naming(mediation, registered.resident_id),
        headers=mediation.admin,
    )
    assert response.status_code == 201, response.text
    assert response.headers["x-consistency"] == "fresh"

    # Without a token the answer does not claim anything.
    plain = await mediation.post("/disputes", mediation.dispute_body())
    assert plain.status_code == 201, plain.text
    assert "x-consistency" not in plain.headers


async def test_tokens_of_sources_nobody_here_follows_are_refused(
    mediation: MediationClient,
) -> None:
    before = await disputes_written(mediation)
    for token in ("query:resident-1:1", "nosuch:x:1", "registry:no-version", ","):
        response = await mediation.client.post(
            "/disputes",
            json=mediation.dispute_body(),
            headers={**mediation.admin, "X-Consistency-Token": token},
        )
        assert response.status_code == 400, (token, response.text)
        assert response.json()["error"]["code"] == "bad_consistency_token"
    too_many = ",".join(f"registry:area-{i}:1" for i in range(17))
    response = await mediation.client.post(
        "/disputes", params={"consistency_token": too_many}, json=mediation.dispute_body()
    )
    assert response.status_code == 401  # nobody waits on anything before authenticating
    response = await mediation.client.post(
        "/disputes",
        params={"consistency_token": too_many},
        json=mediation.dispute_body(),
        headers=mediation.admin,
    )
    assert response.status_code == 400
    assert await disputes_written(mediation) == before


async def test_a_write_not_learnt_in_time_refuses_the_command(
    database_url: str, kafka_bootstrap: str
) -> None:
    async with running_mediation(
        database_url, kafka_bootstrap, consistency_wait_s=0.3
    ) as mediation:
        stream, registered = new_resident(mediation)
        await mediation.learn(registered, subject=stream)
        before = await disputes_written(mediation)
        response = await mediation.client.post(
            "/disputes",
            # the resident's stream is known, but not yet at the version the caller has seen
            json=naming(mediation, registered.resident_id),
            headers={**mediation.admin, "X-Consistency-Token": f"registry:{stream}:2"},
        )
        assert response.status_code == 503, response.text
        error = response.json()["error"]
        assert error["code"] == "consistency_timeout"
        assert error["details"]["token"] == f"registry:{stream}:2"
        assert await disputes_written(mediation) == before
