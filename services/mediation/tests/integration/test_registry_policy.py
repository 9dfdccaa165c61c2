"""Mediation learns areas and residents from the registry's topic, once per event."""

from __future__ import annotations

import asyncio
import uuid
from datetime import date

import asyncpg
from pydantic import SecretStr

from anju_contracts import Actor
from anju_contracts.registry import (
    CATALOG as REGISTRY,
    AreaCreated,
    AreaKind,
    AreaPath,
    ResidentRegistered,
    Sex,
)
from anju_mediation.application.policies import REGISTRY_POLICY
from anju_mediation.testing import SECRET, running_mediation
from eventkit.known import PostgresKnown
from eventkit.messages import Delivered
from eventkit.policy import handle_once
from eventkit.relay import Relay
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context, EventStore
from eventkit.testing.infra import create_database, database_url_for
from eventkit.testing.registry import registry_envelope
from eventkit.testing.relay import publish_everything


async def test_residents_arrive_from_the_registry_topic(
    pg_server_url: str, database_url: str, kafka_bootstrap: str
) -> None:
    prefix = f"p{uuid.uuid4().hex[:10]}."
    registry_url = await create_database(pg_server_url, f"registry_{uuid.uuid4().hex[:12]}")
    pool = await asyncpg.create_pool(registry_url, min_size=1, max_size=2)
    await migrate(pool)
    store = EventStore(pool, REGISTRY)
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=prefix)
    relay = Relay(
        store,
        ServiceSettings(
            service="registry", database_url=registry_url, jwt_secret=SecretStr(SECRET), kafka=kafka
        ),
    )
    await relay.start()
    try:
        community, resident = uuid.uuid4(), uuid.uuid4()
        context = Context(actor=Actor(id="tester", roles=("admin",)))
        path = AreaPath(community_id=community)
        await store.append(
            f"area-{community}",
            0,
            [
                AreaCreated(
                    area_id=community,
                    kind=AreaKind.COMMUNITY,
                    name="安居",
                    parent_id=None,
                    path=path,
                )
            ],
            context=context,
            area=str(community),
        )
        registered = ResidentRegistered(
            resident_id=resident,
            name="王秀英",
            sex=Sex.FEMALE,
            date_of_birth=date(1948, 3, 2),
            id_number="11010519480302002X",
            path=path,
        )
        await store.append(
            f"resident-{resident}", 0, [registered], context=context, area=str(community)
        )
        assert await publish_everything(relay) == 2
        async with running_mediation(
            database_url, kafka_bootstrap, topic_prefix=prefix
        ) as mediation:
            learnt = PostgresKnown()
            store = mediation.runtime.store
            # the area's stream and the resident's lie on different partitions:
            # either may be applied first, so wait for both
            for _ in range(300):
                async with store.session() as session:
                    if await learnt.residents(session, [resident]) and await learnt.location(
                        session, community
                    ):
                        break
                await asyncio.sleep(0.1)
            async with store.session() as session:
                assert await learnt.residents(session, [resident]) == {resident: path}
                location = await learnt.location(session, community)
            assert location is not None
            assert location.kind == AreaKind.COMMUNITY

            # a redelivered event has its effect once (the kernel's inbox)
            envelope = registry_envelope(registered, subject=f"resident-{resident}", area=None)
            again = Delivered(envelope, registered, "registry.events", 0, 99)
            assert await handle_once(mediation.runtime.store, REGISTRY_POLICY, again)
            assert not await handle_once(mediation.runtime.store, REGISTRY_POLICY, again)
    finally:
        await relay.close()
        await pool.close()
        conn = await asyncpg.connect(database_url_for(pg_server_url, "postgres"))
        try:
            name = registry_url.rsplit("/", 1)[1].split("?")[0]
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()
