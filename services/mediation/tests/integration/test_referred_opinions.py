"""Opinions the station's desk refers to mediation, on real PostgreSQL: fed to mediation's
station policy (what the broker would deliver), and once through the station's relay and the
broker; each becomes one conflict signal that ``GET /signals/{id}`` shows linked back to it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from typing import Any

import asyncpg
import pytest
from pydantic import SecretStr

from anju_contracts import Actor
from anju_contracts.registry import AreaCreated, AreaKind, AreaPath
from anju_contracts.station import CATALOG as STATION, OpinionDestination, OpinionReferred
from anju_mediation.domain.errors import AreaNotFound
from anju_mediation.domain.signals import signal_id_of_opinion
from anju_mediation.testing import SECRET, MediationClient as Mediation, running_mediation
from eventkit.relay import Relay
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore
from eventkit.testing.infra import create_database, database_url_for
from eventkit.testing.relay import publish_everything

REFERRED_AT = datetime(2026, 6, 1, 10, 30, tzinfo=UTC)


def referral(
    path: AreaPath,
    *,
    to: OpinionDestination = OpinionDestination.MEDIATION,
    resident_id: str | None = None,
) -> OpinionReferred:
    return OpinionReferred(
        opinion_id=uuid.uuid4(),
        gathering_id=uuid.uuid4(),
        to=to,
        text="邻居在楼道堆放杂物，多次沟通无果",
        resident_id=None if resident_id is None else uuid.UUID(resident_id),
        path=path,
        referred_by="desk-7",
        referred_at=REFERRED_AT,
        note="居民希望调解",
    )


def building_path(mediation: Mediation) -> AreaPath:
    return AreaPath(
        community_id=uuid.UUID(mediation.community_id),
        grid_id=uuid.UUID(mediation.grid_id),
        building_id=uuid.UUID(mediation.building_id),
    )


async def signal_of(mediation: Mediation, opinion: OpinionReferred, headers: dict[str, str]) -> Any:
    response = await mediation.client.get(
        f"/signals/{signal_id_of_opinion(opinion.opinion_id)}", headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


async def test_a_referred_opinion_becomes_one_signal_linked_back_to_it(
    mediation: Mediation,
) -> None:
    opinion = referral(building_path(mediation), resident_id=mediation.residents[0])
    subject = f"gathering-{opinion.gathering_id}"
    envelope = uuid.uuid4()
    assert await mediation.station(opinion, subject=subject, envelope_id=envelope)
    # the same message again: the policy's inbox drops it
    assert not await mediation.station(opinion, subject=subject, envelope_id=envelope)
    # the same referral in a new envelope (a replay after a reset): the signal exists already
    assert await mediation.station(opinion, subject=subject)

    worker = mediation.auth("grid_worker", sub="gw-1", areas=[mediation.grid_id])
    view = await signal_of(mediation, opinion, worker)
    assert view["version"] == 1
    assert view["origin"] == {
        "source": "station",
        "record": "opinion",
        "id": str(opinion.opinion_id),
    }
    assert view["status"] == "reported"
    assert view["reporter_id"] == "desk-7"
    assert view["reporter_role"] == "desk_staff"
    assert view["category"] == "other"
    assert view["description"] == "邻居在楼道堆放杂物，多次沟通无果\n\n窗口备注：居民希望调解"
    assert view["involved_resident_ids"] == [mediation.residents[0]]
    assert view["location"]["area_id"] == mediation.building_id
    assert view["location"]["kind"] == "building"
    assert view["reported_at"] == "2026-06-01T10:30:00Z"

    # the mediator turns it into a dispute like any other signal, giving the category
    dispute = await mediation.ok(
        f"/signals/{view['id']}/dispute",
        {"category": "shared_space", "parties": mediation.dispute_body()["parties"]},
        worker,
    )
    converted = await signal_of(mediation, opinion, worker)
    assert converted["dispute_id"] == dispute
    assert converted["origin"] == view["origin"]
    assert (await mediation.dispute(dispute))["category"] == "shared_space"


async def test_an_opinion_for_governance_reports_nothing(mediation: Mediation) -> None:
    opinion = referral(building_path(mediation), to=OpinionDestination.GOVERNANCE)
    assert await mediation.station(opinion, subject=f"gathering-{opinion.gathering_id}")
    response = await mediation.client.get(
        f"/signals/{signal_id_of_opinion(opinion.opinion_id)}", headers=mediation.admin
    )
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "signal_not_found"


async def test_an_area_mediation_has_not_learnt_yet_places_the_signal_above_it(
    mediation: Mediation,
) -> None:
    new_building = uuid.uuid4()
    path = building_path(mediation).model_copy(update={"building_id": new_building})
    opinion = referral(path)
    assert await mediation.station(opinion, subject=f"gathering-{opinion.gathering_id}")
    view = await signal_of(mediation, opinion, mediation.director)
    assert view["location"]["area_id"] == mediation.grid_id
    assert view["location"]["kind"] == "grid"


async def test_an_opinion_of_an_unknown_community_waits_for_the_registry(
    mediation: Mediation,
) -> None:
    """Refused while mediation knows not even the community: the policy's transaction rolls
    back with its inbox row, so the kernel tries the message again (and, failing still, sets
    it aside as a dead letter to replay); once the registry's news is in, it goes through."""
    community = uuid.uuid4()
    opinion = referral(AreaPath(community_id=community))
    subject, envelope = f"gathering-{opinion.gathering_id}", uuid.uuid4()
    with pytest.raises(AreaNotFound):
        await mediation.station(opinion, subject=subject, envelope_id=envelope)

    await mediation.learn(
        AreaCreated(
            area_id=community,
            kind=AreaKind.COMMUNITY,
            name="新社区",
            parent_id=None,
            path=AreaPath(community_id=community),
        ),
        subject=f"area-{community}",
        area=community,
    )
    assert await mediation.station(opinion, subject=subject, envelope_id=envelope)
    director = mediation.auth("director", sub="director-2", areas=[str(community)])
    view = await signal_of(mediation, opinion, director)
    assert view["location"]["area_id"] == str(community)


async def test_a_referral_arrives_through_the_stations_relay_and_the_broker(
    pg_server_url: str, database_url: str, kafka_bootstrap: str
) -> None:
    prefix = f"o{uuid.uuid4().hex[:10]}."
    station_url = await create_database(pg_server_url, f"station_{uuid.uuid4().hex[:12]}")
    pool = await asyncpg.create_pool(station_url, min_size=1, max_size=2)
    await migrate(pool)
    store = EventStore(pool, STATION)
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=prefix)
    relay = Relay(
        store,
        ServiceSettings(
            service="station", database_url=station_url, jwt_secret=SecretStr(SECRET), kafka=kafka
        ),
    )
    await relay.start()
    try:
        async with running_mediation(
            database_url, kafka_bootstrap, topic_prefix=prefix
        ) as mediation:
            opinion = referral(building_path(mediation))
            await store.append(
                f"gathering-{opinion.gathering_id}",
                0,
                [opinion],
                context=Context(actor=Actor(id="desk-7", roles=("desk_staff",))),
                area=mediation.grid_id,
            )
            assert await publish_everything(relay) == 1
            url = f"/signals/{signal_id_of_opinion(opinion.opinion_id)}"
            for _ in range(300):
                response = await mediation.client.get(url, headers=mediation.admin)
                if response.status_code == 200:
                    break
                await asyncio.sleep(0.1)
            assert response.status_code == 200, response.text
            assert response.json()["origin"]["id"] == str(opinion.opinion_id)
    finally:
        await relay.close()
        await pool.close()
        conn = await asyncpg.connect(database_url_for(pg_server_url, "postgres"))
        try:
            name = station_url.rsplit("/", 1)[1].split("?")[0]
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
