"""What governance's handlers decide with besides the store."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import timedelta
from uuid import UUID

from anju_contracts.registry import AreaPath
from anju_governance.application.aggregates import work_items
from anju_governance.application.mirror import Mirror, PostgresMirror
from anju_governance.domain import items
from anju_governance.domain.errors import UnknownMeetingKind
from eventkit.aggregate import Aggregate
from eventkit.commands import Caller, Clock
from eventkit.known import Known, visible_location, visible_organisation
from eventkit.store import StoreSession


@dataclass(frozen=True)
class Rules:
    """The work list's time limits (settings)."""

    receipt: timedelta = timedelta(hours=48)
    """How long an owner has to sign for an item."""
    near: timedelta = timedelta(days=3)
    """How long before the deadline yellow is raised."""
    reopen_window: timedelta = timedelta(days=30)
    """How long after closing an item may be reopened."""
    dispute_days: timedelta = timedelta(days=15)
    """The deadline of an item from an escalated dispute whose tier has no SLA end."""
    opinion_days: timedelta = timedelta(days=30)
    """The deadline of an item from an opinion the station referred, after the referral."""


@dataclass(frozen=True)
class GovernanceConfig:
    """The time, what the service has learnt of the registry, the meeting kinds it holds, the
    work list's time limits, and the work-item aggregate armed with them."""

    clock: Clock
    known: Known
    meeting_kinds: Collection[str]
    rules: Rules = field(default_factory=Rules)
    mirror: Mirror = field(default_factory=PostgresMirror)
    items: Aggregate[items.WorkItem] = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "items", work_items(self.rules.near))

    def check_kind(self, kind: str) -> None:
        if kind not in self.meeting_kinds:
            raise UnknownMeetingKind(
                "no such meeting kind", kind=kind, known=sorted(self.meeting_kinds)
            )

    async def place(self, session: StoreSession, area_id: UUID, caller: Caller) -> AreaPath:
        """A community or grid the caller covers, as a path down to the grid."""
        location = await visible_location(self.known, session, area_id, caller)
        return AreaPath(community_id=location.path.community_id, grid_id=location.path.grid_id)

    async def organisations(
        self, session: StoreSession, ids: Collection[UUID], caller: Caller
    ) -> list[UUID]:
        """``ids``, each a partner organisation the caller may see (else not found)."""
        for organisation_id in ids:
            await visible_organisation(self.known, session, organisation_id, caller)
        return list(dict.fromkeys(ids))
