"""An event store in memory, for handler tests that need no database.

:class:`MemoryEventStore` satisfies the same :class:`~eventkit.store.Store` protocol as the
PostgreSQL store and passes the same contract suite (:mod:`eventkit.testing.store_contract`):
expected-version concurrency, sessions that commit everything or nothing, global positions,
stream locks, deadlines, and events that go through the catalogue as JSON on the way in and out
(so upcasting and validation happen exactly where they do on PostgreSQL).

A session keeps its appends and deadline changes to itself until its ``async with`` block exits
cleanly; then it checks once more that no stream it appended to has moved (another session may
have committed in between) and applies everything in one step, with nothing awaited meanwhile.
It is for one process and one event loop; nothing is kept across restarts.
"""

from __future__ import annotations

import asyncio
import json
import re
import uuid
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from anju_contracts import Actor, Event, EventCatalog
from eventkit.idempotency import CommandKey, IdempotencyKeyInUse, Remembered
from eventkit.store import (
    NAMES_PERSON,
    AppendResult,
    ConcurrencyError,
    Context,
    RecordedEvent,
    Stream,
    refuse_foreign,
)


def _utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass
class ScheduledDeadline:
    """A deadline as the store keeps it; ``fired`` is what the scheduler sets once it ran."""

    due_at: datetime
    payload: dict[str, Any]
    fired: bool = False


@dataclass(frozen=True)
class Backdate:
    """A back-dated append, as the PostgreSQL store's ``backdate_audit`` row has it."""

    actor: Actor
    stream_id: str
    types: tuple[str, ...]
    correlation_id: str
    occurred_at: datetime
    recorded_at: datetime


@dataclass(frozen=True)
class _Row:
    """One stored event, its payload as JSON text like the PostgreSQL ``events`` row."""

    id: uuid.UUID
    stream_id: str
    sequence: int
    position: int
    type: str
    type_version: int
    data: str
    occurred_at: datetime
    recorded_at: datetime
    correlation_id: str
    causation_id: str | None
    actor: Actor
    area: str | None


@dataclass
class _Data:
    """What every store opened on the same memory shares (as stores share one database)."""

    streams: dict[str, list[_Row]] = field(default_factory=dict)
    positions: int = 0  # the last position handed out, committed or not (like a sequence)
    head: int = 0
    deadlines: dict[tuple[str, str], ScheduledDeadline] = field(default_factory=dict)
    locks: dict[str, asyncio.Lock] = field(default_factory=dict)
    backdates: list[Backdate] = field(default_factory=list)
    keys: dict[tuple[str, str], Remembered] = field(default_factory=dict)


@dataclass
class _Pending:
    """A session's appends to one stream: the committed version it started from, and its rows."""

    base: int
    rows: list[_Row] = field(default_factory=list)

    @property
    def version(self) -> int:
        return self.base + len(self.rows)


class MemorySession:
    """One unit of work against a :class:`MemoryEventStore` (see :class:`StoreSession`)."""

    def __init__(self, store: MemoryEventStore) -> None:
        self.store = store
        self.appended: list[AppendResult] = []
        self._pending: dict[str, _Pending] = {}
        self._deadline_changes: list[tuple[str, str, ScheduledDeadline | None]] = []
        self._held: dict[str, asyncio.Lock] = {}
        self._backdates: list[Backdate] = []
        self._keys: dict[tuple[str, str], Remembered] = {}

    async def load(self, stream_id: str, *, after: int = 0) -> Stream:
        """The stream as committed, with this session's own appends on top."""
        rows = list(self.store._data.streams.get(stream_id, ()))
        pending = self._pending.get(stream_id)
        if pending is not None:
            rows.extend(pending.rows)
        events = tuple(self.store._recorded(row) for row in rows if row.sequence > after)
        return Stream(stream_id, events[-1].sequence if events else after, events)

    async def about(self, person_id: uuid.UUID, *, prefixes: Sequence[str]) -> list[RecordedEvent]:
        """The person's streams and the events naming them, as committed (see
        :meth:`~eventkit.store.StoreSession.about`)."""
        own = {f"{prefix}{person_id}" for prefix in prefixes}
        wanted = str(person_id)
        rows = [
            row
            for rows in self.store._data.streams.values()
            for row in rows
            if row.stream_id in own or (wanted in row.data and _names(json.loads(row.data), wanted))
        ]
        return [self.store._recorded(row) for row in sorted(rows, key=lambda r: r.position)]

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Event],
        *,
        context: Context,
        area: str | None = None,
    ) -> AppendResult:
        """Append ``events`` to ``stream_id`` if it is still at ``expected_version``.

        Checked now against what is committed (and appended earlier in this session), and
        again when the session commits, since another session may commit in between.
        """
        if not events:
            return AppendResult(stream_id, expected_version, ())
        refuse_foreign(self.store.catalog, events)
        pending = self._pending.get(stream_id)
        current = pending.version if pending else self.store._version(stream_id)
        if current != expected_version:
            raise ConcurrencyError(stream_id, expected_version)
        if pending is None:
            pending = self._pending[stream_id] = _Pending(expected_version)
        data = self.store._data
        recorded_at = self.store.clock()
        occurred_at = context.occurred_at or recorded_at
        rows = []
        for n, event in enumerate(events, start=1):
            data.positions += 1
            rows.append(
                _Row(
                    id=uuid.uuid4(),
                    stream_id=stream_id,
                    sequence=expected_version + n,
                    position=data.positions,
                    type=event.event_type,
                    type_version=event.event_version,
                    data=event.model_dump_json(),
                    occurred_at=occurred_at,
                    recorded_at=recorded_at,
                    correlation_id=context.correlation_id,
                    causation_id=context.causation_id,
                    actor=context.actor,
                    area=area,
                )
            )
        pending.rows.extend(rows)
        if context.backdated and context.occurred_at is not None:
            self._backdates.append(
                Backdate(
                    context.actor,
                    stream_id,
                    tuple(e.event_type for e in events),
                    context.correlation_id,
                    context.occurred_at,
                    recorded_at,
                )
            )
        result = AppendResult(
            stream_id, expected_version + len(events), tuple(r.position for r in rows)
        )
        self.appended.append(result)
        return result

    async def lock(self, stream_id: str) -> None:
        """Hold ``stream_id`` until this session ends, against other sessions that lock it."""
        if stream_id in self._held:
            return
        lock = self.store._data.locks.setdefault(stream_id, asyncio.Lock())
        await lock.acquire()
        self._held[stream_id] = lock

    async def schedule(
        self, kind: str, key: str, due_at: datetime, payload: dict[str, Any] | None = None
    ) -> None:
        """Register (or move) the deadline ``kind``/``key``; moving a fired one re-arms it."""
        # Through JSON, as PostgreSQL's jsonb column does: what cannot be stored fails here.
        stored = json.loads(json.dumps(payload or {}))
        self._deadline_changes.append((kind, key, ScheduledDeadline(due_at, stored)))

    async def cancel(self, kind: str, key: str) -> None:
        """Forget a pending deadline (one that already fired stays)."""
        self._deadline_changes.append((kind, key, None))

    async def remember(self, key: CommandKey, answer: dict[str, Any]) -> None:
        """Keep the answer under the key when the session commits (see :class:`StoreSession`)."""
        if (key.sub, key.key) in self.store._data.keys or (key.sub, key.key) in self._keys:
            raise IdempotencyKeyInUse(
                "a command with this idempotency key was decided", key=key.key
            )
        self._keys[(key.sub, key.key)] = Remembered(key.fingerprint, json.loads(json.dumps(answer)))

    def _commit(self) -> None:
        """Apply everything, or raise :class:`ConcurrencyError` and apply nothing."""
        data = self.store._data
        for stream_id, pending in self._pending.items():
            if self.store._version(stream_id) != pending.base:
                raise ConcurrencyError(stream_id, pending.base)
        for taken in self._keys.keys() & data.keys.keys():
            raise IdempotencyKeyInUse(
                "a command with this idempotency key was decided", key=taken[1]
            )
        data.keys.update(self._keys)
        for stream_id, pending in self._pending.items():
            data.streams.setdefault(stream_id, []).extend(pending.rows)
            data.head = max(data.head, pending.rows[-1].position)
        data.backdates.extend(self._backdates)
        for kind, key, deadline in self._deadline_changes:
            if deadline is not None:
                data.deadlines[(kind, key)] = deadline
            elif (existing := data.deadlines.get((kind, key))) and not existing.fired:
                del data.deadlines[(kind, key)]

    def _release(self) -> None:
        for lock in self._held.values():
            lock.release()
        self._held.clear()


def _names(value: Any, person: str) -> bool:
    """Whether a key of :data:`~eventkit.store.NAMES_PERSON` holds ``person`` (alone or in a
    list) anywhere in ``value``: what the PostgreSQL store asks with a JSON path."""
    if isinstance(value, list):
        return any(_names(item, person) for item in value)
    if not isinstance(value, dict):
        return False
    for key, item in value.items():
        if re.search(NAMES_PERSON, key) and (
            item == person or (isinstance(item, list) and person in item)
        ):
            return True
        if _names(item, person):
            return True
    return False


class MemoryEventStore:
    """The event store of one service, in memory (see the module docstring).

    ``clock`` stamps ``recorded_at`` on appended events (and ``occurred_at`` unless the
    command's context names its business time); tests pass a
    :class:`~eventkit.testing.clocks.ManualClock` to see the time they set.
    ``deadlines`` is every deadline committed, by ``(kind, key)``, for tests to read.
    """

    def __init__(self, catalog: EventCatalog, *, clock: Callable[[], datetime] = _utcnow) -> None:
        self.catalog = catalog
        self.source = catalog.source
        self.clock = clock
        self._data = _Data()
        self._appended = asyncio.Event()

    @property
    def backdates(self) -> list[Backdate]:
        """Every back-dated append committed, oldest first (the audit, for tests to read)."""
        return self._data.backdates

    @property
    def deadlines(self) -> dict[tuple[str, str], ScheduledDeadline]:
        return self._data.deadlines

    def reopen(self, catalog: EventCatalog) -> MemoryEventStore:
        """Another store over the same events, read through ``catalog``.

        What deploying new code does to a PostgreSQL store: events recorded with an older
        version of a type are upcast on read by the new catalogue.
        """
        store = MemoryEventStore(catalog, clock=self.clock)
        store._data = self._data
        return store

    @asynccontextmanager
    async def session(self) -> AsyncIterator[MemorySession]:
        """A unit of work: everything done in it commits when the block exits cleanly."""
        session = MemorySession(self)
        try:
            yield session
            session._commit()
        finally:
            session._release()
        if session.appended:
            self.notify()

    async def load(self, stream_id: str) -> Stream:
        async with self.session() as session:
            return await session.load(stream_id)

    async def append(
        self,
        stream_id: str,
        expected_version: int,
        events: Sequence[Event],
        *,
        context: Context,
        area: str | None = None,
    ) -> AppendResult:
        """Append and commit at once (see :meth:`MemorySession.append`)."""
        async with self.session() as session:
            return await session.append(
                stream_id, expected_version, events, context=context, area=area
            )

    def notify(self) -> None:
        """Wake a waiter in this process: something was committed."""
        self._appended.set()

    async def recall(self, sub: str, key: str) -> Remembered | None:
        return self._data.keys.get((sub, key))

    async def wait_for_append(self, timeout: float) -> None:
        """Wait until an append commits, or ``timeout`` seconds pass."""
        with suppress(TimeoutError):
            await asyncio.wait_for(self._appended.wait(), timeout)
        self._appended.clear()

    async def head(self) -> int:
        """The highest committed position (0 when empty)."""
        return self._data.head

    def _version(self, stream_id: str) -> int:
        rows = self._data.streams.get(stream_id)
        return rows[-1].sequence if rows else 0

    def _recorded(self, row: _Row) -> RecordedEvent:
        return RecordedEvent(
            id=row.id,
            stream_id=row.stream_id,
            sequence=row.sequence,
            position=row.position,
            event=self.catalog.decode(row.type, row.type_version, json.loads(row.data)),
            occurred_at=row.occurred_at,
            recorded_at=row.recorded_at,
            correlation_id=row.correlation_id,
            causation_id=row.causation_id,
            actor=row.actor,
            area=row.area,
        )
