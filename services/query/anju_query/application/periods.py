"""Periods of UTC calendar days that counts are grouped by: a day, an ISO week (from Monday) or
a calendar month, each named by its first day."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Literal

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


def period_starts(first: date, last: date, period: Period) -> list[date]:
    """The first days of every period from the one ``first`` falls in to the one of ``last``."""
    starts: list[date] = []
    at, end = period_start(first, period), period_start(last, period)
    while at <= end:
        starts.append(at)
        at = next_period(at, period)
    return starts
