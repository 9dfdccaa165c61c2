"""Feeding a service what the registry would announce, for tests of services that follow it.

A service that follows ``registry.events`` (mediation, health) learns areas, residents and
partner organisations through its registry policy (:func:`eventkit.known.registry_policy`). Tests deliver registry
events straight to that policy — what the broker would do — with :class:`RegistryFeed`, which
also builds a small area tree: a community with two grids and a building, and a second
community. Nothing here runs in production.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from anju_contracts import Actor, Envelope, Event
from anju_contracts.registry import (
    SOURCE as REGISTRY,
    AreaCreated,
    AreaKind,
    AreaPath,
    Liaison,
    OrganisationKind,
    OrganisationRegistered,
    ResidentRegistered,
    Sex,
)
from eventkit.messages import Delivered
from eventkit.policy import Policy, handle_once
from eventkit.store import EventStore
from eventkit.testing.delivery import envelope_of


def registry_envelope(
    event: Event,
    *,
    subject: str,
    area: uuid.UUID | None,
    occurred_at: datetime | None = None,
) -> Envelope:
    """The envelope the registry's relay would publish ``event`` in."""
    return envelope_of(
        event,
        source=REGISTRY,
        subject=subject,
        occurred_at=occurred_at,
        actor=Actor(id="registry-tests", roles=("admin",)),
        area=None if area is None else str(area),
    )


@dataclass
class RegistryFeed:
    """Registry events delivered to one service's registry policy, and the tree they built."""

    store: EventStore
    policy: Policy
    community_id: str = ""
    grid_id: str = ""
    other_grid_id: str = ""
    building_id: str = ""
    other_community_id: str = ""
    residents: list[str] = field(default_factory=list)
    _offset: int = 0

    async def learn(
        self,
        event: Event,
        *,
        subject: str,
        area: uuid.UUID | None = None,
        occurred_at: datetime | None = None,
    ) -> None:
        """Deliver a registry event to the policy, as the broker would."""
        self._offset += 1
        envelope = registry_envelope(event, subject=subject, area=area, occurred_at=occurred_at)
        delivered = Delivered(envelope, event, "registry.events", 0, self._offset)
        await handle_once(self.store, self.policy, delivered)

    async def area(self, kind: AreaKind, parent: str | None, path: AreaPath) -> str:
        area_id = uuid.uuid4()
        if kind == AreaKind.COMMUNITY:
            path = AreaPath(community_id=area_id)
        else:
            path = path.model_copy(update={f"{kind}_id": area_id})
        event = AreaCreated(
            area_id=area_id,
            kind=kind,
            name=str(kind),
            parent_id=None if parent is None else uuid.UUID(parent),
            path=path,
        )
        await self.learn(event, subject=f"area-{area_id}", area=path.grid_id or path.community_id)
        return str(area_id)

    async def build_tree(self, residents: int = 3) -> None:
        self.community_id = await self.area(
            AreaKind.COMMUNITY, None, AreaPath(community_id=uuid.uuid4())
        )
        community = AreaPath(community_id=uuid.UUID(self.community_id))
        self.grid_id = await self.area(AreaKind.GRID, self.community_id, community)
        self.other_grid_id = await self.area(AreaKind.GRID, self.community_id, community)
        self.other_community_id = await self.area(
            AreaKind.COMMUNITY, None, AreaPath(community_id=uuid.uuid4())
        )
        grid = community.model_copy(update={"grid_id": uuid.UUID(self.grid_id)})
        self.building_id = await self.area(AreaKind.BUILDING, self.grid_id, grid)
        for _ in range(residents):
            self.residents.append(await self.resident())

    def path(self, grid_id: str | None = None) -> AreaPath:
        """Where a resident of ``grid_id`` lives (the tree's building, in its first grid)."""
        grid = uuid.UUID(grid_id or self.grid_id)
        return AreaPath(
            community_id=uuid.UUID(self.community_id),
            grid_id=grid,
            building_id=uuid.UUID(self.building_id) if grid_id is None else None,
        )

    async def resident(
        self,
        grid_id: str | None = None,
        *,
        born: date = date(1960, 1, 1),
        registered_at: datetime | None = None,
    ) -> str:
        """Register a resident of ``grid_id`` (default: the tree's first grid, its building)."""
        resident_id = uuid.uuid4()
        path = self.path(grid_id)
        event = ResidentRegistered(
            resident_id=resident_id,
            name="张三",
            sex=Sex.MALE,
            date_of_birth=born,
            id_number="110105196001010011",
            path=path,
        )
        await self.learn(
            event, subject=f"resident-{resident_id}", area=path.grid_id, occurred_at=registered_at
        )
        return str(resident_id)

    async def organisation(
        self,
        kind: OrganisationKind,
        name: str = "结对共建单位",
        community_ids: Sequence[str] | None = None,
        *,
        liaisons: Sequence[Liaison] = (),
    ) -> str:
        """Register a partner organisation serving ``community_ids`` (default: the tree's
        community); its id."""
        organisation_id = uuid.uuid4()
        communities = [uuid.UUID(c) for c in community_ids or [self.community_id]]
        event = OrganisationRegistered(
            organisation_id=organisation_id,
            kind=kind,
            name=name,
            community_ids=communities,
            liaisons=list(liaisons),
        )
        await self.learn(event, subject=f"organisation-{organisation_id}", area=communities[0])
        return str(organisation_id)
