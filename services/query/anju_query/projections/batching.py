"""Cutting a batch of events into groups that one set-based statement each can apply.

A group holds events of one type, at most one per stream, so a statement over ``unnest`` of the
group never touches a row twice (every read-model row belongs to exactly one stream). Groups
come out in an order that keeps each stream's events in their stream order; events of different
streams may be reordered, which is harmless because no row depends on two streams.

Compared with one statement per event, a batch of a thousand events interleaving a dozen types
becomes a dozen or so statements.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Generic, TypeVar

T = TypeVar("T")


@dataclass
class Group(Generic[T]):
    kind: str
    items: list[T] = field(default_factory=list)


def plan(events: Iterable[tuple[Hashable, str, T]]) -> list[Group[T]]:
    """Group ``(stream, kind, item)`` triples (in delivery order) for set-based application.

    Each item goes to the first group of its kind placed after its stream's previous item,
    or to a new group at the end.
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


def columns(rows: Sequence[Sequence[object]], width: int) -> list[list[object]]:
    """Transpose rows into ``width`` column lists (the arguments of an ``unnest``)."""
    cols: list[list[object]] = [[] for _ in range(width)]
    for row in rows:
        for i, value in enumerate(row):
            cols[i].append(value)
    return cols
