"""The given/when/then helpers for pure deciders, on a tiny decider of their own."""

from __future__ import annotations

from dataclasses import dataclass, replace

import pytest

from anju_contracts import Event
from eventkit.testing.deciders import given, then, then_nothing, then_raises
from eventkit.testing.demo import Counted


class Opened(Event):
    event_type = "demo.Opened"
    limit: int


@dataclass(frozen=True)
class Counter:
    open: bool = False
    limit: int = 0
    total: int = 0


class OverLimit(Exception):
    pass


def evolve(state: Counter, event: Event) -> Counter:
    if isinstance(event, Opened):
        return replace(state, open=True, limit=event.limit)
    if isinstance(event, Counted):
        return replace(state, total=state.total + event.n)
    return state


def decide_count(n: int, state: Counter) -> list[Event]:
    if not state.open:
        return [Opened(limit=10), Counted(n=n)]
    if n == 0:
        return []
    if state.total + n > state.limit:
        raise OverLimit(f"{state.total} + {n} > {state.limit}")
    return [Counted(n=n)]


def test_given_folds_events_into_state() -> None:
    assert given(evolve, Counter()) == Counter()
    state = given(evolve, Counter(), Opened(limit=5), Counted(n=2), Counted(n=1))
    assert state == Counter(open=True, limit=5, total=3)


def test_then_compares_events_in_order() -> None:
    state = given(evolve, Counter())
    assert then(decide_count(3, state), Opened(limit=10), Counted(n=3)) == [
        Opened(limit=10),
        Counted(n=3),
    ]
    then((Counted(n=1),), Counted(n=1))  # any sequence will do
    with pytest.raises(AssertionError, match="differ"):
        then(decide_count(3, state), Counted(n=3), Opened(limit=10))
    with pytest.raises(AssertionError, match=r"\(none\)"):
        then(decide_count(3, state))


def test_then_nothing_and_then_raises() -> None:
    state = given(evolve, Counter(), Opened(limit=5), Counted(n=4))
    then_nothing(decide_count(0, state))
    then_nothing(None)
    error = then_raises(OverLimit, decide_count, 2, state)
    assert "4 + 2 > 5" in str(error)
    with pytest.raises(AssertionError):
        then_nothing(decide_count(1, state))
