"""The read models the query API answers with."""

from __future__ import annotations

from datetime import date, datetime
from typing import Generic, Literal, TypeVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from anju_contracts.health import Programme, VisitKind
from anju_contracts.mediation import Category, Channel, Sensitivity, Tier
from anju_contracts.registry import AreaKind, FlagType, Relation, RiskTier, Sex
from anju_contracts.station import Outcome, Purpose, Referral, ServiceStatus
from anju_contracts.volunteering import PlanStopReason, RequestKind

T = TypeVar("T")

ResidentStatus = Literal["active", "moved_out", "deceased", "erased"]
FollowUpState = Literal["due", "overdue"]
DisputeStatus = Literal["open", "resolved", "closed"]
SlaState = Literal["on_track", "at_risk", "breached"]
PetitionStatus = Literal["registered", "forwarded", "accepted", "answered", "closed"]
HealthVisitState = Literal["due", "overdue"]
HealthRecordStatus = Literal["open", "closed"]
RequestStatus = Literal[
    "open", "assigned", "accepted", "in_progress", "finished", "delivered", "cancelled"
]


class ReadModel(BaseModel):
    model_config = ConfigDict(frozen=True)


class Page(ReadModel, Generic[T]):
    items: list[T]
    total: int
    limit: int
    offset: int


class FlagBadge(ReadModel):
    type: FlagType
    tier: RiskTier


class Location(ReadModel):
    """Where a resident lives, with the names of the area nodes (null until they are known)."""

    community_id: UUID
    community_name: str | None
    grid_id: UUID | None
    grid_name: str | None
    building_id: UUID | None
    building_name: str | None
    unit_id: UUID | None
    unit_name: str | None


class ResidentSummary(ReadModel):
    """One row of the resident directory."""

    id: UUID
    name: str
    sex: Sex
    date_of_birth: date | None
    age: int | None
    id_number: str | None
    """The date of birth, age and identity number are null once the person is erased."""
    status: ResidentStatus
    location: Location
    flags: list[FlagBadge]


class Flag(ReadModel):
    type: FlagType
    tier: RiskTier
    active: bool
    since: datetime
    last_review_at: datetime | None
    cleared_at: datetime | None
    note: str | None


class Visit(ReadModel):
    id: UUID
    visited_at: datetime
    grid_worker_id: str
    findings: str
    actions: str | None
    errands: list[str]


class HouseholdMember(ReadModel):
    resident_id: UUID
    name: str | None
    relation: Relation
    is_head: bool
    status: ResidentStatus | None


class Household(ReadModel):
    id: UUID
    head_resident_id: UUID
    members: list[HouseholdMember]


class FollowUp(ReadModel):
    """The resident's follow-up plan: the next visit and who visited last."""

    due_by: datetime | None
    interval_days: int | None
    state: FollowUpState | None
    stopped: bool
    last_visit_at: datetime | None
    grid_worker_id: str | None


class DisputeItem(ReadModel):
    id: UUID
    category: Category
    channel: Channel
    description: str
    tier: Tier
    status: DisputeStatus
    sensitivity: Sensitivity
    area_id: UUID
    community_id: UUID
    grid_id: UUID | None
    building_id: UUID | None
    registered_at: datetime
    sla_due_by: datetime | None
    sla_state: SlaState | None
    escalations: int
    mediators: list[str]
    resolved_at: datetime | None
    resolved_on_time: bool | None = None
    """Resolved by the SLA end of the tier it was resolved at, judged from business times (a
    breach the scheduler marked before a ledger's resolution arrived does not count); null while
    open, at ``external`` (no SLA), and for resolutions recorded before mediation said."""
    hotline_order_id: str | None = None
    """The 12345 work order the dispute answers (it, or the signal it came from, was opened for
    the order); null for any other dispute."""
    hotline_deadline: datetime | None = None
    """When the 12345 platform expects the order's reply."""
    reply_at_risk: bool = False
    """The order is not answered yet and its deadline is within the configured window (or has
    passed)."""


class PetitionItem(ReadModel):
    """A petition by proxy (信访代办); ``late`` once a deadline was missed or met late.

    Judged from business times: ``missed`` when a deadline passed before the fact that settled its
    stage (the acceptance, the answer, or a closing while it waited); a stage the scheduler marked
    missed and a ledger's fact then settled by its due time is not missed."""

    id: UUID
    resident_id: UUID
    agent_id: str
    community_id: UUID
    grid_id: UUID | None
    building_id: UUID | None
    subject: str
    department: str
    status: PetitionStatus
    registered_at: datetime
    due_by: datetime | None
    accepted_on_time: bool | None
    answered_at: datetime | None
    answered_on_time: bool | None
    missed: bool
    late: bool
    closed_at: datetime | None
    outcome: str | None


class OpenHealthVisit(ReadModel):
    """A programme's next visit, booked and not yet done, skipped or cancelled.

    ``programme`` is shown to doctors (and admins) only, ``None`` to everyone else: a
    chronic-disease programme names a diagnosis; the kind (check-up or follow-up) does not.
    """

    visit_id: UUID
    kind: VisitKind
    due_on: date
    overdue: bool
    programme: Programme | None


class HealthSection(ReadModel):
    """A resident's health record as the topic tells it: never anything clinical."""

    status: HealthRecordStatus
    opened_on: date
    closed_on: date | None
    health_station: str
    family_doctor_id: str | None
    open_visits: list[OpenHealthVisit]


class ReceivedService(ReadModel):
    """A service request raised for the resident (what was asked stays in volunteering)."""

    id: UUID
    kind: RequestKind
    status: RequestStatus
    raised_at: datetime
    delivered_at: datetime | None
    satisfaction: int | None
    """The resident's rating (1-5) once delivered."""


class CleaningPlan(ReadModel):
    """The monthly home cleaning of an elder living alone."""

    active: bool
    started_on: date
    stopped_on: date | None
    stop_reason: PlanStopReason | None


class ServicesSection(ReadModel):
    """The volunteer services a resident received, latest first."""

    requests: list[ReceivedService]
    cleaning_plan: CleaningPlan | None


class StationVisit(ReadModel):
    """A visit of the resident to the station's desk."""

    id: UUID
    logged_at: datetime
    purposes: list[Purpose]
    referred_by: Referral
    outcome: Outcome


class StationService(ReadModel):
    """A convenience service the station gave (or is giving) the resident."""

    id: UUID
    service_type: str
    status: ServiceStatus
    received_at: datetime
    accepted_at: datetime | None
    handed_off_at: datetime | None
    due_by: datetime | None
    overdue: bool
    completed_at: datetime | None
    refused_at: datetime | None
    satisfaction: int | None


class StationCertificate(ReadModel):
    """A residence certificate the station issued the resident."""

    id: UUID
    number: str
    status: Literal["valid", "revoked"]
    address: str
    living_since: date
    issued_on: date
    revoked_reason: str | None
    revoked_at: datetime | None


class StationSection(ReadModel):
    """The resident at the station's desk, latest first, as far as the caller's areas reach
    the desk that logged them."""

    receptions: list[StationVisit]
    services: list[StationService]
    certificates: list[StationCertificate] = []
    """Their residence certificates, valid or revoked (for the roles that read certificates)."""


class ResidentProfile(ReadModel):
    resident: ResidentSummary
    phone: str | None
    left_on: date | None
    registered_at: datetime
    household: Household | None
    flags: list[Flag]
    visits: list[Visit]
    follow_up: FollowUp | None
    disputes: list[DisputeItem] = []
    """The disputes the resident is a party to that the caller may see (sensitive ones only
    for their mediators, the director and admins)."""
    petitions: list[PetitionItem] = []
    """The petitions filed on the resident's behalf, within the caller's areas."""
    health: HealthSection | None = None
    """The resident's health record, for the roles that read health visits (``None`` when
    there is no record, or the caller's role reads none)."""
    services: ServicesSection | None = None
    """The service requests raised for the resident and their cleaning plan, for the roles that
    read service requests (``None`` when the caller's role reads none)."""
    station: StationSection | None = None
    """The resident's visits to the station and the convenience services it gave them, for the
    roles that read the station's receptions (``None`` when the caller's role reads none)."""


class FollowUpItem(ReadModel):
    resident_id: UUID
    name: str
    location: Location
    due_by: datetime
    state: FollowUpState
    grid_worker_id: str | None
    last_visit_at: datetime | None
    flags: list[FlagBadge]


class FollowUpGroup(ReadModel):
    """Counts for one grid and grid worker (``None``: nobody has visited yet)."""

    grid_id: UUID | None
    grid_name: str | None
    grid_worker_id: str | None
    due: int
    overdue: int


class FollowUpBoard(ReadModel):
    items: list[FollowUpItem]
    groups: list[FollowUpGroup]
    total: int
    limit: int
    offset: int


class FlagCount(ReadModel):
    type: FlagType
    tier: RiskTier
    count: int


class GridSummary(ReadModel):
    grid_id: UUID
    grid_name: str | None
    community_id: UUID | None
    community_name: str | None
    residents: int
    households: int
    flags: list[FlagCount]


class AreaSummary(ReadModel):
    grids: list[GridSummary]


class AreaNode(ReadModel):
    id: UUID
    kind: AreaKind
    name: str
    parent_id: UUID | None
    children: list[AreaNode]
