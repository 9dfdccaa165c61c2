"""Handlers for households and their members."""

from __future__ import annotations

from uuid import UUID, uuid4

from anju_contracts.registry import SOURCE
from anju_registry.application.commands import AddMember, ChangeHead, FormHousehold, RemoveMember
from anju_registry.application.common import (
    Caller,
    counted,
    expect,
    household_stream,
    load_area,
    load_household,
    load_resident,
)
from anju_registry.domain import households
from eventkit.commands import Accepted, accepted, area_of
from eventkit.store import EventStore


async def form_household(store: EventStore, cmd: FormHousehold, caller: Caller) -> Accepted:
    with counted("form_household"):
        household_id = uuid4()
        async with store.session() as session:
            unit = await load_area(session, cmd.unit_id)
            caller.check_write(unit.path)
            head, _ = await load_resident(session, cmd.head_resident_id)
            events = households.form(household_id, unit=unit, head=head)
            result = await session.append(
                household_stream(household_id),
                0,
                events,
                context=caller.context,
                area=area_of(unit.path),
            )
        return accepted(SOURCE, str(household_id), result)


async def add_member(
    store: EventStore, household_id: UUID, cmd: AddMember, caller: Caller
) -> Accepted:
    with counted("add_household_member"):
        async with store.session() as session:
            household, stream = await load_household(session, household_id)
            caller.check_write(household.path)
            version = expect(stream, cmd.expected_version)
            resident, _ = await load_resident(session, cmd.resident_id)
            events = households.add_member(household, resident=resident, relation=cmd.relation)
            result = await session.append(
                stream.id, version, events, context=caller.context, area=area_of(household.path)
            )
        return accepted(SOURCE, str(household_id), result)


async def remove_member(
    store: EventStore, household_id: UUID, resident_id: UUID, cmd: RemoveMember, caller: Caller
) -> Accepted:
    with counted("remove_household_member"):
        async with store.session() as session:
            household, stream = await load_household(session, household_id)
            caller.check_write(household.path)
            version = expect(stream, cmd.expected_version)
            events = households.remove_member(household, resident_id=resident_id, reason=cmd.reason)
            result = await session.append(
                stream.id, version, events, context=caller.context, area=area_of(household.path)
            )
        return accepted(SOURCE, str(household_id), result)


async def change_head(
    store: EventStore, household_id: UUID, cmd: ChangeHead, caller: Caller
) -> Accepted:
    with counted("change_household_head"):
        async with store.session() as session:
            household, stream = await load_household(session, household_id)
            caller.check_write(household.path)
            version = expect(stream, cmd.expected_version)
            events = households.change_head(household, resident_id=cmd.resident_id)
            result = await session.append(
                stream.id, version, events, context=caller.context, area=area_of(household.path)
            )
        return accepted(SOURCE, str(household_id), result)
