"""The integration service's domain errors: each a specific type with a stable code."""

from __future__ import annotations

from eventkit.errors import Conflict, NotFound, Rejected

# -- 12345 work orders -------------------------------------------------------------------------


class OrderNotFound(NotFound):
    code = "work_order_not_found"


class OrderNotParked(Conflict):
    code = "work_order_not_parked"


# -- tenancy notices of the housing security centre ---------------------------------------------


class NoticeNotFound(NotFound):
    code = "tenancy_notice_not_found"


class NoticeNotParked(Conflict):
    code = "tenancy_notice_not_parked"


class UnknownTenant(Rejected):
    code = "unknown_tenant"


class UnitRequired(Rejected):
    code = "unit_required"
