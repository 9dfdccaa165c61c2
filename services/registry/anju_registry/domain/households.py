"""Households: a head and members at a unit."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from uuid import UUID

from anju_contracts import Event
from anju_contracts.registry import (
    AreaPath,
    HouseholdFormed,
    HouseholdHeadChanged,
    HouseholdMemberAdded,
    HouseholdMemberRemoved,
    Relation,
)
from anju_registry.domain.areas import Area
from anju_registry.domain.errors import (
    AlreadyHead,
    AlreadyMember,
    HeadMustBeMember,
    HeadMustChangeFirst,
    HeadRelationReserved,
    NotMember,
    ResidentNotAtUnit,
    UnitRequired,
)
from anju_registry.domain.residents import Resident, ensure_active


@dataclass(frozen=True)
class Household:
    id: UUID
    path: AreaPath
    head_id: UUID
    members: Mapping[UUID, Relation] = field(default_factory=dict)


def evolve(state: Household | None, event: Event) -> Household | None:
    if isinstance(event, HouseholdFormed):
        return Household(
            event.household_id,
            event.path,
            event.head_resident_id,
            {event.head_resident_id: Relation.HEAD},
        )
    if state is None:
        return None
    if isinstance(event, HouseholdMemberAdded):
        return replace(state, members={**state.members, event.resident_id: event.relation})
    if isinstance(event, HouseholdMemberRemoved):
        members = {k: v for k, v in state.members.items() if k != event.resident_id}
        return replace(state, members=members)
    if isinstance(event, HouseholdHeadChanged):
        members = {**state.members, event.previous_head_id: Relation.OTHER}
        members[event.new_head_id] = Relation.HEAD
        return replace(state, head_id=event.new_head_id, members=members)
    return state


def fold(events: Iterable[Event]) -> Household | None:
    state: Household | None = None
    for event in events:
        state = evolve(state, event)
    return state


def form(household_id: UUID, *, unit: Area, head: Resident) -> list[Event]:
    if unit.path.unit_id is None:
        raise UnitRequired("a household is formed at a unit", area_id=str(unit.id))
    ensure_active(head)
    if head.path.unit_id != unit.id:
        raise ResidentNotAtUnit(
            "the head must live in the household's unit",
            resident_id=str(head.id),
            unit_id=str(unit.id),
        )
    return [HouseholdFormed(household_id=household_id, head_resident_id=head.id, path=unit.path)]


def add_member(household: Household, *, resident: Resident, relation: Relation) -> list[Event]:
    ensure_active(resident)
    if relation is Relation.HEAD:
        raise HeadRelationReserved("change the head instead of adding a second one")
    if resident.id in household.members:
        raise AlreadyMember(
            "the resident is already a member of this household", resident_id=str(resident.id)
        )
    return [
        HouseholdMemberAdded(household_id=household.id, resident_id=resident.id, relation=relation)
    ]


def remove_member(household: Household, *, resident_id: UUID, reason: str | None) -> list[Event]:
    if resident_id not in household.members:
        raise NotMember(
            "the resident is not a member of this household", resident_id=str(resident_id)
        )
    if resident_id == household.head_id:
        raise HeadMustChangeFirst(
            "the head cannot leave: make another member the head first",
            resident_id=str(resident_id),
        )
    return [
        HouseholdMemberRemoved(household_id=household.id, resident_id=resident_id, reason=reason)
    ]


def change_head(household: Household, *, resident_id: UUID) -> list[Event]:
    if resident_id == household.head_id:
        raise AlreadyHead("the resident is already the head", resident_id=str(resident_id))
    if resident_id not in household.members:
        raise HeadMustBeMember(
            "the head must be a member of the household", resident_id=str(resident_id)
        )
    return [
        HouseholdHeadChanged(
            household_id=household.id, previous_head_id=household.head_id, new_head_id=resident_id
        )
    ]
