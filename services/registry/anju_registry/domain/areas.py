"""The area tree: community → grid → building → unit."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from anju_contracts import Event
from anju_contracts.registry import AreaCreated, AreaKind, AreaPath
from anju_registry.domain.errors import WrongParentKind

PARENT_KIND: dict[AreaKind, AreaKind | None] = {
    AreaKind.COMMUNITY: None,
    AreaKind.GRID: AreaKind.COMMUNITY,
    AreaKind.BUILDING: AreaKind.GRID,
    AreaKind.UNIT: AreaKind.BUILDING,
}


@dataclass(frozen=True)
class Area:
    id: UUID
    kind: AreaKind
    name: str
    parent_id: UUID | None
    path: AreaPath


def evolve(state: Area | None, event: Event) -> Area | None:
    if isinstance(event, AreaCreated):
        return Area(event.area_id, event.kind, event.name, event.parent_id, event.path)
    return state


def fold(events: Iterable[Event]) -> Area | None:
    state: Area | None = None
    for event in events:
        state = evolve(state, event)
    return state


def create_area(area_id: UUID, *, kind: AreaKind, name: str, parent: Area | None) -> list[Event]:
    wanted = PARENT_KIND[kind]
    if wanted is None:
        if parent is not None:
            raise WrongParentKind("a community has no parent", kind=kind, expected=None)
        path = AreaPath(community_id=area_id)
    else:
        if parent is None or parent.kind != wanted:
            raise WrongParentKind(
                f"a {kind} must be created under a {wanted}",
                kind=kind,
                expected=wanted,
                parent_kind=parent.kind if parent else None,
            )
        path = parent.path.model_copy(update={f"{kind}_id": area_id})
    return [
        AreaCreated(
            area_id=area_id,
            kind=kind,
            name=name,
            parent_id=parent.id if parent else None,
            path=path,
        )
    ]
