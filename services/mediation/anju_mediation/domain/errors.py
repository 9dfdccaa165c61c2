"""Mediation's domain errors: each a specific type with a stable code the edge turns into JSON."""

from __future__ import annotations

from eventkit.errors import (
    AreaNotFound as AreaNotFound,
    Duplicate,
    NotFound,
    Rejected,
    UnknownResident as UnknownResident,
)

# -- what commands refer to ----------------------------------------------------------------------
# AreaNotFound and UnknownResident are the kernel's (eventkit.known raises them), re-exported here.


class DuplicateParty(Rejected):
    code = "duplicate_party"


class AdHocPartyIncomplete(Rejected):
    code = "ad_hoc_party_incomplete"


class SignalNotFound(NotFound):
    code = "signal_not_found"


class DisputeNotFound(NotFound):
    code = "dispute_not_found"


class PetitionNotFound(NotFound):
    code = "petition_not_found"


class SignalAlreadyHandled(Rejected):
    code = "signal_already_handled"


# -- disputes ------------------------------------------------------------------------------------


class CannotEscalate(Rejected):
    """Escalation moves a dispute up; it never stays or goes down."""

    code = "cannot_escalate"


class DisputeClosed(Rejected):
    """A closed dispute accepts no further work except a reopening within the window."""

    code = "dispute_closed"


class DisputeNotOpen(Rejected):
    code = "dispute_not_open"


class DisputeNotResolved(Rejected):
    code = "dispute_not_resolved"


class BeforeTierEntered(Rejected):
    """A resolution or escalation dated before the dispute entered its tier by a person's act
    (registration, reopening, escalation by hand): it contradicts the record."""

    code = "occurred_before_tier_entered"


class ReopenWindowPassed(Rejected):
    code = "reopen_window_passed"


class AgreementNeedsTwoParties(Rejected):
    code = "agreement_needs_two_parties"


class UnknownParty(Rejected):
    code = "unknown_party"


class NoAgreement(Rejected):
    code = "no_agreement"


class AlreadyAssigned(Duplicate):
    code = "already_assigned"


class NotAssigned(NotFound):
    code = "mediator_not_assigned"


class SessionNotFound(NotFound):
    code = "session_not_found"


class SessionAlreadyHeld(Duplicate):
    code = "session_already_held"


class PlaceRequired(Rejected):
    code = "place_required"


class ReferralNotFound(NotFound):
    code = "referral_not_found"


class AlreadyAnswered(Duplicate):
    code = "already_answered"


class MediationNotFailed(Rejected):
    """A referral follows a failed mediation."""

    code = "mediation_not_failed"


class AlreadyAgreed(Rejected):
    code = "already_agreed"


# -- petitions -----------------------------------------------------------------------------------


class PetitionOutOfOrder(Rejected):
    """Forwarded, accepted, answered, closed: in that order."""

    code = "petition_out_of_order"


class PetitionClosed(Rejected):
    code = "petition_closed"
