"""Plausible dates, one rule per kind of date, for every service's deciders.

Pure (no I/O, nothing but the standard library and the kernel's errors), so a domain imports it.

- a **birth** is not in the future and not before :data:`BIRTH_FLOOR`;
- an **event in a life** (a visit, a move, a death) is not before the birth and not in the future
  beyond :data:`CLOCK_SKEW` (a device's clock may run a little ahead);
- an event in a **record's life** (a session held, a petition answered) is not before the record
  began and not in the future;
- a **schedule** (a session planned) lies between now (less the skew) and :data:`HORIZON` ahead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from eventkit.errors import Rejected

BIRTH_FLOOR = date(1900, 1, 1)
CLOCK_SKEW = timedelta(minutes=5)
HORIZON = timedelta(days=366)


class DateInFuture(Rejected):
    code = "date_in_future"


class DateBeforeBirth(Rejected):
    code = "date_before_birth"


class DateTooEarly(Rejected):
    code = "date_too_early"


class DateBeyondHorizon(Rejected):
    code = "date_beyond_horizon"


def _instant(value: date | datetime) -> datetime:
    if isinstance(value, datetime):
        return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return datetime.combine(value, time.min, tzinfo=UTC)


def check_birth(born: date, *, today: date, field: str = "date_of_birth") -> None:
    if born > today:
        raise DateInFuture(f"{field} is in the future", field=field, value=born.isoformat())
    if born < BIRTH_FLOOR:
        raise DateTooEarly(
            f"{field} is before {BIRTH_FLOOR.isoformat()}", field=field, value=born.isoformat()
        )


def check_life_event(
    when: date | datetime, *, born: date | None, now: datetime, field: str
) -> None:
    """A fact in a person's life: on or after their birth, and not (much) in the future.

    ``born`` is ``None`` when the date of birth is no longer known (the person was erased)."""
    if _instant(when) > now + CLOCK_SKEW:
        raise DateInFuture(f"{field} is in the future", field=field, value=when.isoformat())
    if born is not None and _instant(when).date() < born:
        raise DateBeforeBirth(
            f"{field} is before the date of birth", field=field, value=when.isoformat()
        )


def check_life_day(day: date, *, born: date | None, today: date, field: str) -> None:
    """:func:`check_life_event` for a fact known by its day only (a death, a move out)."""
    if day > today:
        raise DateInFuture(f"{field} is in the future", field=field, value=day.isoformat())
    if born is not None and day < born:
        raise DateBeforeBirth(
            f"{field} is before the date of birth", field=field, value=day.isoformat()
        )


def check_past_event(when: datetime, *, since: datetime, now: datetime, field: str) -> None:
    """A fact in a record's life: not before the record began, not (much) in the future."""
    if _instant(when) > now + CLOCK_SKEW:
        raise DateInFuture(f"{field} is in the future", field=field, value=when.isoformat())
    if _instant(when) < since - CLOCK_SKEW:
        raise DateTooEarly(
            f"{field} is before the record began", field=field, value=when.isoformat()
        )


def check_schedule(
    when: datetime, *, now: datetime, field: str, horizon: timedelta = HORIZON
) -> None:
    """A time planned ahead: not in the past, not beyond the horizon."""
    if _instant(when) < now - CLOCK_SKEW:
        raise DateTooEarly(f"{field} is in the past", field=field, value=when.isoformat())
    if _instant(when) > now + horizon:
        raise DateBeyondHorizon(
            f"{field} is more than {horizon.days} days ahead", field=field, value=when.isoformat()
        )
