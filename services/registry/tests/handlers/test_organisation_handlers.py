"""Partner organisations through the registry's handlers on the in-memory store: who may
register, change, retire and read them, and for which communities."""

from __future__ import annotations

from uuid import UUID, uuid4

import pytest

from anju_contracts import Actor
from anju_contracts.registry import (
    CATALOG,
    AreaKind,
    OrganisationChanged,
    OrganisationKind,
    OrganisationRegistered,
    OrganisationRetired,
)
from anju_registry.application import areas, organisations
from anju_registry.application.commands import (
    ChangeOrganisation,
    CreateArea,
    LiaisonIn,
    RegisterOrganisation,
    RetireOrganisation,
)
from anju_registry.domain.errors import (
    AreaNotFound,
    NotACommunity,
    OrganisationNotFound,
    OrganisationRetiredAlready,
)
from eventkit.auth import Principal, Role
from eventkit.commands import Caller
from eventkit.errors import Forbidden
from eventkit.memory import MemoryEventStore
from eventkit.store import ConcurrencyError, Context


def caller(*roles: Role, areas: tuple[UUID, ...] = (), sub: str = "staff-1") -> Caller:
    principal = Principal(sub=sub, roles=roles, areas=tuple(str(a) for a in areas))
    return Caller(principal, Context(actor=Actor(id=sub, roles=tuple(map(str, roles)))))


ADMIN = caller(Role.ADMIN, sub="admin")
LIAISON = LiaisonIn(name="李明", role="党委办公室主任", phone="13800000000")


class Communities:
    """Two communities, a grid in the first, on a fresh in-memory store."""

    def __init__(self) -> None:
        self.store = MemoryEventStore(CATALOG)

    async def area(self, kind: AreaKind, parent: UUID | None) -> UUID:
        cmd = CreateArea(kind=kind, name=str(kind), parent_id=parent)
        return UUID((await areas.create_area(self.store, cmd, ADMIN)).id)

    async def build(self) -> Communities:
        self.c1 = await self.area(AreaKind.COMMUNITY, None)
        self.c2 = await self.area(AreaKind.COMMUNITY, None)
        self.grid = await self.area(AreaKind.GRID, self.c1)
        self.director1 = caller(Role.DIRECTOR, areas=(self.c1,), sub="director-1")
        self.director2 = caller(Role.DIRECTOR, areas=(self.c2,), sub="director-2")
        return self

    async def register(self, *communities: UUID, who: Caller = ADMIN) -> UUID:
        cmd = RegisterOrganisation(
            kind=OrganisationKind.PAIRED_UNIT,
            name="市税务局",
            community_ids=list(communities),
            liaisons=[LIAISON],
        )
        return UUID((await organisations.register_organisation(self.store, cmd, who)).id)


@pytest.fixture
async def estate() -> Communities:
    return await Communities().build()


async def test_a_director_registers_for_their_community_scoped_to_the_first(
    estate: Communities,
) -> None:
    organisation = await estate.register(estate.c1, who=estate.director1)
    stream = await estate.store.load(f"organisation-{organisation}")
    [stored] = stream.events
    assert stored.area == str(estate.c1)
    assert stored.event == OrganisationRegistered(
        organisation_id=organisation,
        kind=OrganisationKind.PAIRED_UNIT,
        name="市税务局",
        community_ids=[estate.c1],
        liaisons=[LIAISON.liaison()],
    )


async def test_a_director_registers_for_no_community_they_do_not_cover(
    estate: Communities,
) -> None:
    for communities in ([estate.c2], [estate.c1, estate.c2], [uuid4()]):
        with pytest.raises(AreaNotFound):
            await estate.register(*communities, who=estate.director1)
    with pytest.raises(NotACommunity) as grid:
        await estate.register(estate.grid, who=estate.director1)
    assert grid.value.details == {"area_id": str(estate.grid)}
    # an admin may register for several; nothing was written by the refusals
    both = await estate.register(estate.c2, estate.c1)
    assert [e.area for e in (await estate.store.load(f"organisation-{both}")).events] == [
        str(estate.c2)
    ]


async def test_only_a_director_or_admin_registers_changes_and_retires(
    estate: Communities,
) -> None:
    organisation = await estate.register(estate.c1)
    coordinator = caller(Role.VOLUNTEER_COORDINATOR, areas=(estate.c1,))
    with pytest.raises(Forbidden):
        await estate.register(estate.c1, who=coordinator)
    with pytest.raises(Forbidden):
        await organisations.change_organisation(
            estate.store, organisation, ChangeOrganisation(name="x"), coordinator
        )
    with pytest.raises(Forbidden):
        await organisations.retire_organisation(
            estate.store, organisation, RetireOrganisation(reason="x"), coordinator
        )
    # but the coordinator reads it, without the liaison's phone
    view = await organisations.view_organisation(estate.store, organisation, coordinator)
    assert (view.phones_shown, view.liaisons[0].phone, view.liaisons[0].name) == (
        False,
        None,
        "李明",
    )
    full = await organisations.view_organisation(estate.store, organisation, estate.director1)
    assert (full.phones_shown, full.liaisons[0].phone) == (True, "13800000000")


async def test_an_organisation_is_seen_from_any_community_it_serves(estate: Communities) -> None:
    shared = await estate.register(estate.c2, estate.c1)
    for director in (estate.director1, estate.director2):
        view = await organisations.view_organisation(estate.store, shared, director)
        assert view.community_ids == [estate.c2, estate.c1]
    theirs = await estate.register(estate.c2)
    for refused in (
        organisations.view_organisation(estate.store, theirs, estate.director1),
        organisations.change_organisation(
            estate.store, theirs, ChangeOrganisation(name="x"), estate.director1
        ),
        organisations.retire_organisation(
            estate.store, theirs, RetireOrganisation(reason="x"), estate.director1
        ),
    ):
        with pytest.raises(OrganisationNotFound) as hidden:
            await refused
        assert hidden.value.details == {"organisation_id": str(theirs)}
    # a grid worker's token naming a grid does not cover the community
    worker = caller(Role.GRID_WORKER, areas=(estate.grid,))
    with pytest.raises(OrganisationNotFound):
        await organisations.view_organisation(estate.store, shared, worker)


async def test_changing_the_communities_needs_the_caller_to_cover_each_added_or_dropped(
    estate: Communities,
) -> None:
    shared = await estate.register(estate.c1, estate.c2)
    # director 1 may not drop, nor keep only, community 2
    with pytest.raises(AreaNotFound) as dropped:
        await organisations.change_organisation(
            estate.store, shared, ChangeOrganisation(community_ids=[estate.c1]), estate.director1
        )
    assert dropped.value.details == {"area_id": str(estate.c2)}
    # reordering touches no one's community; renaming needs none
    answer = await organisations.change_organisation(
        estate.store,
        shared,
        ChangeOrganisation(community_ids=[estate.c2, estate.c1], name="市税务局一分局"),
        estate.director1,
    )
    stream = await estate.store.load(f"organisation-{shared}")
    assert stream.events[-1].event == OrganisationChanged(
        organisation_id=shared, name="市税务局一分局", community_ids=[estate.c2, estate.c1]
    )
    assert stream.events[-1].area == str(estate.c2)
    assert answer.consistency_token == f"registry:organisation-{shared}:2"
    # director 2 drops their own community
    await organisations.change_organisation(
        estate.store, shared, ChangeOrganisation(community_ids=[estate.c1]), estate.director2
    )
    with pytest.raises(OrganisationNotFound):
        await organisations.view_organisation(estate.store, shared, estate.director2)


async def test_retiring_ends_changes_and_a_stale_version_conflicts(estate: Communities) -> None:
    organisation = await estate.register(estate.c1)
    with pytest.raises(ConcurrencyError):
        await organisations.retire_organisation(
            estate.store,
            organisation,
            RetireOrganisation(reason="结对期满", expected_version=3),
            estate.director1,
        )
    await organisations.retire_organisation(
        estate.store,
        organisation,
        RetireOrganisation(reason="结对期满", expected_version=1),
        estate.director1,
    )
    stream = await estate.store.load(f"organisation-{organisation}")
    assert stream.events[-1].event == OrganisationRetired(
        organisation_id=organisation, reason="结对期满"
    )
    view = await organisations.view_organisation(estate.store, organisation, estate.director1)
    assert (view.status, view.retired_reason, view.version) == ("retired", "结对期满", 2)
    with pytest.raises(OrganisationRetiredAlready):
        await organisations.change_organisation(
            estate.store, organisation, ChangeOrganisation(name="x"), estate.director1
        )
