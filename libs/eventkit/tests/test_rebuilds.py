"""Rebuilding side by side, a process each: every read model equals what one process builds,
and one projection's failure swaps nothing of its own in while the others swap theirs."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from eventkit.projection import ensure_projection, last_rebuilds, rebuild
from eventkit.rebuilds import (
    PASSED_OVER_WEIGHT,
    RebuildFailed,
    RebuildJob,
    events_to_read,
    longest_first,
    rebuild_side_by_side,
)
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings
from eventkit.testing.demo import CATALOG, Counted, TotalsProjection
from eventkit.testing.relay import appended_and_published


async def published(
    database_url: str,
    bootstrap: str,
    kafka: KafkaSettings | None = None,
    *,
    relay_batch: int = 1000,
) -> tuple[KafkaSettings, dict[str, int]]:
    """Counts appended to a few streams and relayed (``relay_batch`` at a time); the topic's
    settings and each stream's total."""
    kafka = kafka or KafkaSettings(bootstrap=bootstrap, topic_prefix=f"r{uuid.uuid4().hex[:8]}.")
    streams = {f"s{i}": [Counted(n=i * 10 + k) for k in range(5)] for i in range(6)}
    await appended_and_published(database_url, CATALOG, streams, kafka, relay_batch=relay_batch)
    return kafka, {stream: sum(c.n for c in counts) for stream, counts in streams.items()}


async def totals_of(database_url: str, name: str) -> dict[str, int]:
    conn = await asyncpg.connect(database_url)
    try:
        rows = await conn.fetch(f"SELECT stream_id, total FROM {name}.totals")
    finally:
        await conn.close()
    return {r["stream_id"]: r["total"] for r in rows}


def tallies(database_url: str, kafka: KafkaSettings, names: list[str]) -> list[RebuildJob]:
    """A rebuild of the demo's totals under each of ``names``."""
    return [
        RebuildJob(database_url, TotalsProjection(name), kafka, idle_timeout_ms=300)
        for name in names
    ]


async def test_side_by_side_rebuilds_equal_the_store(
    database_url: str, kafka_bootstrap: str
) -> None:
    kafka, totals = await published(database_url, kafka_bootstrap)
    names = ["tally_a", "tally_b", "tally_c"]
    jobs = tallies(database_url, kafka, names)
    heard: list[str] = []
    rebuilt = await rebuild_side_by_side(
        jobs, processes=2, done=lambda r: heard.append(r.projection)
    )
    assert sorted(r.projection for r in rebuilt) == sorted(heard) == names
    for name in names:
        assert await totals_of(database_url, name) == totals


async def test_a_failing_rebuild_is_raised_and_the_others_swap_in(
    database_url: str, kafka_bootstrap: str
) -> None:
    kafka, totals = await published(database_url, kafka_bootstrap)
    broken = TotalsProjection("tally_broken", ddl="CREATE TABLE totals (total no_such_type);")
    jobs = [
        RebuildJob(database_url, projection, kafka, idle_timeout_ms=300)
        for projection in (broken, TotalsProjection("tally_fine"))
    ]
    with pytest.raises(RebuildFailed, match="tally_broken failed") as failed:
        await rebuild_side_by_side(jobs, processes=2)
    assert failed.value.projections == ["tally_broken"]
    assert isinstance(failed.value.__cause__, asyncpg.UndefinedObjectError)
    assert await totals_of(database_url, "tally_fine") == totals
    conn = await asyncpg.connect(database_url)
    try:
        active = await conn.fetchval("SELECT schema FROM projections WHERE name = $1", broken.name)
    finally:
        await conn.close()
    assert active is None


async def test_a_projection_whose_topics_do_not_exist_yet_rebuilds_empty(
    database_url: str, kafka_bootstrap: str
) -> None:
    """Nothing published yet (a new service, a new deployment): an empty generation swaps in."""
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"e{uuid.uuid4().hex[:8]}.")
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        await migrate(pool, store=False)
        schema = await rebuild(pool, TotalsProjection("tally_new"), kafka, idle_timeout_ms=200)
        active = await pool.fetchval("SELECT schema FROM projections WHERE name = 'tally_new'")
    finally:
        await pool.close()
    assert active == schema
    assert await totals_of(database_url, "tally_new") == {}


async def test_a_rebuild_behind_reads_a_topic_created_since_it_started(
    database_url: str, kafka_bootstrap: str
) -> None:
    """The live generation has applied events of a topic the rebuild did not find when it
    looked: it looks again instead of waiting for ever, and reads the topic from its start."""
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"n{uuid.uuid4().hex[:8]}.")
    projection = TotalsProjection("tally_late")
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        await migrate(pool, store=False)
        active = await ensure_projection(pool, projection)
        # as if the live runner had applied the first five events of stream s3
        await pool.execute(f"INSERT INTO {active}.stream_versions VALUES ('demo', 's3', 5)")
        rebuilding = asyncio.create_task(rebuild(pool, projection, kafka, idle_timeout_ms=200))
        await asyncio.sleep(1.0)
        assert not rebuilding.done(), "it swapped in a generation behind the live one"
        _, totals = await published(database_url, kafka_bootstrap, kafka)
        schema = await asyncio.wait_for(rebuilding, timeout=60)
        assert (
            await pool.fetchval("SELECT schema FROM projections WHERE name = $1", projection.name)
            == schema
        )
    finally:
        await pool.close()
    assert await totals_of(database_url, "tally_late") == totals


async def test_the_projections_that_took_longest_last_time_go_first(
    database_url: str, kafka_bootstrap: str
) -> None:
    kafka, _ = await published(database_url, kafka_bootstrap)
    names = ["tally_short", "tally_long", "tally_new"]
    jobs = tallies(database_url, kafka, names)
    await rebuild_side_by_side(jobs, processes=2)
    conn = await asyncpg.connect(database_url)
    try:
        noted = await last_rebuilds(conn)
        assert all(noted[name] > 0 for name in names), noted
        await conn.execute("UPDATE projections SET rebuilt_in_s = 1 WHERE name = 'tally_short'")
        await conn.execute("UPDATE projections SET rebuilt_in_s = 90 WHERE name = 'tally_long'")
        await conn.execute("UPDATE projections SET rebuilt_in_s = NULL WHERE name = 'tally_new'")
    finally:
        await conn.close()
    order = ["tally_new", "tally_long", "tally_short"]  # never rebuilt counts as longest
    assert [job.projection.name for job in await longest_first(jobs)] == order

    heard: list[str] = []
    await rebuild_side_by_side(jobs, processes=1, done=lambda r: heard.append(r.projection))
    assert heard == order


async def test_those_never_rebuilt_go_first_by_the_events_they_will_read(
    database_url: str, kafka_bootstrap: str
) -> None:
    """No rebuild took any time yet: the estimate from the broker orders them. All 30 events
    of the demo's topic; the same topic read for one type only (mostly passed over); a topic
    nothing was published to. (Published one event a produce batch: the dev broker gives a
    partition's end as where its last batch starts, plus one.)"""
    kafka, _ = await published(database_url, kafka_bootstrap, relay_batch=1)
    empty = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"e{uuid.uuid4().hex[:8]}.")
    jobs = [
        RebuildJob(database_url, TotalsProjection("tally_nothing"), empty),
        RebuildJob(
            database_url, TotalsProjection("tally_some", reads=frozenset({"demo.Noted"})), kafka
        ),
        RebuildJob(database_url, TotalsProjection("tally_all"), kafka),
    ]
    assert await events_to_read(jobs) == {
        "tally_nothing": 0,
        "tally_some": 30 * PASSED_OVER_WEIGHT,
        "tally_all": 30,
    }
    order = [job.projection.name for job in await longest_first(jobs)]
    assert order == ["tally_all", "tally_some", "tally_nothing"]


async def test_without_a_broker_those_never_rebuilt_keep_their_order(database_url: str) -> None:
    nowhere = KafkaSettings(bootstrap="127.0.0.1:9", topic_prefix="x.")
    jobs = tallies(database_url, nowhere, ["tally_b", "tally_a"])
    assert await events_to_read(jobs) == {}
    assert [job.projection.name for job in await longest_first(jobs)] == ["tally_b", "tally_a"]
