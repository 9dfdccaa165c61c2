"""Handlers for the area tree."""

from __future__ import annotations

from uuid import uuid4

from anju_contracts.registry import SOURCE, AreaCreated
from anju_registry.application.commands import CreateArea
from anju_registry.application.common import Caller, area_stream, counted, load_area
from anju_registry.domain import areas
from eventkit.commands import Accepted, accepted, area_of
from eventkit.store import EventStore


async def create_area(store: EventStore, cmd: CreateArea, caller: Caller) -> Accepted:
    with counted("create_area"):
        area_id = uuid4()
        async with store.session() as session:
            parent = None if cmd.parent_id is None else await load_area(session, cmd.parent_id)
            events = areas.create_area(area_id, kind=cmd.kind, name=cmd.name, parent=parent)
            created = events[0]
            assert isinstance(created, AreaCreated)
            caller.check_write(created.path)
            result = await session.append(
                area_stream(area_id),
                0,
                events,
                context=caller.context,
                area=area_of(created.path),
            )
        return accepted(SOURCE, str(area_id), result)
