"""The caller as the read models see them: the kernel's one access policy, rendered as SQL.

Which records: ``eventkit.access.visible_sql`` (the same rule the services apply in Python).
How much of an identity number: in full only with ``read_full_id_number``; a mask otherwise.
Which programme a health visit is for: only with ``read_health_programmes``.
Whose name stands on a record of another service (a certificate's holder): only for a caller who
may see that resident (``read_residents``, and areas that reach where the resident lives).
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from anju_query.application.permissions import (
    PERMISSIONS,
    READ_FULL_ID_NUMBER,
    READ_HEALTH_PROGRAMMES,
    READ_LIAISON_PHONES,
    READ_RESIDENTS,
)
from eventkit.access import Guarded, Params, mask_id_number, may_see, visible_sql
from eventkit.auth import Principal

__all__ = ["Params", "Scope"]


@dataclass(frozen=True)
class Scope:
    principal: Principal

    @classmethod
    def of(cls, principal: Principal) -> Scope:
        return cls(principal)

    @property
    def full_id_numbers(self) -> bool:
        return PERMISSIONS.allows(self.principal, READ_FULL_ID_NUMBER)

    @property
    def health_programmes(self) -> bool:
        """Whether the caller sees which programme a health visit is for (it may name a
        diagnosis: hypertension, diabetes)."""
        return PERMISSIONS.allows(self.principal, READ_HEALTH_PROGRAMMES)

    @property
    def liaison_phones(self) -> bool:
        """Whether the caller sees the phone numbers of partner organisations' liaisons."""
        return PERMISSIONS.allows(self.principal, READ_LIAISON_PHONES)

    def allows(self, community_id: UUID, grid_id: UUID | None) -> bool:
        return may_see(self.principal, Guarded(community_id, grid_id))

    def where(self, params: Params, community: str, grid: str) -> str:
        """A SQL condition on the columns ``community`` and ``grid`` that keeps what is in scope."""
        return visible_sql(self.principal, params, community=community, grid=grid)

    def where_serving(self, params: Params, communities: str) -> str:
        """A SQL condition on the ``uuid[]`` column ``communities`` (of a record of several
        communities, a partner organisation) that keeps it when the caller covers any of them."""
        return visible_sql(
            self.principal,
            params,
            community=f"{communities}[1]",
            grid="NULL::uuid",
            communities=communities,
        )

    def where_resident(self, params: Params, residents: str) -> str:
        """A SQL condition on a row of ``residents.residents`` aliased ``residents``: the caller
        may see that resident (their role reads the directory, their areas reach where the
        resident lives). What names a resident — the holder of a certificate — is shown only
        then."""
        if not PERMISSIONS.allows(self.principal, READ_RESIDENTS):
            return "false"
        return self.where(params, f"{residents}.community_id", f"{residents}.grid_id")

    def where_tied(
        self,
        params: Params,
        community: str,
        grid: str,
        *,
        organisations: str,
        sensitive: str | None = None,
    ) -> str:
        """A SQL condition for records tied to partner organisations (``organisations``: a
        ``uuid[]`` column, a work item's owner and co-organisations): a liaison sees only those
        tied to one they speak for, within their areas; a sensitive one (``sensitive``: a
        boolean column) only directors see."""
        return visible_sql(
            self.principal,
            params,
            community=community,
            grid=grid,
            sensitive=sensitive,
            organisations=organisations,
        )

    def id_number(self, value: str | None) -> str | None:
        if value is None:  # erased
            return None
        return value if self.full_id_numbers else mask_id_number(value)
