"""Periods of UTC days: counted by arithmetic, listed up to the limit."""

from __future__ import annotations

from datetime import date

import pytest

from anju_query.application.periods import (
    MAX_PERIODS,
    Period,
    TooManyPeriods,
    period_count,
    period_starts,
)


@pytest.mark.parametrize(
    ("first", "last", "period"),
    [
        (date(2024, 11, 15), date(2025, 2, 1), "month"),
        (date(2024, 12, 31), date(2025, 1, 1), "week"),
        (date(2025, 3, 3), date(2025, 3, 3), "day"),
        (date(2024, 2, 28), date(2024, 3, 1), "day"),
        (date(2025, 3, 1), date(2025, 3, 1), "month"),
    ],
)
def test_the_count_is_the_number_of_periods_listed(first: date, last: date, period: Period) -> None:
    assert period_count(first, last, period) == len(period_starts(first, last, period))


def test_months_across_a_year_end() -> None:
    assert period_starts(date(2024, 11, 15), date(2025, 2, 1), "month") == [
        date(2024, 11, 1),
        date(2024, 12, 1),
        date(2025, 1, 1),
        date(2025, 2, 1),
    ]


def test_more_periods_than_the_limit_are_refused_before_any_is_listed() -> None:
    assert period_count(date(2000, 1, 1), date(2000, 1, 1 + 30), "day") == 31
    with pytest.raises(TooManyPeriods):
        period_starts(date(1, 1, 1), date(9999, 12, 31), "day")
    last = date(2025, 1, 1)
    first = date.fromordinal(last.toordinal() - MAX_PERIODS + 1)
    assert len(period_starts(first, last, "day")) == MAX_PERIODS


@pytest.mark.parametrize("period", ["day", "week", "month"])
def test_the_last_days_a_date_holds(period: Period) -> None:
    starts = period_starts(date(9999, 11, 1), date(9999, 12, 31), period)
    assert starts[-1] == date(9999, 12, {"day": 31, "week": 27, "month": 1}[period])
    assert period_starts(date(1, 1, 1), date(1, 1, 1), period) == [date(1, 1, 1)]


def test_a_range_that_ends_before_it_starts_has_no_periods() -> None:
    assert period_starts(date(2025, 3, 2), date(2025, 3, 1), "day") == []
