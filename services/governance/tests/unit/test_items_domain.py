"""The work item's decider: given events, when a command, then events — the lifecycle's rules,
verification by someone other than the owner, the reopen window, supervision once per colour and
deadline, and the withdrawal of an item whose dispute escalation mediation withdrew."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from anju_contracts import Event
from anju_contracts.governance import (
    SourceLink,
    SourceRecord,
    SupervisionColour,
    SupervisionRaised,
    WorkItemClosed,
    WorkItemReceived,
    WorkItemSource,
    WorkItemStatus,
    WorkItemWithdrawn,
)
from anju_contracts.registry import AreaPath
from anju_governance.domain import items
from anju_governance.domain.errors import (
    DeadlineNotAhead,
    NotTheConvener,
    NotTheOwner,
    OwnerMayNotVerify,
    ReopenWindowPassed,
    WrongItemState,
)
from eventkit.dates import DateTooEarly

NOW = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
OWNER, CO = uuid4(), uuid4()
RECEIPT = timedelta(hours=48)


def opened(*, owner: bool = True, deadline: datetime = NOW + timedelta(days=10)) -> list[Event]:
    opening = items.Opening(
        title="修屋顶",
        source=SourceLink(
            source=WorkItemSource.GOVERNANCE, record=SourceRecord.DECISION, id=uuid4()
        ),
        path=AreaPath(community_id=uuid4()),
        deadline=deadline,
        owner=OWNER if owner else None,
        co_organisations=(CO, OWNER),
        responsible="zhou",
        convener="director-1",
    )
    return items.open_item(uuid4(), opening, by="director-1", since=NOW, now=NOW, receipt=RECEIPT)


def escalated(dispute_id: UUID, *, opened_at: datetime = NOW) -> list[Event]:
    """An item without an owner, opened by the dispute's escalation to the community tier."""
    opening = items.Opening(
        title="社区级纠纷（water_leak）",
        source=SourceLink(
            source=WorkItemSource.MEDIATION, record=SourceRecord.DISPUTE, id=dispute_id
        ),
        path=AreaPath(community_id=uuid4()),
        deadline=opened_at + timedelta(days=15),
    )
    return items.open_item(
        uuid4(), opening, by="governance", since=opened_at, now=opened_at, receipt=RECEIPT
    )


def state(events: list[Event]) -> items.WorkItem:
    folded = items.fold(events)
    assert folded is not None
    return folded


def then(events: list[Event], new: list[Event]) -> list[Event]:
    return [*events, *new]


def completed() -> list[Event]:
    history = opened()
    history = then(history, items.receive(state(history), by="zhou", speaks_for={OWNER}, now=NOW))
    return then(
        history, items.report_completion(state(history), summary="done", by="zhou", now=NOW)
    )


def test_an_item_with_an_owner_waits_for_receipt_and_the_owner_is_not_a_co_owner() -> None:
    item = state(opened())
    assert item.status == WorkItemStatus.ASSIGNED
    assert item.receipt_due_by == NOW + RECEIPT
    assert item.organisations == (OWNER, CO)
    assert state(opened(owner=False)).status == WorkItemStatus.UNASSIGNED


def test_only_the_owner_signs_for_receipt_and_late_is_recorded() -> None:
    history = opened()
    with pytest.raises(NotTheOwner):
        items.receive(state(history), by="co", speaks_for={CO}, now=NOW)
    late = items.receive(
        state(history), by="director", speaks_for=None, now=NOW + timedelta(days=3)
    )
    assert isinstance(late[0], WorkItemReceived)
    assert late[0].late is True


def test_the_owner_may_not_verify_but_someone_else_may() -> None:
    history = completed()
    for by, speaks_for in (("zhou", frozenset()), ("other", frozenset({OWNER}))):
        with pytest.raises(OwnerMayNotVerify):
            items.verify(state(history), by=by, speaks_for=speaks_for, note=None, now=NOW)
    history = then(
        history, items.verify(state(history), by="director-2", speaks_for=set(), note=None, now=NOW)
    )
    history = then(history, items.close(state(history), by="director-1", now=NOW))
    assert state(history).status == WorkItemStatus.CLOSED


def test_a_closed_item_reopens_within_the_window_only() -> None:
    history = completed()
    history = then(
        history, items.verify(state(history), by="d", speaks_for=set(), note=None, now=NOW)
    )
    history = then(history, items.close(state(history), by="d", now=NOW))
    window = timedelta(days=30)
    later = NOW + timedelta(days=31)
    with pytest.raises(ReopenWindowPassed):
        items.reopen(
            state(history),
            reason="漏",
            deadline=later + timedelta(days=5),
            by="d",
            now=later,
            window=window,
        )
    soon = NOW + timedelta(days=5)
    reopened = items.reopen(
        state(history),
        reason="漏",
        deadline=soon + timedelta(days=5),
        by="d",
        now=soon,
        window=window,
    )
    assert state(then(history, reopened)).status == WorkItemStatus.IN_PROGRESS
    with pytest.raises(WrongItemState):
        items.close(state(then(history, reopened)), by="d", now=soon)


def test_only_the_convener_extends_and_only_later() -> None:
    item = state(opened())
    with pytest.raises(NotTheConvener):
        items.extend_deadline(item, to=NOW + timedelta(days=20), reason="r", by="d-2", now=NOW)
    with pytest.raises(DeadlineNotAhead):
        items.extend_deadline(
            item, to=NOW + timedelta(days=5), reason="r", by="director-1", now=NOW
        )
    with pytest.raises(DateTooEarly):
        opened(deadline=NOW - timedelta(days=1))


@pytest.mark.parametrize("colour", list(SupervisionColour))
def test_each_colour_is_raised_once_per_deadline(colour: SupervisionColour) -> None:
    history = opened()
    item = state(history)
    due_by = item.receipt_due_by if colour == SupervisionColour.BLUE else item.deadline
    assert due_by is not None
    raised = items.supervise(item, colour, due_by=due_by, now=NOW)
    assert [type(e) for e in raised] == [SupervisionRaised]
    assert items.supervise(state(then(history, raised)), colour, due_by=due_by, now=NOW) == []
    # a deadline that no longer holds raises nothing
    assert items.supervise(item, colour, due_by=due_by + timedelta(days=1), now=NOW) == []


def test_nothing_is_raised_while_a_completion_waits_for_verification() -> None:
    item = state(completed())
    assert items.supervise(item, SupervisionColour.RED, due_by=item.deadline, now=NOW) == []
    assert item.colour is None


def test_a_step_from_the_ledger_is_judged_by_its_own_date_whatever_was_raised_meanwhile() -> None:
    # the item came in from the paper ledger after its deadline: every colour was raised at once
    deadline = NOW + timedelta(days=10)
    history = opened(deadline=deadline)
    later = deadline + timedelta(days=20)
    for colour, due_by in [
        (SupervisionColour.BLUE, NOW + RECEIPT),
        (SupervisionColour.YELLOW, deadline),
        (SupervisionColour.RED, deadline),
    ]:
        history = then(history, items.supervise(state(history), colour, due_by=due_by, now=later))
    assert state(history).colour == SupervisionColour.RED
    # then the ledger's steps, each dated before its due time
    signed = NOW + timedelta(days=1)
    history = then(history, items.receive(state(history), by="zhou", speaks_for=None, now=signed))
    assert isinstance(history[-1], WorkItemReceived)
    assert history[-1].late is False
    done = deadline - timedelta(days=1)
    history = then(
        history, items.report_completion(state(history), summary="done", by="zhou", now=done)
    )
    history = then(
        history, items.verify(state(history), by="d-2", speaks_for=set(), note=None, now=done)
    )
    closed = items.close(state(history), by="d-2", now=done + timedelta(hours=1))
    (closing,) = closed
    assert isinstance(closing, WorkItemClosed)
    assert closing.on_time is True
    assert state(then(history, closed)).colour is None


def test_an_item_whose_escalation_was_withdrawn_leaves_the_work_list() -> None:
    dispute_id = uuid4()
    # escalated on the clock last year (its SLA had run out by the ledger's days), seen red now
    escalated_at = NOW - timedelta(days=300)
    history = escalated(dispute_id, opened_at=escalated_at)
    item = state(history)
    history = then(
        history, items.supervise(item, SupervisionColour.RED, due_by=item.deadline, now=NOW)
    )
    assert state(history).colour == SupervisionColour.RED
    # the ledger's resolution, dated before the escalation, withdrew it; mediation recorded that now
    withdrawn = items.withdraw_escalated(
        state(history), dispute_id=dispute_id, by="governance", at=NOW, now=NOW
    )
    assert withdrawn == [
        WorkItemWithdrawn(
            item_id=item.id,
            dispute_id=dispute_id,
            reason="the escalation that opened it was withdrawn",
            withdrawn_by="governance",
            withdrawn_at=NOW,
        )
    ]
    history = then(history, withdrawn)
    after = state(history)
    assert (after.status, after.colour, after.withdrawn_at) == (WorkItemStatus.WITHDRAWN, None, NOW)
    # a withdrawal delivered again withdraws nothing more
    assert (
        items.withdraw_escalated(after, dispute_id=dispute_id, by="governance", at=NOW, now=NOW)
        == []
    )
    # nobody works on it any more, and no supervision is raised for it
    assert items.supervise(after, SupervisionColour.RED, due_by=after.deadline, now=NOW) == []
    with pytest.raises(WrongItemState):
        items.assign(
            after,
            owner=OWNER,
            co_organisations=(),
            responsible=None,
            by="director-1",
            now=NOW,
            receipt=RECEIPT,
        )
    with pytest.raises(WrongItemState):
        items.extend_deadline(
            after, to=NOW + timedelta(days=30), reason="r", by="director-1", now=NOW
        )


def test_a_withdrawal_is_dated_no_earlier_than_the_item_and_no_later_than_now() -> None:
    dispute_id = uuid4()
    item = state(escalated(dispute_id))
    (before,) = items.withdraw_escalated(
        item, dispute_id=dispute_id, by="governance", at=NOW - timedelta(days=30), now=NOW
    )
    (ahead,) = items.withdraw_escalated(
        item, dispute_id=dispute_id, by="governance", at=NOW + timedelta(days=1), now=NOW
    )
    assert isinstance(before, WorkItemWithdrawn)
    assert isinstance(ahead, WorkItemWithdrawn)
    assert before.withdrawn_at == ahead.withdrawn_at == NOW


def test_a_withdrawal_takes_the_work_off_the_owner_but_leaves_a_closed_item_closed() -> None:
    dispute_id = uuid4()
    history = escalated(dispute_id)
    history = then(
        history,
        items.assign(
            state(history),
            owner=OWNER,
            co_organisations=(),
            responsible="zhou",
            by="director-1",
            now=NOW,
            receipt=RECEIPT,
        ),
    )
    history = then(history, items.receive(state(history), by="zhou", speaks_for=None, now=NOW))
    history = then(
        history, items.report_completion(state(history), summary="done", by="zhou", now=NOW)
    )
    # reported done, not verified yet: withdrawn all the same
    waiting = items.withdraw_escalated(
        state(history), dispute_id=dispute_id, by="governance", at=NOW, now=NOW
    )
    assert state(then(history, waiting)).status == WorkItemStatus.WITHDRAWN
    history = then(
        history, items.verify(state(history), by="d-2", speaks_for=set(), note=None, now=NOW)
    )
    history = then(history, items.close(state(history), by="d-2", now=NOW))
    # struck off by the people before the withdrawal came in: it stays closed, history and all
    closed = state(history)
    assert (
        items.withdraw_escalated(closed, dispute_id=dispute_id, by="governance", at=NOW, now=NOW)
        == []
    )
    assert closed.status == WorkItemStatus.CLOSED
