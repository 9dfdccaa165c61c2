"""The station's domain errors: each a specific type with a stable code."""

from __future__ import annotations

from eventkit.errors import Conflict, NotFound, Rejected


class ReceptionNotFound(NotFound):
    code = "reception_not_found"


class ServiceNotFound(NotFound):
    code = "service_not_found"


class UnknownServiceType(Rejected):
    """A service type that is not in the community's catalogue."""

    code = "unknown_service_type"


class WrongServiceState(Conflict):
    """The service is not in a state that allows this step."""

    code = "wrong_service_state"


class PaymentDetailsRefused(Rejected):
    """The desk never records account numbers, passwords or payment details."""

    code = "payment_details_refused"


class BillTypeRequired(Rejected):
    code = "bill_type_required"


class CertificateNotFound(NotFound):
    code = "certificate_not_found"


class NotLivingHere(Conflict):
    """A residence certificate for a resident who moved out or died."""

    code = "resident_not_living_here"


class ResidenceUnknown(Conflict):
    """The station has not learnt the resident's name and address from the registry."""

    code = "residence_unknown"


class CertificateRevoked(Conflict):
    code = "certificate_revoked"


class GatheringNotFound(NotFound):
    code = "gathering_not_found"


class OpinionNotFound(NotFound):
    code = "opinion_not_found"


class NotAnOpinionGathering(Conflict):
    """Opinions are recorded at opinion-gathering sessions only."""

    code = "not_an_opinion_gathering"


class OpinionSettled(Conflict):
    """The opinion was already answered or referred."""

    code = "opinion_settled"


class HeldInFuture(Rejected):
    code = "held_in_future"


class RosterNotFound(NotFound):
    code = "roster_not_found"


class DayOutOfRange(Rejected):
    code = "day_out_of_range"
