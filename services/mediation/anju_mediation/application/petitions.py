"""Handlers for petitions by proxy, and the petition deadline."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from uuid import UUID, uuid4

from pydantic import BaseModel

from anju_contracts import Event
from anju_contracts.mediation import SOURCE, PetitionStage
from anju_contracts.registry import AreaPath
from anju_mediation.application import known
from anju_mediation.application.commands import (
    AnswerPetition,
    ClosePetition,
    PetitionStep,
    ProxyPetition,
    StreamCommand,
    when,
)
from anju_mediation.application.common import (
    SERVICE_ACTOR,
    Caller,
    append_petition,
    counted,
    expect,
    load_petition,
)
from anju_mediation.domain import petitions
from anju_mediation.domain.errors import PetitionNotFound, UnknownResident
from anju_mediation.domain.petitions import Deadlines, Petition, PetitionStatus
from eventkit.commands import Accepted, accepted
from eventkit.scheduler import Deadline
from eventkit.store import Context, EventStore, Session

Decide = Callable[[Petition], list[Event]]


async def proxy_petition(
    store: EventStore, cmd: ProxyPetition, caller: Caller, *, now: datetime
) -> Accepted:
    with counted("proxy_petition"):
        petition_id = uuid4()
        async with store.session() as session:
            path = await known.resident_path(session.conn, cmd.resident_id)
            if path is None:
                raise UnknownResident("no such resident", resident_id=str(cmd.resident_id))
            caller.check_write(path)
            events = petitions.register(
                petition_id,
                agent_id=caller.principal.sub,
                resident_id=cmd.resident_id,
                path=path,
                subject=cmd.subject,
                department=cmd.department,
                now=now,
            )
            result = await append_petition(
                session, petition_id, 0, events, context=caller.context, path=path
            )
        return accepted(SOURCE, str(petition_id), result)


async def act(
    store: EventStore,
    petition_id: UUID,
    cmd: StreamCommand,
    caller: Caller,
    command: str,
    decide: Decide,
) -> Accepted:
    with counted(command):
        async with store.session() as session:
            petition, stream = await load_petition(session, petition_id)
            caller.check_write(petition.path)
            version = expect(stream, cmd.expected_version)
            result = await append_petition(
                session,
                petition_id,
                version,
                decide(petition),
                context=caller.context,
                path=petition.path,
            )
        return accepted(SOURCE, str(petition_id), result)


def forward(cmd: PetitionStep, *, now: datetime, deadlines: Deadlines) -> Decide:
    return lambda p: petitions.forward(p, at=when(cmd.at, now), deadlines=deadlines)


def accept(cmd: PetitionStep, *, now: datetime, deadlines: Deadlines) -> Decide:
    return lambda p: petitions.accept(p, at=when(cmd.at, now), deadlines=deadlines)


def answer(cmd: AnswerPetition, *, now: datetime) -> Decide:
    return lambda p: petitions.answer(p, at=when(cmd.at, now), answer=cmd.answer)


def close(cmd: ClosePetition, *, now: datetime) -> Decide:
    return lambda p: petitions.close(p, outcome=cmd.outcome, now=now)


async def petition_due(session: Session, deadline: Deadline) -> None:
    """Deadline handler: the department had to accept (or answer) by now."""
    with counted("mark_petition_deadline_missed"):
        petition, stream = await load_petition(session, UUID(deadline.key))
        stage = PetitionStage(str(deadline.payload["stage"]))
        events = petitions.miss(petition, stage=stage, due_by=deadline.due_at)
        if events:
            await append_petition(
                session,
                petition.id,
                stream.version,
                events,
                context=Context(actor=SERVICE_ACTOR),
                path=petition.path,
            )


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
    version: int


async def view_petition(store: EventStore, petition_id: UUID, caller: Caller) -> PetitionView:
    async with store.session() as session:
        petition, stream = await load_petition(session, petition_id)
    if not caller.may_act_on(petition.path):
        # Outside the caller's areas it does not exist for them.
        raise PetitionNotFound("no such petition", petition_id=str(petition_id))
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
