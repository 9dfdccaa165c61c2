"""The integration service's record of the housing security centre's tenancy notices.

Restricted: kept in the integration service's store, never published. A tenant appears only as
a keyed hash of their identity number (``id_hash``) and their place on the notice (``ref``,
``out-0``, ``in-1``): neither names nor numbers are stored here.

Stream ``tenancy_notice-<uuid>`` (the uuid derived from the message id): one message of
``inbound.housing.tenancies``, from receipt to the registry's move-ins and move-outs.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import ClassVar
from uuid import UUID

from pydantic import Field

from anju_contracts.base import Event, TolerantReader
from anju_contracts.housing import UnitReference


class TenancyChange(StrEnum):
    STARTED = "started"
    ENDED = "ended"
    TRANSFERRED = "transferred"


class NoticeTenant(TolerantReader):
    """A tenant of a notice: where they stand on it and the keyed hash of their number."""

    ref: str = Field(pattern=r"^(in|out)-[0-9]{1,2}$")
    id_hash: str = Field(min_length=16, max_length=128)


class ProblemKind(StrEnum):
    UNKNOWN_UNIT = "unknown_unit"
    AMBIGUOUS_UNIT = "ambiguous_unit"
    UNKNOWN_PERSON = "unknown_person"
    AMBIGUOUS_PERSON = "ambiguous_person"
    NOT_AT_UNIT = "not_at_unit"
    RECORD_CLOSED = "record_closed"
    REFUSED = "refused"


class Problem(TolerantReader):
    """Why a notice cannot go on by itself: what did not match exactly (``ref`` names the
    tenant, none for the unit), or what the registry refused."""

    kind: ProblemKind
    ref: str | None = None
    detail: str | None = Field(default=None, max_length=500)


class StepAction(StrEnum):
    REGISTERED = "registered"
    MOVED_IN = "moved_in"
    MOVED_OUT = "moved_out"


class TenancyNoticeReceived(Event):
    """A tenancy message of the housing security centre arrived (once per message id)."""

    event_type: ClassVar[str] = "integration.TenancyNoticeReceived"

    notice_id: UUID
    message_id: str
    change: TenancyChange
    tenancy_id: str
    unit: UnitReference
    moving_out: list[NoticeTenant] = Field(default_factory=list)
    moving_in: list[NoticeTenant] = Field(default_factory=list)
    effective_on: date


class TenancyNoticeParked(Event):
    """The notice waits for a desk clerk: something in it did not match exactly.

    ``community_ids`` (and ``grid_id`` when known) say who may see it: the unit's grid when the
    unit matched, else the communities the registry's housing security centres serve."""

    event_type: ClassVar[str] = "integration.TenancyNoticeParked"

    notice_id: UUID
    problems: list[Problem] = Field(min_length=1)
    community_ids: list[UUID] = Field(default_factory=list)
    grid_id: UUID | None = None


class TenancyNoticeMatched(Event):
    """A desk clerk named the unit and/or residents the notice means."""

    event_type: ClassVar[str] = "integration.TenancyNoticeMatched"

    notice_id: UUID
    unit_id: UUID | None = None
    residents: dict[str, UUID] = Field(default_factory=dict)
    """Tenant ``ref`` → the registry's resident."""


class TenancyStepTaken(Event):
    """The registry accepted one of the notice's move-ins or move-outs."""

    event_type: ClassVar[str] = "integration.TenancyStepTaken"

    notice_id: UUID
    ref: str
    action: StepAction
    resident_id: UUID


class TenancyNoticeApplied(Event):
    """Everything the notice asks of the registry is done (or was already so)."""

    event_type: ClassVar[str] = "integration.TenancyNoticeApplied"

    notice_id: UUID
    unit_id: UUID


class TenancyNoticeDismissed(Event):
    """A desk clerk decided the parked notice asks nothing of the registry."""

    event_type: ClassVar[str] = "integration.TenancyNoticeDismissed"

    notice_id: UUID
    reason: str = Field(min_length=1, max_length=500)


EVENTS: tuple[type[Event], ...] = (
    TenancyNoticeReceived,
    TenancyNoticeParked,
    TenancyNoticeMatched,
    TenancyStepTaken,
    TenancyNoticeApplied,
    TenancyNoticeDismissed,
)
