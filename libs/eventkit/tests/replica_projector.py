"""A projector process for the replica tests: one projection, no HTTP, no relay.

Run as ``python replica_projector.py``; configured by environment variables (see ``main``).
Several of these run the same projection in one consumer group, and the test stops and
starts them while events arrive. The test imports the catalogue and the projection from here
too, to build the same read model with a single runner.
"""

from __future__ import annotations

import asyncio
import os
import signal
from collections import Counter
from collections.abc import Sequence

import asyncpg
import structlog
from pydantic import SecretStr

from anju_contracts import Event, EventCatalog
from eventkit.logging import configure_logging
from eventkit.messages import Delivered
from eventkit.runtime import Runtime
from eventkit.settings import KafkaSettings, ServiceSettings

log = structlog.get_logger("replica_projector")


class Tallied(Event):
    event_type = "replicademo.Tallied"
    n: int


CATALOG = EventCatalog("replicademo", [Tallied])


class ReplicaTally:
    """A read model that shows a lost, doubled or reordered event: per stream, how many events
    and a hash chain over their ids in the order applied; and every event applied, one row each
    (no key, so a second application is a second row).

    ``work`` says which replica applied how many events of which partition; it is the one table
    that differs between a run with replicas and a run with one runner.
    """

    name = "replica_tally"
    catalogs: Sequence[EventCatalog] = (CATALOG,)
    ddl = """
        CREATE TABLE tallies (
            stream_id text PRIMARY KEY,
            events    integer NOT NULL,
            total     bigint NOT NULL,
            chain     text NOT NULL
        );
        CREATE TABLE applied (
            event_id  uuid NOT NULL,
            stream_id text NOT NULL,
            sequence  integer NOT NULL
        );
        CREATE TABLE work (
            replica   text NOT NULL,
            partition integer NOT NULL,
            events    integer NOT NULL
        );
    """

    def __init__(self, replica: str, delay_s: float = 0.0) -> None:
        self.replica = replica
        self.delay_s = delay_s

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        rows = [
            (
                d.envelope.subject,
                d.event.n if isinstance(d.event, Tallied) else 0,
                str(d.envelope.id),
                d.envelope.sequence,
            )
            for d in batch
        ]
        await conn.executemany(
            """
            INSERT INTO tallies (stream_id, events, total, chain) VALUES ($1, 1, $2, md5($3))
            ON CONFLICT (stream_id) DO UPDATE SET events = tallies.events + 1,
                total = (tallies.total * 31 + EXCLUDED.total) % 1000000007,
                chain = md5(tallies.chain || $3)
            """,
            [(s, n, i) for s, n, i, _ in rows],
        )
        await conn.executemany(
            "INSERT INTO applied VALUES ($1::uuid, $2, $3)", [(i, s, q) for s, _, i, q in rows]
        )
        per_partition = Counter(d.partition for d in batch)
        await conn.executemany(
            "INSERT INTO work VALUES ($1, $2, $3)",
            [(self.replica, p, n) for p, n in sorted(per_partition.items())],
        )
        if self.delay_s:
            await asyncio.sleep(self.delay_s)  # a heavier read model: keeps the replicas busy


def kafka_settings(bootstrap: str, prefix: str) -> KafkaSettings:
    return KafkaSettings(bootstrap=bootstrap, topic_prefix=prefix, partitions=4, max_batch=100)


async def run() -> None:
    configure_logging("json")
    settings = ServiceSettings(
        service="replicaprojector",
        database_url=os.environ["REPLICA_DATABASE_URL"],
        jwt_secret=SecretStr("x" * 32),
        kafka=kafka_settings(os.environ["REPLICA_KAFKA_BOOTSTRAP"], os.environ["REPLICA_PREFIX"]),
    )
    projection = ReplicaTally(os.environ["REPLICA_NAME"], float(os.environ["REPLICA_DELAY_S"]))
    # said first, so that a replica that never joins its group shows how far it came
    log.info("replica_starting", replica=projection.replica, pid=os.getpid())
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with Runtime(settings, projections=[projection]):
        log.info("replica_running", replica=projection.replica)
        await stop.wait()


def main() -> None:
    asyncio.run(run())


if __name__ == "__main__":
    main()
