"""Events of the station: the one-stop service desk of the estate (一站式服务站).

Topic ``station.events``, key = stream id. Streams:

- ``reception-<uuid>``: one visit to the desk, logged in seconds by the staff on duty — who came
  (a registered resident, or an anonymous visitor), for what, who sent them, what came of it;
- ``service-<uuid>``: one convenience service (便民服务) from receipt to the resident's callback:
  documents checked, then either a *one-time notice* (一次性告知) listing everything missing at
  once, or accepted and handed off to the agency of record with a due date, completed or refused,
  and the callback's satisfaction. The elderly window's bill help records only that help
  happened, the bill type and the outcome — never an account number, password or payment detail;
- ``certificate-<uuid>``: a residence certificate (居住证明), issued from what the registry says
  (the resident lives at this unit since a date), verifiable by its number, revocable;
- ``gathering-<uuid>``: a lecture, a policy explanation, a civilisation-practice activity or an
  opinion-gathering session: topic, speaker, date, attendance;
- ``opinion-<uuid>``: an opinion raised at an opinion-gathering session, answered at the desk or
  referred to mediation (which reports a conflict signal linked to it) or to governance (a work
  item);
- ``roster-<uuid>``: who is on duty at the desk and at the party-member pioneer post on a day.

Every envelope's ``area`` is the community (or grid) the visit or service belongs to.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import Field

from anju_contracts.base import Event, EventCatalog, Personal, sealed_upcasters
from anju_contracts.registry import AreaPath

SOURCE = "station"


class Purpose(StrEnum):
    """Why a visitor came to the desk."""

    CONVENIENCE_SERVICE = "convenience_service"
    CERTIFICATE = "certificate"
    CONSULTATION = "consultation"
    """政策咨询"""
    COMPLAINT = "complaint"
    ELDERLY_WINDOW = "elderly_window"
    """老年人服务专窗"""
    LECTURE = "lecture"
    OTHER = "other"


class Referral(StrEnum):
    """Who sent the visitor."""

    SELF = "self"
    GRID_WORKER = "grid_worker"
    HOTLINE_12345 = "hotline_12345"
    PARTNER = "partner"
    OTHER = "other"


class Outcome(StrEnum):
    ANSWERED = "answered"
    SERVICE_STARTED = "service_started"
    REFERRED = "referred"
    APPOINTMENT = "appointment"
    OTHER = "other"


class ServiceStatus(StrEnum):
    RECEIVED = "received"
    NOTICE_ISSUED = "notice_issued"
    ACCEPTED = "accepted"
    HANDED_OFF = "handed_off"
    COMPLETED = "completed"
    REFUSED = "refused"


class BillType(StrEnum):
    """What the elderly window helped pay online (the type only, never an account)."""

    MEDICAL = "medical"
    WATER = "water"
    ELECTRICITY = "electricity"
    GAS = "gas"
    HEATING = "heating"
    MOBILE = "mobile"


class GatheringKind(StrEnum):
    """What the station held."""

    THEORY_LECTURE = "theory_lecture"
    """理论宣讲"""
    POLICY_EXPLANATION = "policy_explanation"
    """政策解读"""
    CIVILISATION_PRACTICE = "civilisation_practice"
    """文明实践"""
    OPINION_GATHERING = "opinion_gathering"
    """意见征求"""


class OpinionDestination(StrEnum):
    """Where the desk sent an opinion it could not answer itself."""

    MEDIATION = "mediation"
    """A tension between residents: mediation reports a conflict signal linked to the opinion."""
    GOVERNANCE = "governance"
    """A problem no single service solves: governance opens a work item linked to it."""


# -- receptions -----------------------------------------------------------------------------


class ReceptionLogged(Event):
    """A visit to the desk."""

    event_type: ClassVar[str] = "station.ReceptionLogged"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    reception_id: UUID
    resident_id: UUID | None = None
    """The registered resident who came; none for an anonymous visitor."""
    purposes: list[Purpose] = Field(min_length=1, max_length=8)
    referred_by: Referral
    outcome: Outcome
    path: AreaPath
    staff_id: str
    logged_at: datetime
    note: Annotated[str | None, Personal] = Field(default=None, max_length=500)


# -- convenience services -------------------------------------------------------------------


class ServiceReceived(Event):
    """A convenience service began at the desk: its type from the catalogue."""

    event_type: ClassVar[str] = "station.ServiceReceived"

    service_id: UUID
    service_type: str = Field(pattern=r"^[a-z][a-z0-9_]{1,49}$")
    resident_id: UUID | None = None
    reception_id: UUID | None = None
    path: AreaPath
    staff_id: str
    received_at: datetime
    bill_type: BillType | None = None
    """For the elderly window's bill help: the kind of bill, nothing more."""


class OneTimeNoticeIssued(Event):
    """一次性告知: everything missing, listed at once; the resident comes back with all of it."""

    event_type: ClassVar[str] = "station.OneTimeNoticeIssued"

    service_id: UUID
    notice_number: str
    missing: list[str] = Field(min_length=1, max_length=20)
    issued_at: datetime


class ServiceAccepted(Event):
    """The documents are complete: the service is accepted."""

    event_type: ClassVar[str] = "station.ServiceAccepted"

    service_id: UUID
    accepted_at: datetime


class ServiceHandedOff(Event):
    """Handed to the agency of record (an organisation the registry knows) to finish by a date."""

    event_type: ClassVar[str] = "station.ServiceHandedOff"

    service_id: UUID
    organisation_id: UUID
    handed_off_at: datetime
    due_by: datetime


class HandOffOverdue(Event):
    """The agency did not finish by its due date: recorded once."""

    event_type: ClassVar[str] = "station.HandOffOverdue"

    service_id: UUID
    organisation_id: UUID
    due_by: datetime


class ServiceCompleted(Event):
    """The service was delivered."""

    event_type: ClassVar[str] = "station.ServiceCompleted"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    service_id: UUID
    completed_at: datetime
    outcome: Annotated[str | None, Personal] = Field(default=None, max_length=500)


class ServiceRefused(Event):
    """The service cannot be given, with the reason."""

    event_type: ClassVar[str] = "station.ServiceRefused"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    service_id: UUID
    refused_at: datetime
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=500)


class CallbackRecorded(Event):
    """The desk called the resident back: how satisfied they are (1–5)."""

    event_type: ClassVar[str] = "station.CallbackRecorded"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    service_id: UUID
    satisfaction: int = Field(ge=1, le=5)
    called_at: datetime
    note: Annotated[str | None, Personal] = Field(default=None, max_length=500)


# -- residence certificates ------------------------------------------------------------------


class ResidenceCertificateIssued(Event):
    """A residence certificate (居住证明): the holder lives at the address since a date, as the
    registry says. Anyone holding the number can check it is valid."""

    event_type: ClassVar[str] = "station.ResidenceCertificateIssued"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    certificate_id: UUID
    number: str = Field(pattern=r"^ANJU-R-[0-9]{4}-[0-9A-F]{8}$")
    resident_id: UUID
    holder_name: Annotated[str, Personal] = Field(min_length=1, max_length=50)
    address: Annotated[str, Personal] = Field(min_length=1, max_length=300)
    """The unit as the registry names it: community, building, unit."""
    community_name: str = Field(min_length=1, max_length=100)
    living_since: date
    purpose: Annotated[str | None, Personal] = Field(default=None, max_length=200)
    path: AreaPath
    issued_by: str
    issued_on: date


class ResidenceCertificateRevoked(Event):
    """The certificate no longer holds (issued in error, or the holder asked); checking its
    number says so."""

    event_type: ClassVar[str] = "station.ResidenceCertificateRevoked"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    certificate_id: UUID
    number: str
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=500)
    revoked_by: str
    revoked_at: datetime


# -- lectures, activities and opinions ---------------------------------------------------------


class GatheringHeld(Event):
    """A lecture, policy explanation, civilisation-practice activity or opinion-gathering
    session held by the station."""

    event_type: ClassVar[str] = "station.GatheringHeld"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    gathering_id: UUID
    kind: GatheringKind
    topic: str = Field(min_length=1, max_length=200)
    speaker: Annotated[str | None, Personal] = Field(default=None, max_length=100)
    held_on: date
    attendance: int = Field(ge=0, le=100_000)
    partner_id: UUID | None = None
    """A partner organisation of the registry that co-hosted it."""
    path: AreaPath
    recorded_by: str
    recorded_at: datetime


class OpinionRaised(Event):
    """An opinion raised by a resident at an opinion-gathering session."""

    event_type: ClassVar[str] = "station.OpinionRaised"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    opinion_id: UUID
    gathering_id: UUID
    text: Annotated[str, Personal] = Field(min_length=1, max_length=2000)
    resident_id: UUID | None = None
    path: AreaPath
    recorded_by: str
    raised_at: datetime


class OpinionAnswered(Event):
    """The desk answered the opinion itself."""

    event_type: ClassVar[str] = "station.OpinionAnswered"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    opinion_id: UUID
    reply: Annotated[str, Personal] = Field(min_length=1, max_length=2000)
    answered_by: str
    answered_at: datetime


class OpinionReferred(Event):
    """The opinion went to another service, which links what it opens to ``opinion_id``:
    mediation reports a conflict signal, governance opens a work item."""

    event_type: ClassVar[str] = "station.OpinionReferred"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    opinion_id: UUID
    gathering_id: UUID
    to: OpinionDestination
    text: Annotated[str, Personal] = Field(min_length=1, max_length=2000)
    resident_id: UUID | None = None
    path: AreaPath
    referred_by: str
    referred_at: datetime
    note: Annotated[str | None, Personal] = Field(default=None, max_length=500)


# -- duty roster -----------------------------------------------------------------------------


class DutyRosterSet(Event):
    """Who is on duty on a day, at the desk and at the pioneer post; a later one for the same
    community and day replaces it.

    ``desk``: the clerks' staff ids; ``pioneer_post``: the party members' names (personal)."""

    event_type: ClassVar[str] = "station.DutyRosterSet"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    roster_id: UUID
    day: date
    desk: list[str] = Field(max_length=20)
    pioneer_post: list[Annotated[str, Personal]] = Field(max_length=20)
    path: AreaPath
    set_by: str
    set_at: datetime


EVENTS: tuple[type[Event], ...] = (
    ReceptionLogged,
    ServiceReceived,
    OneTimeNoticeIssued,
    ServiceAccepted,
    ServiceHandedOff,
    HandOffOverdue,
    ServiceCompleted,
    ServiceRefused,
    CallbackRecorded,
    ResidenceCertificateIssued,
    ResidenceCertificateRevoked,
    GatheringHeld,
    OpinionRaised,
    OpinionAnswered,
    OpinionReferred,
    DutyRosterSet,
)

SEALED: tuple[type[Event], ...] = (
    ReceptionLogged,
    ServiceCompleted,
    ServiceRefused,
    CallbackRecorded,
    ResidenceCertificateIssued,
    ResidenceCertificateRevoked,
    GatheringHeld,
    OpinionRaised,
    OpinionAnswered,
    OpinionReferred,
    DutyRosterSet,
)
"""The events whose personal fields are sealed since version 2 (docs/personal-data.md): v1
held them in clear, and reads as v2 unchanged."""

CATALOG = EventCatalog(SOURCE, EVENTS, upcasters=sealed_upcasters(SEALED))
