"""12345 work orders that wait for a place, on real PostgreSQL: parked when their area is not
known, listed for the desks that may place them (the caller's contact for desk staff and
directors only), placed by a clerk or by the registry announcing the area they named, then
opened in mediation once (the same idempotency key as an order placed on arrival)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest_asyncio

from anju_contracts.hotline12345 import CallerContact, OrderCategory, WorkOrderDispatched
from anju_contracts.integration import AnjuRecord, WorkOrderReceived
from anju_contracts.registry import AreaCreated, AreaKind, AreaPath, Location
from anju_integration.application import hotline
from anju_integration.application.config import IntegrationConfig
from anju_integration.domain import orders
from anju_integration.testing import IntegrationClient, running_integration
from eventkit.service_calls import Refused, Unavailable
from eventkit.testing.clocks import ManualClock

Json = dict[str, Any]


@dataclass
class Mediation:
    """Mediation's command API as the idempotency key makes it: one record per order id."""

    ids: dict[str, uuid.UUID] = field(default_factory=dict)
    calls: list[tuple[str, AnjuRecord, uuid.UUID]] = field(default_factory=list)
    away: bool = False
    refuse: str | None = None

    async def open(
        self, order: WorkOrderReceived, record: AnjuRecord, location: Location
    ) -> uuid.UUID:
        self.calls.append((order.order_id, record, location.area_id))
        if self.away:
            raise Unavailable("mediation is away")
        if self.refuse is not None:
            raise Refused(422, self.refuse, "refused")
        return self.ids.setdefault(order.order_id, uuid.uuid4())


@dataclass
class Desk:
    service: IntegrationClient
    mediation: Mediation

    @property
    def config(self) -> IntegrationConfig:
        config: IntegrationConfig = self.service.app.state.config
        return config

    @property
    def community(self) -> str:
        return self.service.feed.community_id

    def staff(self, role: str = "desk_staff", *areas: str) -> dict[str, str]:
        return self.service.auth(role, sub=f"{role}-1", areas=areas or (self.community,))

    async def dispatch(self, order_id: str, **changes: Any) -> orders.Order:
        now = self.service.clock()
        fields: Json = {
            "order_id": order_id,
            "category": OrderCategory.NOISE,
            "address": "幸福路 88 号 无名小区",
            "caller": CallerContact(name="李先生", phone="13900000000"),
            "text": "楼下商铺夜间噪音",
            "dispatched_at": now,
            "deadline": now + timedelta(hours=20),
        } | changes
        order = WorkOrderDispatched(**fields)
        return await hotline.take_order(
            self.service.runtime.store, self.config, order, message_id=f"m-{order_id}"
        )

    async def order(self, order_id: str) -> orders.Order:
        stream = await self.service.runtime.store.load(hotline.stream_of(order_id))
        order = orders.fold(stream.payloads)
        assert order is not None
        return order

    async def fire_deadlines(self) -> None:
        await self.service.scheduler(days_ahead=1).fire_due()


@pytest_asyncio.fixture
async def desk(database_url: str, kafka_bootstrap: str) -> AsyncIterator[Desk]:
    mediation = Mediation()
    clock = ManualClock(datetime.now(UTC))
    async with running_integration(
        database_url, kafka_bootstrap, mediation=mediation, inbounds=[], clock=clock
    ) as service:
        yield Desk(service, mediation)


async def test_a_parked_order_is_listed_for_the_desk_and_placed_by_a_clerk(desk: Desk) -> None:
    feed = desk.service.feed
    parked = await desk.dispatch("GD-1")
    assert parked.status is orders.Status.PARKED
    assert desk.mediation.calls == []

    listed = await desk.service.get("/parked-orders", headers=desk.staff())
    assert listed.status_code == 200, listed.text
    [shown] = listed.json()
    assert shown["order_id"] == "GD-1"
    assert shown["status"] == "parked"
    assert shown["park_reason"] == "unknown_area"
    assert shown["caller"] == {"name": "李先生", "phone": "13900000000"}
    # a grid worker of the community sees it too, without the caller's contact
    worker = desk.staff("grid_worker")
    [seen] = (await desk.service.get("/parked-orders", headers=worker)).json()
    assert seen["caller"] is None
    assert (await desk.service.get("/orders/GD-1", headers=worker)).json()["caller"] is None

    placed = await desk.service.post(
        "/orders/GD-1/placement", {"area_id": feed.grid_id}, headers=desk.staff()
    )
    assert placed.status_code == 201, placed.text
    body = placed.json()
    assert body["status"] == "forwarded"
    assert body["record"] == "dispute"
    assert body["record_id"] == str(desk.mediation.ids["GD-1"])
    assert body["area_id"] == feed.grid_id
    assert desk.mediation.calls == [("GD-1", AnjuRecord.DISPUTE, uuid.UUID(feed.grid_id))]
    assert (await desk.service.get("/parked-orders", headers=desk.staff())).json() == []

    again = await desk.service.post(
        "/orders/GD-1/placement", {"area_id": feed.grid_id}, headers=desk.staff()
    )
    assert again.status_code == 409, again.text
    assert again.json()["error"]["code"] == "work_order_not_parked"
    # the order sent again, and the deadline firing: still one record, opened once
    assert (await desk.dispatch("GD-1")).status is orders.Status.FORWARDED
    await desk.fire_deadlines()
    assert len(desk.mediation.calls) == 1


async def test_a_placement_sent_again_with_its_key_is_answered_as_it_was_decided(
    desk: Desk,
) -> None:
    feed = desk.service.feed
    await desk.dispatch("GD-10")
    keyed = desk.staff() | {"Idempotency-Key": "place-GD-10"}
    body = {"area_id": feed.grid_id}

    first = await desk.service.post("/orders/GD-10/placement", body, headers=keyed)
    assert first.status_code == 201, first.text
    assert first.json()["status"] == "forwarded"
    again = await desk.service.post("/orders/GD-10/placement", body, headers=keyed)
    assert again.status_code == 201, again.text
    assert again.headers["Idempotent-Replayed"] == "true"
    kept = again.json()
    # the answer kept with the placement: the order as placed, before mediation answered
    assert (kept["order_id"], kept["status"], kept["area_id"]) == ("GD-10", "placed", feed.grid_id)
    assert kept["version"] == first.json()["version"] - 1
    assert len(desk.mediation.calls) == 1
    # the key with another request is refused; without the key the placement is refused
    elsewhere = {"area_id": feed.community_id}
    reused = await desk.service.post("/orders/GD-10/placement", elsewhere, headers=keyed)
    assert reused.status_code == 422, reused.text
    assert reused.json()["error"]["code"] == "idempotency_key_reused"
    plain = await desk.service.post("/orders/GD-10/placement", body, headers=desk.staff())
    assert plain.json()["error"]["code"] == "work_order_not_parked"


async def test_a_refused_placement_keeps_nothing_under_its_key(desk: Desk) -> None:
    feed = desk.service.feed
    await desk.dispatch("GD-11", area_id=uuid.UUID(feed.grid_id), address=None)
    keyed = desk.staff() | {"Idempotency-Key": "place-GD-11"}
    body = {"area_id": feed.grid_id}
    for _ in range(2):
        refused = await desk.service.post("/orders/GD-11/placement", body, headers=keyed)
        assert refused.status_code == 409, refused.text
        assert refused.json()["error"]["code"] == "work_order_not_parked"


async def test_an_order_numbered_parked_is_read_and_placed_like_any_other(desk: Desk) -> None:
    feed = desk.service.feed
    await desk.dispatch("parked")
    one = "/orders/parked"  # the order numbered "parked", not the desk's list

    shown = await desk.service.get(one, headers=desk.staff())
    assert shown.status_code == 200, shown.text
    assert (shown.json()["order_id"], shown.json()["status"]) == ("parked", "parked")
    [listed] = (await desk.service.get("/parked-orders", headers=desk.staff())).json()
    assert listed["order_id"] == "parked"
    body = {"area_id": feed.grid_id}
    placed = await desk.service.post(f"{one}/placement", body, headers=desk.staff())
    assert placed.status_code == 201, placed.text
    assert (await desk.service.get(one, headers=desk.staff())).json()["status"] == "forwarded"
    assert (await desk.service.get("/parked-orders", headers=desk.staff())).json() == []


async def test_placing_is_for_the_desk_of_the_orders_areas(desk: Desk) -> None:
    feed = desk.service.feed
    await desk.dispatch("GD-2")
    body = {"area_id": feed.grid_id}
    url = "/orders/GD-2/placement"

    worker = await desk.service.post(url, body, headers=desk.staff("grid_worker"))
    assert worker.status_code == 403, worker.text
    elsewhere = desk.staff("desk_staff", str(uuid.uuid4()))
    assert (await desk.service.post(url, body, headers=elsewhere)).status_code == 404
    assert (await desk.service.get("/orders/GD-2", headers=elsewhere)).status_code == 404
    assert (await desk.service.get("/parked-orders", headers=elsewhere)).json() == []
    # an area outside the clerk's areas does not exist for them
    far = {"area_id": feed.other_community_id}
    director = desk.staff("director")
    outside = await desk.service.post(url, far, headers=director)
    assert outside.status_code == 404, outside.text
    assert outside.json()["error"]["code"] == "area_not_found"
    for bad in ({}, {"area_id": "nowhere"}, {"area_id": feed.grid_id, "extra": 1}):
        assert (await desk.service.post(url, bad, headers=director)).status_code == 422
    missing = await desk.service.post("/orders/GD-404/placement", body, headers=director)
    assert missing.status_code == 404
    assert missing.json()["error"]["code"] == "work_order_not_found"
    assert desk.mediation.calls == []


async def test_an_order_placed_on_arrival_is_not_parked(desk: Desk) -> None:
    feed = desk.service.feed
    placed = await desk.dispatch("GD-3", area_id=uuid.UUID(feed.grid_id), address=None)
    assert placed.status is orders.Status.FORWARDED
    answer = await desk.service.post(
        "/orders/GD-3/placement", {"area_id": feed.grid_id}, headers=desk.staff()
    )
    assert answer.status_code == 409
    assert answer.json()["error"]["code"] == "work_order_not_parked"
    shown = (await desk.service.get("/orders/GD-3", headers=desk.staff())).json()
    assert shown["status"] == "forwarded"
    assert shown["community_id"] == feed.community_id


async def test_an_order_naming_an_area_not_learnt_yet_is_placed_when_it_is(desk: Desk) -> None:
    feed = desk.service.feed
    new_grid = uuid.uuid4()
    parked = await desk.dispatch("GD-4", area_id=new_grid, address=None)
    assert parked.status is orders.Status.PARKED

    path = AreaPath(community_id=uuid.UUID(feed.community_id), grid_id=new_grid)
    created = AreaCreated(
        area_id=new_grid,
        kind=AreaKind.GRID,
        name="七网格",
        parent_id=uuid.UUID(feed.community_id),
        path=path,
    )
    await feed.learn(created, subject=f"area-{new_grid}", area=new_grid)

    placed = await desk.order("GD-4")
    assert placed.status is orders.Status.PLACED
    assert placed.path == path
    assert (await desk.service.get("/parked-orders", headers=desk.staff())).json() == []
    await desk.fire_deadlines()
    forwarded = await desk.order("GD-4")
    assert forwarded.status is orders.Status.FORWARDED
    assert desk.mediation.calls == [("GD-4", AnjuRecord.DISPUTE, new_grid)]
    # announced again (a redelivered area): nothing more
    await feed.learn(created, subject=f"area-{new_grid}", area=new_grid)
    await desk.fire_deadlines()
    assert len(desk.mediation.calls) == 1


async def test_mediation_away_forwards_later_and_a_refusal_parks_it_again(desk: Desk) -> None:
    feed = desk.service.feed
    await desk.dispatch("GD-5")
    desk.mediation.away = True
    placed = await desk.service.post(
        "/orders/GD-5/placement", {"area_id": feed.grid_id}, headers=desk.staff()
    )
    assert placed.status_code == 201, placed.text
    assert placed.json()["status"] == "placed"
    assert placed.json()["record_id"] is None
    desk.mediation.away = False
    await desk.fire_deadlines()
    assert (await desk.order("GD-5")).status is orders.Status.FORWARDED

    await desk.dispatch("GD-6")
    desk.mediation.refuse = "validation_failed"
    refused = await desk.service.post(
        "/orders/GD-6/placement", {"area_id": feed.grid_id}, headers=desk.staff()
    )
    assert refused.status_code == 201, refused.text
    assert refused.json()["status"] == "parked"
    assert refused.json()["park_reason"] == "refused: validation_failed"
    # parked where it was placed: the grid's desk sees it; the other grid's does not
    grid_desk = desk.staff("desk_staff", feed.grid_id)
    assert [
        o["order_id"] for o in (await desk.service.get("/parked-orders", headers=grid_desk)).json()
    ] == ["GD-6"]
    other = desk.staff("desk_staff", feed.other_grid_id)
    assert (await desk.service.get("/parked-orders", headers=other)).json() == []


async def test_an_order_without_a_place_is_for_every_known_community_by_default(
    desk: Desk,
) -> None:
    feed = desk.service.feed
    await desk.dispatch("GD-7")
    for community in (feed.community_id, feed.other_community_id):
        shown = await desk.service.get("/parked-orders", headers=desk.staff("director", community))
        assert [o["order_id"] for o in shown.json()] == ["GD-7"]


async def test_an_order_without_a_place_is_for_the_communities_the_setting_names(
    database_url: str, kafka_bootstrap: str
) -> None:
    served = uuid.uuid4()
    async with running_integration(
        database_url,
        kafka_bootstrap,
        mediation=Mediation(),
        inbounds=[],
        settings_changes={"hotline_community_ids": [served]},
    ) as service:
        desk = Desk(service, Mediation())
        await desk.dispatch("GD-8")
        mine = await service.get("/parked-orders", headers=desk.staff("desk_staff", str(served)))
        assert [o["order_id"] for o in mine.json()] == ["GD-8"]
        known = desk.staff("desk_staff", service.feed.community_id)
        assert (await service.get("/parked-orders", headers=known)).json() == []
        assert (await service.get("/orders/GD-8", headers=known)).status_code == 404
