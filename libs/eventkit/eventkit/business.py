"""Business time: when a fact happened, apart from when the store recorded it.

A command may say when what it records happened (``occurred_at``, :class:`~eventkit.commands
.Command`): a reception from last month's paper ledger, a visit written up the day after. The
kernel checks it before any handler logic (:func:`check_occurred_at`, run for every command
route by :func:`eventkit.app.service_app`):

- never later than now plus the clock skew (``clock_skew_s``): 422 ``occurred_in_future``;
- never more than ``backdate_limit_days`` back: 422 ``occurred_too_long_ago``;
- earlier than now minus the skew is **back-dating**: the caller's role needs the action
  ``backdate`` of the service's permission table (director and admin unless the service grants
  it to more roles), and the store audits the append (``backdate_audit``);
- never before the record it refers to (:class:`OccurredBeforeRecord`, checked by
  :class:`~eventkit.aggregate.Aggregate` on an existing record).

The store stamps the business time on every event the command appends (the context carries
it), and deciders take their ``now`` from :meth:`eventkit.commands.Caller.now`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from eventkit.access import BACKDATE as BACKDATE
from eventkit.errors import Rejected


class OccurredInFuture(Rejected):
    code = "occurred_in_future"


class OccurredTooLongAgo(Rejected):
    code = "occurred_too_long_ago"


class OccurredBeforeRecord(Rejected):
    code = "occurred_before_record"


@dataclass(frozen=True)
class BusinessTime:
    """A command's checked business time and whether it back-dates the fact."""

    occurred_at: datetime
    backdated: bool


def check_occurred_at(
    occurred_at: datetime, now: datetime, *, clock_skew_s: float, backdate_limit_days: float
) -> BusinessTime:
    """Refuse a business time in the future (beyond the skew) or too far back; say whether it
    back-dates (earlier than now minus the skew)."""
    skew = timedelta(seconds=clock_skew_s)
    if occurred_at > now + skew:
        raise OccurredInFuture(
            "occurred_at lies in the future",
            occurred_at=occurred_at.isoformat(),
            now=now.isoformat(),
            clock_skew_s=clock_skew_s,
        )
    if occurred_at < now - timedelta(days=backdate_limit_days):
        raise OccurredTooLongAgo(
            "occurred_at lies further back than this service accepts",
            occurred_at=occurred_at.isoformat(),
            backdate_limit_days=backdate_limit_days,
        )
    return BusinessTime(occurred_at, backdated=occurred_at < now - skew)
