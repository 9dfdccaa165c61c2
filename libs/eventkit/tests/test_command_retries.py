"""A command that loses to a concurrent write on its record is tried again, afresh, and the
caller gets one answer (``eventkit.app.CommandRoute``); a version the caller named that is no
longer current is answered at once.

A small service of its own, on a real database and broker behind the shared edge: one aggregate
whose command loads the record, waits a moment, and appends, so that two sent together have
both loaded the same version when they append.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, ClassVar
from uuid import UUID

import asyncpg
import httpx
import pytest
from fastapi import APIRouter, FastAPI
from pydantic import SecretStr

from anju_contracts import Event, EventCatalog
from eventkit import app as kernel_app
from eventkit.access import Guarded, Permissions
from eventkit.aggregate import Aggregate
from eventkit.app import CallerDep, CommandRouter, StoreDep, service_app
from eventkit.auth import Role
from eventkit.commands import Accepted, StreamCommand
from eventkit.errors import NotFound
from eventkit.runtime import Runtime
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import ConcurrencyError
from eventkit.testing.service import ServiceClient, serving

COMMUNITY = uuid.uuid4()


class Started(Event):
    event_type = "retrydemo.Started"
    tally_id: UUID


class Counted(Event):
    event_type = "retrydemo.Counted"
    tally_id: UUID
    n: int


CATALOG = EventCatalog("retrydemo", [Started, Counted])


class Tally:
    def __init__(self, tally_id: UUID) -> None:
        self.id = tally_id
        self.community_id = COMMUNITY
        self.grid_id: UUID | None = None


class NoSuchTally(NotFound):
    code = "tally_not_found"


PERMISSIONS = Permissions.of(
    "retrydemo", {"count": ((Role.DESK_STAFF,), "count"), "start": ((Role.DESK_STAFF,), "start")}
)

TALLIES: Aggregate[Tally] = Aggregate(
    name="tally",
    source="retrydemo",
    permissions=PERMISSIONS,
    fold=lambda tally_id, events: Tally(tally_id) if events else None,
    guard=lambda t: Guarded.at(t),
    not_found=NoSuchTally,
)


class Count(StreamCommand):
    n: int


class Tries:
    """How often the count handler ran, and what it is to raise on its first runs."""

    runs = 0
    raising: list[Exception] = []


def routes(router: APIRouter) -> APIRouter:
    @router.post("/tallies", status_code=201)
    async def start(store: StoreDep, caller: CallerDep) -> Accepted:
        async with TALLIES.create(store, caller, "start") as w:
            w.emit([Started(tally_id=w.id)])
        return w.accepted

    @router.post("/tallies/{tally_id}/counts", status_code=201)
    async def count(tally_id: UUID, cmd: Count, store: StoreDep, caller: CallerDep) -> Accepted:
        Tries.runs += 1
        if Tries.raising:
            raise Tries.raising.pop(0)
        async with TALLIES.update(store, tally_id, caller, "count", cmd.expected_version) as w:
            await asyncio.sleep(0.2)  # a command sent meanwhile loads the same version
            w.emit([Counted(tally_id=tally_id, n=cmd.n)])
        return w.accepted

    return router


class TallyClient(ServiceClient):
    secret: ClassVar[str] = "retry-tests-secret-0123456789-012345"

    def desk(self) -> dict[str, str]:
        return self.auth("desk_staff", areas=[str(COMMUNITY)])


@asynccontextmanager
async def running(
    database_url: str, kafka_bootstrap: str, router: APIRouter
) -> AsyncIterator[TallyClient]:
    settings = ServiceSettings(
        service="retrydemo",
        database_url=database_url,
        jwt_secret=SecretStr(TallyClient.secret),
        kafka=KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:10]}."),
        scheduler_poll_s=3600,
    )
    runtime = Runtime(settings, catalog=CATALOG)
    commands = [router] if isinstance(router, CommandRouter) else []
    app: FastAPI = service_app(
        runtime, [] if commands else [router], commands=commands, permissions=PERMISSIONS
    )
    Tries.runs, Tries.raising = 0, []
    async with serving(app, "retrydemo") as client:
        yield TallyClient(app, client, None)  # type: ignore[arg-type]


async def counts(client: TallyClient, tally: str, *bodies: dict[str, Any]) -> list[httpx.Response]:
    return await asyncio.gather(
        *(
            client.client.post(f"/tallies/{tally}/counts", json=b, headers=client.desk())
            for b in bodies
        )
    )


async def started(client: TallyClient) -> str:
    response = await client.client.post("/tallies", headers=client.desk())
    assert response.status_code == 201, response.text
    tally: str = response.json()["id"]
    return tally


async def test_two_commands_on_one_record_at_once_both_go_through(
    database_url: str, kafka_bootstrap: str
) -> None:
    async with running(database_url, kafka_bootstrap, routes(CommandRouter())) as svc:
        tally = await started(svc)
        answers = await counts(svc, tally, {"n": 1}, {"n": 2})
        assert [a.status_code for a in answers] == [201, 201], [a.text for a in answers]
        assert sorted(a.json()["version"] for a in answers) == [2, 3]
        assert Tries.runs == 3  # the one that lost was tried once more
        stream = await svc.runtime.store.load(f"tally-{tally}")
        assert sorted(e.event.n for e in stream.events[1:]) == [1, 2]  # type: ignore[attr-defined]


async def test_without_the_command_route_the_loser_gets_a_conflict(
    database_url: str, kafka_bootstrap: str
) -> None:
    """What the route saves callers from: the same two commands on a plain router."""
    async with running(database_url, kafka_bootstrap, routes(APIRouter())) as svc:
        tally = await started(svc)
        answers = await counts(svc, tally, {"n": 1}, {"n": 2})
        assert sorted(a.status_code for a in answers) == [201, 409]


async def test_a_version_the_caller_named_that_moved_on_is_answered_at_once(
    database_url: str, kafka_bootstrap: str
) -> None:
    async with running(database_url, kafka_bootstrap, routes(CommandRouter())) as svc:
        tally = await started(svc)
        answers = await counts(
            svc, tally, {"n": 1, "expected_version": 1}, {"n": 2, "expected_version": 1}
        )
        assert sorted(a.status_code for a in answers) == [201, 409]
        assert Tries.runs == 3  # the loser's first try lost the race; its second met version 2
        lost = next(a for a in answers if a.status_code == 409)
        assert lost.json()["error"]["code"] == "conflict"


@pytest.mark.parametrize(
    "lost",
    [
        ConcurrencyError("tally-x", 1),
        asyncpg.DeadlockDetectedError("deadlock detected"),
        asyncpg.SerializationError("could not serialize access"),
    ],
)
async def test_a_try_that_lost_is_tried_again_until_the_attempts_run_out(
    database_url: str, kafka_bootstrap: str, lost: Exception
) -> None:
    async with running(database_url, kafka_bootstrap, routes(CommandRouter())) as svc:
        tally = await started(svc)
        Tries.runs, Tries.raising = 0, [lost] * (kernel_app.COMMAND_ATTEMPTS - 1)
        [answer] = await counts(svc, tally, {"n": 5})
        assert answer.status_code == 201, answer.text
        assert Tries.runs == kernel_app.COMMAND_ATTEMPTS

        Tries.runs, Tries.raising = 0, [lost] * kernel_app.COMMAND_ATTEMPTS
        [answer] = await counts(svc, tally, {"n": 6})
        assert answer.status_code == 409, answer.text
        assert answer.json()["error"]["code"] == "conflict"
        assert Tries.runs == kernel_app.COMMAND_ATTEMPTS
        stream = await svc.runtime.store.load(f"tally-{tally}")
        assert stream.version == 2  # the start and the one count that went through


async def test_what_is_not_a_lost_race_is_not_tried_again(
    database_url: str, kafka_bootstrap: str
) -> None:
    async with running(database_url, kafka_bootstrap, routes(CommandRouter())) as svc:
        [answer] = await counts(svc, str(uuid.uuid4()), {"n": 1})
        assert answer.status_code == 404
        assert Tries.runs == 1


async def test_a_service_s_commands_must_come_in_a_command_router(database_url: str) -> None:
    settings = ServiceSettings(
        service="retrydemo", database_url=database_url, jwt_secret=SecretStr(TallyClient.secret)
    )
    with pytest.raises(TypeError, match="CommandRouter"):
        service_app(Runtime(settings, catalog=CATALOG), [], commands=[routes(APIRouter())])
