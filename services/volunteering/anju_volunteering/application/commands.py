"""Volunteering's commands, as they arrive over HTTP."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from anju_contracts.volunteering import (
    DeclineReason,
    RequestCancelReason,
    RequestKind,
    Shift,
    TeamPurpose,
    VolunteerActivityKind,
    VolunteerConsentPurpose,
    VolunteerKind,
)
from eventkit.commands import Command, StreamCommand

Skill = str


class RegisterVolunteer(Command):
    kind: VolunteerKind
    name: str = Field(min_length=1, max_length=50)
    area_id: UUID = Field(description="The grid (or community) the volunteer serves")
    resident_id: UUID | None = Field(default=None, description="The resident they are")
    organisation_id: UUID | None = Field(
        default=None, description="The host organisation (an in-service party member's employer)"
    )
    skills: list[str] = Field(default_factory=list, max_length=20)
    availability: str | None = Field(default=None, max_length=200)


class ChangeVolunteer(StreamCommand):
    skills: list[str] | None = Field(default=None, max_length=20)
    availability: str | None = Field(default=None, max_length=200)
    area_id: UUID | None = None


class VolunteerStep(StreamCommand):
    """Pause, resume or end a volunteer's service."""


class FormTeam(Command):
    name: str = Field(min_length=1, max_length=100)
    purpose: TeamPurpose
    area_id: UUID
    leader_id: UUID
    partner_organisation_ids: list[UUID] = Field(default_factory=list, max_length=20)


class TeamMember(StreamCommand):
    volunteer_id: UUID


class RaiseRequest(Command):
    resident_id: UUID
    kind: RequestKind
    description: str = Field(min_length=1, max_length=1000)


class AssignRequest(StreamCommand):
    team_id: UUID | None = None
    volunteer_id: UUID | None = None


class AcceptRequest(StreamCommand):
    volunteer_id: UUID


class DeclineRequest(StreamCommand):
    reason: DeclineReason


class CheckIn(StreamCommand):
    volunteer_ids: list[UUID] = Field(
        default_factory=list, max_length=20, description="Who came besides the one who accepted"
    )
    at: datetime | None = Field(default=None, description="Now when absent")


class CheckOut(StreamCommand):
    at: datetime | None = Field(default=None, description="Now when absent")


class Deliver(StreamCommand):
    satisfaction: int = Field(ge=1, le=5)
    feedback: str | None = Field(default=None, max_length=1000)


class CancelRequest(StreamCommand):
    reason: RequestCancelReason


class ScheduleActivity(Command):
    kind: VolunteerActivityKind
    title: str = Field(min_length=1, max_length=200)
    area_id: UUID
    team_id: UUID | None = None
    shifts: list[Shift] = Field(min_length=1, max_length=50)


class ShiftVolunteer(StreamCommand):
    volunteer_id: UUID


class Attendance(StreamCommand):
    volunteer_id: UUID
    attended: bool


class RejectHours(Command):
    reason: str = Field(min_length=1, max_length=500)


class IssueCertificate(Command):
    period_from: date
    period_to: date
    content: str = Field(min_length=1, max_length=500)
    issuer: str = Field(min_length=1, max_length=100)


class ConsentStep(Command):
    """Give or withdraw a volunteer's consent for a purpose (the volunteer's own word, taken
    down by a coordinator)."""

    purpose: VolunteerConsentPurpose
