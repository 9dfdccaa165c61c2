"""What each role may do in volunteering (admins may do everything; areas decide where).

Volunteer coordinators run volunteering; directors may do what they do. Grid workers and desk
staff raise requests for residents; grid workers, who are volunteers too, take requests up and
sign up for shifts. Hours count only once a coordinator approves them. Coordinators keep the
paper ledgers of service (hours served, requests taken up, shifts attended) and bring them in, so
they may back-date (``backdate``, audited).
"""

from __future__ import annotations

from anju_contracts.volunteering import SOURCE
from eventkit.access import Permissions
from eventkit.auth import Role

COORDINATION = (Role.VOLUNTEER_COORDINATOR, Role.DIRECTOR)
FIELD = (Role.VOLUNTEER_COORDINATOR, Role.DIRECTOR, Role.GRID_WORKER)
"""Who records work on a request or a shift on a volunteer's behalf."""
RAISERS = (Role.VOLUNTEER_COORDINATOR, Role.DIRECTOR, Role.GRID_WORKER, Role.DESK_STAFF)

PERMISSIONS = Permissions.of(
    SOURCE,
    {
        "register_volunteer": (COORDINATION, "register a volunteer"),
        "change_volunteer": (COORDINATION, "change a volunteer's skills, availability or grid"),
        "pause_volunteer": (COORDINATION, "pause, resume or end a volunteer's service"),
        "read_volunteer": (FIELD, "read a volunteer (their profile only while they consent)"),
        "record_consent": (
            COORDINATION,
            "record a volunteer's consent to a purpose (their profile, photos), or its withdrawal",
        ),
        "form_team": (COORDINATION, "form a volunteer team"),
        "manage_team": (COORDINATION, "add and remove members, change a team's leader"),
        "read_team": (FIELD, "read a team"),
        "raise_request": (RAISERS, "raise a service request for a resident"),
        "assign_request": (COORDINATION, "give a request to a team or a volunteer"),
        "work_request": (FIELD, "accept, decline, check in and out of a request"),
        "deliver_request": (FIELD, "record the beneficiary's feedback"),
        "cancel_request": (COORDINATION, "cancel a request"),
        "read_request": (RAISERS, "read a service request"),
        "schedule_activity": (COORDINATION, "schedule an activity with shifts"),
        "sign_up": (FIELD, "sign a volunteer up for a shift, or withdraw"),
        "record_attendance": (COORDINATION, "record who came to a shift"),
        "read_activity": (FIELD, "read an activity"),
        "approve_hours": (COORDINATION, "approve or reject a volunteer's hours"),
        "read_hours": (COORDINATION, "read a volunteer's hours"),
        "issue_certificate": (COORDINATION, "issue a certificate of service"),
        "read_certificate": (COORDINATION, "read a certificate of service"),
        "backdate": (
            COORDINATION,
            "record a request's work, a shift's attendance or an approval of hours dated in the "
            "past (from the coordinator's paper ledger); audited",
        ),
    },
)
