"""Test helpers for the query service: it running on a read-model database, following the topics
of services that run beside it (system tests), and the write side of such a service, appending
and publishing events for the read models to follow (integration tests); nothing here runs in
production."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Protocol
from uuid import UUID, uuid4

import asyncpg
import httpx
from pydantic import SecretStr

from anju_contracts import Actor, Event, EventCatalog
from anju_contracts.registry import AreaCreated, AreaKind, AreaPath
from anju_query.entrypoints.app import create_app
from anju_query.settings import QuerySettings
from eventkit.commands import Clock, utcnow
from eventkit.projection import wait_for_stream
from eventkit.relay import Relay
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore
from eventkit.testing.relay import publish_everything
from eventkit.testing.service import serving


@asynccontextmanager
async def running_query(
    database_url: str,
    kafka: KafkaSettings,
    secret: str,
    *,
    clock: Clock = utcnow,
    consistency_wait_s: float = 5.0,
) -> AsyncIterator[httpx.AsyncClient]:
    """The query service on ``database_url``, following the topics of ``kafka``'s prefix; an
    HTTP client to it (bring your own token: ``secret`` signs them)."""
    settings = QuerySettings(
        database_url=database_url,
        jwt_secret=SecretStr(secret),
        kafka=kafka,
        consistency_wait_s=consistency_wait_s,
    )
    async with serving(create_app(settings, clock=clock), "query") as client:
        yield client


@dataclass
class Source:
    """One service's write side: append events as ``actor``, publish them with the real relay.

    ``versions`` is each stream's version after the last append (what :func:`caught_up` waits
    for); ``published`` counts what the relay sent, redeliveries included."""

    name: str
    store: EventStore
    relay: Relay
    actor: Actor
    versions: dict[str, int] = field(default_factory=dict)
    published: int = 0

    async def emit(
        self, stream: str, *events: Event, area: UUID, actor: Actor | None = None
    ) -> str:
        """Append ``events`` to ``stream`` in ``area`` (as ``actor``, else the source's); the
        command's consistency token."""
        result = await self.store.append(
            stream,
            self.versions.get(stream, 0),
            events,
            context=Context(actor=actor or self.actor),
            area=str(area),
        )
        self.versions[stream] = result.version
        return f"{self.name}:{stream}:{result.version}"

    async def publish(self) -> None:
        self.published += await publish_everything(self.relay)

    async def publish_again(self) -> None:
        """Publish everything once more, from the start: every event is redelivered."""
        await self.relay.save_cursor(type(await self.relay.cursor())())
        await self.publish()


async def area_tree(registry: Source) -> tuple[dict[str, UUID], dict[str, AreaPath]]:
    """The areas read-model tests place their records in, announced by ``registry``: community
    ``c`` (安居社区) with grids ``g1`` and ``g2``, community ``c2`` (乐业社区) with grid ``g3``;
    their ids and paths by those keys."""
    c, g1, g2, c2, g3 = (uuid4() for _ in range(5))
    paths = {
        "c": AreaPath(community_id=c),
        "g1": AreaPath(community_id=c, grid_id=g1),
        "g2": AreaPath(community_id=c, grid_id=g2),
        "c2": AreaPath(community_id=c2),
        "g3": AreaPath(community_id=c2, grid_id=g3),
    }
    for key, kind, name, parent, area_id in [
        ("c", AreaKind.COMMUNITY, "安居社区", None, c),
        ("g1", AreaKind.GRID, "一网格", c, g1),
        ("g2", AreaKind.GRID, "二网格", c, g2),
        ("c2", AreaKind.COMMUNITY, "乐业社区", None, c2),
        ("g3", AreaKind.GRID, "三网格", c2, g3),
    ]:
        await registry.emit(
            f"area-{area_id}",
            AreaCreated(area_id=area_id, kind=kind, name=name, parent_id=parent, path=paths[key]),
            area=area_id,
        )
    return {"c": c, "g1": g1, "g2": g2, "c2": c2, "g3": g3}, paths


@asynccontextmanager
async def write_side(
    name: str,
    database_url: str,
    kafka: KafkaSettings,
    catalog: EventCatalog,
    *,
    secret: str,
    actor: Actor,
) -> AsyncIterator[Source]:
    """The event store of the service ``name`` on ``database_url`` (migrated) and its relay to
    ``kafka``, started; closed on the way out."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=3)
    try:
        await migrate(pool)
        store = EventStore(pool, catalog)
        settings = ServiceSettings(
            service=name, database_url=database_url, jwt_secret=SecretStr(secret), kafka=kafka
        )
        relay = Relay(store, settings)
        await relay.start()
        try:
            yield Source(name, store, relay, actor)
        finally:
            await relay.close()
    finally:
        await pool.close()


async def caught_up(
    pool: asyncpg.Pool, source: Source, projection: str, *, timeout_s: float = 30
) -> None:
    """Wait until ``projection`` (on the read-model ``pool``) has applied every stream
    ``source`` appended to, as far as it appended."""
    for stream, version in source.versions.items():
        reached = await wait_for_stream(
            pool, projection, source.name, stream, version, timeout_s=timeout_s
        )
        assert reached, (projection, stream, version)


class Publishing(Protocol):
    """A write side that counts what its relay put on the topic (redeliveries included)."""

    @property
    def relay(self) -> Relay: ...
    @property
    def published(self) -> int: ...


async def consumed_to_end(
    pool: asyncpg.Pool, source: Publishing, projection: str, *, timeout_s: float = 30
) -> None:
    """Wait until ``projection`` has committed the offsets of every message ``source`` put on
    its topic so far — redelivered ones too, which :func:`caught_up` cannot see."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        async with pool.acquire() as conn:
            consumed = await conn.fetchval(
                f'SELECT coalesce(sum("offset" + 1), 0) FROM {projection}.partition_offsets'
                " WHERE topic = $1",
                source.relay.topic,
            )
        if consumed == source.published:
            return
        assert asyncio.get_running_loop().time() < deadline, (consumed, source.published)
        await asyncio.sleep(0.05)
