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
and the next side-by-side rebuild starts with the projections that took longest the last time
(those never rebuilt before all of them), so that no process is left with a long one when the
others are done. On the city bench, in the order the projections are declared, the station's
(29 s) came last and started at 54 s: 85 s in all, where longest first would take about 77 s.
"""

from __future__ import annotations

import asyncio
import math
import multiprocessing
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ProcessPoolExecutor
from contextlib import AbstractAsyncContextManager, asynccontextmanager, nullcontext
from dataclasses import dataclass

import asyncpg

from eventkit.keys import KeyStore
from eventkit.personal import FieldCipher
from eventkit.projection import Projection, last_rebuilds, rebuild
from eventkit.settings import KafkaSettings

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
    those never rebuilt (or whose read models cannot tell yet) first of all, as given."""
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

    return sorted(jobs, key=last, reverse=True)


class RebuildFailed(Exception):
    """Some projections' rebuilds failed (each still serves the generation it had)."""

    def __init__(self, projections: list[str], first: BaseException) -> None:
        super().__init__(f"rebuilding {', '.join(projections)} failed: {first!r}")
        self.projections = projections
