"""The volunteering service's domain errors: each a specific type with a stable code."""

from __future__ import annotations

from eventkit.errors import Conflict, Duplicate, NotFound, Rejected


class VolunteerNotFound(NotFound):
    code = "volunteer_not_found"


class VolunteerNotActive(Rejected):
    """A paused or departed volunteer takes no new request or shift."""

    code = "volunteer_not_active"


class VolunteerAlreadyLeft(Rejected):
    code = "volunteer_already_left"


class OrganisationRequired(Rejected):
    """An in-service party member names the organisation they report back to."""

    code = "organisation_required"


class NothingToChange(Rejected):
    code = "nothing_to_change"


class TeamNotFound(NotFound):
    code = "team_not_found"


class AlreadyMember(Duplicate):
    code = "already_member"


class NotMember(NotFound):
    code = "not_member"


class LeaderMustStay(Rejected):
    """The leader leaves the team only after another member leads it."""

    code = "leader_must_stay"


class RequestNotFound(NotFound):
    code = "request_not_found"


class WrongRequestState(Conflict):
    """The request is not in a state that allows this step (a finished request is not accepted)."""

    code = "wrong_request_state"


class NotTheAssignee(Rejected):
    """Only the volunteer the request was given to (or a member of its team) takes it up."""

    code = "not_the_assignee"


class AssigneeRequired(Rejected):
    code = "assignee_required"


class ActivityNotFound(NotFound):
    code = "activity_not_found"


class ShiftNotFound(NotFound):
    code = "shift_not_found"


class ShiftFull(Rejected):
    code = "shift_full"


class AlreadySignedUp(Duplicate):
    code = "already_signed_up"


class NotSignedUp(NotFound):
    code = "not_signed_up"


class ShiftNotOver(Rejected):
    """Attendance is recorded once the shift has begun."""

    code = "shift_not_started"


class BadShift(Rejected):
    code = "bad_shift"


class EntryNotFound(NotFound):
    code = "hours_entry_not_found"


class EntryDecided(Conflict):
    """The hours were approved or rejected already."""

    code = "hours_already_decided"


class NoApprovedHours(Rejected):
    code = "no_approved_hours"


class BadPeriod(Rejected):
    code = "bad_period"


class CertificateNotFound(NotFound):
    code = "certificate_not_found"
