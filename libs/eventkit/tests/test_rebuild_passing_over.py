"""A rebuild of a projection that reads only some types: what it passes over is recorded once
per stream rather than batch by batch, and is held behind a pending dead letter all the same."""

from __future__ import annotations

import asyncio
import uuid

import asyncpg
import pytest

from anju_contracts import Event
from eventkit import projection as projections
from eventkit.messages import Decoded, Decoder, Delivered, PassedOver
from eventkit.projection import apply_resilient, ensure_projection, rebuild
from eventkit.schema import migrate
from eventkit.settings import KafkaSettings
from eventkit.testing.delivery import envelope_of, received
from eventkit.testing.demo import CATALOG, Counted, Noted, TotalsProjection
from eventkit.testing.relay import appended_and_published

# Per stream: what is appended, in order. Only the counts are read.
STREAMS: dict[str, list[Event]] = {
    "mixed": [Noted(text="a"), Counted(n=1), Noted(text="b"), Counted(n=2), Noted(text="c")],
    "notes": [Noted(text=str(k)) for k in range(4)],
    "counts": [Counted(n=10), Counted(n=20)],
    **{f"more{k}": [Noted(text="x"), Counted(n=k)] for k in range(5)},
}
LAST = {stream: len(events) for stream, events in STREAMS.items()}


async def publish(database_url: str, bootstrap: str) -> KafkaSettings:
    kafka = KafkaSettings(bootstrap=bootstrap, topic_prefix=f"p{uuid.uuid4().hex[:8]}.")
    await appended_and_published(database_url, CATALOG, STREAMS, kafka)
    return kafka


def counts_only(name: str) -> TotalsProjection:
    return TotalsProjection(name, reads=frozenset({Counted.event_type}))


async def versions(pool: asyncpg.Pool, schema: str) -> dict[str, int]:
    rows = await pool.fetch(f"SELECT stream_id, version FROM {schema}.stream_versions")
    return {r["stream_id"]: r["version"] for r in rows}


@pytest.mark.parametrize("recorded_at", [1, projections.PASSED_RECORDED_AT])
async def test_a_rebuild_counts_what_it_passed_over_as_the_live_generation_does(
    database_url: str, kafka_bootstrap: str, monkeypatch: pytest.MonkeyPatch, recorded_at: int
) -> None:
    """The live generation has every stream at its last event, read or passed over: the rebuild
    swaps in only once it has them all too (recorded now and then, or at the end)."""
    monkeypatch.setattr(projections, "PASSED_RECORDED_AT", recorded_at)
    kafka = await publish(database_url, kafka_bootstrap)
    projection = counts_only("counted_only")
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        await migrate(pool, store=False)
        active = await ensure_projection(pool, projection)
        await pool.executemany(
            f"INSERT INTO {active}.stream_versions VALUES ('demo', $1, $2)", LAST.items()
        )
        schema = await asyncio.wait_for(
            rebuild(pool, projection, kafka, idle_timeout_ms=200), timeout=60
        )
        assert await versions(pool, schema) == LAST
        totals = await pool.fetch(f"SELECT stream_id, total FROM {schema}.totals")
    finally:
        await pool.close()
    assert {r["stream_id"]: r["total"] for r in totals} == {
        stream: sum(e.n for e in events if isinstance(e, Counted))
        for stream, events in STREAMS.items()
        if any(isinstance(e, Counted) for e in events)
    }


async def test_what_a_rebuild_passes_over_waits_behind_a_pending_dead_letter(
    database_url: str, kafka_bootstrap: str
) -> None:
    """The live runner set aside the second event of ``mixed`` and held the rest behind it: the
    rebuild holds them too, read or passed over, and its generation stops where the live one
    did."""
    kafka = await publish(database_url, kafka_bootstrap)
    projection = counts_only("counted_held")
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        await migrate(pool, store=False)
        active = await ensure_projection(pool, projection)
        live = {**LAST, "mixed": 1}
        await pool.executemany(
            f"INSERT INTO {active}.stream_versions VALUES ('demo', $1, $2)", live.items()
        )
        topic = f"{kafka.topic_prefix}demo.events"
        await pool.execute(
            """
            INSERT INTO dead_letters (consumer, topic, partition, "offset", reason, detail,
                                      source, stream_id, sequence)
            VALUES ($1, $2, 0, -1, 'apply_failed', 'as the live runner found it', 'demo',
                    'mixed', 2)
            """,
            projection.name,
            topic,
        )
        schema = await asyncio.wait_for(
            rebuild(pool, projection, kafka, idle_timeout_ms=200), timeout=60
        )
        assert await versions(pool, schema) == live
        held = await pool.fetch(
            "SELECT sequence, reason FROM dead_letters WHERE consumer = $1 AND stream_id = 'mixed'"
            " ORDER BY sequence",
            projection.name,
        )
    finally:
        await pool.close()
    # 2 is the letter itself; 3 (a count) and 4 and 5 (notes, passed over) wait behind it
    assert [(r["sequence"], r["reason"]) for r in held] == [
        (2, "apply_failed"),
        (3, "blocked"),
        (4, "blocked"),
        (5, "blocked"),
    ]


async def test_a_failing_batch_gathers_only_what_committed(database_url: str) -> None:
    """Tried whole, the batch fails and gathers nothing; tried event by event, what passed over
    before the failing event counts, and what passed over behind it on its stream waits."""
    projection = TotalsProjection(
        "counted_capped",
        ddl="CREATE TABLE totals (stream_id text PRIMARY KEY,"
        " total bigint NOT NULL CHECK (total < 100));",
        reads=frozenset({Counted.event_type}),
    )
    decoder = Decoder([CATALOG], reads=projection.reads)

    def sent(event: Event, subject: str, sequence: int) -> Decoded:
        envelope = envelope_of(event, source="demo", subject=subject, sequence=sequence)
        return decoder.decode(received(envelope, offset=sequence))

    batch = [
        sent(Noted(text="a"), "notes", 1),
        sent(Counted(n=500), "big", 1),  # over the cap: fails
        sent(Noted(text="b"), "notes", 2),
        sent(Noted(text="c"), "big", 2),
    ]
    assert [type(d) for d in batch] == [PassedOver, Delivered, PassedOver, PassedOver]
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    try:
        await migrate(pool, store=False)
        schema = await ensure_projection(pool, projection)
        passed: dict[tuple[str, str], int] = {}
        await apply_resilient(pool, projection, batch, schema=schema, backoff_s=0, passed=passed)
        letters = await pool.fetch(
            "SELECT stream_id, sequence, reason FROM dead_letters WHERE consumer = $1"
            " ORDER BY sequence",
            projection.name,
        )
        recorded = await versions(pool, schema)
    finally:
        await pool.close()
    assert passed == {("demo", "notes"): 2}
    assert recorded == {}  # what was passed over is the caller's to record
    assert [(r["stream_id"], r["sequence"], r["reason"]) for r in letters] == [
        ("big", 1, "apply_failed"),
        ("big", 2, "blocked"),
    ]
