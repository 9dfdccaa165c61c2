"""The calendar of the demo's history: the report's period and the desk's rhythm in it.

The station opened in May 2023; the community's report covers it to the end of 2024
(:data:`REPORT_FROM` – :data:`REPORT_TO`). The desk is busier on Mondays, open half a day on
Saturdays, closed on Sundays and over the Spring Festival and National Day holidays, and slow in
its first month while word of it gets round.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from datetime import date, timedelta

REPORT_FROM = date(2023, 5, 1)
REPORT_TO = date(2024, 12, 31)

_CLOSED = (
    (date(2024, 2, 9), date(2024, 2, 17)),  # Spring Festival 2024
    (date(2023, 9, 29), date(2023, 10, 6)),  # Mid-Autumn and National Day 2023
    (date(2024, 10, 1), date(2024, 10, 7)),  # National Day 2024
    (date(2024, 1, 1), date(2024, 1, 1)),
    (date(2024, 5, 1), date(2024, 5, 5)),
)
_MONTH = {1: 0.85, 2: 0.7, 3: 1.15, 4: 1.1, 5: 1.0, 6: 0.95, 7: 0.85, 8: 0.85, 9: 1.2, 10: 1.0,
          11: 1.05, 12: 1.0}  # fmt: skip
_WEEKDAY = (1.35, 1.1, 1.0, 1.0, 1.05, 0.5, 0.0)  # Monday … Sunday


def open_days() -> list[tuple[date, float]]:
    """The desk's days in the period with how busy each is, relative to an ordinary Wednesday."""
    days = []
    day = REPORT_FROM
    while day <= REPORT_TO:
        weight = _WEEKDAY[day.weekday()] * _MONTH[day.month]
        if any(start <= day <= end for start, end in _CLOSED):
            weight = 0.0
        if day < REPORT_FROM + timedelta(days=30):
            weight *= 0.5  # the first month: word of the new desk is getting round
        if weight:
            days.append((day, weight))
        day += timedelta(days=1)
    return days


def working_days(days: Sequence[tuple[date, float]], *, until: date = REPORT_TO) -> list[date]:
    """The open days from Monday to Friday, up to ``until``."""
    return [d for d, _ in days if d.weekday() < 5 and d <= until]


def spread(rng: random.Random, total: int, days: Sequence[tuple[date, float]]) -> list[date]:
    """``total`` days drawn by weight, in order: exactly ``total``, however the draw falls."""
    picked = rng.choices([d for d, _ in days], weights=[w for _, w in days], k=total)
    return sorted(picked)


def pick(rng: random.Random, shares: Mapping[str, float]) -> str:
    return rng.choices(list(shares), weights=list(shares.values()))[0]


def after(day: date, days: int) -> date:
    """``days`` later, moved off a Sunday."""
    later = day + timedelta(days=days)
    return later + timedelta(days=1) if later.weekday() == 6 else later
