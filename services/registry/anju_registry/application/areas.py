"""Handlers for the area tree."""

from __future__ import annotations

from anju_registry.application.aggregates import AREAS
from anju_registry.application.commands import CreateArea
from anju_registry.domain import areas
from eventkit.auth import Role
from eventkit.commands import Accepted, Caller
from eventkit.errors import Forbidden
from eventkit.store import Store


async def create_area(store: Store, cmd: CreateArea, caller: Caller) -> Accepted:
    async with AREAS.create(store, caller, "create_area") as w:
        if cmd.parent_id is None:
            # A new community is in nobody's token yet: only an administrator starts one.
            if not caller.principal.has(Role.ADMIN):
                raise Forbidden("only an administrator creates a community")
            parent = None
        else:
            parent, _ = await AREAS.load(w.session, cmd.parent_id, caller)
        w.emit(areas.create_area(w.id, kind=cmd.kind, name=cmd.name, parent=parent))
    return w.accepted
