"""What each role may do in the volunteering service (admins may do everything; areas decide where)."""

from __future__ import annotations

from anju_contracts.volunteering import SOURCE
from eventkit.access import Permissions
from eventkit.auth import Role

STAFF = (Role.DIRECTOR, Role.GRID_WORKER, Role.DESK_STAFF)

PERMISSIONS = Permissions.of(
    SOURCE,
    {
        "open_case": (STAFF, "open a case in one of their areas"),
        "read_case": (STAFF, "read a case"),
    },
)
