"""The relay: publishes every committed event to Kafka, in commit order, keyed by stream id.

Every event but those its catalogue declares *restricted* (health's clinical facts): those stay
in the service's store. A restricted type lives in streams of its own, so the sequences of the
published streams have no gaps.

It reads the event store in ``(xid, position)`` order, never past the oldest transaction still
running (see :mod:`eventkit.schema`), publishes a batch, waits for the broker's acknowledgement,
then saves its cursor. A crash between the acknowledgement and the save publishes that batch
again on restart: duplicates are possible, gaps are not. Consumers de-duplicate.

Only one relay per service publishes at a time: it holds a PostgreSQL advisory lock on a
connection of its own for as long as it runs, and a second replica waits on standby.

When the broker has lost the service's topic (a new cluster, or the dev broker restarted), the
relay re-creates it and re-publishes the whole store from the start. It finds out by comparing,
every ``topic_check_interval_s``, the topic's high-water marks with what it published since the
last seed; that check costs a few hundred bytes from the broker however long the topic is.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

import asyncpg
import structlog
from aiokafka import AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import LeaderNotAvailableError, OffsetOutOfRangeError, for_code
from aiokafka.partitioner import murmur2
from aiokafka.protocol.fetch import FetchRequest

from anju_contracts import cloudevents as ce
from eventkit import kafka
from eventkit.listen import CommitListener
from eventkit.metrics import (
    RELAY_HELD,
    RELAY_LAG,
    RELAY_PRODUCE,
    RELAY_WAKE,
    RELAYED,
    RESEEDS,
)
from eventkit.personal import SEALED_MARK
from eventkit.settings import ServiceSettings
from eventkit.store import EventStore

log = structlog.get_logger("eventkit.relay")

# A message is the CloudEvents Kafka binding's binary mode (contracts README, "The envelope"):
# the value is the payload as stored, every other attribute a header. PostgreSQL renders each
# header's text (times in RFC 3339); the payload is never decoded and re-encoded here.
MESSAGE_SQL = """
stream_id, data::text AS data, id::text AS id, type, type_version::text AS type_version,
to_char(occurred_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS occurred_at,
sequence::text AS sequence, position::text AS position_text,
to_char(recorded_at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"') AS recorded_at,
correlation_id, causation_id, actor->>'id' AS actor_id,
(SELECT string_agg(r, ',') FROM jsonb_array_elements_text(actor->'roles') AS r) AS actor_roles,
area
"""

_SPEC = ce.SPEC_1_0.encode()
_JSON = ce.JSON_CONTENT.encode()


def message_of(
    row: Mapping[str, Any], source: bytes
) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """The key, value and headers of the message for an events row rendered by
    :data:`MESSAGE_SQL`: the same message :func:`anju_contracts.cloudevents.to_kafka` writes
    for the row's envelope, header for header."""
    key: bytes = row["stream_id"].encode()
    headers = [
        (ce.SPECVERSION, _SPEC),
        (ce.ID, row["id"].encode()),
        (ce.SOURCE, source),
        (ce.TYPE, row["type"].encode()),
        (ce.TIME, row["occurred_at"].encode()),
        (ce.SUBJECT, key),
        (ce.CONTENT_TYPE, _JSON),
        (ce.DATAVERSION, row["type_version"].encode()),
        (ce.SEQUENCE, row["sequence"].encode()),
        (ce.POSITION, row["position_text"].encode()),
    ]
    recorded_at = row["recorded_at"]
    if recorded_at is not None:
        headers.append((ce.RECORDEDTIME, recorded_at.encode()))
    headers.append((ce.CORRELATIONID, row["correlation_id"].encode()))
    causation_id = row["causation_id"]
    if causation_id is not None:
        headers.append((ce.CAUSATIONID, causation_id.encode()))
    headers.append((ce.ACTORID, row["actor_id"].encode()))
    roles = row["actor_roles"]
    if roles:
        headers.append((ce.ACTORROLES, roles.encode()))
    area = row["area"]
    if area is not None:
        headers.append((ce.AREA, area.encode()))
    return key, row["data"].encode(), headers


# The next rows in commit order come straight off the (xid, position) index, and only they are
# rendered. The horizon is applied to them afterwards: rows of a transaction at or past it sort
# after all the rows before it, so what is left is still the next rows in commit order. (With
# the horizon inside the subquery, a table without statistics yet gets a plan that sorts every
# pending event for each batch.) The rows at or past the horizon come last, marked: the relay
# then knows that committed events are held back and looks again shortly.
_BATCH = f"""
SELECT xid::text AS xid, position,
       events.xid < pg_snapshot_xmin(pg_current_snapshot()) AS visible, {MESSAGE_SQL}
FROM (
    SELECT * FROM events
    WHERE (xid, position) > ($1::text::xid8, $2::bigint) AND type <> ALL($4::text[])
    ORDER BY events.xid, events.position
    LIMIT $3
) AS events
ORDER BY events.xid, events.position
"""

_HELD_RETRY_S = 0.005
"""How soon the relay looks again when the horizon holds events back (doubling up to the idle
poll): the transaction holding it is usually a command about to commit. The horizon is the
whole server's, not this database's: any write transaction on the PostgreSQL server, in any
database (a bulk load, ``DROP DATABASE``), holds every relay on it back while it runs
(``anju_relay_held_back_total`` counts the reads it held)."""

# How long the broker may hold a fetch for high-water marks. Not 0: the dev broker answers a
# fetch that may not wait with no partitions at all.
_MARK_WAIT_MS = 10

_LAG = """
SELECT count(*) FROM events
WHERE (xid, position) > ($1::text::xid8, $2::bigint) AND type <> ALL($3::text[])
"""


@dataclass(frozen=True)
class Cursor:
    """The last event the relay knows the broker has: ``(xid, position)`` in commit order."""

    xid: str = "0"
    position: int = 0
    published: int = 0


@lru_cache(maxsize=65536)
def partition_for(key: bytes, partitions: int) -> int:
    """Kafka's default partitioner (murmur2, as the Java client), cached per stream."""
    return int(murmur2(key) & 0x7FFFFFFF) % partitions


class Relay:
    """Publishes one service's event store to its topic. Run it with :meth:`run`."""

    def __init__(
        self,
        store: EventStore,
        settings: ServiceSettings,
        *,
        also: Mapping[str, str] | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.topic = settings.topic
        prefix = settings.kafka.topic_prefix
        self.also = {event_type: prefix + topic for event_type, topic in (also or {}).items()}
        """Event types also published on another topic (another system's, such as
        ``outbound.hotline12345.replies``): the same message, in the same batch, acknowledged
        before the cursor moves, so it is published at least once there too. Only the service's
        own topic is watched for lost data; a re-seed publishes these again (consumers
        de-duplicate by ``ce_id``, as everywhere)."""
        self.source = store.source
        self._restricted = sorted(store.catalog.restricted)
        self._lock_key = f"anju.relay:{self.topic}"
        self._producer: AIOKafkaProducer | None = None
        self._admin: AIOKafkaAdminClient | None = None
        self._partitions: list[int] = []
        self._last_topic_check = 0.0
        self._cursor = Cursor()
        self._marks: dict[int, int] = {}
        self._prefetched: tuple[Cursor, list[asyncpg.Record]] | None = None
        self.active = False
        self.standby = False
        """Waiting for the lock while another replica publishes."""
        self.held_back = False
        """The last read found committed events behind a transaction still running."""
        self.listener: CommitListener | None = None

    # -- running -------------------------------------------------------------------------

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop`` is set. Waits on standby while another replica publishes.

        The advisory lock is held on a connection of the relay's own. A standby asks for it and
        PostgreSQL makes it wait, so it takes over as soon as the publisher's session ends
        (stopped, crashed, or its connection lost), with no polling in between.

        While it publishes, a :class:`~eventkit.listen.CommitListener` wakes it when events
        commit in another process (another replica, an operator's command); appends in this
        process wake it directly, and it still looks every ``relay_idle_poll_s`` regardless.
        """
        lock_conn: asyncpg.Connection = await asyncpg.connect(
            self.settings.database_url, timeout=10
        )
        try:
            if not await self._take_lock(lock_conn, stop):
                return
            # Appends in this process wake the relay directly: announcing them would only wake it
            # twice (and the listener's wake-up must not be announced again).
            announcer = self.store.announcer
            if announcer is not None:
                announcer.muted = True
            done = asyncio.Event()
            listener = CommitListener(self.settings.database_url, self.store.notify)
            listening = asyncio.create_task(listener.run(done), name="relay-listener")
            self.listener = listener
            try:
                await self.start()
                await self._loop(stop)
            finally:
                done.set()
                await listening
                self.listener = None
                if announcer is not None:
                    announcer.muted = False
                await self.close()
                with contextlib.suppress(asyncpg.PostgresError, asyncpg.InterfaceError, OSError):
                    await lock_conn.execute(
                        "SELECT pg_advisory_unlock(hashtext($1))", self._lock_key
                    )
        finally:
            lock_conn.terminate()  # a session's advisory locks end with it

    async def _take_lock(self, lock_conn: asyncpg.Connection, stop: asyncio.Event) -> bool:
        """Hold the relay's advisory lock on ``lock_conn``: at once if it is free, else after
        waiting in PostgreSQL until the holder's session lets go of it. False when ``stop`` is
        set first (the caller then ends the session, and with it the wait)."""
        if await lock_conn.fetchval("SELECT pg_try_advisory_lock(hashtext($1))", self._lock_key):
            return True
        log.info("relay_standby", topic=self.topic)
        self.standby = True
        waiting = asyncio.ensure_future(
            lock_conn.execute("SELECT pg_advisory_lock(hashtext($1))", self._lock_key)
        )
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait((waiting, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            self.standby = False
        if waiting.done():
            waiting.result()  # the connection failed: raise (the supervisor starts it again)
            log.info("relay_took_over", topic=self.topic)
            return True
        # Stopped while waiting: end the wait in PostgreSQL, where it would otherwise go on after
        # the connection is closed (a backend waiting for a lock does not notice). Granted just
        # before, the lock goes when the caller closes the session.
        async with self.store.pool.acquire() as conn:
            await conn.execute("SELECT pg_cancel_backend($1)", lock_conn.get_server_pid())
        with contextlib.suppress(asyncpg.QueryCanceledError):
            await waiting
        return False

    async def start(self) -> None:
        """Connect to the broker and make sure the topic is there (re-seeding if it was not)."""
        self._admin = kafka.admin(self.settings.kafka, client_id=f"{self.source}-relay-admin")
        await self._admin.start()
        self._producer = kafka.producer(self.settings.kafka, client_id=f"{self.source}-relay")
        await self._producer.start()
        self.active = True
        async with self.store.pool.acquire() as conn:
            await conn.execute(
                "INSERT INTO relay_cursor (topic, xid, position) VALUES ($1, '0', 0)"
                " ON CONFLICT DO NOTHING",
                self.topic,
            )
        self._cursor = await self.cursor()
        await self.check_topic(force=True)
        log.info("relay_started", topic=self.topic)

    async def close(self) -> None:
        self.active = False
        if self._producer is not None:
            await self._producer.stop()
            self._producer = None
        if self._admin is not None:
            await self._admin.close()
            self._admin = None

    async def _loop(self, stop: asyncio.Event) -> None:
        backoff = 0.1
        poll = self.settings.relay_idle_poll_s
        held_retry = _HELD_RETRY_S
        while not stop.is_set():
            try:
                await self.check_topic()
                published = await self.publish_batch()
                backoff = 0.1
            except Exception as error:  # the broker or the database is away: retry
                log.warning("relay_retry", error=repr(error), backoff_s=backoff)
                await _sleep_or_stop(stop, backoff)
                backoff = min(backoff * 2, 5.0)
                continue
            if published >= self.settings.relay_batch:
                continue
            if self.held_back:
                # Committed events wait behind an older transaction still running: it announces
                # nothing when it ends unless it appends, so look again soon.
                await self._idle(stop, min(held_retry, poll))
                held_retry *= 2
            else:
                held_retry = _HELD_RETRY_S
                await self._idle(stop, poll)

    async def _idle(self, stop: asyncio.Event, timeout: float) -> None:
        """Wait until an append wakes the relay, ``timeout`` seconds pass or ``stop`` is set."""
        appended = asyncio.ensure_future(self.store.wait_for_append(timeout))
        stopping = asyncio.ensure_future(stop.wait())
        try:
            await asyncio.wait((appended, stopping), return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in (appended, stopping):
                waiting.cancel()

    # -- steps (public so tests and the CLI can drive them) -------------------------------

    async def check_topic(self, *, force: bool = False) -> bool:
        """Re-create the topic and re-seed from position 0 if the broker lost its data.

        The broker has lost data when its topic holds fewer messages than the relay has
        published since the last seed (the sum of the partitions' high-water marks, which only
        grow). That covers a topic that is gone, and one that a consumer's metadata request
        re-created empty on a broker that creates topics on demand (as the dev broker does).
        Returns True when it re-seeded.
        """
        now = time.monotonic()
        if not force and now - self._last_topic_check < self.settings.topic_check_interval_s:
            return False
        self._last_topic_check = now
        assert self._admin is not None
        assert self._producer is not None
        stored = await self.cursor()
        if stored != self._cursor:  # an operator reset it (`anju reseed`): adopt it
            log.warning("relay_cursor_reset", topic=self.topic, position=stored.position)
            self._cursor, self._prefetched = stored, None
        await kafka.ensure_topics(
            self._admin, [self.topic, *sorted(set(self.also.values()))], self.settings.kafka
        )
        self._partitions = sorted(await self._producer.partitions_for(self.topic))
        await self._update_lag()
        cursor = self._cursor
        if cursor.position == 0:
            return False
        held = await self.messages_held()
        if held >= cursor.published:
            return False
        RESEEDS.labels(self.source).inc()
        log.warning("relay_reseed", topic=self.topic, published=cursor.published, held=held)
        await self.save_cursor(Cursor())
        return True

    async def messages_held(self) -> int:
        """How many messages the broker holds on the topic: the sum of the high-water marks.

        The check runs every second for as long as the relay runs, so it must cost the same
        whatever the topic holds. Each partition is asked with one fetch from the mark it had
        last time (a broker that kept its data has nothing from there on but what the relay
        published since) with a response limit of 0 bytes: the dev broker then sends the marks
        and no records at all, Kafka at most one record batch. Asked from offset 0 instead, the
        dev broker sends the partition's whole history, whatever the limits say.

        The marks come from fetch responses and not from ListOffsets, which the dev broker
        answers with the base offset of the last record batch instead of the end of the log.
        A partition whose log ended before the mark (Kafka answers ``OFFSET_OUT_OF_RANGE``)
        is asked again from offset 0.
        """
        assert self._producer is not None
        client = self._producer.client
        marks: dict[int, int] = {}
        deadline = time.monotonic() + 5
        while len(marks) < len(self._partitions):
            if time.monotonic() > deadline:
                raise TimeoutError(f"no high-water marks for {self.topic} from the broker")
            asked = [p for p in self._partitions if p not in marks]
            by_leader: dict[int, list[int]] = {}
            for partition in asked:
                leader = client.cluster.leader_for_partition(TopicPartition(self.topic, partition))
                if leader is None or leader < 0:
                    raise LeaderNotAvailableError(f"no leader for {self.topic}/{partition}")
                by_leader.setdefault(leader, []).append(partition)
            for leader, partitions in by_leader.items():
                request = FetchRequest(
                    max_wait_time=_MARK_WAIT_MS,
                    min_bytes=0,
                    max_bytes=0,
                    isolation_level=0,
                    topics=[(self.topic, [(p, self._marks.get(p, 0), 0) for p in partitions])],
                )
                response = await client.send(leader, request)
                for topic, answers in response.topics:
                    for partition, error_code, high_water, *_ in answers:
                        if topic != self.topic or partition not in partitions:
                            continue
                        if error_code == OffsetOutOfRangeError.errno:
                            self._marks[partition] = 0
                        elif error_code != 0:
                            raise for_code(error_code)(f"{self.topic}/{partition}")
                        else:
                            marks[partition] = high_water
        self._marks = marks
        return sum(marks.values())

    async def cursor(self) -> Cursor:
        async with self.store.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT xid::text AS xid, position, published FROM relay_cursor WHERE topic = $1",
                self.topic,
            )
        return Cursor() if row is None else Cursor(row["xid"], row["position"], row["published"])

    async def save_cursor(self, cursor: Cursor) -> None:
        self._cursor = cursor
        async with self.store.pool.acquire() as conn:
            await conn.execute(
                """
                INSERT INTO relay_cursor (topic, xid, position, published, updated_at)
                VALUES ($1, $2::text::xid8, $3, $4, now())
                ON CONFLICT (topic) DO UPDATE SET xid = EXCLUDED.xid,
                    position = EXCLUDED.position, published = EXCLUDED.published,
                    updated_at = now()
                """,
                self.topic,
                cursor.xid,
                cursor.position,
                cursor.published,
            )

    async def publish_batch(self) -> int:
        """Publish the next batch of committed events; return how many.

        While the broker acknowledges a batch, the next one is already read from the store;
        it is sent only after this one is acknowledged, so a failed batch can never be
        overtaken on its partition by a later one.
        """
        cursor = self._cursor
        rows = self._take_prefetched(cursor) or await self._fetch(cursor)
        if not rows:
            return 0
        last = rows[-1]
        new = Cursor(last["xid"], last["position"], cursor.published + len(rows))
        prefetch = asyncio.create_task(self._fetch(new))
        try:
            await self._publish(rows)
        except BaseException:
            prefetch.cancel()
            raise
        if await self.advance_cursor(cursor, new):
            self._prefetched = (new, await prefetch)
        else:
            prefetch.cancel()
        RELAYED.labels(self.source).inc(len(rows))
        return len(rows)

    async def _fetch(self, cursor: Cursor) -> list[asyncpg.Record]:
        """The next committed rows after ``cursor``; sets :attr:`held_back` when the horizon
        keeps some of those behind them from the relay."""
        async with self.store.pool.acquire() as conn:
            rows: list[asyncpg.Record] = await conn.fetch(
                _BATCH,
                cursor.xid,
                cursor.position,
                self.settings.relay_batch,
                self._restricted,
            )
        if rows and not rows[-1]["visible"]:
            RELAY_HELD.labels(self.source).inc()
            self.held_back = True
            return rows[: next(i for i, row in enumerate(rows) if not row["visible"])]
        self.held_back = False
        return rows

    def _take_prefetched(self, cursor: Cursor) -> list[asyncpg.Record]:
        prefetched, self._prefetched = self._prefetched, None
        if prefetched is None or prefetched[0] != cursor:
            return []
        return prefetched[1]

    async def advance_cursor(self, old: Cursor, new: Cursor) -> bool:
        """Move the cursor from ``old`` to ``new`` unless an operator reset it meanwhile.

        ``anju reseed`` resets the stored cursor to the start; a relay that was mid-batch must
        not overwrite that, so the update only applies while the cursor is still ``old``.
        Returns False (and adopts the stored cursor) when it was reset.
        """
        async with self.store.pool.acquire() as conn:
            moved = await conn.execute(
                """
                UPDATE relay_cursor SET xid = $4::text::xid8, position = $5, published = $6,
                    updated_at = now()
                WHERE topic = $1 AND xid = $2::text::xid8 AND position = $3
                """,
                self.topic,
                old.xid,
                old.position,
                new.xid,
                new.position,
                new.published,
            )
        if moved == "UPDATE 1":
            self._cursor = new
            return True
        self._cursor = await self.cursor()
        log.warning("relay_cursor_reset", topic=self.topic, position=self._cursor.position)
        return False

    async def _publish(self, rows: list[asyncpg.Record]) -> None:
        producer = self._producer
        assert producer is not None
        partitions = self._partitions or sorted(await producer.partitions_for(self.topic))
        open_batches: dict[int, Any] = {}
        sent: list[asyncio.Future[Any]] = []
        source = self.source.encode()
        sending = time.time()  # the messages' timestamps (set by the producer) are about this
        for row in rows:
            key, value, headers = message_of(row, source)
            partition = partitions[partition_for(key, len(partitions))]
            batch = open_batches.get(partition)
            if batch is None:
                batch = open_batches[partition] = producer.create_batch()
            if batch.append(key=key, value=value, timestamp=None, headers=headers) is None:
                batch.close()
                sent.append(await producer.send_batch(batch, self.topic, partition=partition))
                batch = open_batches[partition] = producer.create_batch()
                batch.append(key=key, value=value, timestamp=None, headers=headers)
        for partition, batch in open_batches.items():
            batch.close()  # complete: the producer sends it without lingering for more
            sent.append(await producer.send_batch(batch, self.topic, partition=partition))
        if self.also:
            sent.extend(await self._publish_also(rows, source))
        await asyncio.gather(*sent)
        acknowledged = time.time()
        RELAY_PRODUCE.labels(self.source).observe(acknowledged - sending)
        recorded = rows[0]["recorded_at"]
        if recorded is not None:
            RELAY_WAKE.labels(self.source).observe(sending - _epoch(recorded))

    async def _publish_also(
        self, rows: list[asyncpg.Record], source: bytes
    ) -> list[asyncio.Future[Any]]:
        """The rows whose type :attr:`also` names, sent to their other topic (keyed and
        partitioned as on the service's own).

        Opened: the other system is the rightful recipient of what it is sent, and holds no
        keys (docs/personal-data.md, "Exceptions")."""
        producer = self._producer
        assert producer is not None
        sent: list[asyncio.Future[Any]] = []
        for row in rows:
            topic = self.also.get(row["type"])
            if topic is None:
                continue
            key, value, headers = message_of(row, source)
            if SEALED_MARK.encode() in value:
                opened = await self.store.opened(uuid.UUID(row["id"]), row["data"])
                value = json.dumps(opened, ensure_ascii=False, separators=(",", ":")).encode()
            sent.append(await producer.send(topic, value=value, key=key, headers=headers))
        return sent

    async def _update_lag(self) -> int:
        lag = await self.lag()
        RELAY_LAG.labels(self.source).set(lag)
        return lag

    async def lag(self) -> int:
        """Committed events not yet published (some may wait for older transactions)."""
        cursor = self._cursor
        async with self.store.pool.acquire() as conn:
            return int(await conn.fetchval(_LAG, cursor.xid, cursor.position, self._restricted))


def _epoch(rendered: str) -> float:
    """Seconds since the epoch of a time :data:`MESSAGE_SQL` rendered."""
    return datetime.fromisoformat(rendered).timestamp()


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)
