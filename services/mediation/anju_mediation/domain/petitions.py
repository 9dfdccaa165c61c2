"""Petitions by proxy (信访代办): registered, forwarded, accepted, answered, closed — in order.

The department must accept a forwarded petition within one deadline and answer an accepted one
within another; the scheduler records a missed deadline, and the late acceptance or answer says
it was late.

"On time" is judged from business times: a petition brought in from a paper ledger may have its
deadline marked missed by the scheduler before the ledger's acceptance, answer or closing
arrives. That fact, dated by its due time, settles the stage on time, and the stage no longer
counts as missed (:attr:`Petition.missed`).
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
    """The stages whose deadline passed before the fact that settled them (or that still wait
    past it, as the scheduler marked them)."""
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
        missed = _settled(state.missed, PetitionStage.ACCEPTANCE, on_time=event.on_time)
        return replace(
            state, status=PetitionStatus.ACCEPTED, due_by=event.answer_due_by, missed=missed
        )
    if isinstance(event, PetitionAnswered):
        missed = _settled(state.missed, PetitionStage.ANSWER, on_time=event.on_time)
        return replace(state, status=PetitionStatus.ANSWERED, due_by=None, missed=missed)
    if isinstance(event, PetitionDeadlineMissed):
        return replace(state, missed=state.missed | {event.stage})
    if isinstance(event, PetitionClosed):
        missed = state.missed
        stage = waiting_stage(state.status)
        if stage is not None and state.due_by is not None:
            missed = _settled(missed, stage, on_time=event.closed_at <= state.due_by)
        return replace(state, status=PetitionStatus.CLOSED, due_by=None, missed=missed)
    return state


def waiting_stage(status: PetitionStatus) -> PetitionStage | None:
    """The stage a petition in ``status`` waits on the department for, if any."""
    if status == PetitionStatus.FORWARDED:
        return PetitionStage.ACCEPTANCE
    if status == PetitionStatus.ACCEPTED:
        return PetitionStage.ANSWER
    return None


def _settled(
    missed: frozenset[PetitionStage], stage: PetitionStage, *, on_time: bool
) -> frozenset[PetitionStage]:
    """The missed stages once ``stage`` is settled: missed unless settled on time."""
    return missed - {stage} if on_time else missed | {stage}


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
    if waiting_stage(p.status) != stage or p.due_by != due_by or stage in p.missed:
        return []
    return [PetitionDeadlineMissed(petition_id=p.id, stage=stage, due_by=due_by)]
