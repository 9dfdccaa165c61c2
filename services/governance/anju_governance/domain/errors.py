"""Governance's domain errors: each a specific type with a stable code."""

from __future__ import annotations

from eventkit.errors import Conflict, NotFound, Rejected


class MeetingNotFound(NotFound):
    code = "meeting_not_found"


class WorkItemNotFound(NotFound):
    code = "item_not_found"


class UnknownMeetingKind(Rejected):
    """A meeting kind the service is not configured with."""

    code = "unknown_meeting_kind"


class MeetingAlreadyExists(Conflict):
    code = "meeting_exists"


class WrongMeetingState(Conflict):
    """The meeting is not in a state that allows this step (not held yet, say)."""

    code = "wrong_meeting_state"


class MinutesConfirmedAlready(Conflict):
    """Confirmed minutes never change: record a correction instead."""

    code = "minutes_confirmed"


class NotTheConvener(Rejected):
    """Only the meeting's convener confirms its minutes and extends its items' deadlines."""

    code = "not_the_convener"


class UnknownDecision(Rejected):
    code = "unknown_decision"


class WrongItemState(Conflict):
    """The work item is not in a state that allows this step."""

    code = "wrong_item_state"


class DeadlineNotAhead(Rejected):
    """A deadline must lie ahead (and an extension beyond the deadline in force)."""

    code = "deadline_not_ahead"


class NotTheOwner(Rejected):
    """Only the owner organisation signs for an item."""

    code = "not_the_owner"


class OwnerMayNotVerify(Rejected):
    """验收 is done by someone other than the owner: not its liaison, nor who received it or
    reported it done."""

    code = "owner_may_not_verify"


class ReopenWindowPassed(Rejected):
    code = "reopen_window_passed"
