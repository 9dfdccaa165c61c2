"""Events of the registry: the people and places of a community, and who needs looking after.

Topic ``registry.events``, key = stream id. Streams:

- ``area-<uuid>``: one node of the area tree (community → grid → building → unit);
- ``resident-<uuid>``: a resident's registration and life events;
- ``household-<uuid>``: a household at a unit and its members;
- ``care-<resident uuid>``: a resident's special-group flags and grid-worker follow-up visits;
- ``organisation-<uuid>``: a partner organisation the community works with (master data).

Every envelope's ``area`` is the grid the fact belongs to (the community for a community or grid
node; the first community served for an organisation), so consumers can scope by grid without
looking anything up. ``AreaPath`` repeats the whole
path for the same reason. Flags carry a type and a risk tier, never a diagnosis.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from anju_contracts.base import Event, EventCatalog, Personal, sealed_upcasters

SOURCE = "registry"


class AreaKind(StrEnum):
    COMMUNITY = "community"
    GRID = "grid"
    BUILDING = "building"
    UNIT = "unit"


class Sex(StrEnum):
    FEMALE = "female"
    MALE = "male"


class FlagType(StrEnum):
    ELDERLY_ALONE = "elderly_alone"
    MENTAL_DISORDER = "mental_disorder"
    DISABILITY = "disability"
    LOW_INCOME = "low_income"


class RiskTier(StrEnum):
    """Red needs the closest watch, blue the least."""

    RED = "red"
    YELLOW = "yellow"
    BLUE = "blue"


class Relation(StrEnum):
    HEAD = "head"
    SPOUSE = "spouse"
    CHILD = "child"
    PARENT = "parent"
    GRANDCHILD = "grandchild"
    GRANDPARENT = "grandparent"
    SIBLING = "sibling"
    OTHER = "other"


class OrganisationKind(StrEnum):
    """The partners a community's party branch works with."""

    PAIRED_UNIT = "paired_unit"  # 包联单位
    HOUSING_SECURITY_CENTRE = "housing_security_centre"  # 住房保障中心
    PROPERTY_COMPANY = "property_company"  # 物业服务企业
    POLICE_STATION = "police_station"  # 派出所
    LAW_ENFORCEMENT_TEAM = "law_enforcement_team"  # 综合执法队
    HEALTH_CENTRE = "health_centre"  # 社区卫生服务中心
    EMPLOYER = "employer"  # 在职党员的工作单位
    OTHER = "other"


class AreaPath(BaseModel):
    """Where something is in the area tree; the ids below the known level are null."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    community_id: UUID
    grid_id: UUID | None = None
    building_id: UUID | None = None
    unit_id: UUID | None = None


class Location(BaseModel):
    """An area of the registry's tree where something happened, with its whole path."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    area_id: UUID
    kind: AreaKind
    path: AreaPath


# -- areas -----------------------------------------------------------------------------------


class AreaCreated(Event):
    """A node of the area tree was created under its parent (a community has no parent)."""

    event_type: ClassVar[str] = "registry.AreaCreated"

    area_id: UUID
    kind: AreaKind
    name: str = Field(min_length=1, max_length=100)
    parent_id: UUID | None
    path: AreaPath


# -- residents -------------------------------------------------------------------------------


class ResidentRegistered(Event):
    """A person was registered as living at a unit.

    ``id_number`` is the 18-character resident identity number; it is personal data, and
    consumers must show it masked except to roles that need it.
    """

    event_type: ClassVar[str] = "registry.ResidentRegistered"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    resident_id: UUID
    name: Annotated[str, Personal] = Field(min_length=1, max_length=50)
    sex: Sex
    date_of_birth: Annotated[date | None, Personal]
    """Null once the person is erased (docs/personal-data.md), as is ``id_number``."""
    id_number: Annotated[str | None, Personal] = Field(pattern=r"^[0-9]{17}[0-9X]$")
    phone: Annotated[str | None, Personal] = None
    path: AreaPath


class ResidentDetailsCorrected(Event):
    """Registered details were corrected; only the fields that changed are present."""

    event_type: ClassVar[str] = "registry.ResidentDetailsCorrected"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    resident_id: UUID
    name: Annotated[str | None, Personal] = Field(default=None, min_length=1, max_length=50)
    sex: Sex | None = None
    date_of_birth: Annotated[date | None, Personal] = None
    id_number: Annotated[str | None, Personal] = Field(default=None, pattern=r"^[0-9]{17}[0-9X]$")
    phone: Annotated[str | None, Personal] = None
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=500)


class ResidentMoved(Event):
    """The resident moved to another unit (within the estate)."""

    event_type: ClassVar[str] = "registry.ResidentMoved"

    resident_id: UUID
    from_path: AreaPath
    to_path: AreaPath


class ResidentMovedOut(Event):
    """The resident left the estate."""

    event_type: ClassVar[str] = "registry.ResidentMovedOut"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    resident_id: UUID
    moved_out_on: date
    reason: Annotated[str | None, Personal] = Field(default=None, max_length=500)


class ResidentDied(Event):
    """The resident died."""

    event_type: ClassVar[str] = "registry.ResidentDied"

    resident_id: UUID
    died_on: date


class ErasureBasis(StrEnum):
    """Why a person's data was erased."""

    SUBJECT_REQUEST = "subject_request"
    """The person asked (the right to erasure)."""
    RETENTION = "retention"
    """The retention period of their records ended (the scheduler erases them)."""
    OTHER = "other"


class PersonErased(Event):
    """A person's personal data was erased across Anju: their key is destroyed, so every copy
    of their personal fields, in every store, topic and replay, reads as erased (``[已删除]`` or
    null). Every service follows it: it destroys the keys of its own records that name the
    person and blanks its read models. Ids, dates and counts remain, so figures stay right.

    Nothing personal travels here; who erased is the envelope's actor, and the reason they gave
    stays with the registry. The year of birth alone stays, in clear: the age-based figures (the
    elderly programme's coverage counts who turns 65 in a year) need it, and once the name, the
    date and the identity number are gone it points at no one.
    """

    event_type: ClassVar[str] = "registry.PersonErased"

    resident_id: UUID
    basis: ErasureBasis
    birth_year: int | None = Field(default=None, ge=1870, le=2200)
    """The person's year of birth, when the registry knew it (added after version 1 was
    published: absent in the first erasures)."""


# -- households ------------------------------------------------------------------------------


class HouseholdFormed(Event):
    """A household was formed at a unit with its head."""

    event_type: ClassVar[str] = "registry.HouseholdFormed"

    household_id: UUID
    head_resident_id: UUID
    path: AreaPath


class HouseholdMemberAdded(Event):
    """A resident joined a household, with their relation to the head."""

    event_type: ClassVar[str] = "registry.HouseholdMemberAdded"

    household_id: UUID
    resident_id: UUID
    relation: Relation


class HouseholdMemberRemoved(Event):
    """A resident left a household."""

    event_type: ClassVar[str] = "registry.HouseholdMemberRemoved"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    household_id: UUID
    resident_id: UUID
    reason: Annotated[str | None, Personal] = Field(default=None, max_length=500)


class HouseholdHeadChanged(Event):
    """Another member became the head of the household."""

    event_type: ClassVar[str] = "registry.HouseholdHeadChanged"

    household_id: UUID
    previous_head_id: UUID
    new_head_id: UUID


# -- special groups and follow-up visits (网格代办) ----------------------------------------------


class SpecialGroupFlagRaised(Event):
    """A resident was flagged as belonging to a special group, with a risk tier.

    Carries the type of group only; diagnoses stay with the health service.
    """

    event_type: ClassVar[str] = "registry.SpecialGroupFlagRaised"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    resident_id: UUID
    flag: FlagType
    tier: RiskTier
    note: Annotated[str | None, Personal] = Field(default=None, max_length=1000)


class RiskTierChanged(Event):
    """A flag's risk tier was changed on review."""

    event_type: ClassVar[str] = "registry.RiskTierChanged"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    resident_id: UUID
    flag: FlagType
    from_tier: RiskTier
    to_tier: RiskTier
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=1000)


class SpecialGroupFlagReviewed(Event):
    """A flag was reviewed and kept as it is."""

    event_type: ClassVar[str] = "registry.SpecialGroupFlagReviewed"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    resident_id: UUID
    flag: FlagType
    note: Annotated[str | None, Personal] = Field(default=None, max_length=1000)


class SpecialGroupFlagCleared(Event):
    """A flag no longer applies."""

    event_type: ClassVar[str] = "registry.SpecialGroupFlagCleared"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    resident_id: UUID
    flag: FlagType
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=1000)


class FollowUpVisitPlanned(Event):
    """The next follow-up visit is due by ``due_by`` (set by the closest-watched flag's tier)."""

    event_type: ClassVar[str] = "registry.FollowUpVisitPlanned"

    resident_id: UUID
    due_by: datetime
    interval_days: int = Field(ge=1)
    grid_id: UUID


class FollowUpVisitRecorded(Event):
    """A grid worker visited the resident: what they found, did, and took on for them."""

    event_type: ClassVar[str] = "registry.FollowUpVisitRecorded"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    resident_id: UUID
    visit_id: UUID
    visited_at: datetime
    grid_worker_id: str
    findings: Annotated[str, Personal] = Field(min_length=1, max_length=4000)
    actions: Annotated[str | None, Personal] = Field(default=None, max_length=4000)
    errands: list[Annotated[str, Personal]] = Field(default_factory=list, max_length=20)


class FollowUpVisitOverdue(Event):
    """The planned visit did not happen by its due time."""

    event_type: ClassVar[str] = "registry.FollowUpVisitOverdue"

    resident_id: UUID
    due_by: datetime
    grid_id: UUID


class FollowUpStopped(Event):
    """Follow-up visits stopped: no flag is left, or the resident moved out or died."""

    event_type: ClassVar[str] = "registry.FollowUpStopped"

    resident_id: UUID
    reason: str


# -- partner organisations -----------------------------------------------------------------------


class Liaison(BaseModel):
    """A person at a partner organisation whom the community deals with, and their role there."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: Annotated[str, Personal] = Field(min_length=1, max_length=50)
    role: str = Field(min_length=1, max_length=50)
    phone: Annotated[str | None, Personal] = Field(default=None, max_length=30)


class OrganisationRegistered(Event):
    """A partner organisation was registered, with the communities it serves or works with
    (the first is where its facts are scoped) and the people the community deals with there."""

    event_type: ClassVar[str] = "registry.OrganisationRegistered"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    organisation_id: UUID
    kind: OrganisationKind
    name: str = Field(min_length=1, max_length=100)
    community_ids: list[UUID] = Field(min_length=1, max_length=50)
    liaisons: list[Liaison] = Field(default_factory=list, max_length=20)


class OrganisationChanged(Event):
    """A partner organisation's name, communities or liaisons changed; only what changed is
    present, and a list that is present replaces the old one whole."""

    event_type: ClassVar[str] = "registry.OrganisationChanged"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    organisation_id: UUID
    name: str | None = Field(default=None, min_length=1, max_length=100)
    community_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=50)
    liaisons: list[Liaison] | None = Field(default=None, max_length=20)


class OrganisationRetired(Event):
    """The community no longer works with the organisation: services stop offering it, and
    what already refers to it keeps its id."""

    event_type: ClassVar[str] = "registry.OrganisationRetired"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    organisation_id: UUID
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=500)


EVENTS: tuple[type[Event], ...] = (
    AreaCreated,
    ResidentRegistered,
    ResidentDetailsCorrected,
    ResidentMoved,
    ResidentMovedOut,
    ResidentDied,
    PersonErased,
    HouseholdFormed,
    HouseholdMemberAdded,
    HouseholdMemberRemoved,
    HouseholdHeadChanged,
    SpecialGroupFlagRaised,
    RiskTierChanged,
    SpecialGroupFlagReviewed,
    SpecialGroupFlagCleared,
    FollowUpVisitPlanned,
    FollowUpVisitRecorded,
    FollowUpVisitOverdue,
    FollowUpStopped,
    OrganisationRegistered,
    OrganisationChanged,
    OrganisationRetired,
)

SEALED: tuple[type[Event], ...] = (
    ResidentRegistered,
    ResidentDetailsCorrected,
    ResidentMovedOut,
    HouseholdMemberRemoved,
    SpecialGroupFlagRaised,
    RiskTierChanged,
    SpecialGroupFlagReviewed,
    SpecialGroupFlagCleared,
    FollowUpVisitRecorded,
    OrganisationRegistered,
    OrganisationChanged,
    OrganisationRetired,
)
"""The events whose personal fields are sealed since version 2 (docs/personal-data.md): v1
held them in clear, and reads as v2 unchanged."""

CATALOG = EventCatalog(SOURCE, EVENTS, upcasters=sealed_upcasters(SEALED))
