"""Retention: how long the registry keeps a closed record's personal data (docs/personal-data.md).

A resident who moved out or died keeps their record, in full, for a period per kind of record
and community; then the scheduler erases the person (basis ``retention``) as a director's
erasure would. The period runs from the day of the fact (``moved_out_on``, ``died_on``), so a
fact brought in from the paper register is erased when its period ends, which may be at once.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from uuid import UUID


class Rule(StrEnum):
    """The kinds of record a retention period applies to."""

    MOVED_OUT = "moved_out"
    DECEASED = "deceased"


@dataclass(frozen=True)
class Retention:
    """The periods, in days, and each community's own where it sets one."""

    days: Mapping[Rule, int]
    communities: Mapping[UUID, Mapping[Rule, int]] = field(default_factory=dict)

    def days_for(self, rule: Rule, community_id: UUID) -> int:
        return self.communities.get(community_id, {}).get(rule, self.days[rule])

    def erase_at(self, rule: Rule, community_id: UUID, since: date) -> datetime:
        """When the record kept since ``since`` is erased: the start of the day after its
        period (UTC)."""
        end = since + timedelta(days=self.days_for(rule, community_id))
        return datetime.combine(end, time(), tzinfo=UTC)

    def reason(self, rule: Rule, community_id: UUID, since: date) -> str:
        """The reason an erasure by this rule records (the audit's ``reason``)."""
        days = self.days_for(rule, community_id)
        what = "moved out" if rule is Rule.MOVED_OUT else "died"
        return f"retention rule {rule}: {what} on {since.isoformat()}, kept {days} days"
