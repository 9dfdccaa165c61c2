"""What each role may do at the station (admins may do everything; areas decide where).

Desk staff run the desk; directors may do what they do and read everything of it. Grid workers,
who bring residents to the desk, log a reception on their behalf and read one. The desk brings
in what its paper ledgers hold, so desk staff may back-date (``backdate``, audited).
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
        "issue_certificate": (DESK, "issue a residence certificate from the registry's facts"),
        "revoke_certificate": (DESK, "revoke a residence certificate, with a reason"),
        "read_certificate": (DESK, "read a residence certificate and print it"),
        "record_gathering": (DESK, "record a lecture, activity or opinion-gathering session"),
        "read_gathering": ((*DESK, Role.GRID_WORKER), "read a lecture or activity"),
        "raise_opinion": (DESK, "record an opinion raised at an opinion-gathering session"),
        "settle_opinion": (DESK, "answer an opinion, or refer it to mediation or governance"),
        "read_opinion": (DESK, "read an opinion and what became of it"),
        "set_roster": (DESK, "set who is on duty at the desk and the pioneer post on a day"),
        "read_roster": ((*DESK, Role.GRID_WORKER), "read who is on duty on a day"),
        "backdate": (
            DESK,
            "record a visit, service, gathering or opinion dated in the past (from the paper "
            "ledger); audited",
        ),
    },
)
