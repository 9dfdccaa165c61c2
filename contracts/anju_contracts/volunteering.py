"""Events of volunteering: volunteers and party members, teams, service requests from need to
delivered, activities with shifts, hours approved by a coordinator, certificates of service.

Topic ``volunteering.events``, key = stream id. Streams:

- ``volunteer-<uuid>``: a volunteer — a grid worker, an in-service party member (在职党员, who
  reports for duty where they live and is employed by a host organisation elsewhere), a
  registered party member (报到党员), a resident volunteer or a volunteer police officer (义警员) —
  joining, changing, pausing, resuming and leaving;
- ``team-<uuid>``: a volunteer team (党支部 + 网格 + 志愿服务队) with its purpose, leader, members and
  partner organisations;
- ``request-<uuid>``: a service request (a need, 微心愿) for a resident, from raised to delivered
  with the beneficiary's feedback;
- ``plan-<resident uuid>``: the monthly home cleaning of a resident flagged as an elder living
  alone, started and stopped by the registry's flags;
- ``activity-<uuid>``: a themed party day, a "practical things for the people" day or a patrol,
  with shifts, sign-ups and attendance;
- ``ledger-<volunteer uuid>``: a volunteer's hours, each recorded from a finished request or an
  attended shift, counting only once a coordinator approves it;
- ``certificate-<uuid>``: a certificate of service, verifiable by its number.

Every envelope's ``area`` is the grid (or community) the fact belongs to: the resident's home
for a request, the place a volunteer serves, a team's or an activity's area.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from anju_contracts.base import Event, EventCatalog, Personal, sealed_upcasters
from anju_contracts.registry import AreaPath

SOURCE = "volunteering"


class VolunteerKind(StrEnum):
    GRID_WORKER = "grid_worker"
    IN_SERVICE_PARTY_MEMBER = "in_service_party_member"
    """在职党员: employed by a host organisation, reports for duty where they live (双报到)."""
    REGISTERED_PARTY_MEMBER = "registered_party_member"
    """报到党员"""
    RESIDENT_VOLUNTEER = "resident_volunteer"
    VOLUNTEER_POLICE = "volunteer_police"
    """义警员: patrols and helps mediate."""


class TeamPurpose(StrEnum):
    CLEANING = "cleaning"
    HARDSHIP_AID = "hardship_aid"
    POLICY_OUTREACH = "policy_outreach"
    OPINION_COLLECTION = "opinion_collection"
    MEDIATION = "mediation"
    PATROL = "patrol"


class RequestKind(StrEnum):
    HOME_CLEANING = "home_cleaning"
    """入户清扫"""
    HARDSHIP_AID = "hardship_aid"
    """困难救助"""
    POLICY_EXPLANATION = "policy_explanation"
    """惠民政策宣讲"""
    ERRAND = "errand"
    COMPANIONSHIP = "companionship"
    REPAIR = "repair"
    OTHER = "other"


class RaisedBy(StrEnum):
    STAFF = "staff"
    """A grid worker, desk staff or coordinator on the resident's behalf."""
    ELDERLY_ALONE_PLAN = "elderly_alone_plan"
    """The monthly cleaning of an elder living alone (a policy on the registry's flags)."""


class DeclineReason(StrEnum):
    UNAVAILABLE = "unavailable"
    TOO_FAR = "too_far"
    NOT_QUALIFIED = "not_qualified"
    RESIDENT_REFUSED = "resident_refused"
    OTHER = "other"


class RequestCancelReason(StrEnum):
    WITHDRAWN = "withdrawn"
    NO_LONGER_NEEDED = "no_longer_needed"
    PLAN_STOPPED = "plan_stopped"
    RESIDENT_LEFT = "resident_left"


class PlanStopReason(StrEnum):
    FLAG_CLEARED = "flag_cleared"
    MOVED_OUT = "moved_out"
    DIED = "died"


class VolunteerActivityKind(StrEnum):
    THEMED_PARTY_DAY = "themed_party_day"
    """主题党日"""
    PRACTICAL_THINGS_DAY = "practical_things_day"
    """我为群众办实事"""
    PATROL = "patrol"
    OTHER = "other"


class HoursSource(StrEnum):
    REQUEST = "request"
    SHIFT = "shift"


# -- volunteers -----------------------------------------------------------------------------


class VolunteerJoined(Event):
    """A volunteer joined: where they serve, and the resident or organisation they are."""

    event_type: ClassVar[str] = "volunteering.VolunteerJoined"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    volunteer_id: UUID
    kind: VolunteerKind
    name: Annotated[str, Personal] = Field(min_length=1, max_length=50)
    resident_id: UUID | None = None
    """The resident they are, when they live here."""
    organisation_id: UUID | None = None
    """The host organisation (an in-service party member's employer), as the registry knows it."""
    path: AreaPath
    """The community and grid they serve."""
    skills: list[str] = Field(default_factory=list, max_length=20)
    availability: str | None = Field(default=None, max_length=200)
    joined_on: date


class VolunteerChanged(Event):
    """A volunteer's skills, availability or place of service changed (only what changed)."""

    event_type: ClassVar[str] = "volunteering.VolunteerChanged"

    volunteer_id: UUID
    skills: list[str] | None = Field(default=None, max_length=20)
    availability: str | None = Field(default=None, max_length=200)
    path: AreaPath | None = None


class VolunteerPaused(Event):
    """The volunteer takes a break (no new requests or shifts meanwhile)."""

    event_type: ClassVar[str] = "volunteering.VolunteerPaused"

    volunteer_id: UUID
    paused_on: date


class VolunteerResumed(Event):
    """The volunteer is back from a break."""

    event_type: ClassVar[str] = "volunteering.VolunteerResumed"

    volunteer_id: UUID
    resumed_on: date


class VolunteerLeft(Event):
    """The volunteer left; their approved hours and certificates stay."""

    event_type: ClassVar[str] = "volunteering.VolunteerLeft"

    volunteer_id: UUID
    left_on: date


# -- consent -------------------------------------------------------------------------------


class VolunteerConsentPurpose(StrEnum):
    """What a volunteer consents to, where consent is the legal basis."""

    PROFILE = "profile"
    """Their profile (name, skills, availability) shown to other staff and volunteers."""
    PHOTOS = "photos"
    """Photos of them at activities kept and shown."""


class VolunteerConsentGiven(Event):
    """The volunteer gave their consent for ``purpose`` (joining counts as consent to the
    profile until they withdraw it)."""

    event_type: ClassVar[str] = "volunteering.VolunteerConsentGiven"

    volunteer_id: UUID
    purpose: VolunteerConsentPurpose
    given_on: date
    path: AreaPath


class VolunteerConsentWithdrawn(Event):
    """The volunteer withdrew their consent for ``purpose``: what it covered stops (their
    profile is no longer shown to others; no photo of them is kept)."""

    event_type: ClassVar[str] = "volunteering.VolunteerConsentWithdrawn"

    volunteer_id: UUID
    purpose: VolunteerConsentPurpose
    withdrawn_on: date
    path: AreaPath


# -- teams ----------------------------------------------------------------------------------


class TeamFormed(Event):
    """A volunteer team formed with its purpose, leader and partner organisations."""

    event_type: ClassVar[str] = "volunteering.TeamFormed"

    team_id: UUID
    name: str = Field(min_length=1, max_length=100)
    purpose: TeamPurpose
    path: AreaPath
    leader_id: UUID
    partner_organisation_ids: list[UUID] = Field(default_factory=list, max_length=20)


class TeamMemberJoined(Event):
    """A volunteer joined the team."""

    event_type: ClassVar[str] = "volunteering.TeamMemberJoined"

    team_id: UUID
    volunteer_id: UUID


class TeamMemberLeft(Event):
    """A volunteer left the team."""

    event_type: ClassVar[str] = "volunteering.TeamMemberLeft"

    team_id: UUID
    volunteer_id: UUID


class TeamLeaderChanged(Event):
    """The team has a new leader (one of its members)."""

    event_type: ClassVar[str] = "volunteering.TeamLeaderChanged"

    team_id: UUID
    leader_id: UUID


# -- service requests -----------------------------------------------------------------------


class ServiceRequestRaised(Event):
    """A resident's need, raised on their behalf; it must be taken up by ``respond_by``."""

    event_type: ClassVar[str] = "volunteering.ServiceRequestRaised"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    request_id: UUID
    resident_id: UUID
    kind: RequestKind
    description: Annotated[str, Personal] = Field(min_length=1, max_length=1000)
    path: AreaPath
    raised_by: RaisedBy
    staff_id: str | None = None
    """Who raised it (staff), or none (the elderly-alone plan)."""
    period: str | None = Field(default=None, pattern=r"^[0-9]{4}-[0-9]{2}$")
    """The month a planned request is for (``2026-11``)."""
    raised_at: datetime
    respond_by: datetime


class ServiceRequestAssigned(Event):
    """A coordinator gave the request to a team or a volunteer."""

    event_type: ClassVar[str] = "volunteering.ServiceRequestAssigned"

    request_id: UUID
    team_id: UUID | None = None
    volunteer_id: UUID | None = None
    assigned_at: datetime


class ServiceRequestAccepted(Event):
    """A volunteer took the request up."""

    event_type: ClassVar[str] = "volunteering.ServiceRequestAccepted"

    request_id: UUID
    volunteer_id: UUID
    accepted_at: datetime


class ServiceRequestDeclined(Event):
    """The volunteer or team it was given to declined; it is open for assignment again."""

    event_type: ClassVar[str] = "volunteering.ServiceRequestDeclined"

    request_id: UUID
    volunteer_id: UUID | None = None
    team_id: UUID | None = None
    reason: DeclineReason
    declined_at: datetime


class ServiceRequestResponseOverdue(Event):
    """Nobody took the request up by ``respond_by``: the coordinator is to act. Recorded once."""

    event_type: ClassVar[str] = "volunteering.ServiceRequestResponseOverdue"

    request_id: UUID
    respond_by: datetime


class ServiceRequestStarted(Event):
    """The volunteer checked in at the resident's home (or wherever the service is)."""

    event_type: ClassVar[str] = "volunteering.ServiceRequestStarted"

    request_id: UUID
    volunteer_ids: list[UUID] = Field(min_length=1, max_length=20)
    checked_in_at: datetime


class ServiceRequestFinished(Event):
    """The volunteers checked out; each is credited ``hours`` (to be approved)."""

    event_type: ClassVar[str] = "volunteering.ServiceRequestFinished"

    request_id: UUID
    volunteer_ids: list[UUID] = Field(min_length=1, max_length=20)
    checked_out_at: datetime
    hours: float = Field(gt=0, le=24)


class ServiceRequestDelivered(Event):
    """The beneficiary's feedback closed the request."""

    event_type: ClassVar[str] = "volunteering.ServiceRequestDelivered"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    request_id: UUID
    satisfaction: int = Field(ge=1, le=5)
    feedback: Annotated[str | None, Personal] = Field(default=None, max_length=1000)
    delivered_at: datetime


class ServiceRequestCancelled(Event):
    """The request will not be served."""

    event_type: ClassVar[str] = "volunteering.ServiceRequestCancelled"

    request_id: UUID
    reason: RequestCancelReason
    cancelled_at: datetime


# -- the elderly-alone cleaning plan ------------------------------------------------------------


class CleaningPlanStarted(Event):
    """A resident flagged as an elder living alone gets a home-cleaning request every month."""

    event_type: ClassVar[str] = "volunteering.CleaningPlanStarted"

    resident_id: UUID
    path: AreaPath
    started_on: date


class CleaningPlanStopped(Event):
    """The monthly cleaning stopped: the flag was cleared, or the resident left."""

    event_type: ClassVar[str] = "volunteering.CleaningPlanStopped"

    resident_id: UUID
    reason: PlanStopReason
    stopped_on: date


# -- activities -----------------------------------------------------------------------------


class Shift(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    shift_id: UUID
    starts_at: datetime
    ends_at: datetime
    capacity: int = Field(ge=1, le=500)


class VolunteerActivityScheduled(Event):
    """A themed party day, a practical-things day or a patrol, with its shifts."""

    event_type: ClassVar[str] = "volunteering.VolunteerActivityScheduled"

    activity_id: UUID
    kind: VolunteerActivityKind
    title: str = Field(min_length=1, max_length=200)
    path: AreaPath
    team_id: UUID | None = None
    shifts: list[Shift] = Field(min_length=1, max_length=50)


class ShiftSignedUp(Event):
    """A volunteer signed up for a shift."""

    event_type: ClassVar[str] = "volunteering.ShiftSignedUp"

    activity_id: UUID
    shift_id: UUID
    volunteer_id: UUID


class ShiftSignUpWithdrawn(Event):
    """A volunteer withdrew from a shift before it began."""

    event_type: ClassVar[str] = "volunteering.ShiftSignUpWithdrawn"

    activity_id: UUID
    shift_id: UUID
    volunteer_id: UUID


class ShiftAttendanceRecorded(Event):
    """Whether a signed-up volunteer came (a no-show is ``attended = false``, 0 hours)."""

    event_type: ClassVar[str] = "volunteering.ShiftAttendanceRecorded"

    activity_id: UUID
    shift_id: UUID
    volunteer_id: UUID
    attended: bool
    hours: float = Field(ge=0, le=24)


# -- hours and certificates -----------------------------------------------------------------


class HoursRecorded(Event):
    """Hours of a finished request or an attended shift, waiting for a coordinator's approval."""

    event_type: ClassVar[str] = "volunteering.HoursRecorded"

    entry_id: UUID
    volunteer_id: UUID
    source: HoursSource
    source_id: UUID
    """The request or the activity the hours come from."""
    hours: float = Field(gt=0, le=24)
    served_on: date
    organisation_id: UUID | None = None
    """The volunteer's host organisation, for its quarterly report."""


class HoursApproved(Event):
    """A coordinator approved the hours: from now on they count."""

    event_type: ClassVar[str] = "volunteering.HoursApproved"

    entry_id: UUID
    volunteer_id: UUID
    approved_by: str
    approved_on: date


class HoursRejected(Event):
    """A coordinator rejected the hours, with a reason; they never count."""

    event_type: ClassVar[str] = "volunteering.HoursRejected"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    entry_id: UUID
    volunteer_id: UUID
    rejected_by: str
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=500)


class CertificateIssued(Event):
    """A certificate of service for a volunteer and period; anyone can verify its number."""

    event_type: ClassVar[str] = "volunteering.CertificateIssued"

    certificate_id: UUID
    number: str = Field(pattern=r"^ANJU-V-[0-9]{4}-[0-9A-F]{8}$")
    volunteer_id: UUID
    path: AreaPath
    """Where the volunteer serves (who may read the certificate)."""
    period_from: date
    period_to: date
    hours: float = Field(ge=0)
    services: int = Field(ge=0)
    content: str = Field(min_length=1, max_length=500)
    issuer: str = Field(min_length=1, max_length=100)
    issued_on: date


EVENTS: tuple[type[Event], ...] = (
    VolunteerJoined,
    VolunteerConsentGiven,
    VolunteerConsentWithdrawn,
    VolunteerChanged,
    VolunteerPaused,
    VolunteerResumed,
    VolunteerLeft,
    TeamFormed,
    TeamMemberJoined,
    TeamMemberLeft,
    TeamLeaderChanged,
    ServiceRequestRaised,
    ServiceRequestAssigned,
    ServiceRequestAccepted,
    ServiceRequestDeclined,
    ServiceRequestResponseOverdue,
    ServiceRequestStarted,
    ServiceRequestFinished,
    ServiceRequestDelivered,
    ServiceRequestCancelled,
    CleaningPlanStarted,
    CleaningPlanStopped,
    VolunteerActivityScheduled,
    ShiftSignedUp,
    ShiftSignUpWithdrawn,
    ShiftAttendanceRecorded,
    HoursRecorded,
    HoursApproved,
    HoursRejected,
    CertificateIssued,
)

SEALED: tuple[type[Event], ...] = (
    VolunteerJoined,
    ServiceRequestRaised,
    ServiceRequestDelivered,
    HoursRejected,
)
"""The events whose personal fields are sealed since version 2 (docs/personal-data.md): v1
held them in clear, and reads as v2 unchanged."""

CATALOG = EventCatalog(SOURCE, EVENTS, upcasters=sealed_upcasters(SEALED))
