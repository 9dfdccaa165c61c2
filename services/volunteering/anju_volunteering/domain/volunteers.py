"""A volunteer: who they are (a resident, an organisation's party member), where they serve,
and whether they are active, paused or gone."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date
from enum import StrEnum
from uuid import UUID

from anju_contracts import Event
from anju_contracts.registry import AreaPath
from anju_contracts.volunteering import (
    VolunteerChanged,
    VolunteerJoined,
    VolunteerKind,
    VolunteerLeft,
    VolunteerPaused,
    VolunteerResumed,
)
from anju_volunteering.domain.errors import (
    NothingToChange,
    OrganisationRequired,
    VolunteerAlreadyLeft,
    VolunteerNotActive,
)


class Status(StrEnum):
    ACTIVE = "active"
    PAUSED = "paused"
    LEFT = "left"


@dataclass(frozen=True)
class Volunteer:
    id: UUID
    kind: VolunteerKind
    name: str
    resident_id: UUID | None
    organisation_id: UUID | None
    path: AreaPath
    skills: tuple[str, ...]
    availability: str | None
    joined_on: date
    status: Status = Status.ACTIVE


def evolve(state: Volunteer | None, event: Event) -> Volunteer | None:
    if isinstance(event, VolunteerJoined):
        return Volunteer(
            event.volunteer_id,
            event.kind,
            event.name,
            event.resident_id,
            event.organisation_id,
            event.path,
            tuple(event.skills),
            event.availability,
            event.joined_on,
        )
    if state is None:
        return None
    if isinstance(event, VolunteerChanged):
        return replace(
            state,
            skills=state.skills if event.skills is None else tuple(event.skills),
            availability=event.availability
            if event.availability is not None
            else state.availability,
            path=event.path or state.path,
        )
    if isinstance(event, VolunteerPaused):
        return replace(state, status=Status.PAUSED)
    if isinstance(event, VolunteerResumed):
        return replace(state, status=Status.ACTIVE)
    if isinstance(event, VolunteerLeft):
        return replace(state, status=Status.LEFT)
    return state


def fold(events: Iterable[Event]) -> Volunteer | None:
    state: Volunteer | None = None
    for event in events:
        state = evolve(state, event)
    return state


def join(
    volunteer_id: UUID,
    *,
    kind: VolunteerKind,
    name: str,
    resident_id: UUID | None,
    organisation_id: UUID | None,
    path: AreaPath,
    skills: list[str],
    availability: str | None,
    today: date,
) -> list[Event]:
    if kind == VolunteerKind.IN_SERVICE_PARTY_MEMBER and organisation_id is None:
        raise OrganisationRequired(
            "an in-service party member names the organisation they report back to"
        )
    return [
        VolunteerJoined(
            volunteer_id=volunteer_id,
            kind=kind,
            name=name,
            resident_id=resident_id,
            organisation_id=organisation_id,
            path=path,
            skills=sorted(set(skills)),
            availability=availability,
            joined_on=today,
        )
    ]


def _staying(state: Volunteer) -> Volunteer:
    if state.status == Status.LEFT:
        raise VolunteerAlreadyLeft("the volunteer has left", volunteer_id=str(state.id))
    return state


def require_active(state: Volunteer) -> Volunteer:
    if state.status != Status.ACTIVE:
        raise VolunteerNotActive(
            f"the volunteer is {state.status}", volunteer_id=str(state.id), status=state.status
        )
    return state


def change(
    state: Volunteer,
    *,
    skills: list[str] | None,
    availability: str | None,
    path: AreaPath | None,
) -> list[Event]:
    v = _staying(state)
    new_skills = None if skills is None else sorted(set(skills))
    if new_skills is not None and tuple(new_skills) == v.skills:
        new_skills = None
    if availability == v.availability:
        availability = None
    if path == v.path:
        path = None
    if new_skills is None and availability is None and path is None:
        raise NothingToChange("nothing differs from the volunteer as they are")
    return [
        VolunteerChanged(volunteer_id=v.id, skills=new_skills, availability=availability, path=path)
    ]


def pause(state: Volunteer, *, today: date) -> list[Event]:
    v = require_active(_staying(state))
    return [VolunteerPaused(volunteer_id=v.id, paused_on=today)]


def resume(state: Volunteer, *, today: date) -> list[Event]:
    v = _staying(state)
    if v.status == Status.ACTIVE:
        return []
    return [VolunteerResumed(volunteer_id=v.id, resumed_on=today)]


def leave(state: Volunteer, *, today: date) -> list[Event]:
    v = _staying(state)
    return [VolunteerLeft(volunteer_id=v.id, left_on=today)]
