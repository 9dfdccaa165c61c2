"""The one command path: a handler declares its aggregate and its decision; the kernel does the rest.

Every command runs the same steps, in one transaction::

    count → check the role → load (locked if the aggregate says so) → check the caller may see
    the record (else it does not exist: 404) → check the expected version → decide → append
    (envelope area from the record's place *after* the events) → re-arm deadlines → answer

A service declares each aggregate once (:class:`Aggregate`) and writes its handlers as::

    async def close(store, dispute_id, cmd, caller) -> Accepted:
        async with DISPUTES.update(store, dispute_id, caller, "close", cmd.expected_version) as w:
            w.emit(disputes.close(w.state, note=cmd.note, now=...))
        return w.accepted

Reads a decision needs beyond the aggregate's own stream (another aggregate, a uniqueness
table, what a service learnt from others) use ``w.session`` through a named adapter.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar
from uuid import UUID, uuid4

from anju_contracts import Event
from eventkit.access import Guarded, Permissions
from eventkit.business import OccurredBeforeRecord
from eventkit.commands import Accepted, Caller, accepted, area_of, counted, expect_version
from eventkit.errors import DomainError
from eventkit.store import AppendResult, RecordedEvent, Store, StoreSession, Stream

S = TypeVar("S")
T = TypeVar("T")

Follow = Callable[[StoreSession, UUID, Sequence[Event]], Awaitable[None]]
"""Keeps an aggregate's deadlines in step with the events just appended to it."""


def not_before_record(stream: Stream, caller: Caller) -> None:
    """Refuse a business time earlier than the record it refers to (its first event's)."""
    not_before(stream.events[0] if stream.events else None, caller)


def not_before(fact: RecordedEvent | None, caller: Caller) -> None:
    """Refuse a business time earlier than ``fact``, what the command refers to: a record's
    first event, or a part recorded later within it (a decision of a meeting, an entry of a
    ledger)."""
    occurred_at = caller.context.occurred_at
    if occurred_at is not None and fact is not None and occurred_at < fact.occurred_at:
        raise OccurredBeforeRecord(
            "occurred_at lies before the record it refers to",
            occurred_at=occurred_at.isoformat(),
            record_occurred_at=fact.occurred_at.isoformat(),
        )


@dataclass(frozen=True)
class Aggregate(Generic[S]):
    """Everything the command path needs to know about one kind of aggregate."""

    name: str
    """The record's kind: its streams are ``<name>-<id>``, and a missing one is "no such <name>"."""
    source: str
    permissions: Permissions
    fold: Callable[[UUID, Sequence[Event]], S | None]
    guard: Callable[[S], Guarded]
    not_found: type[DomainError]
    follow: Follow | None = None
    locked: bool = False
    """Commands on one record take turns (for rules that span streams, see ``Session.lock``)."""

    def stream(self, entity_id: UUID) -> str:
        return f"{self.name}-{entity_id}"

    def missing(self, entity_id: UUID) -> DomainError:
        """The error for a record that does not exist, or that the caller may not see: the
        same either way, so that an answer never tells the two apart."""
        return self.not_found(f"no such {self.name}", **{f"{self.name}_id": str(entity_id)})

    async def act(
        self,
        store: Store,
        entity_id: UUID,
        caller: Caller,
        action: str,
        expected_version: int | None,
        decide: Callable[[S], Sequence[Event]],
    ) -> Accepted:
        """A command whose decision needs nothing but the record: :meth:`update` in one call."""
        async with self.update(store, entity_id, caller, action, expected_version) as w:
            w.emit(decide(w.state))
        return w.accepted

    async def load(
        self, session: StoreSession, entity_id: UUID, caller: Caller | None = None
    ) -> tuple[S, Stream]:
        """The record and its stream; not found when it does not exist or ``caller`` may not
        see it (``None``: the service itself, which sees everything)."""
        stream_id = self.stream(entity_id)
        if self.locked:
            await session.lock(stream_id)
        stream = await session.load(stream_id)
        state = self.fold(entity_id, stream.payloads)
        if state is None or (caller is not None and not caller.sees(self.guard(state))):
            raise self.missing(entity_id)
        return state, stream

    async def read(
        self, store: Store, entity_id: UUID, caller: Caller, action: str
    ) -> tuple[S, Stream]:
        """A read of one record: the role checked, then visibility (else 404)."""
        self.permissions.check(caller.principal, action)
        async with store.session() as session:
            return await self.load(session, entity_id, caller)

    @asynccontextmanager
    async def update(
        self,
        store: Store,
        entity_id: UUID,
        caller: Caller,
        action: str,
        expected_version: int | None = None,
    ) -> AsyncIterator[Work[S]]:
        """A command on an existing record (see the module docstring)."""
        with counted(self.source, action):
            self.permissions.check(caller.principal, action)
            async with store.session() as session:
                state, stream = await self.load(session, entity_id, caller)
                not_before_record(stream, caller)
                version = expect_version(stream, expected_version)
                work = Work(self, session, caller, entity_id, state, stream, version)
                yield work
                await work.commit()
            work.answer()

    @asynccontextmanager
    async def create(
        self, store: Store, caller: Caller, action: str, entity_id: UUID | None = None
    ) -> AsyncIterator[Work[S | None]]:
        """A command that starts a new record (``w.state`` is ``None``; ``w.id`` its new id).

        The handler must check that the caller may act where the record will be, by loading
        the place through a visibility-checked load (an area the caller does not cover is not
        found).
        """
        with counted(self.source, action):
            self.permissions.check(caller.principal, action)
            new_id = entity_id or uuid4()
            async with store.session() as session:
                stream = Stream(self.stream(new_id), 0, ())
                work: Work[S | None] = Work(self, session, caller, new_id, None, stream, 0)
                yield work
                await work.commit()
            work.answer()

    @asynccontextmanager
    async def upsert(
        self, store: Store, caller: Caller, action: str, entity_id: UUID
    ) -> AsyncIterator[Work[S | None]]:
        """A command on the record with a natural id (a resident's health record): it goes on
        with the record when there is one (not found if the caller may not see it), or starts it
        (``w.state`` is ``None``; the handler checks the place as for :meth:`create`)."""
        with counted(self.source, action):
            self.permissions.check(caller.principal, action)
            async with store.session() as session:
                stream_id = self.stream(entity_id)
                if self.locked:
                    await session.lock(stream_id)
                stream = await session.load(stream_id)
                state = self.fold(entity_id, stream.payloads)
                if state is not None and not caller.sees(self.guard(state)):
                    raise self.missing(entity_id)
                not_before_record(stream, caller)
                work: Work[S | None] = Work(
                    self, session, caller, entity_id, state, stream, stream.version
                )
                yield work
                await work.commit()
            work.answer()


@dataclass
class Work(Generic[T]):
    """One command in progress: its record as loaded, and the events it decides."""

    aggregate: Aggregate[Any]
    session: StoreSession
    caller: Caller
    id: UUID
    state: T
    stream: Stream
    version: int
    events: list[Event] = field(default_factory=list)
    result: AppendResult | None = None
    sub_id: UUID | None = None
    """The id of a sub-entity the command created (a session, a referral), for the answer."""
    _answer: tuple[AppendResult, UUID] | None = None
    _accepted: Accepted | None = None

    def emit(self, events: Iterable[Event]) -> None:
        self.events.extend(events)

    async def commit(self) -> None:
        aggregate = self.aggregate
        after = aggregate.fold(self.id, [*self.stream.payloads, *self.events])
        area = None if after is None else area_of(aggregate.guard(after))
        self.result = await self.session.append(
            self.stream.id, self.version, self.events, context=self.caller.context, area=area
        )
        if aggregate.follow is not None and self.events:
            await aggregate.follow(self.session, self.id, self.events)
        key = self.caller.context.idempotency
        if key is not None:
            self.answer()
            assert self._accepted is not None
            await self.session.remember(key, self._accepted.model_dump(mode="json"))

    async def append_to(
        self,
        other: Aggregate[S],
        entity_id: UUID,
        version: int,
        events: Sequence[Event],
        *,
        guard: Guarded,
    ) -> AppendResult:
        """Append to a second stream in the same transaction (a resident's care stream when
        the resident moves), re-arming its deadlines."""
        result = await self.session.append(
            other.stream(entity_id),
            version,
            events,
            context=self.caller.context,
            area=area_of(guard),
        )
        if other.follow is not None and events:
            await other.follow(self.session, entity_id, events)
        return result

    def answer_with(self, result: AppendResult, entity_id: UUID | None = None) -> None:
        """Answer with another stream's append (where the command's effect really went), and
        maybe another id (the dispute a signal became): the consistency token then waits for
        that stream."""
        self._answer = (result, entity_id or self.id)

    def answer(self) -> None:
        assert self.result is not None
        result, entity_id = self._answer or (self.result, self.id)
        self._accepted = accepted(self.aggregate.source, str(entity_id), result, sub_id=self.sub_id)

    @property
    def accepted(self) -> Accepted:
        """The answer, once the block has exited and the transaction committed."""
        if self._accepted is None:
            raise RuntimeError("the command has not committed yet")
        return self._accepted
