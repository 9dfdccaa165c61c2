"""What each role may do in the registry (admins may do everything; areas decide where).

Directors, grid workers and desk staff register residents and households; they bring in what
the paper registers hold, so they may back-date (``backdate``, audited).
"""

from __future__ import annotations

from anju_contracts.registry import SOURCE
from eventkit.access import Permissions
from eventkit.auth import Role

DIRECTOR = Role.DIRECTOR
GRID = Role.GRID_WORKER
DESK = Role.DESK_STAFF
SERVICE = Role.SERVICE
"""Another Anju service acting on another system's facts: the integration service moves in and
out the tenants the housing security centre announces (its token covers only the communities
of the command)."""
PARTNERS_READERS = (
    DIRECTOR,
    DESK,
    GRID,
    Role.MEDIATOR,
    Role.POLICE,
    Role.VOLUNTEER_COORDINATOR,
    Role.DOCTOR,
    Role.PETITION_AGENT,
)
"""Every staff role that works with partner organisations."""

READ_FULL_ID_NUMBER = "read_full_id_number"
READ_LIAISON_PHONES = "read_liaison_phones"

PERMISSIONS = Permissions.of(
    SOURCE,
    {
        "create_area": ((DIRECTOR,), "add a grid, building or unit below an area"),
        "register_resident": ((DIRECTOR, GRID, DESK, SERVICE), "register a resident at a unit"),
        "read_resident": ((DIRECTOR, GRID, DESK), "read a resident's record"),
        READ_FULL_ID_NUMBER: ((DIRECTOR,), "see identity numbers unmasked (audited)"),
        "correct_resident": ((DIRECTOR, GRID, DESK), "correct a resident's details"),
        "move_resident": ((DIRECTOR, GRID, DESK, SERVICE), "move a resident to another unit"),
        "move_out": ((DIRECTOR, GRID, DESK, SERVICE), "record that a resident moved out"),
        "record_death": ((DIRECTOR, GRID, DESK), "record a resident's death"),
        "erase_resident": (
            (DIRECTOR,),
            "erase a person's personal data across Anju, with a reason (audited)",
        ),
        "erase_by_retention": (
            (SERVICE,),
            "erase a person whose closed record's retention period ended (the registry's "
            "scheduler, as itself; no route)",
        ),
        "form_household": ((DIRECTOR, GRID, DESK), "form a household at a unit"),
        "add_household_member": ((DIRECTOR, GRID, DESK), "add a member to a household"),
        "remove_household_member": ((DIRECTOR, GRID, DESK), "remove a household member"),
        "change_household_head": ((DIRECTOR, GRID, DESK), "change a household's head"),
        "raise_flag": ((DIRECTOR, GRID), "flag a resident as in a special group"),
        "review_flag": ((DIRECTOR, GRID), "review a special-group flag's risk tier"),
        "clear_flag": ((DIRECTOR, GRID), "clear a special-group flag"),
        "record_visit": ((DIRECTOR, GRID), "record a follow-up visit"),
        "register_organisation": ((DIRECTOR,), "register a partner organisation"),
        "change_organisation": ((DIRECTOR,), "change a partner organisation's details"),
        "retire_organisation": ((DIRECTOR,), "retire a partner organisation"),
        "read_organisation": (PARTNERS_READERS, "read a partner organisation"),
        READ_LIAISON_PHONES: ((DIRECTOR,), "see the phone numbers of partners' liaisons"),
        "backdate": (
            (DIRECTOR, GRID, DESK),
            "record a registration, household change, move, flag or visit dated in the past "
            "(from the paper register); audited",
        ),
    },
)
