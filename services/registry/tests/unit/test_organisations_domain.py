"""Partner organisations: given events, when a decision, then events — or a domain error."""

from __future__ import annotations

from uuid import uuid4

from anju_contracts.registry import (
    Liaison,
    OrganisationChanged,
    OrganisationKind,
    OrganisationRegistered,
    OrganisationRetired,
)
from anju_registry.domain import organisations
from anju_registry.domain.errors import NothingToChange, OrganisationRetiredAlready
from eventkit.access import Guarded
from eventkit.commands import area_of
from eventkit.testing.deciders import given, then, then_raises

ORG, C1, C2, C3 = uuid4(), uuid4(), uuid4(), uuid4()
LI = Liaison(name="李明", role="党委办公室主任", phone="13800000000")
REGISTERED = OrganisationRegistered(
    organisation_id=ORG,
    kind=OrganisationKind.PAIRED_UNIT,
    name="市税务局",
    community_ids=[C1, C2],
    liaisons=[LI],
)


def test_register_names_each_community_once_in_the_order_given() -> None:
    then(
        organisations.register(
            ORG,
            kind=OrganisationKind.PAIRED_UNIT,
            name="市税务局",
            community_ids=[C1, C2, C1],
            liaisons=[LI],
        ),
        REGISTERED,
    )


def test_the_first_community_places_it_and_any_of_them_sees_it() -> None:
    state = given(organisations.evolve, None, REGISTERED)
    assert state is not None
    guard = Guarded.serving(state.community_ids)
    assert area_of(guard) == str(C1)
    assert guard.communities == {C2}


def test_a_change_carries_only_what_differs() -> None:
    state = given(organisations.evolve, None, REGISTERED)
    assert state is not None
    then(
        organisations.change(state, name="市税务局", community_ids=[C2, C3], liaisons=[LI]),
        OrganisationChanged(organisation_id=ORG, community_ids=[C2, C3]),
    )
    then(
        organisations.change(state, name="市税务局第一分局", liaisons=[]),
        OrganisationChanged(organisation_id=ORG, name="市税务局第一分局", liaisons=[]),
    )
    then_raises(
        NothingToChange,
        organisations.change,
        state,
        name="市税务局",
        community_ids=[C1, C2, C2],
        liaisons=[LI],
    )
    then_raises(NothingToChange, organisations.change, state)


def test_changes_fold_into_the_state() -> None:
    state = given(
        organisations.evolve,
        None,
        REGISTERED,
        OrganisationChanged(organisation_id=ORG, community_ids=[C3]),
        OrganisationChanged(organisation_id=ORG, name="新名"),
    )
    assert state == organisations.Organisation(
        ORG, OrganisationKind.PAIRED_UNIT, "新名", (C3,), (LI,)
    )


def test_a_retired_organisation_accepts_nothing_more() -> None:
    state = given(organisations.evolve, None, REGISTERED)
    assert state is not None
    retired = then(
        organisations.retire(state, reason="结对期满"),
        OrganisationRetired(organisation_id=ORG, reason="结对期满"),
    )
    after = organisations.fold([REGISTERED, *retired])
    assert after is not None
    assert (after.active, after.retired_reason) == (False, "结对期满")
    then_raises(OrganisationRetiredAlready, organisations.retire, after, reason="again")
    error = then_raises(OrganisationRetiredAlready, organisations.change, after, name="x")
    assert error.code == "organisation_retired"
