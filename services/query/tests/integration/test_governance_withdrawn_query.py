"""Withdrawn work items in the governance read model: governance events through the real relay
and broker into the query API.

An item is withdrawn when the dispute escalation that opened it was withdrawn (the dispute never
reached the community): no one's work any more — no supervision colour, never overdue, listed
after the closed items — and neither on time nor late: the on-time rates do not count it due,
and the dashboard's closed-on-time and closed-late figures skip it.

Community C, the property company 安居物业; now is 2025-06-01 00:00 UTC. Items from disputes:

- w1 without an owner; deadline 20 May; yellow and red raised; withdrawn on 1 June;
- w2 安居物业's; deadline 25 May; received, red raised; closed on time, reopened; withdrawn;
- w3 安居物业's; deadline 20 May; closed on time on 18 May;
- w4 安居物业's; deadline 15 May; received, red raised: overdue.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import asyncpg
import httpx
import pytest_asyncio
from pydantic import SecretStr

from anju_contracts import Actor, Event
from anju_contracts.governance import (
    CATALOG,
    CompletionReported,
    Priority,
    SourceLink,
    SourceRecord,
    SupervisionColour,
    SupervisionRaised,
    WorkItemClosed,
    WorkItemOpened,
    WorkItemReceived,
    WorkItemReopened,
    WorkItemSource,
    WorkItemVerified,
    WorkItemWithdrawn,
)
from anju_contracts.registry import (
    CATALOG as REGISTRY_CATALOG,
    AreaPath,
    OrganisationKind,
    OrganisationRegistered,
)
from anju_query.entrypoints.app import create_app
from anju_query.settings import QuerySettings
from anju_query.testing import Source, area_tree, caught_up, consumed_to_end, write_side
from eventkit.auth import Role, issue_token
from eventkit.settings import KafkaSettings
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import databases

SECRET = "query-tests-secret-0123456789abcdef"
NOW = datetime(2025, 6, 1, tzinfo=UTC)
DIRECTOR = Actor(id="director-1", roles=("director",))
GOVERNANCE = Actor(id="governance", roles=("service",))
REASON = "the escalation that opened it was withdrawn"


def at(month: int, day: int, hour: int = 9) -> datetime:
    return datetime(2025, month, day, hour, tzinfo=UTC)


def token(
    role: Role, *, areas: tuple[uuid.UUID, ...] = (), organisations: tuple[uuid.UUID, ...] = ()
) -> dict[str, str]:
    signed = issue_token(
        SECRET,
        f"{role}-1",
        (role,),
        [str(a) for a in areas],
        organisations=[str(o) for o in organisations],
    )
    return {"Authorization": f"Bearer {signed}"}


@dataclass
class World:
    governance: Source
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    ids: dict[str, uuid.UUID]

    def director(self) -> dict[str, str]:
        return token(Role.DIRECTOR, areas=(self.ids["c"],))

    def names(self, body: Any) -> list[str]:
        keys = {str(v): k for k, v in self.ids.items()}
        return [keys[i["id"]] for i in body["items"]]

    async def get(self, url: str, headers: dict[str, str] | None = None, /, **params: Any) -> Any:
        response = await self.client.get(url, params=params, headers=headers or self.director())
        assert response.status_code == 200, response.text
        return response.json()


def red(item: uuid.UUID, due: datetime, owner: uuid.UUID | None) -> SupervisionRaised:
    return SupervisionRaised(
        item_id=item,
        colour=SupervisionColour.RED,
        due_by=due,
        owner_organisation_id=owner,
        raised_at=due + timedelta(hours=1),
    )


def received(item: uuid.UUID, owner: uuid.UUID, when: datetime) -> WorkItemReceived:
    return WorkItemReceived(
        item_id=item,
        owner_organisation_id=owner,
        received_by="liaison-1",
        received_at=when,
        late=False,
    )


def closed(item: uuid.UUID, when: datetime) -> list[Event]:
    return [
        CompletionReported(
            item_id=item, summary="已修好", reported_by="liaison-1", reported_at=when, on_time=True
        ),
        WorkItemVerified(item_id=item, verified_by="grid-1", verified_at=when),
        WorkItemClosed(item_id=item, closed_by="director-1", closed_at=when, on_time=True),
    ]


def withdrawn(item: uuid.UUID, dispute: uuid.UUID) -> WorkItemWithdrawn:
    return WorkItemWithdrawn(
        item_id=item,
        dispute_id=dispute,
        reason=REASON,
        withdrawn_by="governance",
        withdrawn_at=NOW,
    )


async def _seed(gov: Source, ids: dict[str, uuid.UUID]) -> None:
    c, owner = ids["c"], ids["property"]

    def opened(key: str, deadline: datetime, opened_at: datetime, *, owned: bool) -> Event:
        item = ids[key] = uuid.uuid4()
        dispute = ids[f"{key}-dispute"] = uuid.uuid4()
        return WorkItemOpened(
            item_id=item,
            title=f"社区级纠纷 {key}",
            source=SourceLink(
                source=WorkItemSource.MEDIATION, record=SourceRecord.DISPUTE, id=dispute
            ),
            path=AreaPath(community_id=c),
            owner_organisation_id=owner if owned else None,
            deadline=deadline,
            priority=Priority.HIGH,
            receipt_due_by=opened_at + timedelta(days=2) if owned else None,
            opened_by="governance",
            opened_at=opened_at,
        )

    async def item(key: str, *events: Event, actor: Actor = DIRECTOR) -> None:
        await gov.emit(f"item-{ids[key]}", *events, area=c, actor=actor)

    await item("w1", opened("w1", at(5, 20, 18), at(5, 5), owned=False), actor=GOVERNANCE)
    await item(
        "w1",
        SupervisionRaised(
            item_id=ids["w1"],
            colour=SupervisionColour.YELLOW,
            due_by=at(5, 20, 18),
            raised_at=at(5, 17, 18),
        ),
        red(ids["w1"], at(5, 20, 18), None),
        withdrawn(ids["w1"], ids["w1-dispute"]),
        actor=GOVERNANCE,
    )
    await item("w2", opened("w2", at(5, 25, 18), at(5, 6), owned=True), actor=GOVERNANCE)
    await item("w2", received(ids["w2"], owner, at(5, 6, 15)), *closed(ids["w2"], at(5, 10)))
    await item(
        "w2",
        WorkItemReopened(
            item_id=ids["w2"],
            reason="又漏水了",
            deadline=at(5, 25, 18),
            reopened_by="director-1",
            reopened_at=at(5, 12),
        ),
    )
    await item(
        "w2",
        red(ids["w2"], at(5, 25, 18), owner),
        withdrawn(ids["w2"], ids["w2-dispute"]),
        actor=GOVERNANCE,
    )
    await item("w3", opened("w3", at(5, 20, 18), at(5, 7), owned=True), actor=GOVERNANCE)
    await item("w3", received(ids["w3"], owner, at(5, 7, 15)), *closed(ids["w3"], at(5, 18)))
    await item("w4", opened("w4", at(5, 15, 18), at(5, 8), owned=True), actor=GOVERNANCE)
    await item("w4", received(ids["w4"], owner, at(5, 8, 15)))
    await item("w4", red(ids["w4"], at(5, 15, 18), owner), actor=GOVERNANCE)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def world(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"w{uuid.uuid4().hex[:10]}.")
    async with (
        databases(pg_server_url, "governance", "registry", "read") as urls,
        write_side(
            "governance", urls[0], kafka, CATALOG, secret=SECRET, actor=DIRECTOR
        ) as governance,
        write_side(
            "registry", urls[1], kafka, REGISTRY_CATALOG, secret=SECRET, actor=DIRECTOR
        ) as registry,
    ):
        ids, _ = await area_tree(registry)
        owner = ids["property"] = uuid.uuid4()
        await registry.emit(
            f"organisation-{owner}",
            OrganisationRegistered(
                organisation_id=owner,
                kind=OrganisationKind.PROPERTY_COMPANY,
                name="安居物业",
                community_ids=[ids["c"]],
            ),
            area=ids["c"],
        )
        await _seed(governance, ids)
        await registry.publish()
        await governance.publish()
        app = create_app(
            QuerySettings(database_url=urls[2], jwt_secret=SecretStr(SECRET), kafka=kafka),
            clock=ManualClock(NOW),
        )
        async with app.router.lifespan_context(app):
            pool: asyncpg.Pool = app.state.runtime.pool
            await caught_up(pool, registry, "residents")
            await caught_up(pool, governance, "governance")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://query") as client:
                yield World(governance, client, pool, ids)


async def test_a_withdrawn_item_is_no_ones_work_and_comes_last(world: World) -> None:
    body = await world.get("/governance/work-items")
    assert world.names(body) == ["w4", "w3", "w1", "w2"]
    assert (body["by_status"]["withdrawn"], body["by_status"]["closed"]) == (2, 1)
    assert body["by_colour"] == {"blue": 0, "yellow": 0, "red": 1}
    assert body["overdue"] == 1
    items = dict(zip(world.names(body), body["items"], strict=True))
    for key in ("w1", "w2"):
        item = items[key]
        assert (item["status"], item["colour"], item["overdue"]) == ("withdrawn", None, False)
        assert item["withdrawn_at"] == "2025-06-01T00:00:00Z"
        # reopened before it was withdrawn: not closed, neither on time nor late
        assert (item["closed_at"], item["closed_on_time"]) == (None, None)
    assert items["w3"]["withdrawn_at"] is None
    withdrawn = await world.get("/governance/work-items", status="withdrawn")
    assert world.names(withdrawn) == ["w1", "w2"]
    assert world.names(await world.get("/governance/work-items", colour="red")) == ["w4"]
    assert world.names(await world.get("/governance/overdue")) == ["w4"]
    # the owner's liaison sees it withdrawn too, not as their work
    liaison = token(Role.LIAISON, areas=(world.ids["c"],), organisations=(world.ids["property"],))
    owned = await world.get("/governance/work-items", liaison)
    assert world.names(owned) == ["w4", "w3", "w2"]
    assert owned["items"][-1]["status"] == "withdrawn"


async def test_a_withdrawn_items_history_says_why(world: World) -> None:
    body = await world.get(f"/governance/work-items/{world.ids['w1']}")
    assert body["status"] == "withdrawn"
    last = body["history"][-1]
    assert (last["what"], last["who"], last["reason"]) == (
        "WorkItemWithdrawn",
        "governance",
        REASON,
    )
    assert last["when"] == "2025-06-01T00:00:00Z"
    assert last["details"] == {"dispute_id": str(world.ids["w1-dispute"])}


async def test_withdrawn_items_count_in_no_completion_figure(world: World) -> None:
    rates = await world.get("/governance/on-time", **{"from": "2025-05-01", "to": "2025-05-31"})
    # due in May: w3 closed on time, w4 open; w1 and w2 were withdrawn
    total = rates["total"]
    assert (total["due"], total["closed_on_time"], total["closed_late"], total["open"]) == (
        2,
        1,
        0,
        1,
    )
    period = {"from": "2025-05-01", "to": "2025-06-01", "community_id": str(world.ids["c"])}
    for name, value in (("work_items_closed_on_time", 1), ("work_items_closed_late", 0)):
        figure = await world.get(f"/dashboard/figures/{name}", **period)
        assert figure["value"] == value, name
    on_time = await world.get("/dashboard/figures/work_items_closed_on_time", **period)
    assert [i["id"] for i in on_time["items"]] == [str(world.ids["w3"])]


async def test_a_redelivered_withdrawal_changes_nothing(world: World) -> None:
    async def rows() -> list[str]:
        async with world.pool.acquire() as conn:
            found = await conn.fetch("SELECT x::text FROM governance.work_items x ORDER BY item_id")
            history = await conn.fetch(
                "SELECT x::text FROM governance.item_history x ORDER BY item_id, sequence"
            )
        return [r[0] for r in [*found, *history]]

    await consumed_to_end(world.pool, world.governance, "governance")
    before = await rows()
    await world.governance.publish_again()
    await consumed_to_end(world.pool, world.governance, "governance")
    assert await rows() == before
