"""What every event store must do, as one suite of tests run against each implementation.

Subclass :class:`StoreContract` in a test module (its name starting with ``Test``), give it a
``store`` fixture that yields an empty store over :data:`CATALOG`, and implement the three
hooks that reach behind the protocol: :meth:`~StoreContract.deadlines`,
:meth:`~StoreContract.mark_fired` (what the scheduler does) and :meth:`~StoreContract.reopen`
(what deploying new event versions does). Every test then runs against that store.
"""

from __future__ import annotations

import asyncio
import uuid
from abc import ABC, abstractmethod
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

import pytest

from anju_contracts import Actor, Event, EventCatalog, InvalidEvent
from eventkit.idempotency import CommandKey, IdempotencyKeyInUse, Remembered
from eventkit.memory import ScheduledDeadline
from eventkit.store import ConcurrencyError, Context, Store

# -- the suite's own events ------------------------------------------------------------------


class Counted(Event):
    """A number was counted."""

    event_type = "contract.Counted"
    n: int


class Noted(Event):
    """A note was taken."""

    event_type = "contract.Noted"
    text: str


class NamedV1(Event):
    """Someone was named (first version: one field)."""

    event_type = "contract.Named"
    event_version = 1
    name: str


class NamedV2(Event):
    """Someone was named (second version: the name split in two)."""

    event_type = "contract.Named"
    event_version = 2
    first: str
    last: str


class NotedV1Strict(Event):
    """``contract.Noted`` as code that wrongly added a required field without a new version."""

    event_type = "contract.Noted"
    text: str
    author: str


class Stranger(Event):
    """An event of another service, which this store must refuse."""

    event_type = "elsewhere.Happened"


def _split_name(data: dict[str, Any]) -> dict[str, Any]:
    first, _, last = data["name"].partition(" ")
    return {"first": first, "last": last}


CATALOG = EventCatalog("contract", [Counted, Noted, NamedV1])
"""The catalogue the ``store`` fixture must use."""

CATALOG_V2 = EventCatalog(
    "contract", [Counted, Noted, NamedV2], upcasters={("contract.Named", 1): _split_name}
)
CATALOG_STRICT = EventCatalog("contract", [Counted, NotedV1Strict, NamedV1])

ACTOR = Actor(id="tester", roles=("admin",))
CONTEXT = Context(actor=ACTOR)

TIMEOUT_S = 10.0
WHILE_HELD_S = 0.2
"""How long a session holds a lock while the other one tries to take it."""


class WaitingStore(Store, Protocol):
    """A store that a relay in the same process can wait on."""

    async def wait_for_append(self, timeout: float) -> None: ...


class StoreContract(ABC):
    """The store contract. Subclasses provide the ``store`` fixture and the hooks."""

    @abstractmethod
    async def deadlines(self, store: Store) -> dict[tuple[str, str], ScheduledDeadline]:
        """Every deadline the store keeps, committed, by ``(kind, key)``."""

    @abstractmethod
    async def mark_fired(self, store: Store, kind: str, key: str) -> None:
        """Mark a deadline fired, as the scheduler does once its handler ran."""

    @abstractmethod
    def reopen(self, store: Store, catalog: EventCatalog) -> Store:
        """A store over the same events, read through ``catalog``."""

    # -- appending and loading ---------------------------------------------------------------

    async def test_a_stream_that_was_never_written_is_empty(self, store: Store) -> None:
        stream = await store.load("nobody")
        assert stream.version == 0
        assert not stream.exists
        assert stream.events == ()
        assert await store.head() == 0

    async def test_appended_events_load_back_in_order_with_their_context(
        self, store: Store
    ) -> None:
        context = Context(actor=ACTOR, correlation_id="corr-1", causation_id="cause-1")
        events = [Counted(n=1), Noted(text="二楼漏水"), Counted(n=3)]
        result = await store.append("s", 0, events, context=context, area="east")

        assert result.stream_id == "s"
        assert result.version == 3
        stream = await store.load("s")
        assert stream.version == 3
        assert stream.exists
        assert stream.payloads == events
        assert [e.sequence for e in stream.events] == [1, 2, 3]
        assert [e.position for e in stream.events] == list(result.positions)
        assert len({e.id for e in stream.events}) == 3
        for recorded in stream.events:
            assert isinstance(recorded.id, uuid.UUID)
            assert recorded.stream_id == "s"
            assert recorded.correlation_id == "corr-1"
            assert recorded.causation_id == "cause-1"
            assert recorded.actor == ACTOR
            assert recorded.area == "east"
            assert recorded.occurred_at.tzinfo is not None

    async def test_events_carry_business_time_apart_from_record_time(self, store: Store) -> None:
        """Without a business time an event occurred when it was recorded; with one (the
        context's ``occurred_at``) it keeps it, and the store still stamps its own time."""
        await store.append("now", 0, [Counted(n=1)], context=CONTEXT)
        ledger = datetime(2020, 3, 4, 5, 6, 7, tzinfo=UTC)
        dated = Context(actor=ACTOR, occurred_at=ledger)
        await store.append("ledger", 0, [Counted(n=1), Counted(n=2)], context=dated)
        (recorded,) = (await store.load("now")).events
        assert recorded.occurred_at == recorded.recorded_at
        assert recorded.recorded_at.tzinfo is not None
        for event in (await store.load("ledger")).events:
            assert event.occurred_at == ledger
            assert event.recorded_at > ledger

    async def test_versions_count_on_from_the_expected_version(self, store: Store) -> None:
        first = await store.append("s", 0, [Counted(n=1)], context=CONTEXT)
        second = await store.append("s", 1, [Counted(n=2), Counted(n=3)], context=CONTEXT)
        assert (first.version, second.version) == (1, 3)
        assert [e.sequence for e in (await store.load("s")).events] == [1, 2, 3]

    async def test_an_empty_append_changes_nothing(self, store: Store) -> None:
        await store.append("s", 0, [Counted(n=1)], context=CONTEXT)
        result = await store.append("s", 1, [], context=CONTEXT)
        assert (result.version, result.positions) == (1, ())
        assert (await store.load("s")).version == 1

    async def test_positions_are_global_and_increase(self, store: Store) -> None:
        a = await store.append("a", 0, [Counted(n=1), Counted(n=2)], context=CONTEXT)
        b = await store.append("b", 0, [Counted(n=3)], context=CONTEXT)
        c = await store.append("a", 2, [Counted(n=4)], context=CONTEXT)
        positions = [*a.positions, *b.positions, *c.positions]
        assert all(p >= 1 for p in positions)
        assert positions == sorted(set(positions))
        assert await store.head() == positions[-1]

    async def test_loading_after_a_sequence_returns_only_later_events(self, store: Store) -> None:
        await store.append("s", 0, [Counted(n=i) for i in range(1, 5)], context=CONTEXT)
        async with store.session() as session:
            tail = await session.load("s", after=2)
            assert [e.sequence for e in tail.events] == [3, 4]
            assert tail.payloads == [Counted(n=3), Counted(n=4)]
            assert tail.version == 4
            nothing_new = await session.load("s", after=4)
            assert (nothing_new.version, nothing_new.events) == (4, ())

    async def test_an_event_type_the_catalogue_does_not_know_is_refused(self, store: Store) -> None:
        with pytest.raises(ValueError, match=r"elsewhere\.Happened"):
            await store.append("s", 0, [Counted(n=1), Stranger()], context=CONTEXT)
        assert not (await store.load("s")).exists
        assert await store.head() == 0

    # -- optimistic concurrency --------------------------------------------------------------

    @pytest.mark.parametrize("existing", [0, 2])
    async def test_concurrent_appends_with_same_expectation_exactly_one_wins(
        self, store: Store, existing: int
    ) -> None:
        stream = "counter-1"
        for i in range(existing):
            await store.append(stream, i, [Counted(n=0)], context=CONTEXT)
        barrier = asyncio.Barrier(2)

        async def command(n: int) -> int:
            async with store.session() as session:
                loaded = await session.load(stream)
                await barrier.wait()  # both have loaded the same version
                await session.append(stream, loaded.version, [Counted(n=n)], context=CONTEXT)
            return n

        results = await asyncio.gather(command(100), command(200), return_exceptions=True)

        winners = [r for r in results if isinstance(r, int)]
        losers = [r for r in results if isinstance(r, BaseException)]
        assert len(winners) == 1, results
        assert len(losers) == 1, results
        assert isinstance(losers[0], ConcurrencyError), results
        assert losers[0].expected_version == existing
        loaded = await store.load(stream)
        assert loaded.version == existing + 1
        assert loaded.events[-1].event == Counted(n=winners[0])
        assert [e.sequence for e in loaded.events] == list(range(1, existing + 2))

    async def test_append_with_stale_expectation_is_refused(self, store: Store) -> None:
        await store.append("s", 0, [Counted(n=1)], context=CONTEXT)
        await store.append("s", 1, [Counted(n=2)], context=CONTEXT)
        with pytest.raises(ConcurrencyError):
            await store.append("s", 1, [Counted(n=3)], context=CONTEXT)
        with pytest.raises(ConcurrencyError):
            await store.append("s", 0, [Counted(n=3)], context=CONTEXT)
        with pytest.raises(ConcurrencyError):  # ahead of the stream is wrong too
            await store.append("s", 5, [Counted(n=3)], context=CONTEXT)
        assert (await store.load("s")).version == 2

    async def test_a_stream_that_moved_after_loading_refuses_the_append(self, store: Store) -> None:
        async with store.session() as session:
            loaded = await session.load("s")
            await store.append("s", 0, [Counted(n=1)], context=CONTEXT)  # another command
            with pytest.raises(ConcurrencyError):
                await session.append("s", loaded.version, [Counted(n=2)], context=CONTEXT)
        assert (await store.load("s")).payloads == [Counted(n=1)]

    # -- sessions: all or nothing ------------------------------------------------------------

    async def test_a_session_sees_its_own_appends_and_others_see_them_at_commit(
        self, store: Store
    ) -> None:
        async with store.session() as session:
            await session.append("s", 0, [Counted(n=1)], context=CONTEXT)
            await session.append("s", 1, [Counted(n=2)], context=CONTEXT)
            await session.append("t", 0, [Noted(text="x")], context=CONTEXT)
            assert (await session.load("s")).payloads == [Counted(n=1), Counted(n=2)]
            assert not (await store.load("s")).exists
            assert await store.head() == 0
            assert [(r.stream_id, r.version) for r in session.appended] == [
                ("s", 1),
                ("s", 2),
                ("t", 1),
            ]
        assert (await store.load("s")).version == 2
        assert (await store.load("t")).version == 1
        assert await store.head() == max(p for r in session.appended for p in r.positions)

    async def test_a_session_that_raises_leaves_nothing(self, store: Store) -> None:
        await store.append("other", 0, [Counted(n=1)], context=CONTEXT)
        head = await store.head()

        async def command() -> None:
            async with store.session() as session:
                await session.append("a", 0, [Counted(n=1), Counted(n=2)], context=CONTEXT)
                await session.append("other", 1, [Counted(n=3)], context=CONTEXT)
                await session.schedule("visit", "a", datetime.now(UTC) + timedelta(days=1))
                raise RuntimeError("decided to fail")

        with pytest.raises(RuntimeError, match="decided to fail"):
            await command()

        assert not (await store.load("a")).exists
        assert (await store.load("other")).version == 1
        assert await store.head() == head
        assert await self.deadlines(store) == {}

    # -- idempotency keys ---------------------------------------------------------------------

    async def test_an_answer_kept_under_a_key_commits_with_the_session(self, store: Store) -> None:
        key = CommandKey("desk-1", "ledger:row-1", "f1")
        assert await store.recall("desk-1", "ledger:row-1") is None
        async with store.session() as session:
            await session.append("a", 0, [Counted(n=1)], context=CONTEXT)
            await session.remember(key, {"id": "a", "version": 1})
        assert await store.recall("desk-1", "ledger:row-1") == Remembered(
            "f1", {"id": "a", "version": 1}
        )
        assert await store.recall("desk-2", "ledger:row-1") is None  # a key is its caller's

        async def failing() -> None:
            async with store.session() as session:
                await session.remember(CommandKey("desk-1", "ledger:row-2", "f2"), {"id": "b"})
                raise RuntimeError("decided to fail")

        with pytest.raises(RuntimeError):
            await failing()
        assert await store.recall("desk-1", "ledger:row-2") is None

    async def test_a_key_taken_by_another_session_fails_the_command(self, store: Store) -> None:
        key = CommandKey("desk-1", "k", "f")
        async with store.session() as session:
            await session.remember(key, {"id": "first"})

        async def again() -> None:
            async with store.session() as session:
                await session.append("b", 0, [Counted(n=1)], context=CONTEXT)
                await session.remember(key, {"id": "second"})

        with pytest.raises(IdempotencyKeyInUse):
            await again()
        assert not (await store.load("b")).exists
        assert await store.recall("desk-1", "k") == Remembered("f", {"id": "first"})

    async def test_a_conflict_in_a_later_append_undoes_the_earlier_ones(self, store: Store) -> None:
        await store.append("other", 0, [Counted(n=1)], context=CONTEXT)

        async def command() -> None:
            async with store.session() as session:
                await session.append("a", 0, [Counted(n=1), Counted(n=2)], context=CONTEXT)
                await session.schedule("visit", "a", datetime.now(UTC) + timedelta(days=1))
                await session.append("other", 0, [Counted(n=3)], context=CONTEXT)

        with pytest.raises(ConcurrencyError):
            await command()

        assert not (await store.load("a")).exists
        assert (await store.load("other")).payloads == [Counted(n=1)]
        assert await self.deadlines(store) == {}

    async def test_wait_for_append_wakes_when_a_session_commits(self, store: Store) -> None:
        waiting: WaitingStore = store  # type: ignore[assignment]
        waiter = asyncio.create_task(waiting.wait_for_append(TIMEOUT_S * 3))
        await asyncio.sleep(0.05)
        assert not waiter.done()
        await store.append("s", 0, [Counted(n=1)], context=CONTEXT)
        await asyncio.wait_for(waiter, TIMEOUT_S)

    # -- locks -------------------------------------------------------------------------------

    async def test_sessions_that_lock_the_same_stream_take_turns(self, store: Store) -> None:
        held = asyncio.Event()
        order: list[str] = []

        async def first() -> None:
            async with store.session() as session:
                await session.lock("resident-1")
                held.set()
                await asyncio.sleep(WHILE_HELD_S)  # the second session tries meanwhile
                order.append("first ends")

        async def second() -> None:
            await held.wait()
            async with store.session() as session:
                await session.lock("resident-1")
                order.append("second holds")

        await asyncio.wait_for(asyncio.gather(first(), second()), TIMEOUT_S)
        assert order == ["first ends", "second holds"]

    async def test_locks_on_different_streams_do_not_wait_for_each_other(
        self, store: Store
    ) -> None:
        other_locked = asyncio.Event()

        async def first() -> None:
            async with store.session() as session:
                await session.lock("resident-1")
                await asyncio.wait_for(other_locked.wait(), TIMEOUT_S)

        async def second() -> None:
            async with store.session() as session:
                await session.lock("resident-2")
                other_locked.set()

        await asyncio.wait_for(asyncio.gather(first(), second()), TIMEOUT_S * 2)

    async def test_a_session_that_fails_releases_its_locks(self, store: Store) -> None:
        async def command() -> None:
            async with store.session() as session:
                await session.lock("resident-1")
                raise RuntimeError("gave up")

        with pytest.raises(RuntimeError):
            await command()

        async def lock_again() -> None:
            async with store.session() as session:
                await session.lock("resident-1")
                await session.lock("resident-1")  # taking it twice in one session is fine

        await asyncio.wait_for(lock_again(), TIMEOUT_S)

    # -- deadlines ---------------------------------------------------------------------------

    async def test_scheduled_deadlines_commit_with_the_session(self, store: Store) -> None:
        due = datetime(2026, 3, 1, 9, 30, tzinfo=UTC)
        async with store.session() as session:
            await session.schedule("visit", "resident-1", due, {"tier": 2, "who": ["w1"]})
            await session.schedule("sla", "dispute-1", due + timedelta(days=1))
            assert await self.deadlines(store) == {}
        assert await self.deadlines(store) == {
            ("visit", "resident-1"): ScheduledDeadline(due, {"tier": 2, "who": ["w1"]}),
            ("sla", "dispute-1"): ScheduledDeadline(due + timedelta(days=1), {}),
        }

    async def test_scheduling_again_moves_a_deadline_and_re_arms_a_fired_one(
        self, store: Store
    ) -> None:
        due = datetime(2026, 3, 1, tzinfo=UTC)
        async with store.session() as session:
            await session.schedule("sla", "d", due, {"tier": 1})
        async with store.session() as session:
            await session.schedule("sla", "d", due + timedelta(days=1), {"tier": 1})
        assert await self.deadlines(store) == {
            ("sla", "d"): ScheduledDeadline(due + timedelta(days=1), {"tier": 1})
        }

        await self.mark_fired(store, "sla", "d")
        assert (await self.deadlines(store))[("sla", "d")].fired
        async with store.session() as session:
            await session.schedule("sla", "d", due + timedelta(days=7), {"tier": 2})
        assert await self.deadlines(store) == {
            ("sla", "d"): ScheduledDeadline(due + timedelta(days=7), {"tier": 2}, fired=False)
        }

    async def test_cancel_forgets_a_pending_deadline_but_not_a_fired_one(
        self, store: Store
    ) -> None:
        due = datetime(2026, 3, 1, tzinfo=UTC)
        async with store.session() as session:
            await session.schedule("visit", "pending", due)
            await session.schedule("visit", "fired", due)
        await self.mark_fired(store, "visit", "fired")

        async with store.session() as session:
            await session.cancel("visit", "pending")
            await session.cancel("visit", "fired")
            await session.cancel("visit", "never-scheduled")
        assert await self.deadlines(store) == {
            ("visit", "fired"): ScheduledDeadline(due, {}, fired=True)
        }

    async def test_a_cancel_in_a_failed_session_is_undone(self, store: Store) -> None:
        due = datetime(2026, 3, 1, tzinfo=UTC)
        async with store.session() as session:
            await session.schedule("visit", "r", due)

        async def command() -> None:
            async with store.session() as session:
                await session.cancel("visit", "r")
                raise RuntimeError("gave up")

        with pytest.raises(RuntimeError):
            await command()
        assert await self.deadlines(store) == {("visit", "r"): ScheduledDeadline(due, {})}

    # -- the catalogue on the way out --------------------------------------------------------

    async def test_old_versions_are_upcast_on_read(self, store: Store) -> None:
        await store.append("person-1", 0, [NamedV1(name="Li Wei")], context=CONTEXT)

        new_code = self.reopen(store, CATALOG_V2)
        assert (await new_code.load("person-1")).payloads == [NamedV2(first="Li", last="Wei")]
        await new_code.append("person-1", 1, [NamedV2(first="Wang", last="Fang")], context=CONTEXT)
        assert (await new_code.load("person-1")).payloads == [
            NamedV2(first="Li", last="Wei"),
            NamedV2(first="Wang", last="Fang"),
        ]

    async def test_a_stored_payload_that_no_longer_validates_fails_the_load(
        self, store: Store
    ) -> None:
        await store.append("s", 0, [Noted(text="x")], context=CONTEXT)
        with pytest.raises(InvalidEvent):
            await self.reopen(store, CATALOG_STRICT).load("s")
