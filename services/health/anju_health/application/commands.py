"""The health service's commands, as they arrive over HTTP."""

from __future__ import annotations

from datetime import date
from uuid import UUID

from pydantic import Field

from anju_contracts.health import (
    ICD10,
    ActivityKind,
    HealthConsentPurpose,
    LeaveReason,
    Observations,
    Programme,
    RescheduleReason,
    SkipReason,
)
from eventkit.commands import Command, StreamCommand


class OpenRecord(Command):
    health_station: str | None = Field(default=None, min_length=1, max_length=100)
    family_doctor_id: str | None = Field(default=None, min_length=1, max_length=100)


class AssignDoctor(StreamCommand):
    health_station: str = Field(min_length=1, max_length=100)
    family_doctor_id: str = Field(min_length=1, max_length=100)


class RecordAllergy(Command):
    substance: str = Field(min_length=1, max_length=200)
    reaction: str | None = Field(default=None, max_length=500)


class Diagnose(Command):
    icd10: str = Field(pattern=ICD10, description="An ICD-10 code, e.g. I10 or E11.9")
    diagnosed_on: date | None = Field(default=None, description="Today when absent")


class Enrol(StreamCommand):
    programme: Programme


class Leave(StreamCommand):
    reason: LeaveReason


class RecordEncounter(Command):
    """A check-up or visit. With ``programme``, it completes that programme's open visit and
    books the next (on ``next_visit_on``, or the programme's interval later)."""

    programme: Programme | None = None
    occurred_on: date | None = Field(default=None, description="Today when absent")
    observations: Observations
    findings: str | None = Field(default=None, max_length=4000)
    guidance: str | None = Field(default=None, max_length=4000)
    next_visit_on: date | None = None


class SkipVisit(StreamCommand):
    reason: SkipReason


class RescheduleVisit(StreamCommand):
    due_on: date
    reason: RescheduleReason


class EnrolProtected(Command):
    icd10: str = Field(pattern=ICD10)
    risk_grade: int = Field(ge=0, le=5)


class RecordProtectedVisit(Command):
    visited_on: date | None = None
    risk_grade: int = Field(ge=0, le=5)
    findings: str | None = Field(default=None, max_length=4000)
    next_visit_on: date | None = None


class RescheduleProtectedVisit(Command):
    due_on: date
    reason: RescheduleReason


class BreakGlass(Command):
    reason: str = Field(min_length=10, max_length=1000, description="Why, in a sentence")
    minutes: int = Field(default=60, ge=5, le=480, description="How long the opening lasts")


class RecordActivity(Command):
    kind: ActivityKind
    held_on: date
    area_id: UUID = Field(description="The community or grid the activity served")
    place: str = Field(min_length=1, max_length=200)
    at_station: bool = False
    partner: str | None = Field(default=None, max_length=200)
    staff: list[str] = Field(default_factory=list, max_length=50)
    served: int = Field(ge=0, le=100_000)
    topic: str | None = Field(default=None, max_length=200)


class ConsentStep(Command):
    """Give or withdraw a resident's consent to a purpose (their own word, taken down by staff)."""

    purpose: HealthConsentPurpose


class RecordAttendance(Command):
    """Someone attended the activity; ``resident_id`` names them when the desk knows who."""

    resident_id: UUID | None = None
