"""The event store: streams of events in PostgreSQL, appended with optimistic concurrency.

A stream is the history of one aggregate (a resident, a dispute). Its version is the sequence of
its last event, 0 for a stream that does not exist yet. :meth:`Session.append` names the version
the command saw; if another command appended in between, the append raises
:class:`ConcurrencyError` and nothing of the command is written. All events of one append, and
anything else done in the same :meth:`EventStore.session`, commit together or not at all.

Command handlers are written against the :class:`Store` and :class:`StoreSession` protocols,
so the same handler runs on this PostgreSQL store and on the in-memory one
(:mod:`eventkit.memory`) that unit tests use; one contract suite
(:mod:`eventkit.testing.store_contract`) holds both to the same behaviour.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import asyncpg

from anju_contracts import Actor, Event, EventCatalog
from eventkit.idempotency import CommandKey, IdempotencyKeyInUse, Remembered
from eventkit.listen import CommitAnnouncer
from eventkit.metrics import APPENDS, CONFLICTS
from eventkit.personal import (
    SEALED_MARK,
    FieldCipher,
    carries_personal,
    record_subject,
    refuse_lookalikes,
)


class ConcurrencyError(Exception):
    """The stream moved on since the command loaded it: reload and decide again, or give up."""

    def __init__(self, stream_id: str, expected_version: int) -> None:
        super().__init__(f"stream {stream_id} is no longer at version {expected_version}")
        self.stream_id = stream_id
        self.expected_version = expected_version


@dataclass(frozen=True)
class Context:
    """Who asked for a command and why: copied onto every event the command appends."""

    actor: Actor
    correlation_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    causation_id: str | None = None
    occurred_at: datetime | None = None
    """Business time: when what the command records happened, as it says (checked by the
    kernel, :mod:`eventkit.business`). ``None``: it happens now, when the store records it."""
    backdated: bool = False
    """``occurred_at`` lies in the past beyond the clock skew: the append is audited."""
    idempotency: CommandKey | None = None
    """The command's idempotency key: its answer is remembered under it (``remember``)."""


@dataclass(frozen=True)
class RecordedEvent:
    """An event as stored: the payload (upcast to its newest version) and where it stands."""

    id: uuid.UUID
    stream_id: str
    sequence: int
    position: int
    event: Event
    occurred_at: datetime
    """Business time: when the fact happened."""
    recorded_at: datetime
    """When the store recorded it (never earlier than the command arrived)."""
    correlation_id: str
    causation_id: str | None
    actor: Actor
    area: str | None


@dataclass(frozen=True)
class Stream:
    id: str
    version: int
    events: tuple[RecordedEvent, ...]

    @property
    def exists(self) -> bool:
        return self.version > 0

    @property
    def payloads(self) -> list[Event]:
        return [recorded.event for recorded in self.events]


@dataclass(frozen=True)
class AppendResult:
    """The stream's new version and the global positions of the appended events."""

    stream_id: str
    version: int
    positions: tuple[int, ...]


class StoreSession(Protocol):
    """One unit of work against a store: what a command handler may do inside it.

    Everything done in a session (appends to any number of streams, deadlines scheduled or
    cancelled) commits together when the session ends cleanly, or not at all.
    """

    appended: list[AppendResult]
    """What this session appended, in order: the handler's answer is built from it."""

    async def load(self, stream_id: str, *, after: int = 0) -> Stream:
        """The stream's events after sequence ``after``, as this session sees them."""
        ...

    async def about(self, person_id: uuid.UUID, *, prefixes: Sequence[str]) -> list[RecordedEvent]:
        """Every event that is about a person, in the order recorded: the events of their own
        streams (``<prefix><person_id>`` for each of ``prefixes``) and those of any other stream
        whose payload names them (:data:`NAMES_PERSON`). For a data-subject access report
        (:mod:`eventkit.subject_access`); it reads the whole store."""
        ...

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Event],
        *,
        context: Context,
        area: str | None = None,
    ) -> AppendResult:
        """Append ``events`` if the stream is still at ``expected_version``.

        Raises :class:`ConcurrencyError` otherwise, and ``ValueError`` for an event type the
        store's catalogue does not know.
        """
        ...

    async def lock(self, stream_id: str) -> None:
        """Serialise with every other session that locks ``stream_id``, until this one ends."""
        ...

    async def schedule(
        self, kind: str, key: str, due_at: datetime, payload: dict[str, Any] | None = None
    ) -> None:
        """Register (or move, re-arming it if it fired) the deadline ``kind``/``key``."""
        ...

    async def cancel(self, kind: str, key: str) -> None:
        """Forget the deadline ``kind``/``key`` if it has not fired."""
        ...

    async def remember(self, key: CommandKey, answer: dict[str, Any]) -> None:
        """Keep a command's answer under its idempotency key, with this session's work.

        Raises :class:`~eventkit.idempotency.IdempotencyKeyInUse` when another session
        committed the key first (this one must then write nothing).
        """
        ...


class Store(Protocol):
    """The event store of one service (``source``), whatever keeps the events."""

    source: str
    catalog: EventCatalog

    def session(self) -> AbstractAsyncContextManager[StoreSession]:
        """A unit of work that commits when the ``async with`` block exits cleanly."""
        ...

    async def load(self, stream_id: str) -> Stream:
        """The stream as committed (version 0 and no events when it does not exist)."""
        ...

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Event],
        *,
        context: Context,
        area: str | None = None,
    ) -> AppendResult:
        """Append and commit at once (see :meth:`StoreSession.append`)."""
        ...

    def notify(self) -> None:
        """Wake whoever waits in this process for something to be committed."""
        ...

    async def head(self) -> int:
        """The highest committed position (0 when the store is empty)."""
        ...

    async def recall(self, sub: str, key: str) -> Remembered | None:
        """What the command sent by ``sub`` with idempotency key ``key`` answered, if any."""
        ...


_LOAD = """
SELECT id, stream_id, sequence, position, type, type_version, data::text, occurred_at, recorded_at,
       correlation_id, causation_id, actor::text, area
FROM events WHERE stream_id = $1 AND sequence > $2 ORDER BY sequence
"""

NAMES_PERSON = r"(^|_)resident_ids?$"
"""The keys whose value names a person by their registry id (:meth:`StoreSession.about`):
``resident_id``, ``resident_ids`` and any ``…_resident_id(s)`` (a dispute's
``involved_resident_ids``), at any depth of a payload."""

# The text search first (cheap, on the row), then the exact one: a key that names a person
# holds the id, alone or in a list, at any depth.
_ABOUT = f"""
SELECT id, stream_id, sequence, position, type, type_version, data::text, occurred_at,
       recorded_at, correlation_id, causation_id, actor::text, area
FROM events
WHERE stream_id = ANY($1::text[])
   OR (strpos(data::text, $2) > 0
       AND jsonb_path_exists(
           data,
           '$.** ? (@.type() == "object").keyvalue()
                 ? (@.key like_regex "{NAMES_PERSON}" && @.value == $id)',
           jsonb_build_object('id', $2::text)))
ORDER BY position
"""

_NAMING = f"""
SELECT DISTINCT stream_id FROM events
WHERE strpos(data::text, $1) > 0
  AND jsonb_path_exists(
      data,
      '$.** ? (@.type() == "object").keyvalue()
            ? (@.key like_regex "{NAMES_PERSON}" && @.value == $id)',
      jsonb_build_object('id', $1::text))
ORDER BY stream_id
"""

# The relay publishes in transaction-id order, so a stream's events must never go backwards
# in xid: a transaction whose id is older than that of the stream's last event (it began
# writing before that event's transaction, which committed first) is refused as a conflict,
# and the command retries in a new transaction.
_INSERT = """
INSERT INTO events (id, stream_id, sequence, type, type_version, data,
                    correlation_id, causation_id, actor, area, occurred_at)
SELECT e.id, $2, $3 + e.n, e.type, e.type_version, e.data::jsonb, $7, $8, $9::jsonb, $10,
       coalesce($11::timestamptz, now())
FROM unnest($1::uuid[], $4::text[], $5::int[], $6::text[]) WITH ORDINALITY
     AS e(id, type, type_version, data, n)
WHERE $3 = 0 OR EXISTS (SELECT 1 FROM events WHERE stream_id = $2 AND sequence = $3
                         AND xid <= pg_current_xact_id())
ORDER BY e.n
RETURNING position
"""

_AUDIT_BACKDATE = """
INSERT INTO backdate_audit (sub, roles, stream_id, types, correlation_id, occurred_at)
VALUES ($1, $2, $3, $4, $5, $6)
"""


def refuse_foreign(catalog: EventCatalog, events: Sequence[Event]) -> None:
    """Raise unless every event belongs to ``catalog``: a store keeps its own service's facts."""
    for event in events:
        if not catalog.knows(event.event_type):
            raise ValueError(f"{event.event_type} is not an event of {catalog.source}")


class Session:
    """One transaction against the store: load streams, append, schedule deadlines."""

    def __init__(self, store: EventStore, conn: asyncpg.Connection) -> None:
        self.store = store
        self.conn = conn
        self.appended: list[AppendResult] = []

    async def load(self, stream_id: str, *, after: int = 0) -> Stream:
        rows = await self.conn.fetch(_LOAD, stream_id, after)
        events = tuple([await self._recorded(row) for row in rows])
        return Stream(stream_id, events[-1].sequence if events else after, events)

    async def about(self, person_id: uuid.UUID, *, prefixes: Sequence[str]) -> list[RecordedEvent]:
        rows = await self.conn.fetch(
            _ABOUT, [f"{prefix}{person_id}" for prefix in prefixes], str(person_id)
        )
        return [await self._recorded(row) for row in rows]

    async def streams_naming(self, person_id: uuid.UUID) -> list[str]:
        """The streams with an event that names the person (:data:`NAMES_PERSON`): the records
        an erasure of the person reaches. It reads the whole store."""
        rows = await self.conn.fetch(_NAMING, str(person_id))
        return [row["stream_id"] for row in rows]

    async def _recorded(self, row: asyncpg.Record) -> RecordedEvent:
        return RecordedEvent(
            id=row["id"],
            stream_id=row["stream_id"],
            sequence=row["sequence"],
            position=row["position"],
            event=self.store.catalog.decode(
                row["type"], row["type_version"], await self.store.opened(row["id"], row["data"])
            ),
            occurred_at=row["occurred_at"],
            recorded_at=row["recorded_at"],
            correlation_id=row["correlation_id"],
            causation_id=row["causation_id"],
            actor=Actor.model_validate_json(row["actor"]),
            area=row["area"],
        )

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Event],
        *,
        context: Context,
        area: str | None = None,
    ) -> AppendResult:
        """Append ``events`` to ``stream_id`` if it is still at ``expected_version``."""
        if not events:
            return AppendResult(stream_id, expected_version, ())
        refuse_foreign(self.store.catalog, events)
        ids = [uuid.uuid4() for _ in events]
        try:
            rows = await self.conn.fetch(
                _INSERT,
                ids,
                stream_id,
                expected_version,
                [e.event_type for e in events],
                [e.event_version for e in events],
                [
                    await self.store.sealed(e, i, stream_id)
                    for e, i in zip(events, ids, strict=True)
                ],
                context.correlation_id,
                context.causation_id,
                context.actor.model_dump_json(),
                area,
                context.occurred_at,
            )
        except asyncpg.UniqueViolationError as error:
            CONFLICTS.labels(self.store.source).inc()
            raise ConcurrencyError(stream_id, expected_version) from error
        if not rows:
            CONFLICTS.labels(self.store.source).inc()
            raise ConcurrencyError(stream_id, expected_version)
        if context.backdated and context.occurred_at is not None:
            await self.conn.execute(
                _AUDIT_BACKDATE,
                context.actor.id,
                list(context.actor.roles),
                stream_id,
                [e.event_type for e in events],
                context.correlation_id,
                context.occurred_at,
            )
        result = AppendResult(
            stream_id, expected_version + len(events), tuple(r["position"] for r in rows)
        )
        self.appended.append(result)
        return result

    async def lock(self, stream_id: str) -> None:
        """Hold ``stream_id`` until this session ends, against other sessions that lock it.

        For a command that decides on a stream it does not append to (a flag may only be
        raised for a living resident): locking the resident serialises it with the command
        that records a death, which the expected version alone cannot do.
        """
        await self.conn.execute(
            "SELECT pg_advisory_xact_lock(hashtext('anju.stream:' || $1))", stream_id
        )

    async def schedule(
        self, kind: str, key: str, due_at: datetime, payload: dict[str, Any] | None = None
    ) -> None:
        """Register (or move) the deadline ``kind``/``key``; it fires once, at ``due_at``.

        Moving a deadline that has already fired arms it again.
        """
        await self.conn.execute(
            """
            INSERT INTO deadlines (kind, key, due_at, payload) VALUES ($1, $2, $3, $4::jsonb)
            ON CONFLICT (kind, key) DO UPDATE
                SET due_at = EXCLUDED.due_at, payload = EXCLUDED.payload, fired_at = NULL
            """,
            kind,
            key,
            due_at,
            json.dumps(payload or {}),
        )

    async def cancel(self, kind: str, key: str) -> None:
        """Forget a pending deadline (it will not fire)."""
        await self.conn.execute(
            "DELETE FROM deadlines WHERE kind = $1 AND key = $2 AND fired_at IS NULL", kind, key
        )

    async def remember(self, key: CommandKey, answer: dict[str, Any]) -> None:
        """Keep the answer under the key; a concurrent session that committed it first wins
        (this insert waits for it, then finds the key taken)."""
        kept = await self.conn.fetchval(
            """
            INSERT INTO command_keys (sub, key, fingerprint, answer) VALUES ($1, $2, $3, $4::jsonb)
            ON CONFLICT (sub, key) DO NOTHING RETURNING true
            """,
            key.sub,
            key.key,
            key.fingerprint,
            json.dumps(answer),
        )
        if not kept:
            raise IdempotencyKeyInUse(
                "a command with this idempotency key is being decided; send it again",
                key=key.key,
            )


class EventStore:
    """The event store of one service (``source``), on that service's own database."""

    def __init__(
        self, pool: asyncpg.Pool, catalog: EventCatalog, *, cipher: FieldCipher | None = None
    ) -> None:
        self.pool = pool
        self.catalog = catalog
        self.source = catalog.source
        self.cipher = cipher
        """Seals personal fields on append and opens them on load (docs/personal-data.md);
        ``None`` only where no key store is configured: the fields are then kept in clear."""
        self._appended = asyncio.Event()
        self.announcer: CommitAnnouncer | None = None
        """Tells a relay in another process of this one's commits (:mod:`eventkit.listen`)."""

    async def sealed(self, event: Event, event_id: uuid.UUID, stream_id: str) -> str:
        """The JSON stored (and published) for ``event``: its personal fields sealed.

        Raises :class:`~eventkit.personal.SealedValueInInput` when any of its text spells a
        sealed value: every reader would try to open it."""
        if self.cipher is None or not carries_personal(type(event)):
            text = event.model_dump_json()
            if SEALED_MARK in text:  # a string starts like a sealed value: look closer
                refuse_lookalikes(json.loads(text))
            return text
        data = await self.cipher.seal(
            type(event),
            event.model_dump(mode="json"),
            event_id=event_id,
            record=record_subject(self.source, stream_id),
        )
        return json.dumps(data, ensure_ascii=False, separators=(",", ":"))

    async def opened(self, event_id: uuid.UUID, text: str) -> dict[str, Any]:
        """A stored payload with its sealed values opened (erased ones read as erased)."""
        data: dict[str, Any] = json.loads(text)
        if self.cipher is None or SEALED_MARK not in text:
            return data
        return await self.cipher.open_in_place(data, event_id=event_id)

    @asynccontextmanager
    async def session(self, conn: asyncpg.Connection | None = None) -> AsyncIterator[Session]:
        """A transaction: everything done in it commits together when the block exits cleanly.

        Pass ``conn`` (already inside a transaction) to join a larger unit of work, such as a
        policy marking the event it reacts to as processed.
        """
        if conn is not None:
            async with conn.transaction():
                yield Session(self, conn)
            return
        async with self.pool.acquire() as acquired, acquired.transaction():
            session = Session(self, acquired)
            yield session
        if session.appended:
            APPENDS.labels(self.source).inc(sum(len(r.positions) for r in session.appended))
            self.notify()

    async def load(self, stream_id: str) -> Stream:
        async with self.pool.acquire() as conn:
            return await Session(self, conn).load(stream_id)

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Event],
        *,
        context: Context,
        area: str | None = None,
    ) -> AppendResult:
        """Append on its own (see :meth:`Session.append`).

        All events go in one ``INSERT`` statement, which is atomic by itself: no explicit
        transaction, one round trip.
        """
        async with self.pool.acquire() as conn:
            result = await Session(self, conn).append(
                stream_id, expected_version, events, context=context, area=area
            )
        APPENDS.labels(self.source).inc(len(result.positions))
        self.notify()
        return result

    def notify(self) -> None:
        """Wake a relay in this process, and announce the commit to one in another: something
        was committed."""
        self._appended.set()
        if self.announcer is not None:
            self.announcer.announce()

    async def wait_for_append(self, timeout: float) -> None:
        """Wait until an append commits in this process, or ``timeout`` seconds pass."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._appended.wait(), timeout)
        self._appended.clear()

    async def head(self) -> int:
        """The highest position in the store (0 when empty)."""
        async with self.pool.acquire() as conn:
            value = await conn.fetchval("SELECT coalesce(max(position), 0) FROM events")
            return int(value)

    async def recall(self, sub: str, key: str) -> Remembered | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT fingerprint, answer::text FROM command_keys WHERE sub = $1 AND key = $2",
                sub,
                key,
            )
        return None if row is None else Remembered(row["fingerprint"], json.loads(row["answer"]))


class JoinedStore:
    """The store as seen from inside a unit of work already under way (a deadline handler's, a
    policy's): each of its sessions is a savepoint of that transaction, so an application
    function written for a command (``erase_resident(store, ...)``) runs within it and commits
    or rolls back with it, the deadline marked fired in the same breath."""

    def __init__(self, session: Session) -> None:
        self._session = session
        self.source = session.store.source
        self.catalog = session.store.catalog

    def session(self) -> AbstractAsyncContextManager[Session]:
        return self._session.store.session(self._session.conn)

    async def load(self, stream_id: str) -> Stream:
        return await self._session.load(stream_id)

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Event],
        *,
        context: Context,
        area: str | None = None,
    ) -> AppendResult:
        async with self.session() as session:
            return await session.append(
                stream_id, expected_version, events, context=context, area=area
            )

    def notify(self) -> None:
        self._session.store.notify()

    async def head(self) -> int:
        value = await self._session.conn.fetchval("SELECT coalesce(max(position), 0) FROM events")
        return int(value)

    async def recall(self, sub: str, key: str) -> Remembered | None:
        row = await self._session.conn.fetchrow(
            "SELECT fingerprint, answer::text FROM command_keys WHERE sub = $1 AND key = $2",
            sub,
            key,
        )
        return None if row is None else Remembered(row["fingerprint"], json.loads(row["answer"]))


# -- loading many events at once ------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """One event for :func:`bulk_append`: its stream, the sequence it takes there, and the
    context and envelope area a command would have given it."""

    stream_id: str
    sequence: int
    event: Event
    context: Context
    area: str | None = None


_BULK_COLUMNS = (
    "id",
    "stream_id",
    "sequence",
    "type",
    "type_version",
    "data",
    "correlation_id",
    "causation_id",
    "actor",
    "area",
    "occurred_at",
)


async def bulk_append(conn: asyncpg.Connection, store: EventStore, events: Sequence[Loaded]) -> int:
    """Write ``events`` of many streams into ``store``'s table with one ``COPY``, encoded (and
    sealed) as :meth:`Session.append` encodes them; return how many were written.

    For loading a store that no command writes to at the same time (a generated data set, a
    migration's import): each event names its own sequence, and nothing is checked but the
    ``(stream_id, sequence)`` key, which fails the whole load on a clash. An event without a
    business time (``context.occurred_at``) occurred when the load ran. The caller owns the
    transaction: one ``COPY`` in it commits with everything else it does, under one ``xid``,
    which the relay publishes in ``position`` order.
    """
    refuse_foreign(store.catalog, [loaded.event for loaded in events])
    actors: dict[int, str] = {}
    now = await conn.fetchval("SELECT now()")
    records = []
    for loaded in events:
        context, event = loaded.context, loaded.event
        actor = actors.get(id(context.actor))
        if actor is None:
            actor = actors[id(context.actor)] = context.actor.model_dump_json()
        event_id = uuid.uuid4()
        records.append(
            (
                event_id,
                loaded.stream_id,
                loaded.sequence,
                event.event_type,
                event.event_version,
                await store.sealed(event, event_id, loaded.stream_id),
                context.correlation_id,
                context.causation_id,
                actor,
                loaded.area,
                context.occurred_at or now,
            )
        )
    await conn.copy_records_to_table("events", records=records, columns=_BULK_COLUMNS)
    return len(records)
