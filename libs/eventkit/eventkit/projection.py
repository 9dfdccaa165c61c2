"""Projections: read models built from events, exactly once, rebuildable while the system runs.

A projection owns a few tables. They live in a *generation* schema (``<name>_g<N>``); views in
the schema ``<name>`` point at the active generation, and readers use the views. Beside its
tables each generation keeps ``stream_versions``: the last sequence applied per stream. The
runner applies a batch and advances ``stream_versions`` in one transaction, and skips any event
whose sequence is not above the stored one. Since Kafka keeps per-stream order (the key is the
stream id), that makes redelivery — after a crash, a rebalance or a re-seed of the broker —
harmless, and lets a query wait for "stream S at version V" (read your writes).

A rebuild fills generation N+1 from the beginning of the topics while generation N keeps
serving, then swaps the views in one transaction once N+1 has every stream at least as far
as N. The live runner takes a share lock on the projection's row for each batch, the swap an
exclusive one, so no batch falls between the generations.

An event the projection keeps failing on does not stop it. A batch that fails with an error
that is not transient (:func:`~eventkit.messages.is_transient`) is tried a few more times, with a
short backoff; then the runner applies it event by event, each in a savepoint, and sets aside
exactly the events that fail (``apply_failed``, with the error) in ``dead_letters``, and commits
the rest with the offsets. The rule that keeps per-stream order: *while a stream has a pending
dead letter for this projection, its later events are not applied; they are set aside too, as
``blocked`` behind that letter*. Other streams go on. Replaying the first letter (once the code
is fixed) applies it and then the ones blocked behind it, in stream order; discarding it lets
the next one be replayed. Transient errors are raised: the runner restarts and the batch comes
again.
"""

from __future__ import annotations

import asyncio
import hashlib
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from typing import Protocol

import asyncpg
import structlog
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from anju_contracts import EventCatalog
from eventkit import kafka
from eventkit.collector import batch_pause
from eventkit.consistency import (
    Commit,
    Commits,
    Stream,
    StreamVersions,
    highest,
    merge_versions,
    wait_for_version,
)
from eventkit.messages import (
    Decoded,
    Decoder,
    Delivered,
    PassedOver,
    Poison,
    RawMessage,
    blocked,
    dead_letter,
    failed,
    is_transient,
    stream_heads,
)
from eventkit.metrics import CONSUMER_APPLY, CONSUMER_RECEIVE, PROJECTED, PROJECTION_LAG
from eventkit.personal import FieldCipher
from eventkit.pools import holds_session_state
from eventkit.settings import KafkaSettings, topic_for

log = structlog.get_logger("eventkit.projection")

_NAME = re.compile(r"^[a-z][a-z0-9_]{0,40}$")

GENERATION_DDL = """
CREATE TABLE stream_versions (
    source    text NOT NULL,
    stream_id text NOT NULL,
    version   integer NOT NULL,
    PRIMARY KEY (source, stream_id)
);
CREATE TABLE partition_offsets (
    topic     text NOT NULL,
    partition integer NOT NULL,
    "offset"  bigint NOT NULL,
    PRIMARY KEY (topic, partition)
);
"""


class Projection(Protocol):
    """A read model. ``apply`` receives only events it has not seen, in per-stream order.

    The connection's ``search_path`` points at the generation schema, so ``ddl`` and ``apply``
    use unqualified table names. A projection that reads only some types of its catalogues
    may name them in a ``reads`` attribute (:func:`reads_of`); ``apply`` then receives only
    those.
    """

    name: str
    catalogs: Sequence[EventCatalog]
    ddl: str

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None: ...


def reads_of(projection: Projection) -> Collection[str] | None:
    """The event types ``projection`` reads, when it names them (a ``reads`` attribute): the
    others of its catalogues are passed over undecoded (:class:`eventkit.messages.PassedOver`).
    None: every type of its catalogues."""
    reads: Collection[str] | None = getattr(projection, "reads", None)
    return reads


def topics_of(projection: Projection, settings: KafkaSettings) -> list[str]:
    return [topic_for(c.source, settings.topic_prefix) for c in projection.catalogs]


# -- generations --------------------------------------------------------------------------


async def active_schema(conn: asyncpg.Connection, name: str, *, lock: str = "") -> str | None:
    value = await conn.fetchval(f"SELECT schema FROM projections WHERE name = $1 {lock}", name)
    return None if value is None else str(value)


async def create_generation(
    conn: asyncpg.Connection, projection: Projection, *, unlogged: bool = False
) -> tuple[int, str]:
    """Create an empty generation schema for ``projection``; return its number and name.

    With ``unlogged`` its tables are created ``UNLOGGED``: a rebuild's, which nothing reads
    before :func:`settle` makes them logged, just before the swap."""
    if not _NAME.match(projection.name):
        raise ValueError(f"bad projection name {projection.name!r}")
    generation = int(
        await conn.fetchval(
            """
            SELECT coalesce(max(substring(nspname FROM '_g([0-9]+)$')::int), 0) + 1
            FROM pg_namespace WHERE nspname ~ ('^' || $1 || '_g[0-9]+$')
            """,
            projection.name,
        )
    )
    schema = f"{projection.name}_g{generation}"
    async with conn.transaction():
        await conn.execute(f"CREATE SCHEMA {schema}")
        await conn.execute(f"COMMENT ON SCHEMA {schema} IS '{ddl_digest(projection)}'")
        await conn.execute(f"SET LOCAL search_path TO {schema}")
        await conn.execute(GENERATION_DDL)
        await conn.execute(projection.ddl)
        if unlogged:
            for table in await _tables(conn, schema):
                await conn.execute(f'ALTER TABLE {schema}."{table}" SET UNLOGGED')
    return generation, schema


async def _tables(conn: asyncpg.Connection | asyncpg.Pool, schema: str) -> list[str]:
    rows = await conn.fetch(
        "SELECT tablename FROM pg_tables WHERE schemaname = $1 ORDER BY tablename", schema
    )
    return [r["tablename"] for r in rows]


def ddl_digest(projection: Projection) -> str:
    """What the tables of ``projection`` look like, as a short digest of its DDL."""
    text = " ".join(projection.ddl.split())
    return "anju ddl " + hashlib.sha256(text.encode()).hexdigest()[:16]


async def is_current(conn: asyncpg.Connection, schema: str, projection: Projection) -> bool:
    """Whether the generation ``schema`` was built with the DDL ``projection`` has now."""
    comment = await conn.fetchval(
        "SELECT obj_description(oid, 'pg_namespace') FROM pg_namespace WHERE nspname = $1", schema
    )
    return bool(comment == ddl_digest(projection))


async def activate(conn: asyncpg.Connection, name: str, generation: int, schema: str) -> None:
    """Point the views of ``name`` at ``schema`` (inside the caller's transaction)."""
    tables = await _tables(conn, schema)
    await conn.execute(f"DROP SCHEMA IF EXISTS {name} CASCADE")
    await conn.execute(f"CREATE SCHEMA {name}")
    for table in tables:
        await conn.execute(f"CREATE VIEW {name}.{table} AS SELECT * FROM {schema}.{table}")
    await conn.execute(
        """
        INSERT INTO projections (name, generation, schema) VALUES ($1, $2, $3)
        ON CONFLICT (name) DO UPDATE SET generation = EXCLUDED.generation,
            schema = EXCLUDED.schema, swapped_at = now()
        """,
        name,
        generation,
        schema,
    )


async def ensure_projection(pool: asyncpg.Pool, projection: Projection) -> str:
    """Make sure ``projection`` has an active generation; return its schema."""
    async with pool.acquire() as conn:
        holds_session_state(conn)
        await conn.execute(
            "SELECT pg_advisory_lock(hashtext('anju.projection:' || $1))", projection.name
        )
        try:
            schema = await active_schema(conn, projection.name)
            if schema is not None:
                return schema
            generation, schema = await create_generation(conn, projection)
            async with conn.transaction():
                await activate(conn, projection.name, generation, schema)
            return schema
        finally:
            await conn.execute(
                "SELECT pg_advisory_unlock(hashtext('anju.projection:' || $1))", projection.name
            )


# -- applying a batch ---------------------------------------------------------------------


async def apply_batch(
    conn: asyncpg.Connection,
    projection: Projection,
    schema: str,
    decoded: Sequence[Decoded],
    *,
    versions: dict[Stream, int] | None = None,
    passed: dict[Stream, int] | None = None,
) -> int:
    """Apply a batch to ``schema`` inside the caller's transaction; return events applied (and
    add the streams they advanced to ``versions``, and the passed-over ones to ``passed``: see
    :func:`apply_events`)."""
    await conn.execute(f"SET LOCAL search_path TO {schema}, public")
    poison = [d for d in decoded if isinstance(d, Poison)]
    await dead_letter(conn, projection.name, poison)
    events = [d for d in decoded if not isinstance(d, Poison)]
    applied = await apply_events(conn, projection, events, versions=versions, passed=passed)
    await _save_offsets(conn, decoded)
    return applied


async def apply_events(
    conn: asyncpg.Connection,
    projection: Projection,
    events: Sequence[Delivered | PassedOver],
    *,
    versions: dict[Stream, int] | None = None,
    passed: dict[Stream, int] | None = None,
) -> int:
    """Apply the events not applied yet, except those held behind a pending dead letter of their
    stream (which are set aside as ``blocked``), and advance the stream versions; return how
    many were applied. The ``search_path`` must point at the generation already. ``versions``
    (when given) gains each stream advanced and its new version: they hold once the caller's
    transaction commits.

    What is passed over counts as applied: nothing of it was to be read. With ``passed`` (a
    rebuild's generation, which nothing else reads or writes yet) the passed-over events are
    neither looked up nor recorded in ``stream_versions`` here: ``passed`` gains their streams
    and sequences, for the caller to record once the transaction has committed
    (:func:`record_passed`); they are still held behind a dead letter like any other.
    """
    heads = await stream_heads(conn, projection.name, (d.stream for d in events))
    if heads:
        held = [
            (d, heads[d.stream])
            for d in events
            if d.stream in heads and d.sequence >= heads[d.stream].sequence
        ]
        # The head's own event, delivered again, is already in dead letters.
        await dead_letter(
            conn,
            projection.name,
            [blocked(d, h) for d, h in held if d.sequence > h.sequence],
        )
        events = [d for d in events if all(d is not h for h, _ in held)]
    over = 0
    if passed is not None:
        before = len(events)
        merge_versions(
            passed, ((d.stream, d.sequence) for d in events if isinstance(d, PassedOver))
        )
        events = [d for d in events if not isinstance(d, PassedOver)]
        over = before - len(events)
    fresh = await _unseen(conn, events)
    read = [d for d in fresh if isinstance(d, Delivered)]
    if read:
        await projection.apply(conn, read)
    if fresh:
        advanced = highest(fresh)
        await StreamVersions().advance(conn, advanced)
        if versions is not None:
            merge_versions(versions, advanced.items())
    PROJECTED.labels(projection.name).inc(len(fresh) + over)
    return len(fresh) + over


async def record_passed(pool: asyncpg.Pool, schema: str, passed: dict[Stream, int]) -> None:
    """Record in generation ``schema`` the stream versions a rebuild gathered in ``passed``
    (:func:`apply_events`), and empty it."""
    if passed:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute(f"SET LOCAL search_path TO {schema}, public")
            await StreamVersions().advance(conn, passed)
        passed.clear()


async def _save_offsets(conn: asyncpg.Connection, decoded: Sequence[Decoded]) -> None:
    offsets: dict[tuple[str, int], int] = {}
    for item in decoded:
        message = item if isinstance(item, Delivered) else item.message
        offsets[(message.topic, message.partition)] = message.offset
    if offsets:
        await conn.execute(
            """
            INSERT INTO partition_offsets (topic, partition, "offset")
            SELECT * FROM unnest($1::text[], $2::int[], $3::bigint[])
            ON CONFLICT (topic, partition) DO UPDATE SET "offset" = EXCLUDED."offset"
            """,
            [t for t, _ in offsets],
            [p for _, p in offsets],
            list(offsets.values()),
        )


#: How often a failing batch is tried as a whole before its events are tried one by one.
BATCH_ATTEMPTS = 3
BATCH_BACKOFF_S = 0.05


async def apply_resilient(
    pool: asyncpg.Pool,
    projection: Projection,
    decoded: Sequence[Decoded],
    *,
    schema: str | None = None,
    attempts: int = BATCH_ATTEMPTS,
    backoff_s: float = BATCH_BACKOFF_S,
    versions: dict[Stream, int] | None = None,
    passed: dict[Stream, int] | None = None,
) -> int:
    """Apply a batch in a transaction of its own, setting aside the events that keep failing.

    ``schema`` is the generation to fill (a rebuild's); by default the active one, share-locked
    against a swap. Transient errors are raised. Any other error: the batch is tried again up
    to ``attempts`` times in all, then applied event by event, each in a savepoint, with the
    failing events dead-lettered (and their streams held, see the module docstring).

    ``versions`` (when given) gains the streams the batch advanced, and ``passed`` (when
    given: :func:`apply_events`) the streams of what it passed over, once what advanced them
    has committed.
    """
    for attempt in range(attempts):
        try:
            tried: dict[Stream, int] = {}
            over: dict[Stream, int] | None = None if passed is None else {}
            async with pool.acquire() as conn, conn.transaction():
                target = schema or await _active_for_batch(conn, projection.name)
                applied = await apply_batch(
                    conn, projection, target, decoded, versions=tried, passed=over
                )
            if versions is not None:
                merge_versions(versions, tried.items())
            if passed is not None and over:
                merge_versions(passed, over.items())
            return applied
        except Exception as error:
            if is_transient(error):
                raise
            log.warning(
                "projection_batch_failed",
                projection=projection.name,
                attempt=attempt + 1,
                error=repr(error),
            )
            if attempt < attempts - 1:
                await asyncio.sleep(backoff_s * 2**attempt)
    kept: dict[Stream, int] = {}
    kept_over: dict[Stream, int] = {}
    async with pool.acquire() as conn, conn.transaction():
        target = schema or await _active_for_batch(conn, projection.name)
        applied = 0
        for item in decoded:
            try:
                one: dict[Stream, int] = {}
                one_over: dict[Stream, int] | None = None if passed is None else {}
                async with conn.transaction():
                    applied += await apply_batch(
                        conn, projection, target, [item], versions=one, passed=one_over
                    )
                merge_versions(kept, one.items())  # its savepoint held
                merge_versions(kept_over, (one_over or {}).items())
            except Exception as error:
                if is_transient(error) or not isinstance(item, Delivered):
                    raise
                log.error(
                    "projection_event_failed",
                    projection=projection.name,
                    event_id=str(item.envelope.id),
                    event_type=item.envelope.type,
                    error=repr(error),
                )
                await conn.execute(f"SET LOCAL search_path TO {target}, public")
                await dead_letter(
                    conn, projection.name, [failed(item, "apply_failed", repr(error))]
                )
                await _save_offsets(conn, [item])
    if versions is not None:
        merge_versions(versions, kept.items())
    if passed is not None:
        merge_versions(passed, kept_over.items())
    return applied


async def _active_for_batch(conn: asyncpg.Connection, name: str) -> str:
    schema = await active_schema(conn, name, lock="FOR SHARE")
    assert schema is not None
    return schema


async def _unseen(
    conn: asyncpg.Connection, batch: Sequence[Delivered | PassedOver]
) -> list[Delivered | PassedOver]:
    """The events of ``batch`` not applied yet (sequence above the stream's stored version).

    The stream rows stay locked until the transaction ends: during a rebalance the old and the
    new owner of a partition may briefly hold the same batch, and the second waits for the
    first and then sees its versions, instead of applying the events again. (A stream seen
    for the first time by both makes the second fail on the primary key and retry.)
    """
    if not batch:
        return []
    streams = {d.stream for d in batch}
    rows = await conn.fetch(
        """
        SELECT v.source, v.stream_id, v.version FROM stream_versions v
        JOIN unnest($1::text[], $2::text[]) AS s(source, stream_id)
          ON v.source = s.source AND v.stream_id = s.stream_id
        ORDER BY v.source, v.stream_id
        FOR UPDATE OF v
        """,
        [s for s, _ in streams],
        [i for _, i in streams],
    )
    seen = {(r["source"], r["stream_id"]): r["version"] for r in rows}
    fresh = []
    for d in batch:
        stream, sequence = d.stream, d.sequence
        if sequence > seen.get(stream, 0):
            fresh.append(d)
            seen[stream] = sequence
    return fresh


# -- the live runner ----------------------------------------------------------------------


@dataclass
class RunnerState:
    applied: int = 0
    batches: int = 0
    running: bool = False


class ProjectionRunner:
    """Keeps one projection up to date from Kafka, in a consumer group of its own.

    Replicas of the runner (the same projection in several processes) join that one group and
    the broker splits the partitions among them. They need nothing else to agree: a batch and
    its stream versions commit together, so the events a rebalance hands to two replicas for a
    moment are applied once (see :func:`_unseen`), and the Kafka offsets committed after the
    transaction only say where a new owner starts reading.
    """

    def __init__(
        self,
        pool: asyncpg.Pool,
        projection: Projection,
        settings: KafkaSettings,
        *,
        cipher: FieldCipher | None = None,
    ) -> None:
        self.pool = pool
        self.projection = projection
        self.settings = settings
        self.cipher = cipher
        self.decoder = Decoder(projection.catalogs, cipher=cipher, reads=reads_of(projection))
        self.group_id = f"{settings.topic_prefix}anju.projection.{projection.name}"
        self.assignment = kafka.Assignment(f"projection-{projection.name}")
        self.state = RunnerState()
        self.commits = Commits()
        self._uncommitted: dict[TopicPartition, int] = {}
        self._committed_at = time.monotonic()

    def applied(self) -> Commit:
        """An event set when the next batch has been committed (for readers waiting on it)."""
        return self.commits.next()

    async def run(self, stop: asyncio.Event) -> None:
        await self.rebuild_if_outdated()
        topics = topics_of(self.projection, self.settings)
        await kafka.prepare_topics(self.settings, topics, client_id=self.group_id)
        consumer = kafka.consumer(
            self.settings,
            *topics,
            group_id=self.group_id,
            client_id=f"projection-{self.projection.name}",
            assignment=self.assignment,
        )
        await consumer.start()
        self._uncommitted = {}
        self.state.running = True
        log.info("projection_started", projection=self.projection.name)
        batches = Overlapped(self.decoder.read_batch)
        try:
            while not stop.is_set():
                await self.feed(consumer, batches)
            await batches.drain()
        finally:
            batches.cancel()
            self.state.running = False
            await consumer.stop()

    async def rebuild_if_outdated(self) -> None:
        """When new code changed the tables, build them afresh from the topics while the old
        generation keeps answering queries, so that the runner goes on live in the new one.

        Replicas starting with the new code together rebuild once: the first takes a lock for
        the rebuild, the others wait for it and then find the generation current.
        """
        schema = await ensure_projection(self.pool, self.projection)
        async with self.pool.acquire() as conn:
            if await is_current(conn, schema, self.projection):
                return
            key = f"anju.projection.rebuild:{self.projection.name}"
            holds_session_state(conn)
            await conn.execute("SELECT pg_advisory_lock(hashtext($1))", key)
            try:
                schema = await ensure_projection(self.pool, self.projection)
                if await is_current(conn, schema, self.projection):
                    return
                log.warning("projection_outdated", projection=self.projection.name, schema=schema)
                await rebuild(self.pool, self.projection, self.settings, cipher=self.cipher)
            finally:
                await conn.execute("SELECT pg_advisory_unlock(hashtext($1))", key)

    async def poll(self, consumer: AIOKafkaConsumer, timeout_ms: int = 200) -> int:
        """Fetch one batch, apply it in one transaction, then commit the offsets; the events
        applied."""
        batches = Overlapped(self.decoder.read_batch)
        before = self.state.applied
        try:
            await self.feed(consumer, batches, timeout_ms)
            await batches.drain()
        finally:
            batches.cancel()
        return self.state.applied - before

    async def feed(
        self, consumer: AIOKafkaConsumer, batches: Overlapped, timeout_ms: int = 200
    ) -> int:
        """Fetch a batch and hand it to ``batches``: decoded now, applied in one transaction
        after the batch before it, its offsets committed then. With nothing new, wait for the
        batches in hand to be applied. Returns the messages fetched."""
        fetched = await fetch_batch(consumer, self.settings.max_batch, timeout_ms)
        messages = [m for batch in fetched.values() for m in batch]
        if not messages:
            await batches.drain()
            await kafka.rewind_shrunk(consumer)
            return 0
        received = time.time()
        name = self.projection.name
        sent_ms = min(batch[0].timestamp for batch in fetched.values() if batch)
        CONSUMER_RECEIVE.labels(name).observe(max(0.0, received - sent_ms / 1000))
        last = {tp: batch[-1].offset for tp, batch in fetched.items() if batch}

        async def apply(decoded: list[Decoded]) -> None:
            wrote = not all(isinstance(d, PassedOver) for d in decoded)
            if not wrote:
                # Nothing of it is read (a source some of whose types this read model reads:
                # a registry event other than an erasure, for most): as a policy does, write
                # nothing, not even the streams' versions; on a live read model those are waited
                # on only by consistency tokens, of a source whose every type it reads
                # (``FOLLOWS``). The next written batch of the partition saves its offset in
                # the read model; Kafka has it with the next commit (see PASSED_COMMIT_EVERY_S).
                applied = len(decoded)
                PROJECTED.labels(name).inc(applied)
            else:
                advanced: dict[Stream, int] = {}
                applied = await apply_resilient(
                    self.pool, self.projection, decoded, versions=advanced
                )
                # Readers wait for the read model, not for the broker: wake them before the
                # offsets go, telling them which streams moved (so that the others need not
                # look).
                self.commits.committed(advanced)
            CONSUMER_APPLY.labels(name).observe(time.time() - received)
            offsets = {**self._uncommitted, **{tp: offset + 1 for tp, offset in last.items()}}
            if wrote or time.monotonic() - self._committed_at >= PASSED_COMMIT_EVERY_S:
                self._uncommitted = {}
                self._committed_at = time.monotonic()
                await kafka.commit_applied(consumer, offsets, member=self.assignment.member)
            else:
                self._uncommitted = offsets
            self.state.applied += applied
            self.state.batches += 1
            lag = 0
            for tp, offset in last.items():
                highwater = consumer.highwater(tp)
                if highwater is not None:
                    lag += max(0, highwater - offset - 1)
            PROJECTION_LAG.labels(name).set(lag)

        await batches.submit(messages, apply)
        return len(messages)


async def fetch_batch(
    consumer: AIOKafkaConsumer, max_records: int, timeout_ms: int
) -> dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]]:
    """Wait up to ``timeout_ms`` for messages, then drain what is already fetched, up to
    ``max_records``: big transactions when there is a backlog, no added wait when there is not.
    """
    fetched: dict[TopicPartition, list[ConsumerRecord[bytes, bytes]]] = await consumer.getmany(
        timeout_ms=timeout_ms, max_records=max_records
    )
    count = sum(len(b) for b in fetched.values())
    while 0 < count < max_records:
        more = await consumer.getmany(timeout_ms=0, max_records=max_records - count)
        if not more:
            break
        for tp, batch in more.items():
            fetched.setdefault(tp, []).extend(batch)
            count += len(batch)
    return fetched


PASSED_COMMIT_EVERY_S = 1.0
"""How long a live runner may keep the Kafka offsets of the batches it wrote nothing for (see
:meth:`ProjectionRunner.feed`) before it commits them; a batch it writes commits them at once
with its own. Until then a new owner of the partition reads those events again, and passes
them over again: an offset commit per batch was a twentieth of the query service's CPU when
each registry event came to three read models that pass it over."""


# -- decoding while the batch before applies ------------------------------------------------

DECODE_SLICE = 100
"""Messages decoded at a time before the event loop is let run (see :class:`Overlapped`)."""

Apply = Callable[[list[Decoded]], Awaitable[None]]
"""What is done with a decoded batch (in a transaction of its own)."""


class Overlapped:
    """Applies batches one after another, in order, decoding each while the one before it is
    being applied.

    Applying a batch is mostly waiting for PostgreSQL's answers; decoding one is all Python.
    Done one after the other, a consumer waits on PostgreSQL about a quarter of its time and
    PostgreSQL waits on the decoding the rest. Here each batch is decoded in a task of its own
    as soon as it is fetched, a slice of :data:`DECODE_SLICE` messages at a time so that the
    answers for the batch being applied are read in between; it is applied once the batch
    before it has been. At most two batches are in hand: :meth:`submit` waits for the one
    before the last to be applied before it takes another. An error applying a batch fails
    every later one and is raised by the next :meth:`submit` or :meth:`drain`.
    """

    def __init__(self, read: Callable[[Sequence[RawMessage]], Awaitable[list[Decoded]]]) -> None:
        self.read = read  # a Decoder's read_batch
        self._batches: deque[asyncio.Task[None]] = deque()

    async def submit(self, messages: Sequence[RawMessage], apply: Apply) -> None:
        """Take ``messages`` to decode now and ``apply`` after the batches submitted before."""
        while len(self._batches) > 1:  # the one before the last has applied
            await self._batches.popleft()
        before = self._batches[-1] if self._batches else None
        self._batches.append(asyncio.create_task(self._one(messages, apply, before)))

    async def drain(self) -> None:
        """Wait until every batch submitted has been applied."""
        while self._batches:
            await self._batches.popleft()

    def cancel(self) -> None:
        """Stop the batches in hand (after an error, or when the consumer stops)."""
        while self._batches:
            batch = self._batches.popleft()
            if batch.done():
                if not batch.cancelled():
                    batch.exception()  # an error already raised through the batch after it
            else:
                batch.cancel()

    async def _one(
        self, messages: Sequence[RawMessage], apply: Apply, before: asyncio.Task[None] | None
    ) -> None:
        with batch_pause():
            decoded: list[Decoded] = []
            for start in range(0, len(messages), DECODE_SLICE):
                decoded += await self.read(messages[start : start + DECODE_SLICE])
                await asyncio.sleep(0)  # let the batch before read PostgreSQL's answers
            if before is not None:
                await before  # in order; its error is this batch's too
            await apply(decoded)
            del decoded  # freed while paused: the collector never looks at the batch


# -- rebuilding ---------------------------------------------------------------------------

PASSED_RECORDED_AT = 20_000
"""How many streams' passed-over versions a rebuild holds before it records them (it records
the rest once caught up; see :func:`apply_events`): a bounded map, written many rows at once."""


@dataclass(frozen=True)
class RebuildProgress:
    events: int
    elapsed_s: float
    total: int | None

    @property
    def rate(self) -> float:
        return self.events / self.elapsed_s if self.elapsed_s > 0 else 0.0


async def rebuild(
    pool: asyncpg.Pool,
    projection: Projection,
    settings: KafkaSettings,
    *,
    progress: Callable[[RebuildProgress], Awaitable[None] | None] | None = None,
    idle_timeout_ms: int = 500,
    cipher: FieldCipher | None = None,
) -> str:
    """Rebuild ``projection`` from the start of its topics into a new generation; swap it in.

    The old generation keeps serving until the swap, and is dropped after it. Before the first
    swap is tried, the new generation's tables are vacuumed and analysed (:func:`settle`). What
    the projection passes over counts in the new generation's ``stream_versions`` without a
    lookup per batch: each stream's last version is recorded once, many streams at a time
    (:func:`record_passed`); on the city bench three of the five read models pass over most of
    the registry's events, and looking each up and recording it batch by batch was a quarter of
    their rebuild.

    Returns the new generation's schema.
    """
    await ensure_projection(pool, projection)
    async with pool.acquire() as conn:
        generation, schema = await create_generation(conn, projection, unlogged=True)
    decoder = Decoder(projection.catalogs, cipher=cipher, reads=reads_of(projection))
    consumer = kafka.consumer(
        settings, group_id=None, client_id=f"rebuild-{projection.name}-g{generation}"
    )
    await consumer.start()
    started = time.monotonic()
    done = 0
    settled = False

    passed: dict[Stream, int] = {}

    async def apply(decoded: list[Decoded]) -> None:
        await apply_resilient(pool, projection, decoded, schema=schema, passed=passed)
        if len(passed) >= PASSED_RECORDED_AT:
            await record_passed(pool, schema, passed)

    batches = Overlapped(decoder.read_batch)
    try:
        partitions: list[TopicPartition] = []
        await _read_new_partitions(consumer, topics_of(projection, settings), partitions)
        while True:
            fetched = (
                await fetch_batch(consumer, settings.max_batch, idle_timeout_ms)
                if partitions
                else {}
            )
            messages = [m for batch in fetched.values() for m in batch]
            if messages:
                await batches.submit(messages, apply)
                done += len(messages)
                if progress is not None:
                    total = _highwater_total(consumer, partitions)
                    result = progress(RebuildProgress(done, time.monotonic() - started, total))
                    if result is not None:
                        await result
                continue
            await batches.drain()
            await record_passed(pool, schema, passed)
            if not settled:  # then read again what came meanwhile, before the swap
                await settle(pool, schema)
                settled = True
                continue
            took = time.monotonic() - started
            old = await _try_swap(pool, projection.name, generation, schema, took)
            if old is not None:
                break
            # still behind: perhaps on a topic or partitions created since it started
            if await _read_new_partitions(consumer, topics_of(projection, settings), partitions):
                settled = False
    finally:
        batches.cancel()
        await consumer.stop()
    async with pool.acquire() as conn:
        if old != schema:
            await conn.execute(f"DROP SCHEMA IF EXISTS {old} CASCADE")
    log.info("projection_rebuilt", projection=projection.name, schema=schema, events=done)
    return schema


async def settle(pool: asyncpg.Pool, schema: str) -> None:
    """Order, log, vacuum and analyse every table of ``schema``: a generation filled by a
    rebuild.

    A rebuild upserts each row once per event about it, leaving the dead versions behind, and
    its tables have no statistics yet. Swapped in as it is, the first queries would be planned
    blind and read through the dead rows until autovacuum came round (on the city bench the
    follow-up board's p99 was 38 ms so, 25 ms settled).

    A table whose DDL marks an index to order it by (``ALTER TABLE t CLUSTER ON t_index``) is
    first rewritten in that index's order (``CLUSTER``, which rebuilds its indexes too and
    leaves no dead rows). The rows a query reads together then lie together: a rebuild writes
    them in the order the topics deliver, which scatters a community's residents over the
    whole table (on the city of a million residents a name search within one community read
    7,800 of the table's 25,000 pages, 55 ms; clustered by community, 200 pages, 3 ms).

    A rebuild fills its tables unlogged (:func:`create_generation`): the write-ahead log would
    carry every version of every row, and after each checkpoint a whole copy of each page
    touched again (on the city of 300,000 residents 1.8 GB of log for the residents' read
    model, 0.6 GB so). They are made logged here, once, each written to the log as it stands,
    before anything may read them: a database that crashes before then fails the rebuild, and
    the generation in use goes on."""
    started = time.monotonic()
    async with pool.acquire() as conn:
        tables = await conn.fetch(
            """
            SELECT c.relname AS name, c.relpersistence = 'u' AS unlogged,
                   EXISTS (SELECT 1 FROM pg_index i
                           WHERE i.indrelid = c.oid AND i.indisclustered) AS ordered
            FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
            WHERE n.nspname = $1 AND c.relkind = 'r' ORDER BY c.relname
            """,
            schema,
        )
        for table in tables:
            if table["ordered"]:
                await conn.execute(f'CLUSTER {schema}."{table["name"]}"')
        for table in tables:
            if table["unlogged"]:
                await conn.execute(f'ALTER TABLE {schema}."{table["name"]}" SET LOGGED')
        if tables:
            names = ", ".join(f'{schema}."{t["name"]}"' for t in tables)
            await conn.execute(f"VACUUM (ANALYZE) {names}")
    log.info("generation_settled", schema=schema, seconds=round(time.monotonic() - started, 1))


async def _read_new_partitions(
    consumer: AIOKafkaConsumer, topics: Sequence[str], partitions: list[TopicPartition]
) -> bool:
    """Add to ``partitions`` (assigned to ``consumer``) those of ``topics`` it lacks, each read
    from its beginning; whether there were any. A topic nothing was published to yet may not
    exist: it has none."""
    await consumer._client.force_metadata_update()
    new = [
        TopicPartition(topic, p)
        for topic in topics
        for p in sorted(consumer.partitions_for_topic(topic) or ())
        if TopicPartition(topic, p) not in partitions
    ]
    if not new:
        return False
    positions = {tp: await consumer.position(tp) for tp in partitions}
    partitions.extend(new)
    consumer.assign(partitions)  # a new assignment: where the others were is set again
    for tp, offset in positions.items():
        consumer.seek(tp, offset)
    await consumer.seek_to_beginning(*new)
    return True


def _highwater_total(
    consumer: AIOKafkaConsumer, partitions: Sequence[TopicPartition]
) -> int | None:
    marks = [consumer.highwater(tp) for tp in partitions]
    return None if any(m is None for m in marks) else sum(m or 0 for m in marks)


async def _try_swap(
    pool: asyncpg.Pool, name: str, generation: int, schema: str, took_s: float
) -> str | None:
    """Swap ``schema`` in if it has every stream at least as far as the active one, noting
    that it took ``took_s`` to build (:func:`last_rebuilds`).

    Returns the schema it replaced, or None when the new generation is still behind.
    """
    async with pool.acquire() as conn, conn.transaction():
        active = await active_schema(conn, name, lock="FOR UPDATE")
        assert active is not None
        behind = await conn.fetchval(
            f"""
            SELECT count(*) FROM {active}.stream_versions a
            LEFT JOIN {schema}.stream_versions b USING (source, stream_id)
            WHERE b.version IS NULL OR b.version < a.version
            """
        )
        if behind:
            return None
        await activate(conn, name, generation, schema)
        await conn.execute("UPDATE projections SET rebuilt_in_s = $2 WHERE name = $1", name, took_s)
        return active


async def last_rebuilds(conn: asyncpg.Connection) -> dict[str, float]:
    """How long each projection's generation in use took to rebuild, when it was rebuilt."""
    rows = await conn.fetch(
        "SELECT name, rebuilt_in_s FROM projections WHERE rebuilt_in_s IS NOT NULL"
    )
    return {r["name"]: r["rebuilt_in_s"] for r in rows}


async def wait_for_stream(
    pool: asyncpg.Pool,
    projection: str,
    source: str,
    stream_id: str,
    version: int,
    *,
    timeout_s: float,
    wake: Callable[[], Commit] | None = None,
    poll_s: float = 0.25,
) -> bool:
    """Wait until ``projection`` has applied ``stream_id`` up to ``version``; False on timeout.

    With ``wake`` (a runner in this process: :meth:`ProjectionRunner.applied`) it looks again
    after each committed batch; otherwise, or when the runner is elsewhere, every ``poll_s``.
    """
    return await wait_for_version(
        pool,
        StreamVersions.of_projection(projection),
        source,
        stream_id,
        version,
        timeout_s=timeout_s,
        wake=wake,
        poll_s=poll_s,
    )
