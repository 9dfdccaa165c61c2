"""Given events, when a command, then events — or a specific domain error."""

from collections.abc import Callable
from datetime import date
from uuid import UUID, uuid4

import pytest

from anju_contracts import Event
from anju_contracts.registry import (
    AreaKind,
    AreaPath,
    ResidentDetailsCorrected,
    ResidentDied,
    ResidentMoved,
    ResidentMovedOut,
    ResidentRegistered,
    Sex,
)
from anju_registry.domain import areas, id_numbers, residents
from anju_registry.domain.errors import (
    InvalidIdNumber,
    NothingToChange,
    ResidentInactive,
    SameUnit,
    UnitRequired,
    WrongParentKind,
)
from eventkit.commands import area_of
from eventkit.errors import Rejected

COMMUNITY, GRID, BUILDING = uuid4(), uuid4(), uuid4()
DOB = date(1949, 12, 31)
ID_NUMBER = "11010519491231002X"


def id_for(dob: date, seq: str = "001") -> str:
    first17 = f"110105{dob:%Y%m%d}{seq}"
    return first17 + id_numbers.check_char(first17)


def unit(unit_id: UUID | None = None) -> areas.Area:
    unit_id = unit_id or uuid4()
    path = AreaPath(community_id=COMMUNITY, grid_id=GRID, building_id=BUILDING, unit_id=unit_id)
    return areas.Area(unit_id, AreaKind.UNIT, "101", BUILDING, path)


def registered(resident_id: UUID, at: areas.Area) -> ResidentRegistered:
    return ResidentRegistered(
        resident_id=resident_id,
        name="Wang Fang",
        sex=Sex.FEMALE,
        date_of_birth=DOB,
        id_number=ID_NUMBER,
        path=at.path,
    )


def given(*events: Event) -> residents.Resident:
    state = residents.fold(events)
    assert state is not None
    return state


# -- areas ---------------------------------------------------------------------------------------


def test_the_area_tree_builds_its_path_level_by_level() -> None:
    community = areas.fold(
        areas.create_area(COMMUNITY, kind=AreaKind.COMMUNITY, name="C", parent=None)
    )
    assert community is not None
    grid = areas.fold(areas.create_area(GRID, kind=AreaKind.GRID, name="G1", parent=community))
    assert grid is not None
    assert grid.path == AreaPath(community_id=COMMUNITY, grid_id=GRID)
    assert area_of(grid.path) == str(GRID)
    assert area_of(community.path) == str(COMMUNITY)


@pytest.mark.parametrize(
    ("kind", "parent_kind"),
    [
        (AreaKind.UNIT, AreaKind.GRID),
        (AreaKind.BUILDING, AreaKind.COMMUNITY),
        (AreaKind.GRID, None),
        (AreaKind.COMMUNITY, AreaKind.COMMUNITY),
    ],
)
def test_an_area_needs_a_parent_of_the_level_above(
    kind: AreaKind, parent_kind: AreaKind | None
) -> None:
    parent = (
        None
        if parent_kind is None
        else areas.Area(uuid4(), parent_kind, "p", None, AreaPath(community_id=COMMUNITY))
    )
    with pytest.raises(WrongParentKind):
        areas.create_area(uuid4(), kind=kind, name="x", parent=parent)


# -- residents -----------------------------------------------------------------------------------


TODAY = date(2026, 6, 1)


def test_register_into_a_unit() -> None:
    home, resident_id = unit(), uuid4()
    events = residents.register(
        resident_id,
        name="Wang Fang",
        sex=Sex.FEMALE,
        date_of_birth=DOB,
        id_number=ID_NUMBER,
        phone=None,
        unit=home,
        today=TODAY,
    )
    assert events == [registered(resident_id, home)]


def test_cannot_register_into_a_building() -> None:
    building = areas.Area(
        BUILDING,
        AreaKind.BUILDING,
        "B1",
        GRID,
        AreaPath(community_id=COMMUNITY, grid_id=GRID, building_id=BUILDING),
    )
    with pytest.raises(UnitRequired) as caught:
        residents.register(
            uuid4(),
            name="x",
            sex=Sex.MALE,
            date_of_birth=DOB,
            id_number=ID_NUMBER,
            phone=None,
            unit=building,
            today=TODAY,
        )
    assert caught.value.code == "unit_required"


def test_correction_carries_only_the_changed_fields() -> None:
    resident_id = uuid4()
    resident = given(registered(resident_id, unit()))
    events = residents.correct(
        resident, reason="typo", name="Wang Fang", phone="13800000000", today=TODAY
    )
    assert events == [
        ResidentDetailsCorrected(resident_id=resident_id, phone="13800000000", reason="typo")
    ]


def test_correction_that_changes_nothing_is_rejected() -> None:
    resident = given(registered(uuid4(), unit()))
    with pytest.raises(NothingToChange):
        residents.correct(resident, reason="typo", name="Wang Fang", today=TODAY)


def test_correcting_the_date_of_birth_must_agree_with_the_id_number() -> None:
    resident = given(registered(uuid4(), unit()))
    with pytest.raises(InvalidIdNumber):
        residents.correct(resident, reason="typo", date_of_birth=date(1950, 1, 1), today=TODAY)
    new_dob = date(1950, 1, 1)
    events = residents.correct(
        resident, reason="typo", date_of_birth=new_dob, id_number=id_for(new_dob), today=TODAY
    )
    corrected = given(registered(resident.id, unit()), *events)
    assert corrected.date_of_birth == new_dob


def test_move_to_another_unit() -> None:
    home, other = unit(), unit()
    resident = given(registered(uuid4(), home))
    assert residents.move(resident, unit=other) == [
        ResidentMoved(resident_id=resident.id, from_path=home.path, to_path=other.path)
    ]
    with pytest.raises(SameUnit):
        residents.move(resident, unit=home)


@pytest.mark.parametrize(
    "closing",
    [
        lambda rid: ResidentMovedOut(resident_id=rid, moved_out_on=date(2024, 1, 1)),
        lambda rid: ResidentDied(resident_id=rid, died_on=date(2024, 1, 1)),
    ],
    ids=["moved_out", "died"],
)
def test_a_closed_record_accepts_no_more_changes(closing: Callable[[UUID], Event]) -> None:
    resident_id = uuid4()
    resident = given(registered(resident_id, unit()), closing(resident_id))
    today = date(2024, 6, 1)
    with pytest.raises(ResidentInactive):
        residents.correct(resident, reason="x", name="Li", today=TODAY)
    with pytest.raises(ResidentInactive):
        residents.move(resident, unit=unit())
    with pytest.raises(ResidentInactive):
        residents.move_out(resident, moved_out_on=today, reason=None, today=today)
    with pytest.raises(ResidentInactive):
        residents.die(resident, died_on=today, today=today)


@pytest.mark.parametrize(
    ("born", "code"),
    [
        (date(2999, 1, 1), "date_in_future"),
        (date(9999, 12, 31), "date_in_future"),
        (date(1800, 1, 1), "date_too_early"),
    ],
)
def test_an_impossible_birth_date_is_refused(born: date, code: str) -> None:
    with pytest.raises(Rejected) as refused:
        residents.register(
            uuid4(),
            name="x",
            sex=Sex.MALE,
            date_of_birth=born,
            id_number=ID_NUMBER,
            phone=None,
            unit=unit(),
            today=TODAY,
        )
    assert refused.value.code == code
    assert refused.value.details["field"] == "date_of_birth"


def test_a_death_or_move_out_before_birth_is_refused() -> None:
    resident = residents.fold([registered(uuid4(), unit())])
    assert resident is not None
    long_ago = date(1800, 1, 1)
    with pytest.raises(Rejected) as refused:
        residents.die(resident, died_on=long_ago, today=TODAY)
    assert refused.value.code == "date_before_birth"
    with pytest.raises(Rejected) as refused:
        residents.move_out(resident, moved_out_on=long_ago, reason=None, today=TODAY)
    assert refused.value.code == "date_before_birth"
