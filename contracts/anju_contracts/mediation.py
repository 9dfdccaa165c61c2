"""Events of mediation: tensions spotted on patrol, disputes and their tiers, petitions by proxy.

Topic ``mediation.events``, key = stream id. Streams:

- ``signal-<uuid>``: a conflict signal (未诉先办) reported on patrol, dismissed or turned into
  a dispute;
- ``dispute-<uuid>``: a dispute's whole life — registration at a tier, escalations (and
  automatic ones withdrawn when a fact brought in later predates them), SLA warnings and
  breaches, mediators, sessions, agreement or failure and referral, follow-up,
  return visit (回访), resolution, closing and reopening, and the erasure of its personal
  data when its retention period ends;
- ``petition-<uuid>``: a petition a petition agent (信访代办员) carries on a resident's behalf.

Every envelope's ``area`` is the grid the fact belongs to (the community when the location is
the community itself), so the street office or the 12345 platform can follow a dispute from the
topic alone and scope it without looking anything up. Sensitive disputes carry
``sensitivity = sensitive``: consumers must show them only to the assigned mediators and the
director.

Tiers go up, never down: building → grid → community → external (琐事不出楼栋、小事不出网格、
大事不出社区). Each tier but ``external`` has an SLA counted from when the dispute entered it.
The one way back is ``DisputeEscalationsWithdrawn``: escalations the scheduler made on the clock
give way to a resolution or an escalation by hand dated before them (a paper ledger brought in).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from anju_contracts.base import Event, EventCatalog, Personal, sealed_upcasters

# Location is the registry's concept, re-exported where mediation's events first defined it.
from anju_contracts.registry import AreaPath, ErasureBasis, Location as Location

SOURCE = "mediation"


class ReporterRole(StrEnum):
    GRID_WORKER = "grid_worker"
    BUILDING_LEAD = "building_lead"
    VOLUNTEER_POLICE = "volunteer_police"
    DESK_STAFF = "desk_staff"
    """The station's desk, passing on an opinion a resident raised there."""


class Channel(StrEnum):
    """How a dispute reached the community."""

    GRID_PATROL = "grid_patrol"
    WALK_IN = "walk_in"
    POLICE_POINT = "police_point"
    LAW_ENFORCEMENT_POINT = "law_enforcement_point"
    HOTLINE_12345 = "hotline_12345"
    PETITION = "petition"


class Category(StrEnum):
    NOISE = "noise"
    WATER_LEAK = "water_leak"
    PARKING = "parking"
    SHARED_SPACE = "shared_space"
    PETS = "pets"
    PROPERTY_FEES = "property_fees"
    FAMILY_ELDER_CARE = "family_elder_care"
    TENANCY = "tenancy"
    NEIGHBOUR_CONFLICT = "neighbour_conflict"
    OTHER = "other"


class Tier(StrEnum):
    """Where a dispute is being handled; the order of the members is the order of escalation."""

    BUILDING = "building"
    GRID = "grid"
    COMMUNITY = "community"
    EXTERNAL = "external"

    @property
    def rank(self) -> int:
        return list(Tier).index(self)


class Sensitivity(StrEnum):
    STANDARD = "standard"
    SENSITIVE = "sensitive"


class PartyRole(StrEnum):
    APPLICANT = "applicant"
    RESPONDENT = "respondent"
    AFFECTED = "affected"


class MediatorRole(StrEnum):
    GRID_WORKER = "grid_worker"
    PEOPLES_MEDIATOR = "peoples_mediator"
    POLICE_MEDIATOR = "police_mediator"
    LAW_ENFORCEMENT_OFFICER = "law_enforcement_officer"
    VOLUNTEER_MEDIATOR = "volunteer_mediator"
    LAWYER = "lawyer"


class SessionPlace(StrEnum):
    FENGQIAO_HUT = "fengqiao_hut"  # 枫桥小屋
    POLICE_POINT = "police_point"
    STATION = "station"
    ON_SITE = "on_site"


class ReferralTarget(StrEnum):
    POLICE = "police"
    COURT = "court"
    HOUSING_SECURITY_CENTRE = "housing_security_centre"
    PROPERTY_COMPANY = "property_company"


class PetitionStage(StrEnum):
    ACCEPTANCE = "acceptance"
    ANSWER = "answer"


class Party(BaseModel):
    """A party to a dispute: a registered resident (``resident_id``) or an ad-hoc party.

    An ad-hoc party has a name and a contact; ``party_id`` names the party within the dispute.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    party_id: UUID
    role: PartyRole
    resident_id: UUID | None = None
    name: Annotated[str | None, Personal] = Field(default=None, max_length=100)
    contact: Annotated[str | None, Personal] = Field(default=None, max_length=100)


class AgreementTerm(BaseModel):
    """Who does what, by when."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    party_id: UUID
    action: Annotated[str, Personal] = Field(min_length=1, max_length=1000)
    due_by: datetime | None = None


class Satisfaction(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    party_id: UUID
    score: int = Field(ge=1, le=5)


# -- conflict signals (未诉先办) ----------------------------------------------------------------


class SignalOrigin(BaseModel):
    """The record of another service a signal came from: ``station`` / ``opinion`` / its id."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: str = Field(pattern=r"^[a-z][a-z0-9_]{1,49}$")
    record: str = Field(pattern=r"^[a-z][a-z0-9_]{1,49}$")
    id: UUID


class ConflictSignalReported(Event):
    """A grid worker, building lead or volunteer police reported a tension before anyone
    complained: where, what kind, and who is involved if known."""

    event_type: ClassVar[str] = "mediation.ConflictSignalReported"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    signal_id: UUID
    reporter_id: str
    reporter_role: ReporterRole
    location: Location
    category: Category
    description: Annotated[str, Personal] = Field(min_length=1, max_length=4000)
    involved_resident_ids: list[UUID] = Field(default_factory=list)
    reported_at: datetime
    origin: SignalOrigin | None = None
    """Set when another service's record became this signal (an opinion raised at the station)."""


class ConflictSignalDismissed(Event):
    """The signal needs no dispute (it calmed down, or was a misunderstanding)."""

    event_type: ClassVar[str] = "mediation.ConflictSignalDismissed"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    signal_id: UUID
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=1000)


class ConflictSignalConverted(Event):
    """The signal was turned into the dispute ``dispute_id``."""

    event_type: ClassVar[str] = "mediation.ConflictSignalConverted"

    signal_id: UUID
    dispute_id: UUID


# -- disputes --------------------------------------------------------------------------------


class DisputeRegistered(Event):
    """A dispute was registered (from a signal or directly) at its first tier.

    ``sla_due_by`` is when the tier's SLA ends (null at ``external``), counted from
    ``registered_at``.
    """

    event_type: ClassVar[str] = "mediation.DisputeRegistered"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    dispute_id: UUID
    signal_id: UUID | None = None
    channel: Channel
    category: Category
    description: Annotated[str, Personal] = Field(min_length=1, max_length=4000)
    location: Location
    parties: list[Party] = Field(min_length=1)
    sensitivity: Sensitivity
    tier: Tier
    registered_at: datetime
    sla_due_by: datetime | None


class DisputeEscalated(Event):
    """The dispute moved up a tier (by hand, or ``automatic`` after an SLA breach).

    The SLA of the new tier runs from ``escalated_at`` to ``sla_due_by`` (null at ``external``).
    """

    event_type: ClassVar[str] = "mediation.DisputeEscalated"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    dispute_id: UUID
    from_tier: Tier
    to_tier: Tier
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=1000)
    automatic: bool = False
    escalated_at: datetime
    sla_due_by: datetime | None


class DisputeEscalationsWithdrawn(Event):
    """Automatic escalations (after SLA breaches) no longer stand: a fact dated before them —
    a resolution or an escalation by hand brought in from a paper ledger — shows the dispute
    was still being worked at ``tier`` then, its SLA not run out by that time.

    The scheduler escalated on the clock, without the ledger's fact; ``withdrawn`` names the
    tiers those escalations had moved it to, in order. The dispute is back at ``tier``, entered at
    ``tier_entered_at`` with its SLA due by ``sla_due_by``, as before them; the fact that
    withdrew them (dated ``superseded_at``) follows in the same command.
    """

    event_type: ClassVar[str] = "mediation.DisputeEscalationsWithdrawn"

    dispute_id: UUID
    tier: Tier
    tier_entered_at: datetime
    sla_due_by: datetime | None
    withdrawn: list[Tier] = Field(min_length=1, max_length=len(Tier))
    superseded_at: datetime


class DisputeSlaAtRisk(Event):
    """A quarter of the tier's SLA time is left and the dispute is not resolved."""

    event_type: ClassVar[str] = "mediation.DisputeSlaAtRisk"

    dispute_id: UUID
    tier: Tier
    due_by: datetime


class DisputeSlaBreached(Event):
    """The tier's SLA ended and the dispute is not resolved."""

    event_type: ClassVar[str] = "mediation.DisputeSlaBreached"

    dispute_id: UUID
    tier: Tier
    due_by: datetime


class MediatorAssigned(Event):
    """A mediator (staff id) was assigned to the dispute in a role."""

    event_type: ClassVar[str] = "mediation.MediatorAssigned"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    dispute_id: UUID
    mediator_id: str = Field(min_length=1, max_length=100)
    role: MediatorRole
    name: Annotated[str | None, Personal] = Field(default=None, max_length=100)


class MediatorUnassigned(Event):
    """A mediator no longer works on the dispute (reassigned, or stepped back)."""

    event_type: ClassVar[str] = "mediation.MediatorUnassigned"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    dispute_id: UUID
    mediator_id: str
    reason: Annotated[str | None, Personal] = Field(default=None, max_length=1000)


class MediationSessionScheduled(Event):
    """A mediation session was planned at a place and time."""

    event_type: ClassVar[str] = "mediation.MediationSessionScheduled"

    dispute_id: UUID
    session_id: UUID
    scheduled_for: datetime
    place: SessionPlace


class MediationSessionHeld(Event):
    """A mediation session took place: who attended, and the minutes."""

    event_type: ClassVar[str] = "mediation.MediationSessionHeld"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    dispute_id: UUID
    session_id: UUID
    held_at: datetime
    place: SessionPlace
    attendees: list[Annotated[str, Personal]] = Field(min_length=1)
    minutes: Annotated[str, Personal] = Field(min_length=1, max_length=8000)


class AgreementReached(Event):
    """The parties agreed: the terms, and the parties who confirmed it (at least two)."""

    event_type: ClassVar[str] = "mediation.AgreementReached"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    dispute_id: UUID
    agreement_id: UUID
    terms: list[AgreementTerm] = Field(min_length=1)
    confirmed_by: list[UUID] = Field(min_length=2)
    reached_at: datetime


class MediationFailed(Event):
    """Mediation did not bring the parties to an agreement."""

    event_type: ClassVar[str] = "mediation.MediationFailed"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    dispute_id: UUID
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=2000)


class DisputeReferred(Event):
    """The dispute was referred to the police, a court, the housing security centre or the
    property company."""

    event_type: ClassVar[str] = "mediation.DisputeReferred"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    dispute_id: UUID
    referral_id: UUID
    to: ReferralTarget
    note: Annotated[str | None, Personal] = Field(default=None, max_length=2000)
    referred_at: datetime


class ReferralAnswered(Event):
    """The body a dispute was referred to answered."""

    event_type: ClassVar[str] = "mediation.ReferralAnswered"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    dispute_id: UUID
    referral_id: UUID
    answer: Annotated[str, Personal] = Field(min_length=1, max_length=4000)
    answered_at: datetime


class AgreementFollowedUp(Event):
    """Someone checked whether the agreement was carried out."""

    event_type: ClassVar[str] = "mediation.AgreementFollowedUp"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    dispute_id: UUID
    agreement_id: UUID
    carried_out: bool
    note: Annotated[str | None, Personal] = Field(default=None, max_length=2000)
    checked_at: datetime


class ReturnVisitRecorded(Event):
    """A return visit (回访) to the parties, with each asked party's satisfaction (1–5)."""

    event_type: ClassVar[str] = "mediation.ReturnVisitRecorded"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    dispute_id: UUID
    visited_at: datetime
    satisfaction: list[Satisfaction] = Field(min_length=1)
    note: Annotated[str | None, Personal] = Field(default=None, max_length=2000)


class DisputeResolved(Event):
    """The dispute was resolved at ``tier``; ``reopen_until`` ends the window to reopen it.

    ``on_time``: resolved (``resolved_at``, business time) by the end of that tier's SLA — even
    if the scheduler had marked the SLA breached before the resolution was brought in; null at
    ``external``, which has no SLA, and in events recorded before it was said.
    """

    event_type: ClassVar[str] = "mediation.DisputeResolved"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    dispute_id: UUID
    tier: Tier
    outcome: Annotated[str, Personal] = Field(min_length=1, max_length=2000)
    resolved_at: datetime
    reopen_until: datetime
    on_time: bool | None = None


class DisputeClosed(Event):
    """The dispute's file was closed; only a reopening within the window changes it now."""

    event_type: ClassVar[str] = "mediation.DisputeClosed"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    dispute_id: UUID
    note: Annotated[str | None, Personal] = Field(default=None, max_length=2000)
    closed_at: datetime


class DisputeReopened(Event):
    """A resolved dispute was reopened within its window; its tier's SLA starts again."""

    event_type: ClassVar[str] = "mediation.DisputeReopened"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    dispute_id: UUID
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=2000)
    tier: Tier
    reopened_at: datetime
    sla_due_by: datetime | None


class DisputeErased(Event):
    """A closed dispute's personal data was erased when its retention period ended: the keys
    of the dispute's record (its description, notes, minutes, outcome and ad-hoc parties) and of
    the signal it came from are destroyed, so every copy reads as erased (``[已删除]`` or null).
    Read models blank their clear copies of the dispute (and of the signal). Parties who are
    registered residents keep their own keys: what is theirs stays until they are erased.
    Tiers, dates, outcomes' timing and counts remain.

    Nothing personal travels here.
    """

    event_type: ClassVar[str] = "mediation.DisputeErased"

    dispute_id: UUID
    signal_id: UUID | None = None
    basis: ErasureBasis


# -- petitions by proxy (信访代办) ---------------------------------------------------------------


class PetitionProxied(Event):
    """A petition agent registered a petition on a resident's behalf, for a department."""

    event_type: ClassVar[str] = "mediation.PetitionProxied"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    petition_id: UUID
    agent_id: str
    resident_id: UUID
    path: AreaPath
    subject: Annotated[str, Personal] = Field(min_length=1, max_length=500)
    department: str = Field(min_length=1, max_length=200)
    registered_at: datetime


class PetitionForwarded(Event):
    """The petition went to its department, which must accept it by ``acceptance_due_by``."""

    event_type: ClassVar[str] = "mediation.PetitionForwarded"

    petition_id: UUID
    forwarded_at: datetime
    acceptance_due_by: datetime


class PetitionAccepted(Event):
    """The department accepted the petition and must answer by ``answer_due_by``."""

    event_type: ClassVar[str] = "mediation.PetitionAccepted"

    petition_id: UUID
    accepted_at: datetime
    on_time: bool
    answer_due_by: datetime


class PetitionAnswered(Event):
    """The department answered the petition."""

    event_type: ClassVar[str] = "mediation.PetitionAnswered"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    petition_id: UUID
    answered_at: datetime
    answer: Annotated[str, Personal] = Field(min_length=1, max_length=4000)
    on_time: bool


class PetitionDeadlineMissed(Event):
    """The department did not accept (or answer) the petition by its deadline."""

    event_type: ClassVar[str] = "mediation.PetitionDeadlineMissed"

    petition_id: UUID
    stage: PetitionStage
    due_by: datetime


class PetitionClosed(Event):
    """The petition agent closed the petition with its outcome."""

    event_type: ClassVar[str] = "mediation.PetitionClosed"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    petition_id: UUID
    outcome: Annotated[str, Personal] = Field(min_length=1, max_length=2000)
    closed_at: datetime


EVENTS: tuple[type[Event], ...] = (
    ConflictSignalReported,
    ConflictSignalDismissed,
    ConflictSignalConverted,
    DisputeRegistered,
    DisputeEscalated,
    DisputeEscalationsWithdrawn,
    DisputeSlaAtRisk,
    DisputeSlaBreached,
    MediatorAssigned,
    MediatorUnassigned,
    MediationSessionScheduled,
    MediationSessionHeld,
    AgreementReached,
    MediationFailed,
    DisputeReferred,
    ReferralAnswered,
    AgreementFollowedUp,
    ReturnVisitRecorded,
    DisputeResolved,
    DisputeClosed,
    DisputeReopened,
    DisputeErased,
    PetitionProxied,
    PetitionForwarded,
    PetitionAccepted,
    PetitionAnswered,
    PetitionDeadlineMissed,
    PetitionClosed,
)

SEALED: tuple[type[Event], ...] = (
    ConflictSignalReported,
    ConflictSignalDismissed,
    DisputeRegistered,
    DisputeEscalated,
    MediatorAssigned,
    MediatorUnassigned,
    MediationSessionHeld,
    AgreementReached,
    MediationFailed,
    DisputeReferred,
    ReferralAnswered,
    AgreementFollowedUp,
    ReturnVisitRecorded,
    DisputeResolved,
    DisputeClosed,
    DisputeReopened,
    PetitionProxied,
    PetitionAnswered,
    PetitionClosed,
)
"""The events whose personal fields are sealed since version 2 (docs/personal-data.md): v1
held them in clear, and reads as v2 unchanged."""

CATALOG = EventCatalog(SOURCE, EVENTS, upcasters=sealed_upcasters(SEALED))
