"""Rebuilding several projections side by side, one process each.

A rebuild is bound by its own process's CPU: it unpacks, decodes, opens and applies every
message in Python, while PostgreSQL does a fraction of the work. Rebuilding the read models one
after another uses one core of the machine; in processes of their own, as many as it has.

Each process gets a :class:`RebuildJob` — everything it needs, picklable: where the read
models are, the projection, the broker, and how to open personal fields (:data:`CipherSource`,
a callable the process enters to get its own cipher, since a cipher's connections and caches
do not cross processes). Each runs the kernel's :func:`eventkit.projection.rebuild`, which
swaps its generation in on its own once caught up, so a projection whose rebuild fails keeps
serving the generation it had; the others still swap theirs in.

The longest go first: each swap notes how long its rebuild took (``projections.rebuilt_in_s``)
and the next side-by-side rebuild starts with the projections that took longest the last time,
so that no process is left with a long one when the others are done. On the city bench, in the
order the projections are declared, the station's (29 s) came last and started at 54 s: 85 s
in all, where longest first would take about 77 s. Those never rebuilt go before all of them,
the most work first by an estimate from the broker: the events in their topics, an event of a
source they read only some types of counting as :data:`PASSED_OVER_WEIGHT` of one (most such
are passed over, see :class:`eventkit.messages.PassedOver`).
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import time
from collections.abc import AsyncIterator, Callable, Collection, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass

import asyncpg
from aiokafka import TopicPartition
from aiokafka.errors import KafkaError

from anju_contracts import EventCatalog
from eventkit import kafka
from eventkit.keys import KeyStore
from eventkit.personal import FieldCipher
from eventkit.projection import Projection, last_rebuilds, reads_of, rebuild
from eventkit.settings import KafkaSettings, topic_for

CipherSource = Callable[[], AbstractAsyncContextManager[FieldCipher | None]]
"""How a process opens personal fields: entered once for the rebuild, it yields the cipher
(``None``: the events are read as stored)."""


@dataclass(frozen=True)
class KeysInMemory:
    """A :data:`CipherSource` over a key store the parent holds in memory (a bench's): each
    process gets a copy of its keys."""

    store: KeyStore

    @asynccontextmanager
    async def __call__(self) -> AsyncIterator[FieldCipher | None]:
        yield FieldCipher(self.store)


@dataclass(frozen=True)
class RebuildJob:
    database_url: str
    projection: Projection
    settings: KafkaSettings
    cipher: CipherSource | None = None
    idle_timeout_ms: int = 500


@dataclass(frozen=True)
class Rebuilt:
    projection: str
    schema: str
    seconds: float


def run_job(job: RebuildJob) -> Rebuilt:
    """Rebuild one projection in this process (the entry point of each worker)."""
    return asyncio.run(_rebuild(job))


async def _rebuild(job: RebuildJob) -> Rebuilt:
    pool = await asyncpg.create_pool(job.database_url, min_size=1, max_size=4)
    try:
        started = time.monotonic()
        opening = nullcontext(None) if job.cipher is None else job.cipher()
        async with opening as cipher:
            schema = await rebuild(
                pool,
                job.projection,
                job.settings,
                idle_timeout_ms=job.idle_timeout_ms,
                cipher=cipher,
            )
        return Rebuilt(job.projection.name, schema, time.monotonic() - started)
    finally:
        await pool.close()


async def rebuild_side_by_side(
    jobs: Sequence[RebuildJob],
    *,
    processes: int,
    done: Callable[[Rebuilt], None] | None = None,
) -> list[Rebuilt]:
    """Rebuild every job's projection, at most ``processes`` at once, each in a fresh process;
    ``done`` hears of each as it swaps in. Failures are raised as :class:`RebuildFailed` once
    every job ended: the failed projections still serve the generation they had, the others
    swapped theirs in."""
    jobs = await longest_first(jobs)
    loop = asyncio.get_running_loop()
    context = multiprocessing.get_context("spawn")  # a fresh interpreter: no inherited loop
    finished: list[Rebuilt] = []
    failed: dict[str, BaseException] = {}

    async def one(job: RebuildJob) -> None:
        try:
            rebuilt = await loop.run_in_executor(executor, run_job, job)
        except Exception as error:  # raised below, once every job ended
            failed[job.projection.name] = error
            return
        finished.append(rebuilt)
        if done is not None:
            done(rebuilt)

    with ProcessPoolExecutor(max_workers=max(1, processes), mp_context=context) as executor:
        await asyncio.gather(*(one(job) for job in jobs))
    if failed:
        error = next(iter(failed.values()))
        raise RebuildFailed(sorted(failed), error) from error
    return finished


async def longest_first(jobs: Sequence[RebuildJob]) -> list[RebuildJob]:
    """``jobs`` ordered by how long their projection's last rebuild took, longest first;
    those never rebuilt (or whose read models cannot tell yet) first of all, the most events
    to read first (:func:`events_to_read`)."""
    took: dict[tuple[str, str], float] = {}
    for url in dict.fromkeys(job.database_url for job in jobs):
        try:
            conn = await asyncpg.connect(url)
        except (OSError, asyncpg.PostgresError):
            continue  # the rebuild itself says what is wrong
        try:
            took.update(((url, name), s) for name, s in (await last_rebuilds(conn)).items())
        except (asyncpg.UndefinedTableError, asyncpg.UndefinedColumnError):
            pass  # no projection there yet, or one from before durations were noted
        finally:
            await conn.close()

    def last(job: RebuildJob) -> float:
        return took.get((job.database_url, job.projection.name), math.inf)

    new = [job for job in jobs if last(job) == math.inf]
    work = await events_to_read(new) if len(new) > 1 else {}
    return sorted(
        jobs, key=lambda job: (last(job), work.get(job.projection.name, 0.0)), reverse=True
    )


PASSED_OVER_WEIGHT = 0.25
"""What passing over an event costs a rebuild beside reading one: on the city bench 24 µs a
registry event passed over, 53–96 µs an event read (health's, residents')."""


async def events_to_read(jobs: Sequence[RebuildJob]) -> dict[str, float]:
    """The events each job's projection will read, by name, from the sizes of its topics on the
    broker; an event of a source it reads only some types of counts as
    :data:`PASSED_OVER_WEIGHT`. Empty when the broker does not answer (the rebuilds will say)."""
    brokers: list[KafkaSettings] = []
    for job in jobs:
        if job.settings not in brokers:
            brokers.append(job.settings)
    work: dict[str, float] = {}
    for settings in brokers:
        mine = [job.projection for job in jobs if job.settings == settings]
        try:
            sizes = await _topic_sizes(
                settings,
                [topic_for(c.source, settings.topic_prefix) for p in mine for c in p.catalogs],
            )
        except (KafkaError, OSError, TimeoutError):
            return {}
        for projection in mine:
            reads = reads_of(projection)
            work[projection.name] = sum(
                sizes.get(topic_for(c.source, settings.topic_prefix), 0)
                * (1.0 if _reads_all(reads, c) else PASSED_OVER_WEIGHT)
                for c in projection.catalogs
            )
    return work


def _reads_all(reads: Collection[str] | None, catalog: EventCatalog) -> bool:
    return reads is None or all(m.event_type in reads for m in catalog.models)


async def _topic_sizes(settings: KafkaSettings, topics: Sequence[str]) -> dict[str, int]:
    """How many messages each of ``topics`` holds now (a topic not created yet: none). The dev
    broker gives a partition's end as where its last produce batch starts, plus one: there the
    estimate falls short by up to a batch a partition."""
    consumer = kafka.consumer(settings, group_id=None, client_id="rebuild-estimate")
    try:
        await asyncio.wait_for(consumer.start(), timeout=10)
        await consumer._client.force_metadata_update()
        partitions = [
            TopicPartition(topic, p)
            for topic in dict.fromkeys(topics)
            for p in consumer.partitions_for_topic(topic) or ()
        ]
        if not partitions:
            return {}
        first = await consumer.beginning_offsets(partitions)
        last = await consumer.end_offsets(partitions)
    finally:
        await consumer.stop()
    sizes: dict[str, int] = {}
    for tp in partitions:
        sizes[tp.topic] = sizes.get(tp.topic, 0) + last[tp] - first[tp]
    return sizes


class RebuildFailed(Exception):
    """Some projections' rebuilds failed (each still serves the generation it had)."""

    def __init__(self, projections: list[str], first: BaseException) -> None:
        super().__init__(f"rebuilding {', '.join(projections)} failed: {first!r}")
        self.projections = projections
