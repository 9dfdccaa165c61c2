"""Test helpers for the query service: it running on a read-model database, following the topics
of services that run beside it (system tests), and the write side of such a service, appending
and publishing events for the read models to follow, with the query app in process on a fresh
read database (integration tests); nothing here runs in production."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol
from uuid import UUID, uuid4

import asyncpg
import httpx
from pydantic import SecretStr

from anju_contracts import Actor, Event, EventCatalog
from anju_contracts.governance import CATALOG as GOVERNANCE_CATALOG
from anju_contracts.health import CATALOG as HEALTH_CATALOG
from anju_contracts.mediation import CATALOG as MEDIATION_CATALOG
from anju_contracts.registry import CATALOG as REGISTRY_CATALOG, AreaCreated, AreaKind, AreaPath
from anju_contracts.station import CATALOG as STATION_CATALOG
from anju_contracts.volunteering import CATALOG as VOLUNTEERING_CATALOG
from anju_query.entrypoints.app import create_app
from anju_query.settings import QuerySettings
from eventkit.commands import Clock, utcnow
from eventkit.personal import FieldCipher
from eventkit.projection import wait_for_stream
from eventkit.relay import Relay
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore
from eventkit.testing.infra import databases
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
        self,
        stream: str,
        *events: Event,
        area: UUID,
        actor: Actor | None = None,
        occurred_at: datetime | None = None,
    ) -> str:
        """Append ``events`` to ``stream`` in ``area`` (as ``actor``, else the source's; dated
        ``occurred_at`` when given, as a command from a paper ledger is); the command's
        consistency token."""
        result = await self.store.append(
            stream,
            self.versions.get(stream, 0),
            events,
            context=Context(actor=actor or self.actor, occurred_at=occurred_at),
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
    cipher: FieldCipher | None = None,
) -> AsyncIterator[Source]:
    """The event store of the service ``name`` on ``database_url`` (migrated) and its relay to
    ``kafka``, started; closed on the way out. With a ``cipher`` it seals personal fields, as
    the service does; without one it writes them in clear."""
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=3)
    try:
        await migrate(pool)
        store = EventStore(pool, catalog, cipher=cipher)
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


@dataclass(frozen=True)
class ReadSide:
    """The query app in process, its lifespan entered (pool, projection runners): an HTTP client
    to it over ASGI and its read-model pool."""

    client: httpx.AsyncClient
    pool: asyncpg.Pool


@asynccontextmanager
async def read_side(
    database_url: str, kafka: KafkaSettings, secret: str, *, clock: Clock = utcnow, **settings: Any
) -> AsyncIterator[ReadSide]:
    """The query app on the read database ``database_url``, following the topics of ``kafka``'s
    prefix, on ``clock``; ``settings`` are further :class:`QuerySettings` (``export_max_rows=7``).
    Bring your own token: ``secret`` signs them."""
    app = create_app(
        QuerySettings(
            database_url=database_url, jwt_secret=SecretStr(secret), kafka=kafka, **settings
        ),
        clock=clock,
    )
    async with app.router.lifespan_context(app):
        pool: asyncpg.Pool = app.state.runtime.pool
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://query") as client:
            yield ReadSide(client, pool)


_CATALOGS: dict[str, EventCatalog] = {
    "registry": REGISTRY_CATALOG,
    "station": STATION_CATALOG,
    "mediation": MEDIATION_CATALOG,
    "health": HEALTH_CATALOG,
    "volunteering": VOLUNTEERING_CATALOG,
    "governance": GOVERNANCE_CATALOG,
}
"""Every service the query follows, by name, and its events."""


@dataclass(frozen=True)
class WriteSides:
    """Every service's write side (:func:`every_write_side`) and the read database the query app
    follows them into."""

    registry: Source
    station: Source
    mediation: Source
    health: Source
    volunteering: Source
    governance: Source
    read_url: str
    kafka: KafkaSettings
    secret: str

    @property
    def followed(self) -> list[tuple[Source, str]]:
        """Each write side, with the projection that reads its events."""
        return [
            (self.registry, "residents"),
            (self.station, "station"),
            (self.mediation, "disputes"),
            (self.health, "health"),
            (self.volunteering, "volunteering"),
            (self.governance, "governance"),
        ]

    @asynccontextmanager
    async def caught_up_query(
        self, *, clock: Clock = utcnow, **settings: Any
    ) -> AsyncIterator[ReadSide]:
        """Publish what every write side appended, start the query app (:func:`read_side`) and
        wait until each projection has applied it."""
        for source, _ in self.followed:
            await source.publish()
        async with read_side(
            self.read_url, self.kafka, self.secret, clock=clock, **settings
        ) as query:
            for source, projection in self.followed:
                await caught_up(query.pool, source, projection)
            yield query


@asynccontextmanager
async def every_write_side(
    server_url: str,
    kafka_bootstrap: str,
    *,
    secret: str,
    actor: Actor,
    cipher: FieldCipher | None = None,
) -> AsyncIterator[WriteSides]:
    """The write side of every service the query follows (:func:`write_side`, sealing with
    ``cipher`` when given), each on a fresh database of the PostgreSQL server ``server_url``,
    publishing on topics of their own, and a fresh read database; all dropped on the way out."""
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"w{uuid4().hex[:10]}.")
    async with databases(server_url, *_CATALOGS, "read") as urls, AsyncExitStack() as stack:
        sides = {
            name: await stack.enter_async_context(
                write_side(name, url, kafka, catalog, secret=secret, actor=actor, cipher=cipher)
            )
            for (name, catalog), url in zip(_CATALOGS.items(), urls, strict=False)
        }
        yield WriteSides(
            registry=sides["registry"],
            station=sides["station"],
            mediation=sides["mediation"],
            health=sides["health"],
            volunteering=sides["volunteering"],
            governance=sides["governance"],
            read_url=urls[-1],
            kafka=kafka,
            secret=secret,
        )


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
