"""Partner organisations: who the community works with, for which communities, and through whom."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from uuid import UUID

from anju_contracts import Event
from anju_contracts.registry import (
    Liaison,
    OrganisationChanged,
    OrganisationKind,
    OrganisationRegistered,
    OrganisationRetired,
)
from anju_registry.domain.errors import NothingToChange, OrganisationRetiredAlready


@dataclass(frozen=True)
class Organisation:
    id: UUID
    kind: OrganisationKind
    name: str
    community_ids: tuple[UUID, ...]
    """The communities it serves; the first is where its facts are scoped."""
    liaisons: tuple[Liaison, ...]
    retired_reason: str | None = None

    @property
    def active(self) -> bool:
        return self.retired_reason is None


def evolve(state: Organisation | None, event: Event) -> Organisation | None:
    if isinstance(event, OrganisationRegistered):
        return Organisation(
            event.organisation_id,
            event.kind,
            event.name,
            tuple(event.community_ids),
            tuple(event.liaisons),
        )
    if state is None:
        return None
    if isinstance(event, OrganisationChanged):
        return Organisation(
            state.id,
            state.kind,
            state.name if event.name is None else event.name,
            state.community_ids if event.community_ids is None else tuple(event.community_ids),
            state.liaisons if event.liaisons is None else tuple(event.liaisons),
            state.retired_reason,
        )
    if isinstance(event, OrganisationRetired):
        return Organisation(
            state.id, state.kind, state.name, state.community_ids, state.liaisons, event.reason
        )
    return state


def fold(events: Iterable[Event]) -> Organisation | None:
    state: Organisation | None = None
    for event in events:
        state = evolve(state, event)
    return state


def distinct(ids: Iterable[UUID]) -> list[UUID]:
    """Each community once, in the order first named (the first is where facts are scoped)."""
    return list(dict.fromkeys(ids))


def register(
    organisation_id: UUID,
    *,
    kind: OrganisationKind,
    name: str,
    community_ids: Sequence[UUID],
    liaisons: Sequence[Liaison],
) -> list[Event]:
    return [
        OrganisationRegistered(
            organisation_id=organisation_id,
            kind=kind,
            name=name,
            community_ids=distinct(community_ids),
            liaisons=list(liaisons),
        )
    ]


def change(
    state: Organisation,
    *,
    name: str | None = None,
    community_ids: Sequence[UUID] | None = None,
    liaisons: Sequence[Liaison] | None = None,
) -> list[Event]:
    """What changed, and only that; nothing changed is refused."""
    _require_active(state)
    communities = None if community_ids is None else distinct(community_ids)
    changed = OrganisationChanged(
        organisation_id=state.id,
        name=None if name is None or name == state.name else name,
        community_ids=None
        if communities is None or tuple(communities) == state.community_ids
        else communities,
        liaisons=None if liaisons is None or tuple(liaisons) == state.liaisons else list(liaisons),
    )
    if changed.name is None and changed.community_ids is None and changed.liaisons is None:
        raise NothingToChange("the organisation already reads like this")
    return [changed]


def retire(state: Organisation, *, reason: str) -> list[Event]:
    _require_active(state)
    return [OrganisationRetired(organisation_id=state.id, reason=reason)]


def _require_active(state: Organisation) -> None:
    if not state.active:
        raise OrganisationRetiredAlready(
            "the organisation is retired", organisation_id=str(state.id)
        )
