"""Handlers for petitions by proxy, and the petition deadline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel

from anju_contracts import Event
from anju_contracts.mediation import SOURCE, PetitionStage
from anju_contracts.registry import AreaPath
from anju_mediation.application.aggregates import PETITIONS, SERVICE_ACTOR, follow_petition
from anju_mediation.application.commands import (
    AnswerPetition,
    ClosePetition,
    PetitionStep,
    ProxyPetition,
    when,
)
from anju_mediation.domain import petitions
from anju_mediation.domain.petitions import Deadlines, Petition, PetitionStatus
from eventkit.commands import Accepted, Caller, area_of, counted
from eventkit.known import Known, require_known, visible_residents
from eventkit.scheduler import Deadline
from eventkit.store import Context, Store, StoreSession

Decide = Callable[[Petition], list[Event]]


async def proxy_petition(
    store: Store, cmd: ProxyPetition, caller: Caller, *, known: Known, now: datetime
) -> Accepted:
    async with PETITIONS.create(store, caller, "proxy_petition") as w:
        found = await visible_residents(known, w.session, [cmd.resident_id], caller)
        require_known([cmd.resident_id], found)
        w.emit(
            petitions.register(
                w.id,
                agent_id=caller.principal.sub,
                resident_id=cmd.resident_id,
                path=found[cmd.resident_id],
                subject=cmd.subject,
                department=cmd.department,
                now=now,
            )
        )
    return w.accepted


def forward(cmd: PetitionStep, *, now: datetime, deadlines: Deadlines) -> Decide:
    return lambda p: petitions.forward(p, at=when(cmd.at, now), deadlines=deadlines, now=now)


def accept(cmd: PetitionStep, *, now: datetime, deadlines: Deadlines) -> Decide:
    return lambda p: petitions.accept(p, at=when(cmd.at, now), deadlines=deadlines, now=now)


def answer(cmd: AnswerPetition, *, now: datetime) -> Decide:
    return lambda p: petitions.answer(p, at=when(cmd.at, now), answer=cmd.answer, now=now)


def close(cmd: ClosePetition, *, now: datetime) -> Decide:
    return lambda p: petitions.close(p, outcome=cmd.outcome, now=now)


async def petition_due(session: StoreSession, deadline: Deadline) -> None:
    """Deadline handler: the department had to accept (or answer) by now."""
    with counted(SOURCE, "mark_petition_deadline_missed"):
        petition, stream = await PETITIONS.load(session, UUID(deadline.key))
        stage = PetitionStage(str(deadline.payload["stage"]))
        events = petitions.miss(petition, stage=stage, due_by=deadline.due_at)
        if events:
            await session.append(
                stream.id,
                stream.version,
                events,
                context=Context(actor=SERVICE_ACTOR),
                area=area_of(petition.path),
            )
            await follow_petition(session, petition.id, events)


# -- the service's own view of a petition --------------------------------------------------------


class PetitionView(BaseModel):
    """A petition by proxy as mediation knows it now."""

    id: UUID
    resident_id: UUID
    path: AreaPath
    agent_id: str
    subject: str
    department: str
    status: PetitionStatus
    registered_at: datetime | None
    due_by: datetime | None
    missed: list[PetitionStage]
    """The stages whose deadline the department missed, judged from business times: one the
    scheduler marked, then settled by a fact dated by its due time, is not among them."""
    version: int


async def view_petition(store: Store, petition_id: UUID, caller: Caller) -> PetitionView:
    petition, stream = await PETITIONS.read(store, petition_id, caller, "read_petition")
    return PetitionView(
        id=petition.id,
        resident_id=petition.resident_id,
        path=petition.path,
        agent_id=petition.agent_id,
        subject=petition.subject,
        department=petition.department,
        status=petition.status,
        registered_at=petition.registered_at,
        due_by=petition.due_by,
        missed=sorted(petition.missed),
        version=stream.version,
    )
