"""Given / when / then for pure deciders: tests of domain logic without a database.

A decider is two pure functions: ``evolve(state, event) -> state`` folds history into state,
and ``decide(command, state) -> events`` (or raises a domain error). A test reads::

    state = given(evolve, Initial(), Registered(...), Moved(...))
    then(decide(Move(...), state), Moved(...))
    then_raises(Rejected, decide, Move(...), state)

``then`` compares events by value (they are frozen pydantic models or dataclasses) and in
order, and its failure message lists both sides.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import reduce
from typing import Any, TypeVar

import pytest

S = TypeVar("S")
E = TypeVar("E")
X = TypeVar("X", bound=BaseException)


def given(evolve: Callable[[S, E], S], initial: S, *events: E) -> S:
    """The state after ``events``, folded with ``evolve`` from ``initial``."""
    return reduce(evolve, events, initial)


def then(result: Sequence[E] | None, *expected: E) -> list[E]:
    """Assert that a decision produced exactly ``expected``, in order; return the events.

    ``result`` is what the decider returned: a sequence of events, or None for none.
    """
    events = list(result or ())
    if events != list(expected):
        lines = ["decided events differ from expected:", "  got:"]
        lines += [f"    {e!r}" for e in events] or ["    (none)"]
        lines += ["  expected:"]
        lines += [f"    {e!r}" for e in expected] or ["    (none)"]
        raise AssertionError("\n".join(lines))
    return events


def then_nothing(result: Sequence[object] | None) -> None:
    """Assert that a decision produced no events (an idempotent repeat, for example)."""
    then(result)


def then_raises(error: type[X], decide: Callable[..., Any], *args: Any, **kwargs: Any) -> X:
    """Assert that ``decide(*args, **kwargs)`` raises ``error``; return the exception."""
    with pytest.raises(error) as info:
        decide(*args, **kwargs)
    return info.value
