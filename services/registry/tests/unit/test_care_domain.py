from datetime import UTC, date, datetime, timedelta
from uuid import uuid4

import pytest

from anju_contracts import Event
from anju_contracts.registry import (
    AreaPath,
    FlagType,
    FollowUpStopped,
    FollowUpVisitOverdue,
    FollowUpVisitPlanned,
    RiskTier,
    RiskTierChanged,
    Sex,
    SpecialGroupFlagCleared,
    SpecialGroupFlagRaised,
    SpecialGroupFlagReviewed,
)
from anju_registry.domain import care
from anju_registry.domain.errors import (
    FlagAlreadyRaised,
    FlagNotRaised,
    NoActiveFlag,
    ReasonRequired,
    ResidentInactive,
)
from anju_registry.domain.residents import Resident, ResidentStatus
from eventkit.dates import DateInFuture

GRID = uuid4()
PATH = AreaPath(community_id=uuid4(), grid_id=GRID, building_id=uuid4(), unit_id=uuid4())
RESIDENT = Resident(uuid4(), "Zhang", Sex.FEMALE, date(1940, 1, 1), "x" * 18, None, PATH)
RID = RESIDENT.id
NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
INTERVALS = {RiskTier.RED: 7, RiskTier.YELLOW: 14, RiskTier.BLUE: 30}


def given(*events: Event) -> care.Care:
    return care.fold(RID, events)


def raised(flag: FlagType = FlagType.ELDERLY_ALONE, tier: RiskTier = RiskTier.YELLOW) -> Event:
    return SpecialGroupFlagRaised(resident_id=RID, flag=flag, tier=tier)


def planned(due_by: datetime, days: int) -> FollowUpVisitPlanned:
    return FollowUpVisitPlanned(resident_id=RID, due_by=due_by, interval_days=days, grid_id=GRID)


def test_raising_a_flag_plans_the_first_visit_by_its_tier() -> None:
    events = care.raise_flag(
        given(),
        RESIDENT,
        flag=FlagType.ELDERLY_ALONE,
        tier=RiskTier.YELLOW,
        note=None,
        now=NOW,
        intervals=INTERVALS,
    )
    assert events == [raised(), planned(NOW + timedelta(days=14), 14)]


def test_a_flag_is_raised_once() -> None:
    with pytest.raises(FlagAlreadyRaised):
        care.raise_flag(
            given(raised()),
            RESIDENT,
            flag=FlagType.ELDERLY_ALONE,
            tier=RiskTier.RED,
            note=None,
            now=NOW,
            intervals=INTERVALS,
        )


def test_the_closest_watched_flag_sets_the_interval() -> None:
    state = given(raised(), planned(NOW + timedelta(days=14), 14))
    events = care.raise_flag(
        state,
        RESIDENT,
        flag=FlagType.DISABILITY,
        tier=RiskTier.RED,
        note=None,
        now=NOW,
        intervals=INTERVALS,
    )
    assert events[-1] == planned(NOW + timedelta(days=7), 7)


def test_review_with_a_new_tier_changes_it_and_replans() -> None:
    state = given(raised(), planned(NOW + timedelta(days=14), 14))
    events = care.review_flag(
        state,
        RESIDENT,
        flag=FlagType.ELDERLY_ALONE,
        tier=RiskTier.RED,
        note=None,
        reason="fell",
        now=NOW,
        intervals=INTERVALS,
    )
    assert events == [
        RiskTierChanged(
            resident_id=RID,
            flag=FlagType.ELDERLY_ALONE,
            from_tier=RiskTier.YELLOW,
            to_tier=RiskTier.RED,
            reason="fell",
        ),
        planned(NOW + timedelta(days=7), 7),
    ]


def test_review_without_a_new_tier_keeps_the_flag() -> None:
    events = care.review_flag(
        given(raised()),
        RESIDENT,
        flag=FlagType.ELDERLY_ALONE,
        tier=RiskTier.YELLOW,
        note="ok",
        reason=None,
        now=NOW,
        intervals=INTERVALS,
    )
    assert events == [
        SpecialGroupFlagReviewed(resident_id=RID, flag=FlagType.ELDERLY_ALONE, note="ok")
    ]


def test_a_tier_change_needs_a_reason() -> None:
    with pytest.raises(ReasonRequired):
        care.review_flag(
            given(raised()),
            RESIDENT,
            flag=FlagType.ELDERLY_ALONE,
            tier=RiskTier.RED,
            note=None,
            reason=None,
            now=NOW,
            intervals=INTERVALS,
        )


def test_review_or_clear_of_a_flag_not_raised() -> None:
    with pytest.raises(FlagNotRaised) as caught:
        care.review_flag(
            given(),
            RESIDENT,
            flag=FlagType.LOW_INCOME,
            tier=None,
            note=None,
            reason=None,
            now=NOW,
            intervals=INTERVALS,
        )
    assert caught.value.code == "flag_not_raised"
    with pytest.raises(FlagNotRaised):
        care.clear_flag(
            given(), RESIDENT, flag=FlagType.LOW_INCOME, reason="x", now=NOW, intervals=INTERVALS
        )


def test_clearing_the_last_flag_stops_follow_up() -> None:
    state = given(raised(), planned(NOW + timedelta(days=14), 14))
    events = care.clear_flag(
        state,
        RESIDENT,
        flag=FlagType.ELDERLY_ALONE,
        reason="moved in with family",
        now=NOW,
        intervals=INTERVALS,
    )
    assert events[0] == SpecialGroupFlagCleared(
        resident_id=RID, flag=FlagType.ELDERLY_ALONE, reason="moved in with family"
    )
    assert isinstance(events[1], FollowUpStopped)


def test_a_visit_replans_from_the_visit() -> None:
    state = given(raised(), planned(NOW + timedelta(days=14), 14))
    visited_at = NOW - timedelta(days=1)
    events = care.record_visit(
        state,
        RESIDENT,
        visit_id=uuid4(),
        visited_at=visited_at,
        grid_worker_id="w1",
        findings="fine",
        actions=None,
        errands=["pay bill"],
        now=NOW,
        intervals=INTERVALS,
    )
    assert events[-1] == planned(visited_at + timedelta(days=14), 14)


def test_visits_need_an_active_flag_and_a_past_time() -> None:
    with pytest.raises(NoActiveFlag):
        care.record_visit(
            given(),
            RESIDENT,
            visit_id=uuid4(),
            visited_at=NOW,
            grid_worker_id="w1",
            findings="x",
            actions=None,
            errands=[],
            now=NOW,
            intervals=INTERVALS,
        )
    with pytest.raises(DateInFuture):
        care.record_visit(
            given(raised()),
            RESIDENT,
            visit_id=uuid4(),
            visited_at=NOW + timedelta(hours=1),
            grid_worker_id="w1",
            findings="x",
            actions=None,
            errands=[],
            now=NOW,
            intervals=INTERVALS,
        )


def test_overdue_only_for_the_plan_that_is_still_current() -> None:
    due = NOW + timedelta(days=14)
    state = given(raised(), planned(due, 14))
    assert care.mark_overdue(state, due_at=due) == [
        FollowUpVisitOverdue(resident_id=RID, due_by=due, grid_id=GRID)
    ]
    assert care.mark_overdue(state, due_at=due - timedelta(days=1)) == []
    marked = given(raised(), planned(due, 14), *care.mark_overdue(state, due_at=due))
    assert care.mark_overdue(marked, due_at=due) == []
    stopped = given(raised(), planned(due, 14), FollowUpStopped(resident_id=RID, reason="died"))
    assert care.mark_overdue(stopped, due_at=due) == []


def test_no_flag_changes_for_a_closed_record() -> None:
    dead = Resident(
        RID, "Zhang", Sex.FEMALE, date(1940, 1, 1), "x" * 18, None, PATH, ResidentStatus.DEAD
    )
    with pytest.raises(ResidentInactive):
        care.raise_flag(
            given(),
            dead,
            flag=FlagType.LOW_INCOME,
            tier=RiskTier.BLUE,
            note=None,
            now=NOW,
            intervals=INTERVALS,
        )
