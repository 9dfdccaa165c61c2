"""Read your writes across consumers: how far a consumer has applied each stream, and waiting
until it has applied one at a version.

A command answers a consistency token ``<source>:<stream_id>:<version>``
(:class:`~eventkit.commands.ConsistencyToken`). Every consumer of a source's topic — a
projection, a policy — records, in the same transaction as what it does with an event, the
highest sequence of the event's stream it has applied (:class:`StreamVersions`). Whoever holds a
token can then wait until the consumer has it (:func:`wait_for_version`): a query before it reads
a read model, a command before it decides on what a policy has learnt from another service.
Waiters in the consumer's process are woken by its runner's commits (:class:`Commits`) and look
again only every ``poll_s`` otherwise.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

import asyncpg

from eventkit.errors import Unavailable
from eventkit.messages import Delivered, PassedOver
from eventkit.metrics import CONSISTENCY_WAIT, CONSISTENCY_WAKE

Stream = tuple[str, str]
"""``(source, stream_id)``: a stream of events, as a token and an envelope name it."""


def highest(delivered: Iterable[Delivered | PassedOver]) -> dict[Stream, int]:
    """The highest sequence of each stream among ``delivered``."""
    versions: dict[Stream, int] = {}
    merge_versions(versions, ((d.stream, d.sequence) for d in delivered))
    return versions


def merge_versions(into: dict[Stream, int], more: Iterable[tuple[Stream, int]]) -> None:
    """Keep in ``into`` the higher version of each stream it holds or ``more`` names."""
    for stream, version in more:
        if version > into.get(stream, 0):
            into[stream] = version


@dataclass(frozen=True)
class StreamVersions:
    """A table of ``(source, stream_id) → version``: how far one consumer has applied each stream.

    A projection keeps one per generation, named ``stream_versions`` (readers reach the active
    one as ``<projection>.stream_versions``); policies share the kernel's
    ``policy_stream_versions``, one ``consumer`` column apart. One writer and one reader for
    both, so that a token means the same thing whichever consumer it is waited on.
    """

    table: str = "stream_versions"
    consumer: str | None = None

    @classmethod
    def of_policy(cls, name: str) -> StreamVersions:
        return cls("policy_stream_versions", name)

    @classmethod
    def of_projection(cls, name: str) -> StreamVersions:
        """The active generation's table, as a reader outside the runner's transaction sees it."""
        return cls(f"{name}.stream_versions")

    async def advance(self, conn: asyncpg.Connection, versions: Mapping[Stream, int]) -> None:
        """Move each stream up to the version given (never down), inside the caller's
        transaction: the versions commit with what was applied, or not at all."""
        if not versions:
            return
        sources = [s for s, _ in versions]
        ids = [i for _, i in versions]
        numbers = list(versions.values())
        if self.consumer is None:
            await conn.execute(
                f"""
                INSERT INTO {self.table} AS t (source, stream_id, version)
                SELECT * FROM unnest($1::text[], $2::text[], $3::int[])
                ON CONFLICT (source, stream_id)
                DO UPDATE SET version = greatest(t.version, EXCLUDED.version)
                """,
                sources,
                ids,
                numbers,
            )
        else:
            await conn.execute(
                f"""
                INSERT INTO {self.table} AS t (consumer, source, stream_id, version)
                SELECT $1, * FROM unnest($2::text[], $3::text[], $4::int[])
                ON CONFLICT (consumer, source, stream_id)
                DO UPDATE SET version = greatest(t.version, EXCLUDED.version)
                """,
                self.consumer,
                sources,
                ids,
                numbers,
            )

    async def seen(self, conn: asyncpg.Connection, source: str, stream_id: str) -> int | None:
        """The version of the stream applied so far, or None if none of it has been."""
        if self.consumer is None:
            value = await conn.fetchval(
                f"SELECT version FROM {self.table} WHERE source = $1 AND stream_id = $2",
                source,
                stream_id,
            )
        else:
            value = await conn.fetchval(
                f"""
                SELECT version FROM {self.table}
                WHERE consumer = $1 AND source = $2 AND stream_id = $3
                """,
                self.consumer,
                source,
                stream_id,
            )
        return None if value is None else int(value)


class NotCaughtUp(Unavailable):
    """A command was given a token of a write this service has not learnt of in time.

    The command is refused rather than decided on state the caller knows to be older than what
    they have seen (it would write a decision on it, or answer a misleading ``unknown_resident``);
    nothing was written, and the same request can be sent again.
    """

    code = "consistency_timeout"


class Commits:
    """A signal a consumer's runner raises after each transaction it commits.

    A waiter takes :meth:`next` *before* it looks at the versions, then waits on it: a commit
    between the look and the wait still wakes it, and nobody polls the database hard. A commit
    may say which streams it advanced, and how far: a waiter for another stream then goes back
    to waiting without looking, and one for that stream is done without looking. Each commit
    links to the one after it, so a waiter that was slow to run walks every commit it missed.
    """

    def __init__(self) -> None:
        self._next = Commit()

    def next(self) -> Commit:
        """The event set by the next commit."""
        return self._next

    def committed(self, versions: Mapping[Stream, int] | None = None) -> None:
        """Wake the waiters: something committed; ``versions``, when given, is every stream it
        advanced with its version now (None: unknown, waiters look)."""
        done, self._next = self._next, Commit()
        done.at = time.monotonic()
        done.versions = versions
        done.following = self._next
        done.set()


class Commit(asyncio.Event):
    """A commit waited for; :attr:`at` is when it came (``time.monotonic()``), :attr:`versions`
    the streams it advanced (None: not said), :attr:`following` the commit after it."""

    at: float | None = None
    versions: Mapping[Stream, int] | None = None
    following: Commit | None = None


async def wait_for_version(
    pool: asyncpg.Pool,
    versions: StreamVersions,
    source: str,
    stream_id: str,
    version: int,
    *,
    timeout_s: float,
    wake: Callable[[], Commit] | None = None,
    poll_s: float = 0.25,
) -> bool:
    """Wait until ``versions`` has ``stream_id`` of ``source`` at ``version`` or beyond; False
    once ``timeout_s`` has passed without it.

    It looks in the database first. With ``wake`` (the runner in this process:
    :meth:`Commits.next`) it then follows the runner's commits: one that says it advanced the
    stream far enough ends the wait, one that says nothing of the stream does not make it look
    again, one that does not say what it advanced does. Every ``poll_s`` it looks anyway (a
    replica in another process may have applied the stream); without ``wake``, that is all.
    """
    started = time.monotonic()
    deadline = started + timeout_s
    label = versions.consumer or versions.table
    wanted = (source, stream_id)
    woken_by: Commit | None = None

    def reached() -> bool:
        now = time.monotonic()
        if now > started:
            CONSISTENCY_WAIT.labels(label).observe(now - started)
        if woken_by is not None and woken_by.at is not None:
            CONSISTENCY_WAKE.labels(label).observe(now - woken_by.at)
        return True

    commit = wake() if wake is not None else None  # taken before looking: none missed
    look = True
    while True:
        if look:
            async with pool.acquire() as conn:
                seen = await versions.seen(conn, source, stream_id)
            if seen is not None and seen >= version:
                return reached()
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        pause = min(left, poll_s)
        if commit is None:
            await asyncio.sleep(pause)
            continue
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(commit.wait(), pause)
        look = not commit.is_set()  # the poll's turn
        while commit.is_set():  # every commit since the last look, in order
            woken_by = commit
            if commit.versions is None:
                look = True
            elif commit.versions.get(wanted, 0) >= version:
                return reached()
            assert commit.following is not None  # set with the commit
            commit = commit.following
