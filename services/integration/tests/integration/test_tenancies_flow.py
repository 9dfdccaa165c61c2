"""The tenancy flow on real PostgreSQL, its subscriber under FastStream's ``TestKafkaBroker``, the
registry's news fed to the service's registry policy, and a registry that records the commands
it is sent: exactly once per message id, parked when not matched exactly, matched by the desk."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest_asyncio
from faststream.kafka import TestKafkaBroker

from anju_contracts import housing
from anju_contracts.registry import (
    AreaCreated,
    AreaKind,
    AreaPath,
    ErasureBasis,
    OrganisationKind,
    PersonErased,
    ResidentMovedOut,
    ResidentRegistered,
    Sex,
)
from anju_integration.application.config import IntegrationConfig
from anju_integration.application.tenancies import NOTICES
from anju_integration.domain import tenancies as domain
from anju_integration.entrypoints.subscribers import tenancies
from anju_integration.entrypoints.subscribers.inbound import Running, Subscriber, build_broker
from anju_integration.testing import IntegrationClient, running_integration
from anju_integration.testing_housing import (
    FakeRegistry,
    days_ago,
    ended,
    started,
    tenant,
    transferred,
    unit,
)
from eventkit.messages import Poison
from eventkit.testing.clocks import ManualClock

Json = dict[str, Any]


@dataclass
class Estate:
    service: IntegrationClient
    registry: FakeRegistry
    unit_id: str
    path: AreaPath
    letters: list[Poison]

    @property
    def config(self) -> IntegrationConfig:
        config: IntegrationConfig = self.service.app.state.config
        return config

    async def send(self, *messages: tuple[str, housing.TenancyChanged]) -> None:
        """Deliver the messages through the subscriber, as the broker would."""

        async def letters(consumer: str, poison: Poison) -> None:
            self.letters.append(poison)

        handle = tenancies.handler(Running(self.service.runtime, self.config))
        subscriber = Subscriber(tenancies.INBOUND, handle, letters, retries=1, backoff_s=0.001)
        broker = build_broker(self.service.settings, [subscriber], client_id="test")
        async with TestKafkaBroker(broker) as test:
            for message_id, change in messages:
                message = housing.to_kafka(message_id, change)
                headers = {k: v.decode() for k, v in message.headers}
                await test.publish(
                    message.value,
                    f"{self.service.settings.kafka.topic_prefix}{housing.TOPIC}",
                    key=message.key,
                    headers=headers,
                )

    async def notice(self, message_id: str) -> tuple[domain.Notice, int]:
        stream = await self.service.runtime.store.load(
            NOTICES.stream(domain.notice_id_of(message_id))
        )
        notice = domain.fold(stream.payloads)
        assert notice is not None
        return notice, stream.version

    async def resident_at_unit(self, person: housing.Tenant) -> str:
        """Announce ``person`` as registered at the unit (as the registry's relay would)."""
        resident_id = uuid.uuid4()
        event = ResidentRegistered(
            resident_id=resident_id,
            name=person.name,
            sex=Sex.FEMALE,
            date_of_birth=person.date_of_birth,
            id_number=person.id_number,
            path=self.path,
        )
        await self.service.feed.learn(
            event, subject=f"resident-{resident_id}", area=self.path.grid_id
        )
        return str(resident_id)

    def desk(self, *areas: str) -> dict[str, str]:
        return self.service.auth("desk_staff", sub="desk-1", areas=areas)


async def _named_area(
    service: IntegrationClient, kind: AreaKind, name: str, parent: uuid.UUID, path: AreaPath
) -> AreaPath:
    area_id = uuid.uuid4()
    path = path.model_copy(update={f"{kind}_id": area_id})
    event = AreaCreated(area_id=area_id, kind=kind, name=name, parent_id=parent, path=path)
    await service.feed.learn(event, subject=f"area-{area_id}", area=path.grid_id)
    return path


@pytest_asyncio.fixture
async def estate(database_url: str, kafka_bootstrap: str) -> AsyncIterator[Estate]:
    registry = FakeRegistry()
    clock = ManualClock(datetime.now(UTC))
    async with running_integration(
        database_url, kafka_bootstrap, registry=registry, inbounds=[], clock=clock
    ) as service:
        feed = service.feed
        grid = AreaPath(community_id=uuid.UUID(feed.community_id), grid_id=uuid.UUID(feed.grid_id))
        building = await _named_area(service, AreaKind.BUILDING, "3号楼", grid.grid_id, grid)  # type: ignore[arg-type]
        assert building.building_id is not None
        path = await _named_area(service, AreaKind.UNIT, "301", building.building_id, building)
        await feed.organisation(OrganisationKind.HOUSING_SECURITY_CENTRE, "住房保障中心")
        yield Estate(service, registry, str(path.unit_id), path, [])


async def test_a_started_tenancy_registers_its_tenants_once_per_message_id(estate: Estate) -> None:
    moved_in = started(
        [tenant("王芳"), tenant("王小明", date(2015, 6, 1), 2)], unit("３号楼 ", "301")
    )

    await estate.send(("hs-1", moved_in), ("hs-1", moved_in))
    await estate.send(("hs-1", moved_in))  # sent again later

    notice, version = await estate.notice("hs-1")
    assert notice.status is domain.Status.APPLIED
    assert str(notice.unit_id) == estate.unit_id
    assert estate.registry.calls == [
        ("register", "housing:hs-1:register:in-0"),
        ("register", "housing:hs-1:register:in-1"),
    ]
    assert version == 4  # received, two steps, applied: nothing more for the copies
    assert estate.letters == []


async def test_an_ended_tenancy_moves_out_the_residents_holding_the_tenants_numbers(
    estate: Estate,
) -> None:
    wang = tenant("王芳")
    resident_id = await estate.resident_at_unit(wang)

    await estate.send(("hs-2", ended("ZL-7", [wang])))

    notice, _ = await estate.notice("hs-2")
    assert notice.status is domain.Status.APPLIED
    assert estate.registry.calls == [("move_out", f"housing:hs-2:move-out:{resident_id}")]
    # the details are not kept once the notice is applied; no table holds the number
    rows = await estate.service.runtime.pool.fetch("SELECT * FROM tenancy_pending_tenants")
    assert rows == []
    hashes = await estate.service.runtime.pool.fetch("SELECT id_hash FROM tenancy_id_hashes")
    assert [r["id_hash"] for r in hashes] == [estate.config.tenancies.hasher(wang.id_number)]
    assert wang.id_number not in str(hashes)


async def test_a_moved_out_resident_is_not_moved_out_again(estate: Estate) -> None:
    wang = tenant("王芳")
    resident_id = await estate.resident_at_unit(wang)
    gone = ResidentMovedOut(resident_id=uuid.UUID(resident_id), moved_out_on=days_ago(40))
    await estate.service.feed.learn(gone, subject=f"resident-{resident_id}")

    await estate.send(("hs-3", ended("ZL-7", [wang])))

    notice, _ = await estate.notice("hs-3")
    assert notice.status is domain.Status.APPLIED
    assert estate.registry.calls == []


async def test_an_unknown_unit_is_parked_for_the_desk_and_applied_once_matched(
    estate: Estate,
) -> None:
    community = estate.service.feed.community_id
    other = estate.service.feed.other_community_id
    moved_in = started([tenant("赵磊", date(1990, 1, 2), 3)], unit("9号楼", "901"))

    await estate.send(("hs-4", moved_in))

    notice, _ = await estate.notice("hs-4")
    assert notice.status is domain.Status.PARKED
    assert [p.kind for p in notice.problems] == ["unknown_unit"]
    assert estate.registry.calls == []
    listed = await estate.service.get("/tenancies/parked", headers=estate.desk(community))
    assert listed.status_code == 200, listed.text
    [shown] = listed.json()
    assert shown["message_id"] == "hs-4"
    assert shown["tenants"][0]["name"] == "赵磊"
    assert shown["tenants"][0]["id_number"].startswith("**************")
    # another community's desk neither sees it nor can match it
    elsewhere = estate.desk(other)
    assert (await estate.service.get("/tenancies/parked", headers=elsewhere)).json() == []
    url = f"/tenancies/parked/{shown['id']}/match"
    refused = await estate.service.post(url, {"unit_id": estate.unit_id}, elsewhere)
    assert refused.status_code == 404, refused.text

    answer = await estate.service.post(url, {"unit_id": estate.unit_id}, estate.desk(community))

    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "applied"
    assert estate.registry.calls == [("register", "housing:hs-4:register:in-0")]
    assert (
        await estate.service.get("/tenancies/parked", headers=estate.desk(community))
    ).json() == []
    # the desk's match is remembered: the next notice naming that unit matches by itself
    await estate.send(
        ("hs-5", started([tenant("钱多", date(1991, 1, 2), 4)], unit("9号楼", "901")))
    )
    assert (await estate.notice("hs-5"))[0].status is domain.Status.APPLIED


async def test_an_ended_tenancy_of_an_unknown_person_waits_for_the_desk(estate: Estate) -> None:
    community = estate.service.feed.community_id
    stranger = tenant("孙丽", date(1970, 7, 7), 5)
    resident_id = await estate.resident_at_unit(tenant("孙丽", date(1970, 7, 7), 6))

    await estate.send(("hs-6", ended("ZL-9", [stranger])))

    notice, _ = await estate.notice("hs-6")
    assert [(p.kind, p.ref) for p in notice.problems] == [("unknown_person", "out-0")]
    url = f"/tenancies/parked/{notice.id}/match"
    answer = await estate.service.post(
        url, {"residents": {"out-0": resident_id}}, estate.desk(community)
    )
    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "applied"
    assert estate.registry.calls == [("move_out", f"housing:hs-6:move-out:{resident_id}")]


async def test_a_registry_refusal_parks_the_notice_with_the_reason(estate: Estate) -> None:
    person = tenant("周杰", date(1985, 2, 2), 7)
    estate.registry.refuse.add(person.id_number)

    await estate.send(("hs-7", started([person])))

    notice, _ = await estate.notice("hs-7")
    assert notice.status is domain.Status.PARKED
    [problem] = notice.problems
    assert (problem.kind, problem.ref) == ("refused", "in-0")
    assert "duplicate_id_number" in (problem.detail or "")
    assert notice.grid_id == estate.path.grid_id  # the unit matched: its grid's desk sees it


async def test_a_tenancy_ending_on_a_day_to_come_waits_for_that_day(estate: Estate) -> None:
    wang = tenant("王芳")
    resident_id = await estate.resident_at_unit(wang)
    service = estate.service
    later = service.clock.now.date() + timedelta(days=3)

    await estate.send(("hs-8", ended("ZL-8", [wang], on=later)))

    notice, _ = await estate.notice("hs-8")
    assert notice.status is domain.Status.PENDING
    assert estate.registry.calls == []
    service.clock.advance(days=3)
    assert await service.scheduler(days_ahead=0).fire_due() == 1
    notice, _ = await estate.notice("hs-8")
    assert notice.status is domain.Status.APPLIED
    assert estate.registry.calls == [("move_out", f"housing:hs-8:move-out:{resident_id}")]


async def test_a_transfer_moves_the_previous_tenant_out_and_the_new_one_in(
    estate: Estate,
) -> None:
    previous = tenant("王芳")
    resident_id = await estate.resident_at_unit(previous)
    heir = tenant("王小芳", date(1975, 4, 4), 8)

    await estate.send(("hs-9", transferred("ZL-9", [previous], [heir])))

    notice, _ = await estate.notice("hs-9")
    assert notice.status is domain.Status.APPLIED
    assert estate.registry.calls == [
        ("move_out", f"housing:hs-9:move-out:{resident_id}"),
        ("register", "housing:hs-9:register:in-0"),
    ]


async def test_a_clerk_may_dismiss_a_parked_notice_and_its_details_are_dropped(
    estate: Estate,
) -> None:
    community = estate.service.feed.community_id
    await estate.send(("hs-10", ended("ZL-10", [tenant("吴敏", date(1966, 6, 6), 9)])))
    notice, _ = await estate.notice("hs-10")
    assert notice.status is domain.Status.PARKED
    url = f"/tenancies/parked/{notice.id}/dismissal"
    grid_worker = estate.service.auth("grid_worker", sub="gw-1", areas=[community])
    assert (await estate.service.post(url, {"reason": "x"}, grid_worker)).status_code == 403

    answer = await estate.service.post(url, {"reason": "搬离已由社区登记"}, estate.desk(community))

    assert answer.status_code == 201, answer.text
    assert answer.json()["status"] == "dismissed"
    assert answer.json()["tenants"][0]["name"] is None  # the details are gone
    again = await estate.service.post(url, {"reason": "again"}, estate.desk(community))
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "tenancy_notice_not_parked"
    shown = await estate.service.get(f"/tenancies/notices/{notice.id}", estate.desk(community))
    assert shown.json()["status"] == "dismissed"
    assert estate.registry.calls == []


async def test_an_erased_residents_number_hash_is_forgotten(estate: Estate) -> None:
    wang, li = tenant("王芳"), tenant("李强", date(1970, 7, 7), 6)
    erased = await estate.resident_at_unit(wang)
    await estate.resident_at_unit(li)

    await estate.service.feed.learn(
        PersonErased(resident_id=uuid.UUID(erased), basis=ErasureBasis.SUBJECT_REQUEST),
        subject=f"resident-{erased}",
    )

    hashes = await estate.service.runtime.pool.fetch(
        "SELECT resident_id, id_hash FROM tenancy_id_hashes"
    )
    assert [r["id_hash"] for r in hashes] == [estate.config.tenancies.hasher(li.id_number)]
    # a notice naming the erased number matches no one: it waits for the desk
    await estate.send(("hs-9", ended("ZL-9", [wang])))
    notice, _ = await estate.notice("hs-9")
    assert [(p.kind, p.ref) for p in notice.problems] == [("unknown_person", "out-0")]
    assert estate.registry.calls == []
