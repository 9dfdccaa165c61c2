"""Retention: how long mediation keeps a closed dispute's personal data (docs/personal-data.md).

A closed dispute keeps its file, in full, for a period per community; then the scheduler erases
its personal data (``mediation.DisputeErased``). The period runs from the closing's business
time, so a dispute brought in from a paper ledger is erased when its period ends, which may be
at once. A reopening stops the count; the next closing starts it again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from uuid import UUID


@dataclass(frozen=True)
class Retention:
    closed_dispute_days: int
    communities: Mapping[UUID, int] = field(default_factory=dict)
    """A community's own period for closed disputes, where it sets one."""

    def days_for(self, community_id: UUID) -> int:
        return self.communities.get(community_id, self.closed_dispute_days)

    def erase_at(self, community_id: UUID, closed_at: datetime) -> datetime:
        return closed_at + timedelta(days=self.days_for(community_id))
