"""The registry's HTTP routes: thin — parse, pick the caller's context, call a handler."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Body, Query, Request

from anju_contracts.registry import FlagType
from anju_registry.application import (
    areas,
    care,
    erasures,
    households,
    organisations,
    residents,
)
from anju_registry.application.commands import (
    AddMember,
    ChangeHead,
    ChangeOrganisation,
    ClearFlag,
    CorrectResident,
    CreateArea,
    EraseResident,
    FormHousehold,
    MoveOut,
    MoveResident,
    RaiseFlag,
    RecordDeath,
    RecordVisit,
    RegisterOrganisation,
    RegisterResident,
    RemoveMember,
    RetireOrganisation,
    ReviewFlag,
)
from anju_registry.application.lookups import IdNumbers
from anju_registry.application.organisations import OrganisationView
from anju_registry.application.residents import ResidentView
from anju_registry.domain.care import Intervals
from anju_registry.domain.retention import Retention
from eventkit import audit
from eventkit.app import CONFIG, CallerDep, CommandRouter, RuntimeDep, StoreDep
from eventkit.commands import Accepted, Clock


@dataclass(frozen=True)
class RegistryConfig:
    """What the handlers need besides the store: the time, the follow-up intervals, the
    identity-number claims, and the retention periods of closed records."""

    clock: Clock
    intervals: Intervals
    id_numbers: IdNumbers
    retention: Retention


ConfigDep = Annotated[RegistryConfig, CONFIG]

router = APIRouter()
"""The reads: a record as it stands in the registry's own store."""

commands = CommandRouter()
"""The commands. The registry follows no other service, so they take no consistency tokens."""


# -- areas -------------------------------------------------------------------------------------


@commands.post("/areas", tags=["areas"], status_code=201)
async def create_area(cmd: CreateArea, store: StoreDep, caller: CallerDep) -> Accepted:
    """Create a node of the area tree under its parent."""
    return await areas.create_area(store, cmd, caller)


# -- residents ---------------------------------------------------------------------------------


@commands.post("/residents", tags=["residents"], status_code=201)
async def register_resident(
    cmd: RegisterResident, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Register a person as living at a unit."""
    return await residents.register_resident(
        store, cmd, caller, id_numbers=config.id_numbers, today=caller.now(config.clock).date()
    )


@router.get("/residents/{resident_id}", tags=["residents"])
async def get_resident(
    request: Request, resident_id: UUID, store: StoreDep, caller: CallerDep
) -> ResidentView:
    """The resident's current record (identity number masked except for admins and directors).

    A read that shows the full identity number is audited."""
    view = await residents.view_resident(store, resident_id, caller)
    if not view.id_number_masked:
        await audit.record_read(
            store.pool,
            caller.principal,
            "resident",
            view.id,
            audit.route_of(request),
            correlation_id=audit.correlation_of(request),
        )
    return view


@commands.post("/residents/{resident_id}/corrections", tags=["residents"], status_code=201)
async def correct_resident(
    resident_id: UUID, cmd: CorrectResident, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await residents.correct_resident(
        store,
        resident_id,
        cmd,
        caller,
        id_numbers=config.id_numbers,
        today=caller.now(config.clock).date(),
    )


@commands.post("/residents/{resident_id}/move", tags=["residents"], status_code=201)
async def move_resident(
    resident_id: UUID, cmd: MoveResident, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await residents.move_resident(
        store, resident_id, cmd, caller, now=caller.now(config.clock), intervals=config.intervals
    )


@commands.post("/residents/{resident_id}/move-out", tags=["residents"], status_code=201)
async def move_out(
    resident_id: UUID, cmd: MoveOut, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await residents.move_out(
        store,
        resident_id,
        cmd,
        caller,
        today=caller.now(config.clock).date(),
        retention=config.retention,
    )


@commands.post("/residents/{resident_id}/erasure", tags=["residents"], status_code=201)
async def erase_resident(
    resident_id: UUID,
    cmd: EraseResident,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
    runtime: RuntimeDep,
) -> Accepted:
    """Erase the person's personal data across Anju: their key is destroyed, then
    ``registry.PersonErased`` tells every service. Directors, with a reason (audited)."""
    return await erasures.erase_resident(
        store, resident_id, cmd, caller, keys=runtime.keys, id_numbers=config.id_numbers
    )


@commands.post("/residents/{resident_id}/death", tags=["residents"], status_code=201)
async def record_death(
    resident_id: UUID, cmd: RecordDeath, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await residents.record_death(
        store,
        resident_id,
        cmd,
        caller,
        today=caller.now(config.clock).date(),
        retention=config.retention,
    )


# -- households --------------------------------------------------------------------------------


@commands.post("/households", tags=["households"], status_code=201)
async def form_household(cmd: FormHousehold, store: StoreDep, caller: CallerDep) -> Accepted:
    return await households.form_household(store, cmd, caller)


@commands.post("/households/{household_id}/members", tags=["households"], status_code=201)
async def add_member(
    household_id: UUID, cmd: AddMember, store: StoreDep, caller: CallerDep
) -> Accepted:
    return await households.add_member(store, household_id, cmd, caller)


@commands.delete("/households/{household_id}/members/{resident_id}", tags=["households"])
async def remove_member(
    household_id: UUID,
    resident_id: UUID,
    store: StoreDep,
    caller: CallerDep,
    cmd: Annotated[RemoveMember | None, Body()] = None,
) -> Accepted:
    return await households.remove_member(
        store, household_id, resident_id, cmd or RemoveMember(), caller
    )


@commands.post("/households/{household_id}/head", tags=["households"], status_code=201)
async def change_head(
    household_id: UUID, cmd: ChangeHead, store: StoreDep, caller: CallerDep
) -> Accepted:
    return await households.change_head(store, household_id, cmd, caller)


# -- special groups and follow-up visits -------------------------------------------------------


@commands.post("/residents/{resident_id}/flags", tags=["care"], status_code=201)
async def raise_flag(
    resident_id: UUID, cmd: RaiseFlag, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Flag the resident as a member of a special group; plans follow-up visits."""
    return await care.raise_flag(
        store, resident_id, cmd, caller, now=caller.now(config.clock), intervals=config.intervals
    )


@commands.post("/residents/{resident_id}/flags/{flag}/review", tags=["care"], status_code=201)
async def review_flag(
    resident_id: UUID,
    flag: FlagType,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
    cmd: Annotated[ReviewFlag | None, Body()] = None,
) -> Accepted:
    """Review a flag: a new tier changes it (and re-plans), otherwise it is kept."""
    return await care.review_flag(
        store,
        resident_id,
        flag,
        cmd or ReviewFlag(),
        caller,
        now=caller.now(config.clock),
        intervals=config.intervals,
    )


@commands.delete("/residents/{resident_id}/flags/{flag}", tags=["care"])
async def clear_flag(
    resident_id: UUID,
    flag: FlagType,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
    reason: Annotated[str | None, Query(min_length=1, max_length=1000)] = None,
    cmd: Annotated[ClearFlag | None, Body()] = None,
) -> Accepted:
    """Clear a flag; the reason comes in the body or as ``?reason=``."""
    if cmd is None:
        cmd = ClearFlag.model_validate({"reason": reason or ""})
    return await care.clear_flag(
        store,
        resident_id,
        flag,
        cmd,
        caller,
        now=caller.now(config.clock),
        intervals=config.intervals,
    )


@commands.post("/residents/{resident_id}/visits", tags=["care"], status_code=201)
async def record_visit(
    resident_id: UUID, cmd: RecordVisit, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Record a grid worker's follow-up visit (the visitor is the caller)."""
    return await care.record_visit(
        store, resident_id, cmd, caller, now=caller.now(config.clock), intervals=config.intervals
    )


# -- partner organisations ---------------------------------------------------------------------


@commands.post("/organisations", tags=["organisations"], status_code=201)
async def register_organisation(
    cmd: RegisterOrganisation, store: StoreDep, caller: CallerDep
) -> Accepted:
    """Register a partner organisation for communities the caller covers."""
    return await organisations.register_organisation(store, cmd, caller)


@router.get("/organisations/{organisation_id}", tags=["organisations"])
async def get_organisation(
    organisation_id: UUID, store: StoreDep, caller: CallerDep
) -> OrganisationView:
    """The organisation's current record, to callers covering a community it serves (liaisons'
    phone numbers for directors and admins only)."""
    return await organisations.view_organisation(store, organisation_id, caller)


@commands.post("/organisations/{organisation_id}/changes", tags=["organisations"], status_code=201)
async def change_organisation(
    organisation_id: UUID, cmd: ChangeOrganisation, store: StoreDep, caller: CallerDep
) -> Accepted:
    """Change the name, the communities served or the liaisons (a list given replaces the old
    one); adding or dropping a community needs the caller to cover it."""
    return await organisations.change_organisation(store, organisation_id, cmd, caller)


@commands.post(
    "/organisations/{organisation_id}/retirement", tags=["organisations"], status_code=201
)
async def retire_organisation(
    organisation_id: UUID, cmd: RetireOrganisation, store: StoreDep, caller: CallerDep
) -> Accepted:
    """The community no longer works with the organisation."""
    return await organisations.retire_organisation(store, organisation_id, cmd, caller)
