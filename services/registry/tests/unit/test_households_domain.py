from datetime import date
from uuid import UUID, uuid4

import pytest

from anju_contracts import Event
from anju_contracts.registry import (
    AreaKind,
    AreaPath,
    HouseholdFormed,
    HouseholdHeadChanged,
    HouseholdMemberAdded,
    HouseholdMemberRemoved,
    Relation,
    Sex,
)
from anju_registry.domain import areas, households
from anju_registry.domain.errors import (
    AlreadyHead,
    AlreadyMember,
    HeadMustBeMember,
    HeadMustChangeFirst,
    HeadRelationReserved,
    NotMember,
    ResidentNotAtUnit,
)
from anju_registry.domain.residents import Resident
from eventkit.errors import Kind

UNIT_ID = uuid4()
PATH = AreaPath(community_id=uuid4(), grid_id=uuid4(), building_id=uuid4(), unit_id=UNIT_ID)
UNIT = areas.Area(UNIT_ID, AreaKind.UNIT, "101", PATH.building_id, PATH)
HH = uuid4()


def resident(path: AreaPath = PATH) -> Resident:
    return Resident(uuid4(), "Li", Sex.MALE, date(1980, 1, 1), "x" * 18, None, path)


def given(*events: Event) -> households.Household:
    state = households.fold(events)
    assert state is not None
    return state


def formed(head: UUID) -> HouseholdFormed:
    return HouseholdFormed(household_id=HH, head_resident_id=head, path=PATH)


def test_form_with_a_head_living_at_the_unit() -> None:
    head = resident()
    assert households.form(HH, unit=UNIT, head=head) == [formed(head.id)]


def test_the_head_must_live_at_the_unit() -> None:
    elsewhere = resident(PATH.model_copy(update={"unit_id": uuid4()}))
    with pytest.raises(ResidentNotAtUnit):
        households.form(HH, unit=UNIT, head=elsewhere)


def test_add_a_member_once() -> None:
    head, child = resident(), resident()
    household = given(formed(head.id))
    events = households.add_member(household, resident=child, relation=Relation.CHILD)
    assert events == [
        HouseholdMemberAdded(household_id=HH, resident_id=child.id, relation=Relation.CHILD)
    ]
    with pytest.raises(AlreadyMember) as caught:
        households.add_member(
            given(formed(head.id), *events), resident=child, relation=Relation.CHILD
        )
    assert caught.value.kind is Kind.CONFLICT
    with pytest.raises(HeadRelationReserved):
        households.add_member(household, resident=resident(), relation=Relation.HEAD)


def test_the_head_leaves_only_after_the_head_changed() -> None:
    head, spouse = uuid4(), uuid4()
    added = HouseholdMemberAdded(household_id=HH, resident_id=spouse, relation=Relation.SPOUSE)
    household = given(formed(head), added)
    with pytest.raises(HeadMustChangeFirst):
        households.remove_member(household, resident_id=head, reason=None)
    changed = households.change_head(household, resident_id=spouse)
    assert changed == [
        HouseholdHeadChanged(household_id=HH, previous_head_id=head, new_head_id=spouse)
    ]
    after = given(formed(head), added, *changed)
    assert households.remove_member(after, resident_id=head, reason="moved") == [
        HouseholdMemberRemoved(household_id=HH, resident_id=head, reason="moved")
    ]


def test_the_head_must_be_a_member() -> None:
    head = uuid4()
    household = given(formed(head))
    with pytest.raises(HeadMustBeMember):
        households.change_head(household, resident_id=uuid4())
    with pytest.raises(AlreadyHead):
        households.change_head(household, resident_id=head)
    with pytest.raises(NotMember):
        households.remove_member(household, resident_id=uuid4(), reason=None)
