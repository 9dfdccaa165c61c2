"""Projection writers: a batch becomes a few set-based statements with the effect of one per event.

The grouping is checked on its own; the writers against real PostgreSQL, because what they
guard against (a set-based statement seeing one row twice) is PostgreSQL's behaviour.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime

import asyncpg
import pytest
import pytest_asyncio

from anju_contracts import Actor, Envelope, Event
from eventkit.messages import Delivered
from eventkit.rows import Group, Row, Writers, columns, plan, write_rows
from eventkit.testing.delivery import envelope_of

# -- grouping -----------------------------------------------------------------------------


def _flatten(groups: list[Group[str]]) -> list[str]:
    return [item for g in groups for item in g.items]


def test_one_group_per_kind_when_streams_are_distinct() -> None:
    events = [("r1", "Registered", 1), ("c1", "Raised", 2), ("r2", "Registered", 3)]
    groups = plan(events)
    assert [(g.kind, g.items) for g in groups] == [("Registered", [1, 3]), ("Raised", [2])]


def test_a_stream_never_appears_twice_in_a_group() -> None:
    events = [("c1", "Planned", 1), ("c1", "Planned", 2), ("c2", "Planned", 3)]
    groups = plan(events)
    assert [g.items for g in groups] == [[1, 3], [2]]


def test_per_stream_order_is_kept_across_kinds() -> None:
    events = [
        ("c1", "Raised", "a1"),
        ("c1", "Planned", "a2"),
        ("c2", "Raised", "b1"),
        ("c1", "Recorded", "a3"),
        ("c1", "Planned", "a4"),
        ("c2", "Planned", "b2"),
        ("c3", "Recorded", "x1"),
    ]
    groups = plan(events)
    position = {item: i for i, g in enumerate(groups) for item in g.items}
    for stream in ("a", "b"):
        chain = [position[e[2]] for e in events if e[2].startswith(stream)]
        assert chain == sorted(chain)
        assert len(set(chain)) == len(chain)
    assert sorted(_flatten(groups)) == sorted(e[2] for e in events)
    # c3's visit joins the first group of visits; it does not need one of its own
    assert len(groups) == 4


def test_interleaved_bulk_load_needs_few_groups() -> None:
    kinds = ["Registered", "Formed", "Raised", "Planned"]
    events = [(f"s{i}", kinds[i % 4], i) for i in range(1000)]
    assert len(plan(events)) == 4


def test_columns_transposes_rows() -> None:
    assert columns([(1, "a"), (2, "b")]) == [[1, 2], ["a", "b"]]
    assert columns([]) == []


def test_columns_refuses_rows_of_unequal_width() -> None:
    with pytest.raises(ValueError, match="unequal width"):
        columns([(1, "a"), (2,)])


# -- writers against PostgreSQL -----------------------------------------------------------


class Opened(Event):
    event_type = "demo.Opened"
    key: str
    label: str


class Bumped(Event):
    event_type = "demo.Bumped"
    key: str


class Labelled(Event):
    event_type = "demo.Labelled"
    key: str
    label: str


class Tagged(Event):
    event_type = "demo.Tagged"
    key: str
    tags: list[str]


class Ignored(Event):
    event_type = "demo.Ignored"
    key: str


WRITERS = Writers()


@WRITERS.row(
    Opened,
    """
    INSERT INTO counters (key, label, n) SELECT k, l, 0 FROM unnest($1::text[], $2::text[]) AS x(k, l)
    ON CONFLICT (key) DO UPDATE SET label = EXCLUDED.label, n = 0
    """,
)
def _opened(_: Envelope, e: Opened) -> Row:
    return (e.key, e.label)


# a second statement for the same type: it only finds the row if it runs after the first
@WRITERS.row(
    Opened,
    """
    UPDATE counters c SET label = c.label || '!' FROM unnest($1::text[]) AS x(k)
    WHERE c.key = x.k
    """,
)
def _opened_loudly(_: Envelope, e: Opened) -> Row:
    return (e.key,)


@WRITERS.row(
    Bumped,
    "UPDATE counters c SET n = c.n + 1 FROM unnest($1::text[]) AS x(k) WHERE c.key = x.k",
)
def _bumped(_: Envelope, e: Bumped) -> Row:
    return (e.key,)


@WRITERS.row(
    Labelled,
    """
    UPDATE counters c SET label = x.l FROM unnest($1::text[], $2::text[]) AS x(k, l)
    WHERE c.key = x.k
    """,
)
def _labelled(_: Envelope, e: Labelled) -> Row:
    return (e.key, e.label)


@WRITERS.rows(
    Tagged,
    "INSERT INTO tags (key, tag) SELECT * FROM unnest($1::text[], $2::text[]) ON CONFLICT DO NOTHING",
)
def _tagged(_: Envelope, e: Tagged) -> list[Row]:
    return [(e.key, t) for t in e.tags]


DDL = """
CREATE TABLE counters (key text PRIMARY KEY, label text NOT NULL, n integer NOT NULL);
CREATE TABLE tags (key text NOT NULL, tag text NOT NULL, PRIMARY KEY (key, tag));
"""


@pytest_asyncio.fixture
async def conn(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    connection = await asyncpg.connect(database_url)
    await connection.execute(DDL)
    yield connection
    await connection.close()


class Batch:
    """Events of streams named by their key, each stream numbered from 1 in the order given."""

    def __init__(self) -> None:
        self.items: list[Delivered] = []
        self._sequence: dict[str, int] = {}

    def add(self, event: Opened | Bumped | Labelled | Tagged | Ignored) -> Batch:
        self._sequence[event.key] = sequence = self._sequence.get(event.key, 0) + 1
        envelope = envelope_of(
            event,
            source="demo",
            subject=f"counter-{event.key}",
            sequence=sequence,
            position=len(self.items) + 1,
            occurred_at=datetime(2024, 5, 1, tzinfo=UTC),
            correlation_id="c",
            actor=Actor(id="tester"),
        )
        self.items.append(Delivered(envelope, event, "demo", 0, len(self.items)))
        return self


async def _counters(conn: asyncpg.Connection) -> dict[str, tuple[str, int]]:
    rows = await conn.fetch("SELECT key, label, n FROM counters")
    return {r["key"]: (r["label"], r["n"]) for r in rows}


async def test_several_events_of_one_row_in_a_batch_all_take_effect(
    conn: asyncpg.Connection,
) -> None:
    batch = Batch().add(Opened(key="a", label="A")).add(Opened(key="b", label="B"))
    for _ in range(3):
        batch.add(Bumped(key="a"))
    batch.add(Bumped(key="b"))
    await WRITERS.apply(conn, batch.items)
    # one UPDATE over all four bumps would have counted "a" once
    assert await _counters(conn) == {"a": ("A!", 3), "b": ("B!", 1)}


async def test_each_stream_keeps_its_order_across_event_types(conn: asyncpg.Connection) -> None:
    batch = Batch()
    for key in ("a", "b"):
        batch.add(Opened(key=key, label="first"))
    batch.add(Labelled(key="a", label="second")).add(Bumped(key="a"))
    batch.add(Opened(key="a", label="again"))  # the stream starts the row over
    batch.add(Labelled(key="b", label="second")).add(Labelled(key="b", label="third"))
    batch.add(Bumped(key="a"))
    await WRITERS.apply(conn, batch.items)
    assert await _counters(conn) == {"a": ("again!", 1), "b": ("third", 0)}


async def test_an_event_may_yield_any_number_of_rows(conn: asyncpg.Connection) -> None:
    batch = Batch().add(Tagged(key="a", tags=[])).add(Tagged(key="b", tags=["x", "y"]))
    batch.add(Tagged(key="a", tags=["z"]))
    await WRITERS.apply(conn, batch.items)
    rows = await conn.fetch("SELECT key, tag FROM tags ORDER BY key, tag")
    assert [(r["key"], r["tag"]) for r in rows] == [("a", "z"), ("b", "x"), ("b", "y")]


async def test_events_without_a_writer_are_skipped(conn: asyncpg.Connection) -> None:
    assert Ignored.event_type not in WRITERS
    batch = Batch().add(Ignored(key="a")).add(Opened(key="a", label="A")).add(Ignored(key="a"))
    await WRITERS.apply(conn, batch.items)
    assert await _counters(conn) == {"a": ("A!", 0)}


async def test_write_rows_runs_nothing_for_no_rows(conn: asyncpg.Connection) -> None:
    # a statement that would fail if it ran at all
    await write_rows(conn, "SELECT 1/0", [])
    await write_rows(conn, "INSERT INTO tags SELECT * FROM unnest($1::text[], $2::text[])", [])
    assert await conn.fetchval("SELECT count(*) FROM tags") == 0
