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

WORK_ORDERS = {
    "read_work_orders": (
        (*DESK, Role.GRID_WORKER, Role.MEDIATOR),
        "list the 12345 work orders that wait for a place, and read one (without the caller's "
        "contact)",
    ),
    "read_work_order_callers": (DESK, "see the caller's contact on a 12345 work order"),
    "place_work_order": (DESK, "place a parked 12345 work order in an area"),
}

PERMISSIONS = Permissions.of(SOURCE, {**TENANCIES, **WORK_ORDERS})
