"""Events of health: health records, programmes and their visits, health activities.

Topic ``health.events``, key = stream id. Streams on the topic:

- ``record-<resident uuid>``: a resident's health record (健康档案) — opened, moved with the
  resident, closed on death or move-out and reopened on return — and the programmes the resident
  is enrolled in, with each programme's next visit: booked, rescheduled, skipped, overdue,
  completed, cancelled;
- ``activity-<uuid>``: a clinic day or health activity held in a community, with how many people
  were served.

**Diagnoses never leave health.** These events carry ids, programmes, dates, completion and
counts: no diagnosis, reading, finding or allergy. The clinical chart (``chart-<resident>``:
allergies, coded conditions, the observations of every encounter) and the severe-mental-disorder
programme (``protected_care-<resident>``) are kept in the health service's event store only; their
event types are declared :data:`CLINICAL` and the relay never publishes them. Their models live
here so that the store decodes them like any other, but they are not part of the published
contracts (no JSON Schema, no AsyncAPI channel).

Every envelope's ``area`` is the grid (or community) of the resident's home, or of the activity.
Dates are calendar days (UTC).
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from anju_contracts.base import Event, EventCatalog, Personal, sealed_upcasters
from anju_contracts.registry import AreaPath

SOURCE = "health"


class Programme(StrEnum):
    """A programme of the national basic public health service that the topic may name."""

    ELDERLY_ANNUAL = "elderly_annual"
    """老年人健康管理: every resident aged 65+, one check-up per calendar year."""
    HYPERTENSION = "hypertension"
    """高血压患者健康管理: quarterly follow-up visits."""
    TYPE2_DIABETES = "type2_diabetes"
    """2型糖尿病患者健康管理: quarterly follow-up visits."""


class EnrolmentReason(StrEnum):
    AGED_65_AT_REGISTRATION = "aged_65_at_registration"
    TURNED_65 = "turned_65"
    DIAGNOSED = "diagnosed"
    RECORD_REOPENED = "record_reopened"


class CloseReason(StrEnum):
    DIED = "died"
    MOVED_OUT = "moved_out"


class LeaveReason(StrEnum):
    RECORD_CLOSED = "record_closed"
    CONDITION_RESOLVED = "condition_resolved"
    DECLINED = "declined"


class SkipReason(StrEnum):
    """Why a visit of its window did not happen (a code: free text could carry clinical facts)."""

    AWAY = "away"
    HOSPITALISED = "hospitalised"
    DECLINED = "declined"
    SERVED_ELSEWHERE = "served_elsewhere"
    OTHER = "other"


class RescheduleReason(StrEnum):
    RESIDENT_ASKED = "resident_asked"
    DOCTOR_UNAVAILABLE = "doctor_unavailable"
    HOSPITALISED = "hospitalised"
    OTHER = "other"


class CancelReason(StrEnum):
    RECORD_CLOSED = "record_closed"
    PROGRAMME_LEFT = "programme_left"


class VisitKind(StrEnum):
    CHECK_UP = "check_up"
    """The annual check-up of the elderly programme (体检)."""
    FOLLOW_UP = "follow_up"
    """A follow-up visit of a chronic-disease programme (随访)."""


class ActivityKind(StrEnum):
    ON_SITE_CONSULTATION = "on_site_consultation"
    """现场问诊"""
    MEDICAL_ADVICE = "medical_advice"
    """医疗咨询"""
    PREVENTION_TALK = "prevention_talk"
    """疾病预防宣传"""
    FREE_CHECK_UP_DAY = "free_check_up_day"
    """免费体检日"""


# -- the record -----------------------------------------------------------------------------


class HealthRecordOpened(Event):
    """A resident's health record was opened (on request, at the first encounter, or on
    enrolment in a programme)."""

    event_type: ClassVar[str] = "health.HealthRecordOpened"

    resident_id: UUID
    opened_on: date
    path: AreaPath
    health_station: str = Field(min_length=1, max_length=100)
    family_doctor_id: str | None = Field(default=None, max_length=100)


class HealthRecordRelocated(Event):
    """The resident moved inside the estate; the record follows (its area changes)."""

    event_type: ClassVar[str] = "health.HealthRecordRelocated"

    resident_id: UUID
    path: AreaPath


class FamilyDoctorAssigned(Event):
    """The resident's health station and family doctor (家庭医生) were named."""

    event_type: ClassVar[str] = "health.FamilyDoctorAssigned"

    resident_id: UUID
    health_station: str = Field(min_length=1, max_length=100)
    family_doctor_id: str = Field(min_length=1, max_length=100)


class HealthRecordClosed(Event):
    """The record closed (终止) because the resident died or moved out; visits are cancelled."""

    event_type: ClassVar[str] = "health.HealthRecordClosed"

    resident_id: UUID
    closed_on: date
    reason: CloseReason


class HealthRecordReopened(Event):
    """A resident whose record was closed lives here again."""

    event_type: ClassVar[str] = "health.HealthRecordReopened"

    resident_id: UUID
    reopened_on: date
    path: AreaPath


class ProgrammeEnrolled(Event):
    """The resident joined a programme (by age, on the 65th birthday, or on a diagnosis)."""

    event_type: ClassVar[str] = "health.ProgrammeEnrolled"

    resident_id: UUID
    programme: Programme
    enrolled_on: date
    reason: EnrolmentReason


class ProgrammeLeft(Event):
    """The resident left a programme (the record closed, the condition resolved, or declined)."""

    event_type: ClassVar[str] = "health.ProgrammeLeft"

    resident_id: UUID
    programme: Programme
    left_on: date
    reason: LeaveReason


class VisitBooked(Event):
    """The programme's next visit (a check-up or a follow-up) is due on ``due_on``."""

    event_type: ClassVar[str] = "health.VisitBooked"

    resident_id: UUID
    visit_id: UUID
    programme: Programme
    kind: VisitKind
    due_on: date


class VisitRescheduled(Event):
    """The visit moved to another day, with a reason code; a new window begins."""

    event_type: ClassVar[str] = "health.VisitRescheduled"

    resident_id: UUID
    visit_id: UUID
    programme: Programme
    from_due_on: date
    due_on: date
    reason: RescheduleReason


class VisitSkipped(Event):
    """The visit will not happen in its window; the programme's next one is booked."""

    event_type: ClassVar[str] = "health.VisitSkipped"

    resident_id: UUID
    visit_id: UUID
    programme: Programme
    skipped_on: date
    reason: SkipReason


class VisitOverdue(Event):
    """The visit's window ended without it: recorded once per window."""

    event_type: ClassVar[str] = "health.VisitOverdue"

    resident_id: UUID
    visit_id: UUID
    programme: Programme
    due_on: date


class VisitCompleted(Event):
    """The visit took place. What was found stays in the clinical chart."""

    event_type: ClassVar[str] = "health.VisitCompleted"

    resident_id: UUID
    visit_id: UUID
    programme: Programme
    kind: VisitKind
    completed_on: date
    doctor_id: str = Field(min_length=1, max_length=100)


class VisitCancelled(Event):
    """The visit will not take place: the record closed or the programme was left."""

    event_type: ClassVar[str] = "health.VisitCancelled"

    resident_id: UUID
    visit_id: UUID
    programme: Programme
    reason: CancelReason


# -- activities -----------------------------------------------------------------------------


class HealthActivityHeld(Event):
    """A clinic day or health activity (the community's report counts them)."""

    event_type: ClassVar[str] = "health.HealthActivityHeld"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    activity_id: UUID
    kind: ActivityKind
    held_on: date
    path: AreaPath
    place: str = Field(min_length=1, max_length=200)
    at_station: bool
    partner: str | None = Field(default=None, max_length=200)
    staff: list[Annotated[str, Personal]] = Field(default_factory=list, max_length=50)
    served: int = Field(ge=0, le=100_000)
    topic: str | None = Field(default=None, max_length=200)


# -- consent and attendance: kept in the health event store, never published -----------------


class HealthConsentPurpose(StrEnum):
    """What a resident consents to in health, where consent is the legal basis."""

    ACTIVITY_ATTENDANCE = "activity_attendance"
    """Their attendance at clinic days and health activities linked to them (else it is counted
    anonymously)."""


class HealthConsentGiven(Event):
    """The resident consented to ``purpose``. Restricted: no other service needs it."""

    event_type: ClassVar[str] = "health.HealthConsentGiven"

    resident_id: UUID
    purpose: HealthConsentPurpose
    given_on: date
    path: AreaPath


class HealthConsentWithdrawn(Event):
    """The resident withdrew their consent to ``purpose``: their attendance is no longer linked
    to them, only counted. Restricted."""

    event_type: ClassVar[str] = "health.HealthConsentWithdrawn"

    resident_id: UUID
    purpose: HealthConsentPurpose
    withdrawn_on: date
    path: AreaPath


class ActivityAttended(Event):
    """Someone attended the activity: linked to the resident (``resident_id``) only when they
    consented to it, else counted anonymously (``resident_id`` null). Restricted: who attends
    a clinic day says something about their health."""

    event_type: ClassVar[str] = "health.ActivityAttended"

    activity_id: UUID
    resident_id: UUID | None = None


# -- clinical facts: kept in the health event store, never published -------------------------

ICD10 = r"^[A-Z][0-9]{2}(\.[0-9A-Z]{1,4})?$"


class SelfCare(StrEnum):
    """老年人生活自理能力评估 (score 0–37)."""

    INDEPENDENT = "independent"
    MILD = "mild"
    MODERATE = "moderate"
    DEPENDENT = "dependent"


class Observations(BaseModel):
    """Readings of one encounter, in the units named by each field."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    systolic_mmhg: int | None = None
    diastolic_mmhg: int | None = None
    fasting_glucose_mmol_l: float | None = None
    height_cm: float | None = None
    weight_kg: float | None = None
    bmi: float | None = None
    heart_rate_bpm: int | None = None
    temperature_c: float | None = None
    self_care_score: int | None = None
    self_care: SelfCare | None = None
    cognitive_screen_positive: bool | None = None
    depression_screen_positive: bool | None = None


class ChartOpened(Event):
    """The resident's clinical chart began (restricted: never published)."""

    event_type: ClassVar[str] = "health.ChartOpened"

    resident_id: UUID


class AllergyRecorded(Event):
    """An allergy on the chart (restricted)."""

    event_type: ClassVar[str] = "health.AllergyRecorded"

    resident_id: UUID
    substance: Annotated[str, Personal] = Field(min_length=1, max_length=200)
    reaction: Annotated[str | None, Personal] = Field(default=None, max_length=500)
    doctor_id: str


class ConditionDiagnosed(Event):
    """A coded diagnosis (ICD-10) on the chart (restricted)."""

    event_type: ClassVar[str] = "health.ConditionDiagnosed"

    resident_id: UUID
    icd10: Annotated[str | None, Personal] = Field(pattern=ICD10)
    """Null once the person is erased (docs/personal-data.md)."""
    diagnosed_on: date
    doctor_id: str


class ConditionResolved(Event):
    """A condition came off the chart (restricted)."""

    event_type: ClassVar[str] = "health.ConditionResolved"

    resident_id: UUID
    icd10: Annotated[str | None, Personal] = Field(pattern=ICD10)
    """Null once the person is erased (docs/personal-data.md)."""
    resolved_on: date
    doctor_id: str


class EncounterRecorded(Event):
    """A check-up or visit: observations, findings, guidance, and what needs a second look."""

    event_type: ClassVar[str] = "health.EncounterRecorded"

    resident_id: UUID
    encounter_id: UUID
    visit_id: UUID | None
    programme: Programme | None
    occurred_on: date
    doctor_id: str
    observations: Annotated[Observations | None, Personal]
    """Null once the person is erased (docs/personal-data.md)."""
    findings: Annotated[str | None, Personal] = Field(default=None, max_length=4000)
    guidance: Annotated[str | None, Personal] = Field(default=None, max_length=4000)
    review: list[str] = Field(default_factory=list)
    """Codes of readings that are possible but alarming (``systolic_high``): a doctor reviews."""


class ProtectedCareEnrolled(Event):
    """严重精神障碍患者管理: enrolled, with the diagnosis and the first risk grade."""

    event_type: ClassVar[str] = "health.ProtectedCareEnrolled"

    resident_id: UUID
    icd10: Annotated[str | None, Personal] = Field(pattern=ICD10)
    """Null once the person is erased (docs/personal-data.md)."""
    risk_grade: int = Field(ge=0, le=5)
    enrolled_on: date
    doctor_id: str
    next_due_on: date


class ProtectedVisitRecorded(Event):
    """A follow-up of the protected programme: risk assessment and the next visit."""

    event_type: ClassVar[str] = "health.ProtectedVisitRecorded"

    resident_id: UUID
    visited_on: date
    risk_grade: int = Field(ge=0, le=5)
    doctor_id: str
    findings: Annotated[str | None, Personal] = Field(default=None, max_length=4000)
    next_due_on: date


class ProtectedVisitRescheduled(Event):
    """A protected-care follow-up moved to another day (restricted)."""

    event_type: ClassVar[str] = "health.ProtectedVisitRescheduled"

    resident_id: UUID
    from_due_on: date
    due_on: date
    reason: RescheduleReason


class ProtectedVisitOverdue(Event):
    """A protected-care follow-up was not made in its window (restricted)."""

    event_type: ClassVar[str] = "health.ProtectedVisitOverdue"

    resident_id: UUID
    due_on: date


class ProtectedCareEnded(Event):
    """Protected care ended (restricted)."""

    event_type: ClassVar[str] = "health.ProtectedCareEnded"

    resident_id: UUID
    ended_on: date
    reason: LeaveReason


EVENTS: tuple[type[Event], ...] = (
    HealthRecordOpened,
    HealthRecordRelocated,
    FamilyDoctorAssigned,
    HealthRecordClosed,
    HealthRecordReopened,
    ProgrammeEnrolled,
    ProgrammeLeft,
    VisitBooked,
    VisitRescheduled,
    VisitSkipped,
    VisitOverdue,
    VisitCompleted,
    VisitCancelled,
    HealthActivityHeld,
)
"""The events on ``health.events``."""

CLINICAL: tuple[type[Event], ...] = (
    ChartOpened,
    AllergyRecorded,
    ConditionDiagnosed,
    ConditionResolved,
    EncounterRecorded,
    ProtectedCareEnrolled,
    ProtectedVisitRecorded,
    ProtectedVisitRescheduled,
    ProtectedVisitOverdue,
    ProtectedCareEnded,
)
"""Clinical events: kept in the health event store, never on a topic."""

KEPT: tuple[type[Event], ...] = (HealthConsentGiven, HealthConsentWithdrawn, ActivityAttended)
"""Not clinical, but needed by no other service (minimal events): kept in health like it."""

SEALED: tuple[type[Event], ...] = (HealthActivityHeld,)
"""The events whose personal fields are sealed since version 2 (docs/personal-data.md): v1
held them in clear, and reads as v2 unchanged."""

CATALOG = EventCatalog(
    SOURCE, EVENTS, restricted=(*KEPT, *CLINICAL), upcasters=sealed_upcasters(SEALED)
)
