"""Mediation's commands as they arrive over HTTP: pydantic models that refuse unknown fields."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from pydantic import AwareDatetime, Field

from anju_contracts.mediation import (
    AgreementTerm,
    Category,
    Channel,
    MediatorRole,
    PartyRole,
    ReferralTarget,
    ReporterRole,
    Satisfaction,
    Sensitivity,
    SessionPlace,
    Tier,
)
from eventkit.commands import Command, CommandPart, StreamCommand

Reason = Field(min_length=1, max_length=2000)
Note = Field(default=None, max_length=2000)


class ReportSignal(Command):
    reporter_role: ReporterRole
    area_id: UUID
    category: Category
    description: str = Field(min_length=1, max_length=4000)
    involved_resident_ids: list[UUID] = Field(default_factory=list, max_length=20)


class DismissSignal(StreamCommand):
    reason: str = Reason


class PartyIn(CommandPart):
    """A registered resident (``resident_id``), or an ad-hoc party with a name and a contact."""

    role: PartyRole
    resident_id: UUID | None = None
    name: str | None = Field(default=None, max_length=100)
    contact: str | None = Field(default=None, max_length=100)
    party_id: UUID = Field(default_factory=uuid4)


class RegisterDispute(Command):
    channel: Channel
    category: Category
    description: str = Field(min_length=1, max_length=4000)
    area_id: UUID
    parties: list[PartyIn] = Field(min_length=1, max_length=20)
    sensitivity: Sensitivity = Sensitivity.STANDARD
    tier: Tier | None = Field(
        default=None, description="Start here instead of the tier that fits the location"
    )


class ConvertSignal(StreamCommand):
    """Turn a signal into a dispute; the location and category default to the signal's."""

    channel: Channel = Channel.GRID_PATROL
    category: Category | None = None
    description: str | None = Field(default=None, min_length=1, max_length=4000)
    parties: list[PartyIn] = Field(min_length=1, max_length=20)
    sensitivity: Sensitivity = Sensitivity.STANDARD
    tier: Tier | None = None


class Escalate(StreamCommand):
    to_tier: Tier | None = Field(default=None, description="The next tier when left out")
    reason: str = Reason


class AssignMediator(StreamCommand):
    mediator_id: str = Field(min_length=1, max_length=100)
    role: MediatorRole
    name: str | None = Field(default=None, max_length=100)


class ReassignMediator(StreamCommand):
    from_mediator_id: str = Field(min_length=1, max_length=100)
    mediator_id: str = Field(min_length=1, max_length=100)
    role: MediatorRole
    name: str | None = Field(default=None, max_length=100)
    reason: str | None = Note


class UnassignMediator(StreamCommand):
    reason: str | None = Note


class ScheduleSession(StreamCommand):
    scheduled_for: AwareDatetime
    place: SessionPlace


class HoldSession(StreamCommand):
    held_at: AwareDatetime | None = None
    place: SessionPlace | None = Field(default=None, description="Where it was, if not planned")
    attendees: list[str] = Field(min_length=1, max_length=50)
    minutes: str = Field(min_length=1, max_length=8000)


class ReachAgreement(StreamCommand):
    terms: list[AgreementTerm] = Field(min_length=1, max_length=50)
    confirmed_by: list[UUID] = Field(description="The party ids who confirmed it (two or more)")


class FailMediation(StreamCommand):
    reason: str = Reason


class Refer(StreamCommand):
    to: ReferralTarget
    note: str | None = Note


class AnswerReferral(StreamCommand):
    answer: str = Field(min_length=1, max_length=4000)


class FollowUpAgreement(StreamCommand):
    carried_out: bool
    note: str | None = Note


class RecordReturnVisit(StreamCommand):
    satisfaction: list[Satisfaction] = Field(min_length=1, max_length=20)
    note: str | None = Note


class Resolve(StreamCommand):
    outcome: str = Reason


class Close(StreamCommand):
    note: str | None = Note


class Reopen(StreamCommand):
    reason: str = Reason


class ProxyPetition(Command):
    resident_id: UUID
    subject: str = Field(min_length=1, max_length=500)
    department: str = Field(min_length=1, max_length=200)


class PetitionStep(StreamCommand):
    at: AwareDatetime | None = Field(default=None, description="When it happened (default: now)")


class AnswerPetition(PetitionStep):
    answer: str = Field(min_length=1, max_length=4000)


class ClosePetition(StreamCommand):
    outcome: str = Reason


def when(at: datetime | None, now: datetime) -> datetime:
    return now if at is None else at
