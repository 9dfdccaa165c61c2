"""The health service's domain errors: each a specific type with a stable code."""

from __future__ import annotations

from eventkit.errors import Duplicate, NotFound, Rejected


class RecordNotFound(NotFound):
    """No such resident, or none the caller may see, or no health record: one answer for the
    three, so that it never tells them apart."""

    code = "health_record_not_found"


class RecordAlreadyOpen(Duplicate):
    code = "health_record_already_open"


class RecordClosed(Rejected):
    code = "health_record_closed"


class RecordNotClosed(Rejected):
    code = "health_record_not_closed"


class AlreadyEnrolled(Duplicate):
    code = "already_enrolled"


class NotEnrolled(NotFound):
    code = "not_enrolled"


class DiagnosisRequired(Rejected):
    """A chronic-disease programme needs the disease on the chart first."""

    code = "diagnosis_required"


class VisitNotFound(NotFound):
    code = "visit_not_found"


class NotDueYet(Rejected):
    code = "not_due_yet"


class ImplausibleReading(Rejected):
    """A reading outside what a living person can show (a typo, a wrong unit)."""

    code = "implausible_reading"


class NothingObserved(Rejected):
    code = "nothing_observed"


class ConditionAlreadyActive(Duplicate):
    code = "condition_already_active"


class ConditionNotActive(NotFound):
    code = "condition_not_active"


class ProtectedCareNotFound(NotFound):
    code = "protected_care_not_found"


class NotAProtectedDiagnosis(Rejected):
    code = "not_a_protected_diagnosis"


class ActivityNotFound(NotFound):
    code = "activity_not_found"


class NotEligible(Rejected):
    code = "not_eligible"
