"""The one access policy: who may see a record and who may do what, for every service.

Two questions, always asked in this order:

1. **May the caller's role do this action at all?** A table per service (role × action,
   :class:`Permissions`) answers it. No: 403 ``forbidden`` — it reveals nothing about any
   record, only what the caller's own token lacks.
2. **May the caller see this record?** :func:`may_see` answers it from the record's place
   (community, grid) and sensitivity. No: the record does not exist for them — 404 on reads
   *and* writes, and "unknown" when a command names it (a party, a household member).

The rules, decided once:

- An **admin** sees everything.
- A token's ``areas`` name communities and grids. An area covers itself and everything below
  it, **whatever the role**: a grid worker whose token names a community covers the whole
  community. The role decides what the caller may *do*; the areas decide *where*.
- A token that names **no area covers nothing**, whatever its role (admins aside): a missing
  claim never widens access.
- A record that belongs to **several communities** (a partner organisation serving more than
  one) is seen by a caller covering **any** of them.
- A partner organisation's **liaison** sees only records tied to an organisation their token's
  ``organisations`` names (a work item it owns or co-owns, the organisation itself), and only
  within their areas: a record tied to no organisation does not exist for them.
- A **sensitive** record (a sensitive dispute) is seen only by the staff assigned to it (its
  mediators, wherever their areas are) and by the **directors whose areas cover it**; no other
  role sees it, even within its areas.
- **Full identity numbers** are an action of their own (``registry.read_full_id_number``):
  everyone else sees a mask that, together with the date of birth shown beside it, cannot be
  reconstructed (:func:`mask_id_number`).

:func:`visible_sql` renders the same rule as a SQL predicate for the read models; a table test
checks both forms agree.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol
from uuid import UUID

from eventkit.auth import Principal, Role
from eventkit.errors import Forbidden


class Placed(Protocol):
    """Anything that sits in the area tree: a community and, below it, maybe a grid."""

    @property
    def community_id(self) -> UUID: ...
    @property
    def grid_id(self) -> UUID | None: ...


@dataclass(frozen=True)
class Guarded:
    """What the policy needs to know about a record: where it is and who it is sensitive to."""

    community_id: UUID
    grid_id: UUID | None = None
    sensitive: bool = False
    assigned: frozenset[str] = field(default_factory=frozenset)
    """Staff ids assigned to the record (a dispute's mediators): they see it wherever it is."""
    communities: frozenset[UUID] = field(default_factory=frozenset)
    """Further communities the record belongs to: a caller covering any of them sees it."""
    organisations: frozenset[UUID] = field(default_factory=frozenset)
    """The partner organisations the record is tied to: their liaisons see it (in their areas)."""

    @classmethod
    def at(
        cls,
        place: Placed,
        *,
        sensitive: bool = False,
        assigned: Iterable[str] = (),
        organisations: Iterable[UUID] = (),
    ) -> Guarded:
        return cls(
            place.community_id,
            place.grid_id,
            sensitive,
            frozenset(assigned),
            organisations=frozenset(organisations),
        )

    @classmethod
    def serving(
        cls, community_ids: Sequence[UUID], *, organisations: Iterable[UUID] = ()
    ) -> Guarded:
        """A record of several communities (a partner organisation): placed at the first, seen
        from any of them."""
        first, *others = community_ids
        return cls(first, communities=frozenset(others), organisations=frozenset(organisations))


def area_ids(principal: Principal) -> frozenset[UUID]:
    """The areas a token names, as ids (an entry that is not an id covers nothing)."""
    ids: set[UUID] = set()
    for value in principal.areas:
        try:
            ids.add(uuid.UUID(value))
        except ValueError:
            continue
    return frozenset(ids)


def organisation_ids(principal: Principal) -> frozenset[UUID]:
    """The organisations a liaison's token names, as ids (anything else speaks for none)."""
    ids: set[UUID] = set()
    for value in principal.organisations:
        try:
            ids.add(uuid.UUID(value))
        except ValueError:
            continue
    return frozenset(ids)


def covers(principal: Principal, community_id: UUID, grid_id: UUID | None = None) -> bool:
    """Whether the caller's areas reach a place (admins: everywhere; no areas: nowhere)."""
    if principal.has(Role.ADMIN):
        return True
    areas = area_ids(principal)
    return community_id in areas or (grid_id is not None and grid_id in areas)


def may_see(principal: Principal, record: Guarded) -> bool:
    """Whether the record exists for the caller (see the module docstring for the rules)."""
    if principal.has(Role.ADMIN):
        return True
    if principal.sub in record.assigned:
        return True
    if record.sensitive and not principal.has(Role.DIRECTOR):
        return False
    if principal.has(Role.LIAISON) and not organisation_ids(principal) & record.organisations:
        return False
    if covers(principal, record.community_id, record.grid_id):
        return True
    return any(covers(principal, community_id) for community_id in record.communities)


class Params:
    """Numbered SQL parameters: ``params(value)`` records the value and returns ``$n``."""

    def __init__(self) -> None:
        self.values: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.values.append(value)
        return f"${len(self.values)}"


def visible_sql(
    principal: Principal,
    params: Params,
    *,
    community: str,
    grid: str,
    sensitive: str | None = None,
    assigned: str | None = None,
    communities: str | None = None,
    organisations: str | None = None,
) -> str:
    """:func:`may_see` as a SQL condition over a read model's columns.

    ``community`` and ``grid`` are uuid columns; ``sensitive`` a boolean column and ``assigned``
    a ``text[]`` column of staff ids, for read models whose records can be sensitive;
    ``communities`` a ``uuid[]`` column of further communities (:attr:`Guarded.communities`);
    ``organisations`` a ``uuid[]`` column of the organisations the record is tied to
    (:attr:`Guarded.organisations`): without it a liaison sees nothing.
    """
    if principal.has(Role.ADMIN):
        return "true"
    areas = params(sorted(area_ids(principal)))
    covered = f"{community} = ANY({areas}::uuid[]) OR {grid} = ANY({areas}::uuid[])"
    if communities is not None:
        covered += f" OR {communities} && {areas}::uuid[]"
    covered = f"({covered})"
    if sensitive is not None and not principal.has(Role.DIRECTOR):
        covered = f"(NOT {sensitive} AND {covered})"
    if principal.has(Role.LIAISON):
        if organisations is None:
            covered = "false"
        else:
            mine = params(sorted(organisation_ids(principal)))
            covered = f"({organisations} && {mine}::uuid[] AND {covered})"
    if assigned is not None:
        covered = f"({covered} OR {params(principal.sub)} = ANY({assigned}))"
    return covered


# -- what each role may do -----------------------------------------------------------------------

BACKDATE = "backdate"
BACKDATE_DEFAULT: tuple[tuple[Role, ...], str] = (
    (Role.DIRECTOR,),
    "record a fact dated in the past (business time before now); audited",
)

SUBJECT_ACCESS = "subject_access"
SUBJECT_ACCESS_DEFAULT: tuple[tuple[Role, ...], str] = (
    (Role.DIRECTOR,),
    "export everything this service holds about a resident of one's areas "
    "(data-subject access), with a reason; audited",
)


@dataclass(frozen=True)
class Permissions:
    """One service's table of actions and the roles that may do each (admins may do all).

    Declared next to the service's commands; ``docs/permissions.md`` is generated from every
    service's table.
    """

    service: str
    table: Mapping[str, frozenset[Role]]
    descriptions: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def of(cls, service: str, rows: Mapping[str, tuple[Iterable[Role], str]]) -> Permissions:
        """Build from ``{action: (roles, what the action is)}``.

        Every table has the kernel's actions ``backdate`` (a command dated in the past,
        :mod:`eventkit.business`) and ``subject_access`` (:mod:`eventkit.subject_access`):
        directors unless the service declares them for more roles.
        """
        rows = {BACKDATE: BACKDATE_DEFAULT, SUBJECT_ACCESS: SUBJECT_ACCESS_DEFAULT, **rows}
        return cls(
            service,
            {action: frozenset(roles) for action, (roles, _) in rows.items()},
            {action: text for action, (_, text) in rows.items()},
        )

    def allows(self, principal: Principal, action: str) -> bool:
        if action not in self.table:
            raise KeyError(f"{self.service} declares no action {action!r}")
        return principal.has(Role.ADMIN) or any(r in self.table[action] for r in principal.roles)

    def check(self, principal: Principal, action: str) -> None:
        """Raise 403 ``forbidden`` unless the caller's role may do ``action``."""
        if not self.allows(principal, action):
            raise Forbidden(
                "your role may not do this",
                action=action,
                needs=sorted(str(r) for r in self.table[action]),
            )

    def roles(self, action: str) -> frozenset[Role]:
        return self.table[action]


def mask_id_number(value: str) -> str:
    """Only the last four characters: ``**************123X``.

    The date of birth is shown beside a resident, and an 18-character number is region (6),
    date of birth (8), sequence (3) and check (1): keeping the region prefix as well would leave
    few enough candidates to guess. With the last four alone the six region digits stay hidden.
    """
    if len(value) <= 4:
        return "*" * len(value)
    return "*" * (len(value) - 4) + value[-4:]


VISIBLE_ID_SUFFIX = 4
"""How many trailing characters of an identity number a masked caller may search by."""


def render_permissions(tables: Iterable[Permissions]) -> str:
    """The Markdown of ``docs/permissions.md``: every service's role × action table."""
    lines = [
        "# Who may do what",
        "",
        "Generated from each service's permission table (`make permissions`); do not edit.",
        "Admins may do everything. Roles decide *what* a caller may do; the areas in their",
        "token decide *where* (see `libs/eventkit/eventkit/access.py` for the visibility rules).",
        "",
    ]
    for perms in tables:
        roles = sorted({r for rs in perms.table.values() for r in rs}, key=list(Role).index)
        lines += [f"## {perms.service}", ""]
        lines.append("| action | what | " + " | ".join(str(r) for r in roles) + " |")
        lines.append("|---|---|" + "---|" * len(roles))
        for action in sorted(perms.table):
            marks = " | ".join("✓" if r in perms.table[action] else "" for r in roles)
            lines.append(f"| `{action}` | {perms.descriptions.get(action, '')} | {marks} |")
        lines.append("")
    return "\n".join(lines)
