"""How far a policy has applied each stream, recorded with its inbox row, and waiting on it
(``eventkit.consistency``), against real PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import ClassVar

import asyncpg
import pytest
import pytest_asyncio

from eventkit.consistency import Commits, StreamVersions, wait_for_version
from eventkit.messages import Delivered
from eventkit.policy import Policy, handle_once
from eventkit.schema import migrate
from eventkit.store import EventStore, Session
from eventkit.testing.delivery import delivered as delivered_as
from eventkit.testing.demo import CATALOG, Counted


def delivered(stream_id: str, sequence: int, n: int = 0) -> Delivered:
    return delivered_as(
        Counted(n=n), source="demo", subject=stream_id, sequence=sequence, correlation_id="c"
    )


async def ignore(session: Session, d: Delivered) -> None:
    """A policy that reacts to nothing still follows the stream."""


async def refuse_odd(session: Session, d: Delivered) -> None:
    assert isinstance(d.event, Counted)
    if d.event.n % 2:
        raise ValueError("odd")


@pytest_asyncio.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    await migrate(pool)
    yield EventStore(pool, CATALOG)
    await pool.close()


async def seen(store: EventStore, policy: str, stream_id: str) -> int | None:
    async with store.pool.acquire() as conn:
        return await StreamVersions.of_policy(policy).seen(conn, "demo", stream_id)


async def test_each_handled_event_advances_its_stream_never_back(store: EventStore) -> None:
    follower = Policy("follower", [CATALOG], ignore)
    other = Policy("other", [CATALOG], ignore)
    assert await handle_once(store, follower, delivered("s-1", 1))
    assert await handle_once(store, follower, delivered("s-1", 3))
    assert await seen(store, "follower", "s-1") == 3
    # an earlier event handled late (say, a dead letter replayed) does not move it back
    assert await handle_once(store, follower, delivered("s-1", 2))
    assert await seen(store, "follower", "s-1") == 3
    # each policy has versions of its own
    assert await seen(store, "other", "s-1") is None
    assert await handle_once(store, other, delivered("s-1", 1))
    assert await seen(store, "other", "s-1") == 1


async def test_a_failed_handler_records_no_version(store: EventStore) -> None:
    policy = Policy("strict", [CATALOG], refuse_odd)
    assert await handle_once(store, policy, delivered("s-2", 1, n=2))
    with pytest.raises(ValueError, match="odd"):
        await handle_once(store, policy, delivered("s-2", 2, n=3))
    assert await seen(store, "strict", "s-2") == 1


async def test_a_waiter_is_woken_by_the_commit_not_by_polling(store: EventStore) -> None:
    policy = Policy("woken", [CATALOG], ignore)
    commits = Commits()
    started = time.monotonic()
    waiting = asyncio.create_task(
        wait_for_version(
            store.pool,
            StreamVersions.of_policy("woken"),
            "demo",
            "s-3",
            1,
            timeout_s=30,
            wake=commits.next,
            poll_s=30,  # only a commit can end this wait early
        )
    )
    await asyncio.sleep(0.2)
    assert not waiting.done()
    await handle_once(store, policy, delivered("s-3", 1))
    commits.committed()
    assert await asyncio.wait_for(waiting, 5)
    assert time.monotonic() - started < 5


async def test_a_wait_that_is_not_met_ends_at_its_bound(store: EventStore) -> None:
    started = time.monotonic()
    met = await wait_for_version(
        store.pool,
        StreamVersions.of_policy("nobody"),
        "demo",
        "s-4",
        1,
        timeout_s=0.3,
        poll_s=0.05,
    )
    assert not met
    assert 0.3 <= time.monotonic() - started < 3


class CountedLooks(StreamVersions):
    """The policy's versions, counting the waiter's looks in the database."""

    looks: ClassVar[list[str]] = []

    async def seen(self, conn: asyncpg.Connection, source: str, stream_id: str) -> int | None:
        self.looks.append(stream_id)
        return await super().seen(conn, source, stream_id)


def waiting_for(store: EventStore, commits: Commits, stream: str) -> asyncio.Task[bool]:
    CountedLooks.looks.clear()
    versions = CountedLooks.of_policy("nobody")
    return asyncio.create_task(
        wait_for_version(
            store.pool,
            versions,
            "demo",
            stream,
            2,
            timeout_s=30,
            wake=commits.next,
            poll_s=30,  # only commits can end these waits early
        )
    )


async def test_commits_of_other_streams_do_not_make_a_waiter_look(store: EventStore) -> None:
    commits = Commits()
    waiting = waiting_for(store, commits, "s-5")
    await asyncio.sleep(0.1)
    assert CountedLooks.looks == ["s-5"]  # the first look, in the database
    for n in range(5):
        commits.committed({("demo", f"other-{n}"): 3, ("demo", "s-5"): 1})
        await asyncio.sleep(0)
    await asyncio.sleep(0.05)
    assert not waiting.done()
    assert CountedLooks.looks == ["s-5"]
    commits.committed({("demo", "s-5"): 2})
    assert await asyncio.wait_for(waiting, 5)
    assert CountedLooks.looks == ["s-5"], "the commit said so: no second look"


async def test_a_waiter_slow_to_run_walks_every_commit_it_missed(store: EventStore) -> None:
    commits = Commits()
    waiting = waiting_for(store, commits, "s-6")
    await asyncio.sleep(0.1)
    # three commits before the waiter runs again; the one it needs is the middle one
    commits.committed({("demo", "other"): 1})
    commits.committed({("demo", "s-6"): 2})
    commits.committed({("demo", "other"): 2})
    assert await asyncio.wait_for(waiting, 5)


async def test_a_commit_that_does_not_say_what_it_advanced_makes_the_waiter_look(
    store: EventStore,
) -> None:
    commits = Commits()
    waiting = waiting_for(store, commits, "s-7")
    await asyncio.sleep(0.1)
    commits.committed()
    await asyncio.sleep(0.1)
    assert CountedLooks.looks == ["s-7", "s-7"]
    waiting.cancel()
