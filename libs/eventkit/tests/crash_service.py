"""A minimal service for the crash test: one command route, the relay and a projection.

Run as ``python crash_service.py``; configured by environment variables (see ``main``). The
test SIGKILLs it at random moments and starts it again.
"""

from __future__ import annotations

import os
from collections.abc import Sequence

import asyncpg
import uvicorn
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel, SecretStr

from anju_contracts import Actor, Event, EventCatalog
from eventkit.app import RuntimeDep, service_app
from eventkit.messages import Delivered
from eventkit.runtime import Runtime
from eventkit.settings import KafkaSettings, ServiceSettings
from eventkit.store import Context


class Counted(Event):
    event_type = "crashdemo.Counted"
    command_id: str


CATALOG = EventCatalog("crashdemo", [Counted])


class CrashTally:
    name = "crash_tally"
    catalogs: Sequence[EventCatalog] = (CATALOG,)
    ddl = """
        CREATE TABLE applied (
            event_id   uuid NOT NULL,
            stream_id  text NOT NULL,
            sequence   integer NOT NULL,
            command_id text NOT NULL
        );
    """

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        await conn.executemany(
            "INSERT INTO applied VALUES ($1, $2, $3, $4)",
            [
                (
                    d.envelope.id,
                    d.envelope.subject,
                    d.envelope.sequence,
                    d.event.command_id if isinstance(d.event, Counted) else "",
                )
                for d in batch
            ],
        )


class Count(BaseModel):
    command_id: str


class Done(BaseModel):
    version: int


router = APIRouter()


@router.post("/streams/{stream_id}/count")
async def count(stream_id: str, body: Count, runtime: RuntimeDep) -> Done:
    async with runtime.store.session() as session:
        stream = await session.load(stream_id)
        result = await session.append(
            stream_id,
            stream.version,
            [Counted(command_id=body.command_id)],
            context=Context(actor=Actor(id="crash-test")),
        )
    return Done(version=result.version)


def create_app() -> FastAPI:
    settings = ServiceSettings(
        service="crashdemo",
        database_url=os.environ["CRASH_DATABASE_URL"],
        jwt_secret=SecretStr("x" * 32),
        kafka=KafkaSettings(
            bootstrap=os.environ["CRASH_KAFKA_BOOTSTRAP"],
            topic_prefix=os.environ["CRASH_TOPIC_PREFIX"],
        ),
        topic_check_interval_s=0.5,
    )
    runtime = Runtime(settings, catalog=CATALOG, projections=[CrashTally()])
    return service_app(runtime, [router])


def main() -> None:
    uvicorn.run(
        create_app(),
        host="127.0.0.1",
        port=int(os.environ["CRASH_PORT"]),
        log_level="warning",
        access_log=False,
    )


if __name__ == "__main__":
    main()
