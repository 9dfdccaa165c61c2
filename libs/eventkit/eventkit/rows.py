"""Writing a projection's rows: one set-based statement per event type, a handful per batch.

A projection declares, for each event type it reads, SQL statements that take their rows as
column arrays (``unnest($1::uuid[], $2::text[], ...)``), and a function that turns one event
into its row (or rows). :class:`Writers` cuts a batch into groups (:func:`plan`) and runs each
statement once per group, so a batch of a thousand events interleaving a dozen types costs a
dozen or so statements instead of a thousand.

The semantics every projection relies on:

- **Exactly once, in stream order.** :func:`eventkit.projection.apply_batch` hands a projection
  only events it has not applied yet, each stream's in its order, so a redelivered event never
  reaches a writer and a statement need not guard against it (``escalations + 1`` is fine).
- **A row belongs to one stream.** Every read-model row is written by the events of exactly
  one stream (a resident, a dispute, ...). Events of different streams may then be applied in
  any order; only each stream's own order is kept.
- **A statement touches a row at most once.** A group holds events of one type and at most one
  event per stream, so its rows never name one read-model row twice. That matters: with two
  source rows for one target, ``UPDATE ... FROM unnest(...)`` silently applies just one of
  them, and ``INSERT ... ON CONFLICT DO UPDATE`` fails ("cannot affect row a second time").
  Several events of one row in a batch therefore land in successive groups, in stream order.
  (The rows one event yields must name distinct read-model rows; that is the writer's part.)
- **Upsert where a stream may begin.** An event that can be the first of its row's stream to
  arrive inserts with ``ON CONFLICT DO UPDATE`` setting what the fact says, so the row is the
  fold of its stream whichever event created it; a plain ``UPDATE`` is for events that always
  follow the row's creation in the same stream. ``ON CONFLICT DO NOTHING`` would keep a
  stale row when an earlier event of the stream created it first, so it is only for rows
  that one event alone writes (a visit, a timeline entry).
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

import asyncpg

from anju_contracts import Envelope, Event
from eventkit.messages import Delivered

Row = tuple[Any, ...]
"""One read-model row's parameters, in the order of the statement's ``$1, $2, ...``."""

T = TypeVar("T")
E = TypeVar("E", bound=Event)
OneRow = Callable[[Envelope, E], Row]
ManyRows = Callable[[Envelope, E], Sequence[Row]]


# -- grouping a batch ---------------------------------------------------------------------


@dataclass
class Group(Generic[T]):
    """Items of one kind, at most one per stream: what one set-based statement takes whole."""

    kind: str
    items: list[T] = field(default_factory=list)


def plan(events: Iterable[tuple[Hashable, str, T]]) -> list[Group[T]]:
    """Group ``(stream, kind, item)`` triples, given in delivery order, for set-based writes.

    Each item goes to the first group of its kind placed after its stream's previous item, or
    to a new group at the end. So a group never holds two items of one stream, each stream's
    items come out in their order, and items of different streams share groups as much as
    that allows (a bulk load of many streams needs one group per kind).
    """
    groups: list[Group[T]] = []
    last: dict[Hashable, int] = {}
    of_kind: dict[str, list[int]] = {}  # group indexes per kind, ascending
    for stream, kind, item in events:
        indexes = of_kind.setdefault(kind, [])
        # a group after the stream's last one cannot hold the stream yet
        at = bisect_right(indexes, last.get(stream, -1))
        if at < len(indexes):
            target = indexes[at]
        else:
            target = len(groups)
            groups.append(Group(kind))
            indexes.append(target)
        groups[target].items.append(item)
        last[stream] = target
    return groups


def columns(rows: Sequence[Row]) -> list[list[Any]]:
    """Transpose rows of equal width into column lists: the arrays of an ``unnest``."""
    width = len(rows[0]) if rows else 0
    cols: list[list[Any]] = [[] for _ in range(width)]
    for row in rows:
        if len(row) != width:
            raise ValueError(f"rows of unequal width: {len(row)} and {width}")
        for i, value in enumerate(row):
            cols[i].append(value)
    return cols


async def write_rows(conn: asyncpg.Connection, sql: str, rows: Sequence[Row]) -> None:
    """Run ``sql`` once with ``rows`` as column arrays; nothing at all when there are none."""
    if rows:
        await conn.execute(sql, *columns(rows))


# -- writers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Writer:
    """One statement over column arrays, and how an event becomes its rows."""

    sql: str
    rows: Callable[[Envelope, Any], Sequence[Row]]


class Writers:
    """A projection's writers by event type; :meth:`apply` runs them over a batch.

    Register with :meth:`row` (one row per event) or :meth:`rows` (any number, e.g. a
    dispute's parties); several statements for one event type run in registration order::

        WRITERS = Writers()

        @WRITERS.row(
            ResidentMoved,
            "UPDATE residents r SET grid_id = x.g"
            " FROM unnest($1::uuid[], $2::uuid[]) AS x(id, g) WHERE r.resident_id = x.id",
        )
        def _moved(env: Envelope, e: ResidentMoved) -> Row:
            return (e.resident_id, e.to_path.grid_id)

    A projection's ``apply`` then calls ``await WRITERS.apply(conn, batch)``.
    """

    def __init__(self) -> None:
        self._by_type: dict[str, list[Writer]] = {}

    def row(self, model: type[E], sql: str) -> Callable[[OneRow[E]], OneRow[E]]:
        """Decorator: ``sql`` takes one row per ``model`` event, made by the decorated function."""

        def register(make: OneRow[E]) -> OneRow[E]:
            self._add(model, Writer(sql, lambda env, event: (make(env, event),)))
            return make

        return register

    def rows(self, model: type[E], sql: str) -> Callable[[ManyRows[E]], ManyRows[E]]:
        """Decorator: ``sql`` takes the rows the decorated function makes of a ``model`` event."""

        def register(make: ManyRows[E]) -> ManyRows[E]:
            self._add(model, Writer(sql, make))
            return make

        return register

    def _add(self, model: type[Event], writer: Writer) -> None:
        self._by_type.setdefault(model.event_type, []).append(writer)

    @property
    def event_types(self) -> frozenset[str]:
        """The event types something is written for; other events are skipped."""
        return frozenset(self._by_type)

    def __getitem__(self, event_type: str) -> Sequence[Writer]:
        """The statements for ``event_type``, in the order they run."""
        return self._by_type[event_type]

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        """Write ``batch`` (unseen events, per-stream order) group by group, in plan order."""
        groups = plan((d.stream, d.envelope.type, d) for d in batch if d.envelope.type in self)
        for group in groups:
            for writer in self._by_type[group.kind]:
                rows = [r for d in group.items for r in writer.rows(d.envelope, d.event)]
                await write_rows(conn, writer.sql, rows)

    def __contains__(self, event_type: object) -> bool:
        return event_type in self._by_type
