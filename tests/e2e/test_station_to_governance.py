"""Across services: an opinion raised at the station's opinion-gathering session that no single
service can settle is referred to governance, and governance puts it on the work list, linked
back to the opinion — through the station's real relay, the real broker and governance's real
policy runner. Both apps run their real lifespans on databases of their own, governance on the
station's topic prefix of the session's broker."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Any

import pytest_asyncio

from anju_governance.testing import GovernanceClient, running_governance
from anju_station.testing import StationClient, running_station
from eventkit.testing.infra import databases

# The first referral also waits for governance's policy to join its consumer group.
WAIT_S = 30.0


@pytest_asyncio.fixture
async def stack(
    database_url: str, pg_server_url: str, kafka_bootstrap: str
) -> AsyncIterator[tuple[StationClient, GovernanceClient]]:
    async with (
        databases(pg_server_url, "governance") as (governance_db,),
        running_station(database_url, kafka_bootstrap) as station,
        running_governance(
            governance_db,
            kafka_bootstrap,
            topic_prefix=station.settings.kafka.topic_prefix,
            feed_tree=False,
        ) as governance,
    ):
        yield station, governance


async def accepted(station: StationClient, url: str, body: Any, headers: dict[str, str]) -> Any:
    response = await station.post(url, body, headers)
    assert response.status_code == 201, response.text
    return response.json()


async def test_an_opinion_referred_to_governance_becomes_a_work_item_linked_to_it(
    stack: tuple[StationClient, GovernanceClient],
) -> None:
    station, governance = stack
    community = station.feed.community_id
    clerk = station.auth("desk_staff", sub="desk-li", areas=[community])
    session = await accepted(
        station,
        "/gatherings",
        {
            "area_id": community,
            "kind": "opinion_gathering",
            "topic": "小区环境",
            "held_on": station.clock.now.date().isoformat(),
            "attendance": 20,
        },
        clerk,
    )
    opinion = await accepted(
        station, f"/gatherings/{session['id']}/opinions", {"text": "东门路灯坏了三个月"}, clerk
    )
    await accepted(station, f"/opinions/{opinion['id']}/referral", {"to": "governance"}, clerk)

    director = governance.auth("director", sub="director-1", areas=[community])
    found: list[dict[str, Any]] = []
    for _ in range(int(WAIT_S / 0.2)):
        async with governance.runtime.pool.acquire() as conn:
            streams = await conn.fetch(
                "SELECT DISTINCT stream_id FROM events WHERE stream_id LIKE 'item-%'"
            )
        if streams:
            found = [await governance.item(streams[0]["stream_id"].removeprefix("item-"), director)]
            break
        await asyncio.sleep(0.2)
    assert found, "governance did not open an item for the referred opinion"
    (item,) = found
    assert item["source"] == {"source": "station", "record": "opinion", "id": opinion["id"]}
    assert (item["community_id"], item["status"]) == (community, "unassigned")
    assert [h["type"] for h in item["history"]] == ["governance.WorkItemOpened"]
    assert item["history"][0]["data"]["description"] == "东门路灯坏了三个月"
