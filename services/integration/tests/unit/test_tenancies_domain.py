"""Tenancy notices, given what the service found / when planned / then steps or problems:
nothing is guessed."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from anju_contracts import Event
from anju_contracts.housing import UnitReference
from anju_contracts.tenancies import NoticeTenant, Problem, ProblemKind, StepAction, TenancyChange
from anju_integration.domain import tenancies
from anju_integration.domain.errors import NoticeNotParked, UnknownTenant
from anju_integration.domain.tenancies import Found, Notice, Person, Plan, Status, Unit

COMMUNITY = uuid4()
UNIT = Unit(uuid4(), COMMUNITY, uuid4())
OTHER_UNIT = Unit(uuid4(), COMMUNITY, uuid4())
UNKNOWN_UNIT = [Problem(kind=ProblemKind.UNKNOWN_UNIT)]


def notice(change: TenancyChange, *, out: int = 0, in_: int = 0) -> Notice:
    events = tenancies.receive(
        tenancies.notice_id_of("m-1"),
        message_id="m-1",
        change=change,
        tenancy_id="ZL-1",
        unit=UnitReference(building="3号楼", unit="301"),
        moving_out=[NoticeTenant(ref=f"out-{i}", id_hash=f"{'o' * 20}{i}") for i in range(out)],
        moving_in=[NoticeTenant(ref=f"in-{i}", id_hash=f"{'i' * 20}{i}") for i in range(in_)],
        effective_on=date(2026, 11, 20),
    )
    state = tenancies.fold(events)
    assert state is not None
    return state


def person(at: Unit | None = UNIT, *, active: bool = True) -> Person:
    return Person(uuid4(), active, None if at is None else at.id, COMMUNITY)


def test_a_message_id_always_names_the_same_notice() -> None:
    assert tenancies.notice_id_of("m-1") == tenancies.notice_id_of("m-1")
    assert tenancies.notice_id_of("m-1") != tenancies.notice_id_of("m-2")


def test_a_started_tenancy_registers_newcomers_and_moves_in_residents_of_the_estate() -> None:
    state = notice(TenancyChange.STARTED, in_=3)
    elsewhere, here = person(OTHER_UNIT), person(UNIT)
    found = Found([UNIT], {"in-0": [], "in-1": [elsewhere], "in-2": [here]})

    decided = tenancies.plan(state, found)

    assert isinstance(decided, Plan)
    assert [(s.ref, s.action) for s in decided.steps] == [
        ("in-0", StepAction.REGISTERED),
        ("in-1", StepAction.MOVED_IN),
    ]  # in-2 lives there already


def test_an_ended_tenancy_moves_out_its_tenants_on_the_day_it_ended() -> None:
    state = notice(TenancyChange.ENDED, out=2)
    tenant, gone = person(UNIT), person(UNIT, active=False)

    decided = tenancies.plan(state, Found([UNIT], {"out-0": [tenant], "out-1": [gone]}))

    assert isinstance(decided, Plan)
    [step] = decided.steps
    assert (step.action, step.person, step.on) == (
        StepAction.MOVED_OUT,
        tenant,
        date(2026, 11, 20),
    )


def test_a_transfer_moves_the_previous_tenants_out_before_the_new_ones_in() -> None:
    state = notice(TenancyChange.TRANSFERRED, out=1, in_=1)

    decided = tenancies.plan(state, Found([UNIT], {"out-0": [person(UNIT)], "in-0": []}))

    assert isinstance(decided, Plan)
    assert [s.action for s in decided.steps] == [StepAction.MOVED_OUT, StepAction.REGISTERED]


@pytest.mark.parametrize(
    ("units", "people", "kinds"),
    [
        ([], {"out-0": "here"}, [ProblemKind.UNKNOWN_UNIT]),
        ([UNIT, OTHER_UNIT], {"out-0": "here"}, [ProblemKind.AMBIGUOUS_UNIT]),
        ([UNIT], {"out-0": None}, [ProblemKind.UNKNOWN_PERSON]),
        ([UNIT], {"out-0": "twice"}, [ProblemKind.AMBIGUOUS_PERSON]),
        ([UNIT], {"out-0": "elsewhere"}, [ProblemKind.NOT_AT_UNIT]),
        ([], {"out-0": None}, [ProblemKind.UNKNOWN_UNIT, ProblemKind.UNKNOWN_PERSON]),
    ],
)
def test_an_ended_tenancy_that_does_not_match_exactly_is_parked(
    units: list[Unit], people: dict[str, str | None], kinds: list[ProblemKind]
) -> None:
    state = notice(TenancyChange.ENDED, out=1)
    found_people = {
        "out-0": {
            None: [],
            "here": [person(UNIT)],
            "twice": [person(UNIT), person(OTHER_UNIT)],
            "elsewhere": [person(OTHER_UNIT)],
        }[people["out-0"]]
    }

    decided = tenancies.plan(state, Found(units, found_people))

    assert not isinstance(decided, Plan)
    assert [p.kind for p in decided] == kinds


def test_a_newcomer_whose_record_is_closed_is_parked_rather_than_registered_again() -> None:
    state = notice(TenancyChange.STARTED, in_=1)

    decided = tenancies.plan(state, Found([UNIT], {"in-0": [person(None, active=False)]}))

    assert not isinstance(decided, Plan)
    assert [(p.kind, p.ref) for p in decided] == [(ProblemKind.RECORD_CLOSED, "in-0")]


def test_a_clerk_names_the_unit_and_the_resident_and_the_notice_goes_on() -> None:
    state = notice(TenancyChange.ENDED, out=1)
    parked = _apply(
        state, tenancies.park(state, UNKNOWN_UNIT, community_ids=[COMMUNITY], grid_id=None)
    )
    assert parked.status is Status.PARKED
    resident = person(OTHER_UNIT)

    matched = _apply(
        parked, tenancies.match(parked, unit_id=UNIT.id, residents={"out-0": resident.resident_id})
    )
    decided = tenancies.plan(matched, Found([UNIT], {"out-0": [resident]}))

    assert matched.status is Status.PENDING
    assert isinstance(decided, Plan)
    assert [s.action for s in decided.steps] == [StepAction.MOVED_OUT]


def test_only_a_parked_notice_is_matched_and_only_with_its_own_tenants() -> None:
    state = notice(TenancyChange.ENDED, out=1)
    with pytest.raises(NoticeNotParked):
        tenancies.match(state, unit_id=UNIT.id, residents={})
    parked = _apply(
        state, tenancies.park(state, UNKNOWN_UNIT, community_ids=[COMMUNITY], grid_id=None)
    )
    with pytest.raises(UnknownTenant):
        tenancies.match(parked, unit_id=None, residents={"in-7": uuid4()})


def test_parking_again_for_the_same_problems_in_the_same_place_records_nothing() -> None:
    state = notice(TenancyChange.ENDED, out=1)
    problems = tenancies.plan(state, Found([], {"out-0": []}))
    assert not isinstance(problems, Plan)
    parked = _apply(state, tenancies.park(state, problems, community_ids=[COMMUNITY], grid_id=None))

    assert tenancies.park(parked, problems, community_ids=[COMMUNITY], grid_id=None) == []


def test_steps_taken_are_not_taken_again() -> None:
    state = notice(TenancyChange.STARTED, in_=2)
    decided = tenancies.plan(state, Found([UNIT], {"in-0": [], "in-1": []}))
    assert isinstance(decided, Plan)
    taken = _apply(state, tenancies.step_taken(state, decided.steps[0], uuid4()))

    again = tenancies.plan(taken, Found([UNIT], {"in-0": [], "in-1": []}))

    assert isinstance(again, Plan)
    assert [s.ref for s in again.steps] == ["in-1"]


def _apply(state: Notice, events: list[Event]) -> Notice:
    after: Notice | None = state
    for event in events:
        after = tenancies.evolve(after, event)
    assert after is not None
    return after
