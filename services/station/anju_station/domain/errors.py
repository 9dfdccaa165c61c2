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
