"""What each role may do at the station (admins may do everything; areas decide where).

Desk staff run the desk; directors may do what they do and read everything of it. Grid workers,
who bring residents to the desk, log a reception on their behalf and read one.
"""

from __future__ import annotations

from anju_contracts.station import SOURCE
from eventkit.access import Permissions
from eventkit.auth import Role

DESK = (Role.DESK_STAFF, Role.DIRECTOR)

PERMISSIONS = Permissions.of(
    SOURCE,
    {
        "log_reception": ((*DESK, Role.GRID_WORKER), "log a visit to the desk"),
        "read_reception": ((*DESK, Role.GRID_WORKER), "read a visit to the desk"),
        "receive_service": (DESK, "receive a convenience service"),
        "check_documents": (DESK, "check the documents: a one-time notice, or accepted"),
        "hand_off_service": (DESK, "hand a service to the agency of record with a due date"),
        "complete_service": (DESK, "complete or refuse a service"),
        "call_back": (DESK, "record the resident's satisfaction on a callback"),
        "read_service": (DESK, "read a convenience service and its one-time notices"),
    },
)
