"""Periods of UTC calendar days that counts are grouped by: a day, an ISO week (from Monday) or
a calendar month, each named by its first day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

from eventkit.errors import Invalid

Period = Literal["day", "week", "month"]


def period_start(day: date, period: Period) -> date:
    """The first day of the period ``day`` falls in."""
    if period == "week":
        return day - timedelta(days=day.weekday())
    if period == "month":
        return day.replace(day=1)
    return day


def next_period(start: date, period: Period) -> date:
    if period == "week":
        return start + timedelta(days=7)
    if period == "month":
        return date(start.year + start.month // 12, start.month % 12 + 1, 1)
    return start + timedelta(days=1)


MAX_PERIODS = 400
"""The most periods one answer lists (over a year of days, seven years of weeks, thirty of
months)."""


def period_count(first: date, last: date, period: Period) -> int:
    """How many periods run from the one ``first`` falls in to the one of ``last``."""
    start, end = period_start(first, period), period_start(last, period)
    if period == "month":
        return (end.year - start.year) * 12 + end.month - start.month + 1
    return (end - start).days // (7 if period == "week" else 1) + 1


class TooManyPeriods(Invalid):
    code = "too_many_periods"


def period_starts(first: date, last: date, period: Period) -> list[date]:
    """The first days of every period from the one ``first`` falls in to the one of ``last``
    (:class:`TooManyPeriods` beyond :data:`MAX_PERIODS`)."""
    if period_count(first, last, period) > MAX_PERIODS:
        raise TooManyPeriods(
            f"at most {MAX_PERIODS} periods at once: a shorter range, or a longer period",
            max_periods=MAX_PERIODS,
            first=first.isoformat(),
            last=last.isoformat(),
        )
    at, end = period_start(first, period), period_start(last, period)
    if at > end:
        return []
    starts = [at]
    while starts[-1] < end:  # never a period past the last: there may be no day after it
        starts.append(next_period(starts[-1], period))
    return starts
