"""The registry's domain errors: each a specific type with a stable code the edge turns into JSON."""

from __future__ import annotations

from eventkit.errors import Conflict, Duplicate, NotFound, Rejected

# -- areas -------------------------------------------------------------------------------------


class AreaNotFound(NotFound):
    code = "area_not_found"


class WrongParentKind(Rejected):
    code = "wrong_parent_kind"


class UnitRequired(Rejected):
    code = "unit_required"


# -- residents ---------------------------------------------------------------------------------


class ResidentNotFound(NotFound):
    code = "resident_not_found"


class ResidentInactive(Rejected):
    """The resident moved out or died: their record accepts no more changes."""

    code = "resident_inactive"


class AlreadyErased(Conflict):
    """The person's data was erased already: nothing is left to erase."""

    code = "resident_erased"


class InvalidIdNumber(Rejected):
    code = "invalid_id_number"


class DuplicateIdNumber(Duplicate):
    """Another resident is registered with this identity number (``details.resident_id``)."""


class NothingToChange(Rejected):
    code = "nothing_to_change"


class SameUnit(Rejected):
    code = "same_unit"


# -- households --------------------------------------------------------------------------------


class HouseholdNotFound(NotFound):
    code = "household_not_found"


class ResidentNotAtUnit(Rejected):
    code = "resident_not_at_unit"


class AlreadyMember(Duplicate):
    code = "already_member"


class NotMember(NotFound):
    code = "not_member"


class HeadRelationReserved(Rejected):
    code = "head_relation_reserved"


class HeadMustBeMember(Rejected):
    code = "head_must_be_member"


class HeadMustChangeFirst(Rejected):
    code = "head_must_change_first"


class AlreadyHead(Rejected):
    code = "already_head"


# -- partner organisations ---------------------------------------------------------------------


class OrganisationNotFound(NotFound):
    code = "organisation_not_found"


class OrganisationRetiredAlready(Rejected):
    """A retired organisation accepts no more changes."""

    code = "organisation_retired"


class NotACommunity(Rejected):
    """An organisation serves communities: a grid, building or unit was named instead."""

    code = "not_a_community"


# -- special groups and follow-up --------------------------------------------------------------


class FlagAlreadyRaised(Duplicate):
    code = "flag_already_raised"


class FlagNotRaised(NotFound):
    code = "flag_not_raised"


class NoActiveFlag(Rejected):
    code = "no_active_flag"


class ReasonRequired(Rejected):
    code = "reason_required"
