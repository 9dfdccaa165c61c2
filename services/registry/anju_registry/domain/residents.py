"""Residents: registration, corrections, moves, moving out, death and erasure."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from uuid import UUID

from anju_contracts import Event
from anju_contracts.registry import (
    AreaKind,
    AreaPath,
    ErasureBasis,
    PersonErased,
    ResidentDetailsCorrected,
    ResidentDied,
    ResidentMoved,
    ResidentMovedOut,
    ResidentRegistered,
    Sex,
)
from anju_registry.domain import id_numbers
from anju_registry.domain.areas import Area
from anju_registry.domain.errors import (
    AlreadyErased,
    InvalidIdNumber,
    NothingToChange,
    ResidentInactive,
    SameUnit,
    UnitRequired,
)
from eventkit.dates import check_birth, check_life_day


class ResidentStatus(StrEnum):
    ACTIVE = "active"
    MOVED_OUT = "moved_out"
    DEAD = "dead"
    ERASED = "erased"
    """The person's personal data was erased: the record is closed for good."""


@dataclass(frozen=True)
class Resident:
    id: UUID
    name: str
    sex: Sex
    date_of_birth: date | None
    id_number: str | None
    """Both null once the person is erased (docs/personal-data.md)."""
    phone: str | None
    path: AreaPath
    status: ResidentStatus = ResidentStatus.ACTIVE

    @property
    def active(self) -> bool:
        return self.status is ResidentStatus.ACTIVE


def evolve(state: Resident | None, event: Event) -> Resident | None:
    if isinstance(event, ResidentRegistered):
        return Resident(
            event.resident_id,
            event.name,
            event.sex,
            event.date_of_birth,
            event.id_number,
            event.phone,
            event.path,
        )
    if state is None:
        return None
    if isinstance(event, ResidentDetailsCorrected):
        changes = event.model_dump(
            include={"name", "sex", "date_of_birth", "id_number", "phone"}, exclude_none=True
        )
        return replace(state, **changes)
    if isinstance(event, ResidentMoved):
        return replace(state, path=event.to_path)
    if isinstance(event, ResidentMovedOut):
        return replace(state, status=ResidentStatus.MOVED_OUT)
    if isinstance(event, ResidentDied):
        return replace(state, status=ResidentStatus.DEAD)
    if isinstance(event, PersonErased):
        return replace(state, status=ResidentStatus.ERASED)
    return state


def fold(events: Iterable[Event]) -> Resident | None:
    state: Resident | None = None
    for event in events:
        state = evolve(state, event)
    return state


def ensure_active(resident: Resident) -> None:
    if not resident.active:
        raise ResidentInactive(
            f"the resident is {resident.status.replace('_', ' ')}: the record is closed",
            resident_id=str(resident.id),
            status=resident.status,
        )


def _ensure_unit(area: Area) -> None:
    if area.kind is not AreaKind.UNIT:
        raise UnitRequired(
            "residents live in units; this area is a " + area.kind, area_id=str(area.id)
        )


def _ensure_id_number(id_number: str, date_of_birth: date) -> None:
    problem = id_numbers.problem_with(id_number, date_of_birth)
    if problem is not None:
        raise InvalidIdNumber(problem, field="id_number")


def register(
    resident_id: UUID,
    *,
    name: str,
    sex: Sex,
    date_of_birth: date,
    id_number: str,
    phone: str | None,
    unit: Area,
    today: date,
) -> list[Event]:
    _ensure_unit(unit)
    check_birth(date_of_birth, today=today)
    _ensure_id_number(id_number, date_of_birth)
    return [
        ResidentRegistered(
            resident_id=resident_id,
            name=name,
            sex=sex,
            date_of_birth=date_of_birth,
            id_number=id_number,
            phone=phone,
            path=unit.path,
        )
    ]


def correct(
    resident: Resident,
    *,
    reason: str,
    name: str | None = None,
    sex: Sex | None = None,
    date_of_birth: date | None = None,
    id_number: str | None = None,
    phone: str | None = None,
    today: date,
) -> list[Event]:
    ensure_active(resident)
    if date_of_birth is not None:
        check_birth(date_of_birth, today=today)
    given = {
        "name": name,
        "sex": sex,
        "date_of_birth": date_of_birth,
        "id_number": id_number,
        "phone": phone,
    }
    changed = {k: v for k, v in given.items() if v is not None and v != getattr(resident, k)}
    if not changed:
        raise NothingToChange("the corrections change nothing", resident_id=str(resident.id))
    if "id_number" in changed or "date_of_birth" in changed:
        number, born = id_number or resident.id_number, date_of_birth or resident.date_of_birth
        if number is not None and born is not None:  # both unknown only once erased
            _ensure_id_number(number, born)
    return [
        ResidentDetailsCorrected(
            resident_id=resident.id,
            reason=reason,
            name=name if "name" in changed else None,
            sex=sex if "sex" in changed else None,
            date_of_birth=date_of_birth if "date_of_birth" in changed else None,
            id_number=id_number if "id_number" in changed else None,
            phone=phone if "phone" in changed else None,
        )
    ]


def move(resident: Resident, *, unit: Area) -> list[Event]:
    ensure_active(resident)
    _ensure_unit(unit)
    if resident.path == unit.path:
        raise SameUnit("the resident already lives in this unit", unit_id=str(unit.id))
    return [ResidentMoved(resident_id=resident.id, from_path=resident.path, to_path=unit.path)]


def move_out(
    resident: Resident, *, moved_out_on: date, reason: str | None, today: date
) -> list[Event]:
    ensure_active(resident)
    check_life_day(moved_out_on, born=resident.date_of_birth, today=today, field="moved_out_on")
    return [ResidentMovedOut(resident_id=resident.id, moved_out_on=moved_out_on, reason=reason)]


def erase(resident: Resident, *, basis: ErasureBasis) -> list[Event]:
    """Erase the person: allowed whatever their status (a moved-out or dead resident's data is
    what retention erases), once."""
    if resident.status is ResidentStatus.ERASED:
        raise AlreadyErased("the person's data is erased already", resident_id=str(resident.id))
    born = resident.date_of_birth
    birth_year = None if born is None else born.year
    return [PersonErased(resident_id=resident.id, basis=basis, birth_year=birth_year)]


def die(resident: Resident, *, died_on: date, today: date) -> list[Event]:
    ensure_active(resident)
    check_life_day(died_on, born=resident.date_of_birth, today=today, field="died_on")
    return [ResidentDied(resident_id=resident.id, died_on=died_on)]
