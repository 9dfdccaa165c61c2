"""Errors as values: what went wrong, as a stable code and details, with no HTTP in sight.

A decider raises a :class:`DomainError` subclass; the edge (``eventkit.http``) maps its
:class:`Kind` to a status in one table. This module imports nothing but the standard library,
so importing a service's domain never loads a web framework, a database driver or metrics.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any, ClassVar


class Kind(StrEnum):
    """What sort of failure an error is; the edge answers each with one HTTP status."""

    INVALID = "invalid"  # the request itself is malformed (400)
    UNAUTHENTICATED = "unauthenticated"  # no or a bad credential (401)
    FORBIDDEN = "forbidden"  # the caller's role may not do this at all (403)
    NOT_FOUND = "not_found"  # no such record, or none the caller may see (404)
    CONFLICT = "conflict"  # clashes with the current state: a duplicate, a moved version (409)
    TOO_LARGE = "too_large"  # the request body is over the limit (413)
    REJECTED = "rejected"  # well-formed, but breaks a business rule (422)
    OVERLOADED = "overloaded"  # too much in flight; try again shortly (503)
    UNAVAILABLE = "unavailable"  # a dependency is down; try again shortly (503)


class DomainError(Exception):
    """An expected failure with a stable machine-readable ``code`` and free-form ``details``.

    Subclasses set ``kind`` and ``code``; the message is for people.
    """

    kind: ClassVar[Kind] = Kind.REJECTED
    code: ClassVar[str] = "rule_violated"

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details


class Invalid(DomainError):
    kind = Kind.INVALID
    code = "bad_request"


class BadDateRange(Invalid):
    """A period that ends before it starts."""

    code = "bad_date_range"


class Unauthorized(DomainError):
    kind = Kind.UNAUTHENTICATED
    code = "unauthorized"


class Forbidden(DomainError):
    kind = Kind.FORBIDDEN
    code = "forbidden"


class NotFound(DomainError):
    kind = Kind.NOT_FOUND
    code = "not_found"


class Conflict(DomainError):
    kind = Kind.CONFLICT
    code = "conflict"


class Duplicate(DomainError):
    kind = Kind.CONFLICT
    code = "duplicate"


class Rejected(DomainError):
    """A command that breaks a business rule (the request itself was well-formed)."""

    kind = Kind.REJECTED
    code = "rule_violated"


class Unavailable(DomainError):
    kind = Kind.UNAVAILABLE
    code = "unavailable"


# -- what a service knows of the registry (``eventkit.known``) ------------------------------------


class AreaNotFound(NotFound):
    """The area is not (yet) known here: a service learns areas from the registry's events."""

    code = "area_not_found"


class OrganisationNotFound(NotFound):
    """The partner organisation is not known here, is retired, or serves no community the
    caller covers: a service learns organisations from the registry's events."""

    code = "organisation_not_found"


class UnknownResident(Rejected):
    """A command names a resident the registry never registered, or one the caller may not see."""

    code = "unknown_resident"
