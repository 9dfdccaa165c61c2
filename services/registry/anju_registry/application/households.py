"""Handlers for households and their members."""

from __future__ import annotations

from uuid import UUID

from anju_registry.application.aggregates import AREAS, HOUSEHOLDS, RESIDENTS
from anju_registry.application.commands import AddMember, ChangeHead, FormHousehold, RemoveMember
from anju_registry.domain import households
from eventkit.commands import Accepted, Caller
from eventkit.store import Store


async def form_household(store: Store, cmd: FormHousehold, caller: Caller) -> Accepted:
    async with HOUSEHOLDS.create(store, caller, "form_household") as w:
        unit, _ = await AREAS.load(w.session, cmd.unit_id, caller)
        head, _ = await RESIDENTS.load(w.session, cmd.head_resident_id, caller)
        w.emit(households.form(w.id, unit=unit, head=head))
    return w.accepted


async def add_member(store: Store, household_id: UUID, cmd: AddMember, caller: Caller) -> Accepted:
    async with HOUSEHOLDS.update(
        store, household_id, caller, "add_household_member", cmd.expected_version
    ) as w:
        resident, _ = await RESIDENTS.load(w.session, cmd.resident_id, caller)
        w.emit(households.add_member(w.state, resident=resident, relation=cmd.relation))
    return w.accepted


async def remove_member(
    store: Store, household_id: UUID, resident_id: UUID, cmd: RemoveMember, caller: Caller
) -> Accepted:
    async with HOUSEHOLDS.update(
        store, household_id, caller, "remove_household_member", cmd.expected_version
    ) as w:
        w.emit(households.remove_member(w.state, resident_id=resident_id, reason=cmd.reason))
    return w.accepted


async def change_head(
    store: Store, household_id: UUID, cmd: ChangeHead, caller: Caller
) -> Accepted:
    async with HOUSEHOLDS.update(
        store, household_id, caller, "change_household_head", cmd.expected_version
    ) as w:
        w.emit(households.change_head(w.state, resident_id=cmd.resident_id))
    return w.accepted
