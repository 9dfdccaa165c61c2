"""What each role may do in the health service (admins may do everything; areas decide where).

Clinical data is for doctors: the doctors of the health station whose area covers the resident.
The severe-mental-disorder programme is further protected: only the doctors who manage the
patient see it, any other doctor only by breaking the glass. Grid workers and desk staff learn
that a check-up or visit is due from the query service, never a diagnosis or a reading; directors
see counts there, and review every break-the-glass here. Doctors bring in what their paper
ledgers hold (check-ups, follow-ups, clinic days), so they may back-date (``backdate``, audited).
"""

from __future__ import annotations

from anju_contracts.health import SOURCE
from eventkit.access import Permissions
from eventkit.auth import Role

DOCTOR = (Role.DOCTOR,)
CARE_TEAM = (Role.DOCTOR, Role.DIRECTOR)
"""Who names a resident's health station and family doctor."""
EVENTS_DESK = (Role.DOCTOR, Role.DESK_STAFF, Role.DIRECTOR)
"""Who records a clinic day or health activity held at the station or elsewhere."""

PERMISSIONS = Permissions.of(
    SOURCE,
    {
        "open_record": (DOCTOR, "open a resident's health record"),
        "assign_doctor": (CARE_TEAM, "name a resident's health station and family doctor"),
        "read_record": (DOCTOR, "read a health record with its clinical chart (audited)"),
        "record_allergy": (DOCTOR, "record an allergy"),
        "diagnose": (DOCTOR, "put a coded diagnosis (ICD-10) on the chart"),
        "resolve_condition": (DOCTOR, "take a resolved condition off the chart"),
        "enrol": (DOCTOR, "enrol a resident in a programme"),
        "leave_programme": (DOCTOR, "take a resident out of a programme"),
        "record_encounter": (DOCTOR, "record a check-up or visit and book the next"),
        "skip_visit": (DOCTOR, "skip a visit with a reason (the next is booked)"),
        "reschedule_visit": (
            (Role.DOCTOR, Role.DESK_STAFF),
            "move a visit to another day with a reason",
        ),
        "enrol_protected": (DOCTOR, "enrol a patient in severe-mental-disorder care"),
        "read_protected": (DOCTOR, "read protected care one manages, or after breaking the glass"),
        "record_protected_visit": (DOCTOR, "record a protected-care follow-up and its risk grade"),
        "reschedule_protected_visit": (DOCTOR, "move a protected-care follow-up"),
        "break_glass": (
            DOCTOR,
            "open protected care one does not manage, with a reason and an expiry (audited)",
        ),
        "read_glass_breaks": ((Role.DIRECTOR,), "review who broke the glass, when and why"),
        "read_audit": (
            (Role.DIRECTOR,),
            "review who read which health record or protected care, when and why",
        ),
        "record_activity": (EVENTS_DESK, "record a clinic day or health activity"),
        "record_attendance": (
            EVENTS_DESK,
            "record someone's attendance at an activity (linked to them only with consent) and "
            "see whom attendances are linked to",
        ),
        "record_consent": (
            EVENTS_DESK,
            "record a resident's consent to their attendance being linked to them, or its "
            "withdrawal",
        ),
        "read_activity": (
            (Role.DOCTOR, Role.DESK_STAFF, Role.DIRECTOR, Role.GRID_WORKER),
            "read a health activity",
        ),
        "backdate": (
            CARE_TEAM,
            "record a check-up, visit, enrolment or clinic day dated in the past (from the "
            "doctor's paper ledger); audited",
        ),
    },
)
