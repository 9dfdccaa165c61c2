"""What each role may do in the integration service (admins may do everything; areas decide
where)."""

from __future__ import annotations

from anju_contracts.integration import SOURCE
from eventkit.access import Permissions
from eventkit.auth import Role

DESK = (Role.DIRECTOR, Role.DESK_STAFF)

TENANCIES = {
    "read_tenancy_notices": (
        DESK,
        "list the housing security centre's tenancy notices that wait for a clerk",
    ),
    "match_tenancy_notice": (DESK, "match a parked tenancy notice to a unit and residents"),
    "dismiss_tenancy_notice": (DESK, "dismiss a parked tenancy notice"),
}

PERMISSIONS = Permissions.of(SOURCE, {**TENANCIES})
