"""Petitions by proxy (信访代办): registered, forwarded, accepted, answered, closed — in order.

The department must accept a forwarded petition within one deadline and answer an accepted one
within another; the scheduler records a missed deadline, and the late acceptance or answer says
it was late.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from uuid import UUID

from anju_contracts import Event
from anju_contracts.mediation import (
    PetitionAccepted,
    PetitionAnswered,
    PetitionClosed,
    PetitionDeadlineMissed,
    PetitionForwarded,
    PetitionProxied,
    PetitionStage,
)
from anju_contracts.registry import AreaPath
from anju_mediation.domain import errors
from eventkit.dates import check_past_event


class PetitionStatus(StrEnum):
    REGISTERED = "registered"
    FORWARDED = "forwarded"
    ACCEPTED = "accepted"
    ANSWERED = "answered"
    CLOSED = "closed"


@dataclass(frozen=True)
class Deadlines:
    acceptance_days: int = 15
    answer_days: int = 60


@dataclass(frozen=True)
class Petition:
    id: UUID
    resident_id: UUID
    path: AreaPath
    status: PetitionStatus = PetitionStatus.REGISTERED
    due_by: datetime | None = None
    missed: frozenset[PetitionStage] = frozenset()
    agent_id: str = ""
    subject: str = ""
    department: str = ""
    registered_at: datetime | None = None


def evolve(state: Petition | None, event: Event) -> Petition | None:
    if isinstance(event, PetitionProxied):
        return Petition(
            event.petition_id,
            event.resident_id,
            event.path,
            agent_id=event.agent_id,
            subject=event.subject,
            department=event.department,
            registered_at=event.registered_at,
        )
    if state is None:
        return None
    if isinstance(event, PetitionForwarded):
        return replace(state, status=PetitionStatus.FORWARDED, due_by=event.acceptance_due_by)
    if isinstance(event, PetitionAccepted):
        return replace(state, status=PetitionStatus.ACCEPTED, due_by=event.answer_due_by)
    if isinstance(event, PetitionAnswered):
        return replace(state, status=PetitionStatus.ANSWERED, due_by=None)
    if isinstance(event, PetitionDeadlineMissed):
        return replace(state, missed=state.missed | {event.stage})
    if isinstance(event, PetitionClosed):
        return replace(state, status=PetitionStatus.CLOSED, due_by=None)
    return state


def fold(events: Iterable[Event]) -> Petition | None:
    state: Petition | None = None
    for event in events:
        state = evolve(state, event)
    return state


def register(
    petition_id: UUID,
    *,
    agent_id: str,
    resident_id: UUID,
    path: AreaPath,
    subject: str,
    department: str,
    now: datetime,
) -> list[Event]:
    return [
        PetitionProxied(
            petition_id=petition_id,
            agent_id=agent_id,
            resident_id=resident_id,
            path=path,
            subject=subject,
            department=department,
            registered_at=now,
        )
    ]


def _expect(p: Petition, *statuses: PetitionStatus) -> None:
    if p.status == PetitionStatus.CLOSED:
        raise errors.PetitionClosed("the petition is closed")
    if p.status not in statuses:
        raise errors.PetitionOutOfOrder(
            f"the petition is {p.status}", status=p.status, expected=list(statuses)
        )


def _check_step(p: Petition, at: datetime, now: datetime) -> None:
    check_past_event(at, since=p.registered_at or at, now=now, field="at")


def forward(p: Petition, *, at: datetime, deadlines: Deadlines, now: datetime) -> list[Event]:
    _expect(p, PetitionStatus.REGISTERED)
    _check_step(p, at, now)
    due = at + timedelta(days=deadlines.acceptance_days)
    return [PetitionForwarded(petition_id=p.id, forwarded_at=at, acceptance_due_by=due)]


def accept(p: Petition, *, at: datetime, deadlines: Deadlines, now: datetime) -> list[Event]:
    _expect(p, PetitionStatus.FORWARDED)
    _check_step(p, at, now)
    assert p.due_by is not None
    return [
        PetitionAccepted(
            petition_id=p.id,
            accepted_at=at,
            on_time=at <= p.due_by,
            answer_due_by=at + timedelta(days=deadlines.answer_days),
        )
    ]


def answer(p: Petition, *, at: datetime, answer: str, now: datetime) -> list[Event]:
    _expect(p, PetitionStatus.ACCEPTED)
    _check_step(p, at, now)
    assert p.due_by is not None
    return [
        PetitionAnswered(petition_id=p.id, answered_at=at, answer=answer, on_time=at <= p.due_by)
    ]


def close(p: Petition, *, outcome: str, now: datetime) -> list[Event]:
    _expect(p, *[s for s in PetitionStatus if s != PetitionStatus.CLOSED])
    return [PetitionClosed(petition_id=p.id, outcome=outcome, closed_at=now)]


def miss(p: Petition, *, stage: PetitionStage, due_by: datetime) -> list[Event]:
    """A deadline fired: a fact only while the petition still waits at that stage."""
    waiting = (
        PetitionStatus.FORWARDED if stage == PetitionStage.ACCEPTANCE else PetitionStatus.ACCEPTED
    )
    if p.status != waiting or p.due_by != due_by or stage in p.missed:
        return []
    return [PetitionDeadlineMissed(petition_id=p.id, stage=stage, due_by=due_by)]
