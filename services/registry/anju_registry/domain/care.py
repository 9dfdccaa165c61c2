"""Special-group flags and grid-worker follow-up visits (网格代办) of one resident.

The follow-up plan: while a flag is raised, the next visit is due by the last visit (or now, if
there has been none) plus the shortest interval among the tiers of the raised flags. Every
change that can move that date re-plans; the last flag cleared, a move-out or a death stops it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from uuid import UUID

from anju_contracts import Event
from anju_contracts.registry import (
    FlagType,
    FollowUpStopped,
    FollowUpVisitOverdue,
    FollowUpVisitPlanned,
    FollowUpVisitRecorded,
    RiskTier,
    RiskTierChanged,
    SpecialGroupFlagCleared,
    SpecialGroupFlagRaised,
    SpecialGroupFlagReviewed,
)
from anju_registry.domain.errors import (
    FlagAlreadyRaised,
    FlagNotRaised,
    NoActiveFlag,
    ReasonRequired,
)
from anju_registry.domain.residents import Resident, ensure_active
from eventkit.dates import check_life_event

Intervals = Mapping[RiskTier, int]
"""Days between follow-up visits, per risk tier."""


@dataclass(frozen=True)
class Care:
    resident_id: UUID
    flags: Mapping[FlagType, RiskTier] = field(default_factory=dict)
    last_visit_at: datetime | None = None
    due_by: datetime | None = None
    grid_id: UUID | None = None
    overdue_for: datetime | None = None

    @property
    def planned(self) -> bool:
        return self.due_by is not None


def evolve(state: Care, event: Event) -> Care:
    if isinstance(event, SpecialGroupFlagRaised):
        return replace(state, flags={**state.flags, event.flag: event.tier})
    if isinstance(event, RiskTierChanged):
        return replace(state, flags={**state.flags, event.flag: event.to_tier})
    if isinstance(event, SpecialGroupFlagCleared):
        return replace(state, flags={k: v for k, v in state.flags.items() if k != event.flag})
    if isinstance(event, FollowUpVisitRecorded):
        last = state.last_visit_at
        return replace(
            state, last_visit_at=max(last, event.visited_at) if last else event.visited_at
        )
    if isinstance(event, FollowUpVisitPlanned):
        return replace(state, due_by=event.due_by, grid_id=event.grid_id)
    if isinstance(event, FollowUpVisitOverdue):
        return replace(state, overdue_for=event.due_by)
    if isinstance(event, FollowUpStopped):
        return replace(state, due_by=None)
    return state


def fold(resident_id: UUID, events: Iterable[Event]) -> Care:
    state = Care(resident_id)
    for event in events:
        state = evolve(state, event)
    return state


def _after(care: Care, events: Sequence[Event]) -> Care:
    for event in events:
        care = evolve(care, event)
    return care


def _replan(
    care: Care, resident: Resident, *, now: datetime, intervals: Intervals, always: bool = False
) -> list[Event]:
    """The plan that follows from ``care``: a new due date, a stop, or nothing to say.

    A visit always restates the plan (``always``), even when the due date comes out the same.
    """
    grid_id = resident.path.grid_id
    if not care.flags or grid_id is None:
        return stop(care, reason="no special-group flag is raised")
    days = min(intervals[tier] for tier in care.flags.values())
    due_by = (care.last_visit_at or now) + timedelta(days=days)
    if not always and care.due_by == due_by and care.grid_id == grid_id:
        return []
    return [
        FollowUpVisitPlanned(
            resident_id=care.resident_id, due_by=due_by, interval_days=days, grid_id=grid_id
        )
    ]


def _raised(care: Care, flag: FlagType) -> RiskTier:
    tier = care.flags.get(flag)
    if tier is None:
        raise FlagNotRaised(f"no {flag} flag is raised for this resident", flag=flag)
    return tier


def raise_flag(
    care: Care,
    resident: Resident,
    *,
    flag: FlagType,
    tier: RiskTier,
    note: str | None,
    now: datetime,
    intervals: Intervals,
) -> list[Event]:
    ensure_active(resident)
    if flag in care.flags:
        raise FlagAlreadyRaised(
            f"a {flag} flag is already raised", flag=flag, tier=care.flags[flag]
        )
    events: list[Event] = [
        SpecialGroupFlagRaised(resident_id=care.resident_id, flag=flag, tier=tier, note=note)
    ]
    return events + _replan(_after(care, events), resident, now=now, intervals=intervals)


def review_flag(
    care: Care,
    resident: Resident,
    *,
    flag: FlagType,
    tier: RiskTier | None,
    note: str | None,
    reason: str | None,
    now: datetime,
    intervals: Intervals,
) -> list[Event]:
    ensure_active(resident)
    current = _raised(care, flag)
    if tier is None or tier == current:
        return [SpecialGroupFlagReviewed(resident_id=care.resident_id, flag=flag, note=note)]
    why = reason or note
    if not why:
        raise ReasonRequired("changing a risk tier needs a reason", field="reason")
    events: list[Event] = [
        RiskTierChanged(
            resident_id=care.resident_id, flag=flag, from_tier=current, to_tier=tier, reason=why
        )
    ]
    return events + _replan(_after(care, events), resident, now=now, intervals=intervals)


def clear_flag(
    care: Care,
    resident: Resident,
    *,
    flag: FlagType,
    reason: str,
    now: datetime,
    intervals: Intervals,
) -> list[Event]:
    ensure_active(resident)
    _raised(care, flag)
    events: list[Event] = [
        SpecialGroupFlagCleared(resident_id=care.resident_id, flag=flag, reason=reason)
    ]
    return events + _replan(_after(care, events), resident, now=now, intervals=intervals)


def record_visit(
    care: Care,
    resident: Resident,
    *,
    visit_id: UUID,
    visited_at: datetime,
    grid_worker_id: str,
    findings: str,
    actions: str | None,
    errands: Sequence[str],
    now: datetime,
    intervals: Intervals,
) -> list[Event]:
    ensure_active(resident)
    if not care.flags:
        raise NoActiveFlag("follow-up visits are for residents with a special-group flag")
    check_life_event(visited_at, born=resident.date_of_birth, now=now, field="visited_at")
    events: list[Event] = [
        FollowUpVisitRecorded(
            resident_id=care.resident_id,
            visit_id=visit_id,
            visited_at=visited_at,
            grid_worker_id=grid_worker_id,
            findings=findings,
            actions=actions,
            errands=list(errands),
        )
    ]
    after = _after(care, events)
    return events + _replan(after, resident, now=now, intervals=intervals, always=True)


def follow_moved_resident(
    care: Care, resident: Resident, *, now: datetime, intervals: Intervals
) -> list[Event]:
    """After a move, the plan follows the resident to their new grid."""
    if not care.planned:
        return []
    return _replan(care, resident, now=now, intervals=intervals)


def stop(care: Care, *, reason: str) -> list[Event]:
    if not care.planned:
        return []
    return [FollowUpStopped(resident_id=care.resident_id, reason=reason)]


def mark_overdue(care: Care, *, due_at: datetime) -> list[Event]:
    """The deadline ``due_at`` passed: a fact only if it is still the plan and nobody visited."""
    if care.due_by is None or care.due_by != due_at or care.overdue_for == due_at:
        return []
    assert care.grid_id is not None  # a plan always names its grid
    return [FollowUpVisitOverdue(resident_id=care.resident_id, due_by=due_at, grid_id=care.grid_id)]
