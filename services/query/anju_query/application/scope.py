"""Who may see which residents, and how much of their ID number.

- ``admin`` sees everything;
- ``director`` sees the communities in their areas (nothing when the token names none: a
  missing claim must not widen what a token can read);
- ``grid_worker`` sees the grids in their areas;
- any other staff role sees what its areas name, a community or a grid.

ID numbers are shown in full to admins and directors only; everyone else sees the first and
last four characters.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from eventkit.auth import Principal, Role


@dataclass(frozen=True)
class Scope:
    everything: bool
    communities: frozenset[UUID] = frozenset()
    grids: frozenset[UUID] = frozenset()
    full_id_numbers: bool = False

    @classmethod
    def of(cls, principal: Principal) -> Scope:
        areas = frozenset(_uuids(principal.areas))
        full = principal.has(Role.ADMIN, Role.DIRECTOR)
        if principal.has(Role.ADMIN):
            return cls(everything=True, full_id_numbers=full)
        communities: set[UUID] = set()
        grids: set[UUID] = set()
        if principal.has(Role.DIRECTOR):
            communities |= areas
        if principal.has(Role.GRID_WORKER):
            grids |= areas
        if any(r not in (Role.DIRECTOR, Role.GRID_WORKER) for r in principal.roles):
            communities |= areas
            grids |= areas
        return cls(False, frozenset(communities), frozenset(grids), full)

    def allows(self, community_id: UUID | None, grid_id: UUID | None) -> bool:
        return (
            self.everything
            or (community_id is not None and community_id in self.communities)
            or (grid_id is not None and grid_id in self.grids)
        )

    def where(self, params: Params, community: str, grid: str) -> str:
        """A SQL condition on the columns ``community`` and ``grid`` that keeps what is in scope."""
        if self.everything:
            return "true"
        return (
            f"({community} = ANY({params(list(self.communities))}::uuid[])"
            f" OR {grid} = ANY({params(list(self.grids))}::uuid[]))"
        )

    def id_number(self, value: str) -> str:
        return value if self.full_id_numbers else mask_id_number(value)


def mask_id_number(value: str) -> str:
    """Keep the first and last four characters: ``1101**********123X``."""
    if len(value) <= 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 8) + value[-4:]


class Params:
    """Numbered SQL parameters: ``params(value)`` records the value and returns ``$n``."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def _uuids(values: tuple[str, ...]) -> list[UUID]:
    parsed = []
    for value in values:
        try:
            parsed.append(uuid.UUID(value))
        except ValueError:
            continue  # an area id that is not ours scopes nothing
    return parsed
