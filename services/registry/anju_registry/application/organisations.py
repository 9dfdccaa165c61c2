"""Handlers for partner organisations: register, change, retire; and the registry's read."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal
from uuid import UUID

from pydantic import BaseModel

from anju_contracts.registry import AreaKind, OrganisationKind
from anju_registry.application.aggregates import AREAS, ORGANISATIONS
from anju_registry.application.commands import (
    ChangeOrganisation,
    RegisterOrganisation,
    RetireOrganisation,
)
from anju_registry.application.permissions import PERMISSIONS, READ_LIAISON_PHONES
from anju_registry.domain import organisations
from anju_registry.domain.errors import NotACommunity
from eventkit.commands import Accepted, Caller
from eventkit.store import Store, StoreSession


async def _acting_for(session: StoreSession, community_ids: Iterable[UUID], caller: Caller) -> None:
    """Each community must exist and be covered by the caller: a director acts for their own
    communities only (another community is not found, as everywhere)."""
    for community_id in community_ids:
        area, _ = await AREAS.load(session, community_id, caller)
        if area.kind != AreaKind.COMMUNITY:
            raise NotACommunity(
                f"an organisation serves communities, not a {area.kind}",
                area_id=str(community_id),
            )


async def register_organisation(
    store: Store, cmd: RegisterOrganisation, caller: Caller
) -> Accepted:
    async with ORGANISATIONS.create(store, caller, "register_organisation") as w:
        await _acting_for(w.session, organisations.distinct(cmd.community_ids), caller)
        w.emit(
            organisations.register(
                w.id,
                kind=cmd.kind,
                name=cmd.name,
                community_ids=cmd.community_ids,
                liaisons=[liaison.liaison() for liaison in cmd.liaisons],
            )
        )
    return w.accepted


async def change_organisation(
    store: Store, organisation_id: UUID, cmd: ChangeOrganisation, caller: Caller
) -> Accepted:
    async with ORGANISATIONS.update(
        store, organisation_id, caller, "change_organisation", cmd.expected_version
    ) as w:
        if cmd.community_ids is not None:
            # Adding a community, or dropping one, is acting for it: the caller must cover it.
            changed = set(w.state.community_ids) ^ set(cmd.community_ids)
            named = organisations.distinct([*cmd.community_ids, *w.state.community_ids])
            await _acting_for(w.session, [c for c in named if c in changed], caller)
        w.emit(
            organisations.change(
                w.state,
                name=cmd.name,
                community_ids=cmd.community_ids,
                liaisons=None
                if cmd.liaisons is None
                else [liaison.liaison() for liaison in cmd.liaisons],
            )
        )
    return w.accepted


async def retire_organisation(
    store: Store, organisation_id: UUID, cmd: RetireOrganisation, caller: Caller
) -> Accepted:
    return await ORGANISATIONS.act(
        store,
        organisation_id,
        caller,
        "retire_organisation",
        cmd.expected_version,
        lambda state: organisations.retire(state, reason=cmd.reason),
    )


# -- the registry's own view of an organisation -----------------------------------------------


class LiaisonView(BaseModel):
    name: str
    role: str
    phone: str | None
    """Shown to directors (and admins); null for everyone else."""


class OrganisationView(BaseModel):
    """A partner organisation as the registry knows it now."""

    id: UUID
    kind: OrganisationKind
    name: str
    community_ids: list[UUID]
    liaisons: list[LiaisonView]
    phones_shown: bool
    status: Literal["active", "retired"]
    retired_reason: str | None
    version: int


async def view_organisation(
    store: Store, organisation_id: UUID, caller: Caller
) -> OrganisationView:
    organisation, stream = await ORGANISATIONS.read(
        store, organisation_id, caller, "read_organisation"
    )
    phones = PERMISSIONS.allows(caller.principal, READ_LIAISON_PHONES)
    return OrganisationView(
        id=organisation.id,
        kind=organisation.kind,
        name=organisation.name,
        community_ids=list(organisation.community_ids),
        liaisons=[
            LiaisonView(name=x.name, role=x.role, phone=x.phone if phones else None)
            for x in organisation.liaisons
        ],
        phones_shown=phones,
        status="active" if organisation.active else "retired",
        retired_reason=organisation.retired_reason,
        version=stream.version,
    )
