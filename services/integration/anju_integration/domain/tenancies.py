"""Tenancy notices of the housing security centre: what one asks of the registry, and whether
that can be done without guessing.

:func:`plan` takes what the service found for a notice (the units its reference names, the
residents holding each tenant's identity number, or what a desk clerk matched) and returns the
registry steps left, or the problems that park the notice. Nothing is guessed: a unit is taken
only when exactly one matches, a person only when exactly one record holds their number, and a
move-out only for a resident the registry has at that unit (or whom a clerk named).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from uuid import UUID, uuid5

from anju_contracts import Event
from anju_contracts.housing import UnitReference
from anju_contracts.tenancies import (
    NoticeTenant,
    Problem,
    ProblemKind,
    StepAction,
    TenancyChange,
    TenancyNoticeApplied,
    TenancyNoticeDismissed,
    TenancyNoticeMatched,
    TenancyNoticeParked,
    TenancyNoticeReceived,
    TenancyStepTaken,
)
from anju_integration.domain.errors import NoticeNotParked, UnknownTenant

_NOTICES = UUID("6f1d3c1e-8a43-4b1e-9a53-7d3c2b0e4a10")


def notice_id_of(message_id: str) -> UUID:
    """The notice of a message id: the same every time the message comes."""
    return uuid5(_NOTICES, message_id)


class Status(StrEnum):
    PENDING = "pending"
    PARKED = "parked"
    APPLIED = "applied"
    DISMISSED = "dismissed"


@dataclass(frozen=True)
class Notice:
    id: UUID
    message_id: str
    change: TenancyChange
    tenancy_id: str
    unit: UnitReference
    moving_out: tuple[NoticeTenant, ...]
    moving_in: tuple[NoticeTenant, ...]
    effective_on: date
    status: Status = Status.PENDING
    problems: tuple[Problem, ...] = ()
    community_ids: tuple[UUID, ...] = ()
    grid_id: UUID | None = None
    matched_unit: UUID | None = None
    matched: Mapping[str, UUID] = field(default_factory=dict)
    """Tenant ref → the resident a desk clerk named."""
    done: Mapping[str, UUID] = field(default_factory=dict)
    """Tenant ref → the resident the registry moved in or out for them."""
    unit_id: UUID | None = None
    """The unit the notice was applied to."""

    @property
    def settled(self) -> bool:
        return self.status in (Status.APPLIED, Status.DISMISSED)

    @property
    def tenants(self) -> tuple[NoticeTenant, ...]:
        return (*self.moving_out, *self.moving_in)


def evolve(state: Notice | None, event: Event) -> Notice | None:
    if isinstance(event, TenancyNoticeReceived):
        return Notice(
            event.notice_id,
            event.message_id,
            event.change,
            event.tenancy_id,
            event.unit,
            tuple(event.moving_out),
            tuple(event.moving_in),
            event.effective_on,
        )
    if state is None:
        return None
    if isinstance(event, TenancyNoticeParked):
        return replace(
            state,
            status=Status.PARKED,
            problems=tuple(event.problems),
            community_ids=tuple(event.community_ids),
            grid_id=event.grid_id,
        )
    if isinstance(event, TenancyNoticeMatched):
        return replace(
            state,
            status=Status.PENDING,
            problems=(),
            matched_unit=event.unit_id or state.matched_unit,
            matched={**state.matched, **event.residents},
        )
    if isinstance(event, TenancyStepTaken):
        return replace(state, done={**state.done, event.ref: event.resident_id})
    if isinstance(event, TenancyNoticeApplied):
        return replace(state, status=Status.APPLIED, problems=(), unit_id=event.unit_id)
    if isinstance(event, TenancyNoticeDismissed):
        return replace(state, status=Status.DISMISSED, problems=())
    return state


def fold(events: Iterable[Event]) -> Notice | None:
    state: Notice | None = None
    for event in events:
        state = evolve(state, event)
    return state


# -- what the service found for a notice ---------------------------------------------------------


@dataclass(frozen=True)
class Unit:
    """A unit of the registry's tree."""

    id: UUID
    community_id: UUID
    grid_id: UUID | None


@dataclass(frozen=True)
class Person:
    """A resident of the registry, as the service last learnt of them."""

    resident_id: UUID
    active: bool
    unit_id: UUID | None
    community_id: UUID


@dataclass(frozen=True)
class Found:
    """The units that match the notice's reference (or the one a clerk named) and, by tenant
    ref, the residents holding their identity number (or the one a clerk named)."""

    units: Sequence[Unit]
    people: Mapping[str, Sequence[Person]]


@dataclass(frozen=True)
class Step:
    """One command for the registry: register tenant ``ref`` at ``unit``, or move ``person``
    in, or move them out on ``on``."""

    ref: str
    action: StepAction
    unit: Unit
    person: Person | None = None
    on: date | None = None


@dataclass(frozen=True)
class Plan:
    unit: Unit
    steps: tuple[Step, ...]


def plan(notice: Notice, found: Found) -> Plan | list[Problem]:
    """The steps left to take, in order (everyone out, then everyone in), or why the notice
    must wait for a clerk."""
    unit = found.units[0] if len(found.units) == 1 else None
    problems = _people_problems(notice, found, unit)
    if unit is None:
        kind = ProblemKind.UNKNOWN_UNIT if not found.units else ProblemKind.AMBIGUOUS_UNIT
        return [Problem(kind=kind), *problems]
    if problems:
        return problems
    steps: list[Step] = []
    for tenant in notice.moving_out:
        if tenant.ref in notice.done:
            continue
        (person,) = found.people[tenant.ref]
        if person.active:  # else the registry has them moved out (or dead) already
            steps.append(Step(tenant.ref, StepAction.MOVED_OUT, unit, person, notice.effective_on))
    for tenant in notice.moving_in:
        if tenant.ref in notice.done:
            continue
        people = found.people.get(tenant.ref, ())
        if not people:
            steps.append(Step(tenant.ref, StepAction.REGISTERED, unit))
        elif people[0].unit_id != unit.id:
            steps.append(Step(tenant.ref, StepAction.MOVED_IN, unit, people[0]))
    return Plan(unit, tuple(steps))


def _people_problems(notice: Notice, found: Found, unit: Unit | None) -> list[Problem]:
    problems: list[Problem] = []
    for tenant in notice.moving_out:
        if tenant.ref in notice.done:
            continue
        people = found.people.get(tenant.ref, ())
        if not people:
            problems.append(Problem(kind=ProblemKind.UNKNOWN_PERSON, ref=tenant.ref))
        elif len(people) > 1:
            problems.append(Problem(kind=ProblemKind.AMBIGUOUS_PERSON, ref=tenant.ref))
        elif (
            unit is not None
            and people[0].active
            and people[0].unit_id != unit.id
            and tenant.ref not in notice.matched
        ):
            # Registered elsewhere in the estate: moving them out would be a guess.
            problems.append(Problem(kind=ProblemKind.NOT_AT_UNIT, ref=tenant.ref))
    for tenant in notice.moving_in:
        if tenant.ref in notice.done:
            continue
        people = found.people.get(tenant.ref, ())
        if len(people) > 1:
            problems.append(Problem(kind=ProblemKind.AMBIGUOUS_PERSON, ref=tenant.ref))
        elif people and not people[0].active:
            problems.append(Problem(kind=ProblemKind.RECORD_CLOSED, ref=tenant.ref))
    return problems


# -- deciding ---------------------------------------------------------------------------------


def receive(
    notice_id: UUID,
    *,
    message_id: str,
    change: TenancyChange,
    tenancy_id: str,
    unit: UnitReference,
    moving_out: Sequence[NoticeTenant],
    moving_in: Sequence[NoticeTenant],
    effective_on: date,
) -> list[Event]:
    return [
        TenancyNoticeReceived(
            notice_id=notice_id,
            message_id=message_id,
            change=change,
            tenancy_id=tenancy_id,
            unit=unit,
            moving_out=list(moving_out),
            moving_in=list(moving_in),
            effective_on=effective_on,
        )
    ]


def park(
    notice: Notice,
    problems: Sequence[Problem],
    *,
    community_ids: Sequence[UUID],
    grid_id: UUID | None,
) -> list[Event]:
    """Park the notice; nothing when it waits already, for these problems, in that place."""
    if (
        notice.status is Status.PARKED
        and notice.problems == tuple(problems)
        and notice.community_ids == tuple(community_ids)
        and notice.grid_id == grid_id
    ):
        return []
    return [
        TenancyNoticeParked(
            notice_id=notice.id,
            problems=list(problems),
            community_ids=list(community_ids),
            grid_id=grid_id,
        )
    ]


def ensure_parked(notice: Notice) -> None:
    if notice.status is not Status.PARKED:
        raise NoticeNotParked(
            f"the notice is {notice.status}: only a parked notice waits for a clerk",
            notice_id=str(notice.id),
            status=notice.status,
        )


def match(notice: Notice, *, unit_id: UUID | None, residents: Mapping[str, UUID]) -> list[Event]:
    """A clerk names the unit and/or the residents the notice means."""
    ensure_parked(notice)
    strangers = sorted(set(residents) - {t.ref for t in notice.tenants})
    if strangers:
        raise UnknownTenant("the notice has no such tenant", refs=strangers)
    return [TenancyNoticeMatched(notice_id=notice.id, unit_id=unit_id, residents=dict(residents))]


def dismiss(notice: Notice, *, reason: str) -> list[Event]:
    ensure_parked(notice)
    return [TenancyNoticeDismissed(notice_id=notice.id, reason=reason)]


def step_taken(notice: Notice, step: Step, resident_id: UUID) -> list[Event]:
    return [
        TenancyStepTaken(
            notice_id=notice.id, ref=step.ref, action=step.action, resident_id=resident_id
        )
    ]


def applied(notice: Notice, unit: Unit) -> list[Event]:
    return [TenancyNoticeApplied(notice_id=notice.id, unit_id=unit.id)]
