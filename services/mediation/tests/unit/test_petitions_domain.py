from datetime import UTC, datetime, timedelta
from uuid import uuid4

import pytest

from anju_contracts import Event
from anju_contracts.mediation import (
    PetitionAccepted,
    PetitionDeadlineMissed,
    PetitionForwarded,
    PetitionProxied,
    PetitionStage,
)
from anju_contracts.registry import AreaPath
from anju_mediation.domain import errors, petitions
from anju_mediation.domain.petitions import Deadlines, Petition
from eventkit.errors import Rejected
from eventkit.testing.deciders import given, then, then_nothing, then_raises

NOW = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
LATER = NOW + timedelta(days=365)
PID = uuid4()
PROXIED = PetitionProxied(
    petition_id=PID,
    agent_id="agent-1",
    resident_id=uuid4(),
    path=AreaPath(community_id=uuid4(), grid_id=uuid4()),
    subject="heating",
    department="housing",
    registered_at=NOW,
)


def state(*events: Event) -> Petition:
    p = given(petitions.evolve, None, *events)
    assert p is not None
    return p


def test_deadlines_run_from_forwarding_and_acceptance() -> None:
    forwarded = petitions.forward(state(PROXIED), at=NOW, deadlines=Deadlines(), now=LATER)
    then(
        forwarded,
        PetitionForwarded(
            petition_id=PID, forwarded_at=NOW, acceptance_due_by=NOW + timedelta(days=15)
        ),
    )
    late = NOW + timedelta(days=16)
    accepted = petitions.accept(
        state(PROXIED, *forwarded), at=late, deadlines=Deadlines(), now=LATER
    )
    then(
        accepted,
        PetitionAccepted(
            petition_id=PID,
            accepted_at=late,
            on_time=False,
            answer_due_by=late + timedelta(days=60),
        ),
    )


def test_a_missed_deadline_is_recorded_once_and_only_while_waiting() -> None:
    forwarded = petitions.forward(state(PROXIED), at=NOW, deadlines=Deadlines(), now=LATER)
    due = NOW + timedelta(days=15)
    missed = petitions.miss(state(PROXIED, *forwarded), stage=PetitionStage.ACCEPTANCE, due_by=due)
    then(
        missed, PetitionDeadlineMissed(petition_id=PID, stage=PetitionStage.ACCEPTANCE, due_by=due)
    )
    then_nothing(
        petitions.miss(
            state(PROXIED, *forwarded, *missed), stage=PetitionStage.ACCEPTANCE, due_by=due
        )
    )
    accepted = petitions.accept(
        state(PROXIED, *forwarded), at=NOW, deadlines=Deadlines(), now=LATER
    )
    then_nothing(
        petitions.miss(
            state(PROXIED, *forwarded, *accepted), stage=PetitionStage.ACCEPTANCE, due_by=due
        )
    )


def test_steps_come_in_order_and_a_closed_petition_takes_none() -> None:
    then_raises(
        errors.PetitionOutOfOrder,
        petitions.accept,
        state(PROXIED),
        at=NOW,
        deadlines=Deadlines(),
        now=NOW,
    )
    closed = petitions.close(state(PROXIED), outcome="withdrawn", now=NOW)
    then_raises(
        errors.PetitionClosed,
        petitions.forward,
        state(PROXIED, *closed),
        at=NOW,
        deadlines=Deadlines(),
        now=NOW,
    )


def test_a_step_cannot_be_dated_before_the_petition_or_in_the_future() -> None:
    with pytest.raises(Rejected) as early:
        petitions.forward(
            state(PROXIED), at=NOW - timedelta(days=30), deadlines=Deadlines(), now=NOW
        )
    assert early.value.code == "date_too_early"
    with pytest.raises(Rejected) as ahead:
        petitions.forward(
            state(PROXIED), at=NOW + timedelta(days=3), deadlines=Deadlines(), now=NOW
        )
    assert ahead.value.code == "date_in_future"


def test_a_stage_settled_by_its_due_time_is_not_missed_whatever_the_scheduler_marked() -> None:
    """The ledger's acceptance arrives after the scheduler marked the deadline missed: dated by
    the due time, the stage was met; the answer, dated after its due time, was not."""
    forwarded = petitions.forward(state(PROXIED), at=NOW, deadlines=Deadlines(), now=LATER)
    due = NOW + timedelta(days=15)
    missed = petitions.miss(state(PROXIED, *forwarded), stage=PetitionStage.ACCEPTANCE, due_by=due)
    waiting = state(PROXIED, *forwarded, *missed)
    assert waiting.missed == {PetitionStage.ACCEPTANCE}
    accepted = petitions.accept(waiting, at=due, deadlines=Deadlines(), now=LATER)
    after = state(PROXIED, *forwarded, *missed, *accepted)
    assert after.missed == frozenset()
    answered = petitions.answer(after, at=due + timedelta(days=61), answer="no", now=LATER)
    assert state(PROXIED, *forwarded, *missed, *accepted, *answered).missed == {
        PetitionStage.ANSWER
    }


def test_a_petition_closed_while_waiting_missed_the_stage_only_past_its_due_time() -> None:
    forwarded = petitions.forward(state(PROXIED), at=NOW, deadlines=Deadlines(), now=LATER)
    due = NOW + timedelta(days=15)
    missed = petitions.miss(state(PROXIED, *forwarded), stage=PetitionStage.ACCEPTANCE, due_by=due)
    waiting = state(PROXIED, *forwarded, *missed)
    in_time = petitions.close(waiting, outcome="withdrawn", now=due - timedelta(days=1))
    assert state(PROXIED, *forwarded, *missed, *in_time).missed == frozenset()
    unmarked = state(PROXIED, *forwarded)
    too_late = petitions.close(unmarked, outcome="gave up", now=due + timedelta(days=1))
    assert state(PROXIED, *forwarded, *too_late).missed == {PetitionStage.ACCEPTANCE}
