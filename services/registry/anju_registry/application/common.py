"""What every registry handler shares: the caller and their areas, stream names, loaders."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from uuid import UUID

from anju_contracts import Actor, Event
from anju_contracts.registry import SOURCE, AreaPath, FollowUpStopped, FollowUpVisitPlanned
from anju_registry.domain import areas, care, households, residents
from anju_registry.domain.errors import AreaNotFound, HouseholdNotFound, ResidentNotFound
from eventkit import commands
from eventkit.commands import area_of
from eventkit.store import AppendResult, Context, Session, Stream

FOLLOWUP_DUE = "registry.followup_due"
"""Deadline kind: the planned follow-up visit of the resident named by the key is due."""

SERVICE_ACTOR = Actor(id=SOURCE, roles=("service",))


def area_stream(area_id: UUID) -> str:
    return f"area-{area_id}"


def resident_stream(resident_id: UUID) -> str:
    return f"resident-{resident_id}"


def household_stream(household_id: UUID) -> str:
    return f"household-{household_id}"


def care_stream(resident_id: UUID) -> str:
    return f"care-{resident_id}"


Caller = commands.Caller


def counted(command: str) -> AbstractContextManager[None]:
    """Count the command in ``anju_commands_total`` by outcome (the kernel's counter)."""
    return commands.counted(SOURCE, command)


expect = commands.expect_version


def payloads(stream: Stream) -> list[Event]:
    return stream.payloads


async def load_area(session: Session, area_id: UUID) -> areas.Area:
    area = areas.fold(payloads(await session.load(area_stream(area_id))))
    if area is None:
        raise AreaNotFound("no such area", area_id=str(area_id))
    return area


async def load_resident(session: Session, resident_id: UUID) -> tuple[residents.Resident, Stream]:
    """The resident, locked until the session ends: commands on one resident take turns, so a
    flag cannot slip in beside the record of a death or a move out."""
    await session.lock(resident_stream(resident_id))
    stream = await session.load(resident_stream(resident_id))
    resident = residents.fold(payloads(stream))
    if resident is None:
        raise ResidentNotFound("no such resident", resident_id=str(resident_id))
    return resident, stream


async def load_household(
    session: Session, household_id: UUID
) -> tuple[households.Household, Stream]:
    stream = await session.load(household_stream(household_id))
    household = households.fold(payloads(stream))
    if household is None:
        raise HouseholdNotFound("no such household", household_id=str(household_id))
    return household, stream


async def load_care(session: Session, resident_id: UUID) -> tuple[care.Care, Stream]:
    stream = await session.load(care_stream(resident_id))
    return care.fold(resident_id, payloads(stream)), stream


async def follow_plan(session: Session, resident_id: UUID, events: Sequence[Event]) -> None:
    """Keep the follow-up deadline in step with the plan the events leave behind."""
    for event in reversed(events):
        if isinstance(event, FollowUpVisitPlanned):
            await session.schedule(FOLLOWUP_DUE, str(resident_id), event.due_by)
            return
        if isinstance(event, FollowUpStopped):
            await session.cancel(FOLLOWUP_DUE, str(resident_id))
            return


async def append_care(
    session: Session,
    resident_id: UUID,
    version: int,
    events: Sequence[Event],
    *,
    context: Context,
    path: AreaPath,
) -> AppendResult:
    """Append to the resident's care stream and move (or cancel) the follow-up deadline."""
    result = await session.append(
        care_stream(resident_id), version, events, context=context, area=area_of(path)
    )
    await follow_plan(session, resident_id, events)
    return result
