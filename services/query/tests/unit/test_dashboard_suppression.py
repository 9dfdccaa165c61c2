"""Small counts of a sensitive figure's groups: hidden below the threshold (zero is shown), and
never left to be worked out from the total and the other groups."""

from __future__ import annotations

from anju_query.application.dashboard import suppress_small


def test_nothing_small_is_shown_as_it_is() -> None:
    assert suppress_small(12, {"a": 7, "b": 5, "c": 0}, 5) == (12, {"a": 7, "b": 5, "c": 0})


def test_one_small_group_hides_the_next_smallest_too() -> None:
    total, by = suppress_small(17, {"a": 9, "b": 6, "c": 2, "d": 0}, 5)
    assert (total, by) == (17, {"a": 9, "b": None, "c": None, "d": 0})


def test_a_lone_small_group_hides_the_total() -> None:
    assert suppress_small(2, {"a": 2, "b": 0}, 5) == (None, {"a": None, "b": 0})
    assert suppress_small(3, {}, 5) == (None, {})


def test_two_small_groups_keep_a_large_total() -> None:
    assert suppress_small(6, {"a": 4, "b": 2}, 5) == (6, {"a": None, "b": None})


def test_zero_is_not_small() -> None:
    assert suppress_small(0, {"a": 0, "b": 0}, 5) == (0, {"a": 0, "b": 0})
