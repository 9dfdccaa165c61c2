"""Who sees what: scopes per role, masking of ID numbers."""

from __future__ import annotations

import uuid
from datetime import date

from anju_query.application.residents import age_on, like_escape
from anju_query.application.scope import Params, Scope, mask_id_number
from eventkit.auth import Principal, Role

COMMUNITY = uuid.uuid4()
GRID = uuid.uuid4()
OTHER_GRID = uuid.uuid4()


def _principal(*roles: Role, areas: tuple[uuid.UUID, ...] = ()) -> Principal:
    return Principal(sub="s", roles=roles, areas=tuple(str(a) for a in areas))


def test_admin_sees_everything_in_full() -> None:
    scope = Scope.of(_principal(Role.ADMIN))
    assert scope.everything
    assert scope.full_id_numbers
    assert scope.where(Params(), "c", "g") == "true"


def test_director_without_areas_sees_nothing() -> None:
    scope = Scope.of(_principal(Role.DIRECTOR))
    assert not scope.everything
    assert not scope.allows(uuid.uuid4(), uuid.uuid4())


def test_director_with_areas_sees_their_communities() -> None:
    scope = Scope.of(_principal(Role.DIRECTOR, areas=(COMMUNITY,)))
    assert not scope.everything
    assert scope.allows(COMMUNITY, OTHER_GRID)
    assert not scope.allows(uuid.uuid4(), GRID)
    assert scope.full_id_numbers


def test_grid_worker_sees_their_grids_masked() -> None:
    scope = Scope.of(_principal(Role.GRID_WORKER, areas=(GRID,)))
    assert scope.allows(COMMUNITY, GRID)
    assert not scope.allows(COMMUNITY, OTHER_GRID)
    # a community id in a grid worker's areas does not open the community
    assert not Scope.of(_principal(Role.GRID_WORKER, areas=(COMMUNITY,))).allows(COMMUNITY, GRID)
    assert scope.id_number("11010119500301123X") == "1101**********123X"


def test_grid_worker_without_areas_sees_nothing() -> None:
    scope = Scope.of(_principal(Role.GRID_WORKER))
    assert not scope.allows(COMMUNITY, GRID)
    params = Params()
    assert "ANY" in scope.where(params, "c", "g")
    assert params.values == [[], []]


def test_area_ids_that_are_not_uuids_are_ignored() -> None:
    scope = Scope.of(Principal(sub="s", roles=(Role.GRID_WORKER,), areas=("not-a-uuid",)))
    assert scope.grids == frozenset()


def test_other_roles_see_the_areas_they_name() -> None:
    scope = Scope.of(_principal(Role.DESK_STAFF, areas=(COMMUNITY,)))
    assert scope.allows(COMMUNITY, OTHER_GRID)
    assert not scope.full_id_numbers


def test_mask_keeps_four_and_four() -> None:
    assert mask_id_number("110101195003011234") == "1101**********1234"
    assert mask_id_number("1234") == "****"


def test_age_counts_birthdays() -> None:
    assert age_on(date(1950, 3, 1), date(2025, 2, 28)) == 74
    assert age_on(date(1950, 3, 1), date(2025, 3, 1)) == 75


def test_like_escape() -> None:
    assert like_escape("50%_\\") == "50\\%\\_\\\\"
