"""The registry's commands as they arrive over HTTP: pydantic models that refuse unknown fields."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import Field, ValidationInfo, field_validator

from anju_contracts.registry import (
    AreaKind,
    ErasureBasis,
    FlagType,
    Liaison,
    OrganisationKind,
    Relation,
    RiskTier,
    Sex,
)
from anju_registry.domain import id_numbers
from eventkit.commands import Command, CommandPart, StreamCommand


class CreateArea(Command):
    kind: AreaKind
    name: str = Field(min_length=1, max_length=100)
    parent_id: UUID | None = None


IdNumber = Field(min_length=18, max_length=18, examples=["11010519491231002X"])


class RegisterResident(Command):
    name: str = Field(min_length=1, max_length=50)
    sex: Sex
    date_of_birth: date
    id_number: str = IdNumber
    phone: str | None = Field(default=None, max_length=30)
    unit_id: UUID

    @field_validator("id_number", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return id_numbers.normalise(value) if isinstance(value, str) else value

    @field_validator("id_number")
    @classmethod
    def _valid(cls, value: str, info: ValidationInfo) -> str:
        problem = id_numbers.problem_with(value, info.data.get("date_of_birth"))
        if problem is not None:
            raise ValueError(problem)
        return value


class CorrectResident(StreamCommand):
    name: str | None = Field(default=None, min_length=1, max_length=50)
    sex: Sex | None = None
    date_of_birth: date | None = None
    id_number: str | None = Field(default=None, min_length=18, max_length=18)
    phone: str | None = Field(default=None, max_length=30)
    reason: str = Field(min_length=1, max_length=500)

    @field_validator("id_number", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return id_numbers.normalise(value) if isinstance(value, str) else value

    @field_validator("id_number")
    @classmethod
    def _valid(cls, value: str | None) -> str | None:
        # Against the date of birth, it is checked with the record's state in the domain.
        problem = None if value is None else id_numbers.problem_with(value, None)
        if problem is not None:
            raise ValueError(problem)
        return value


class MoveResident(StreamCommand):
    unit_id: UUID


class MoveOut(StreamCommand):
    moved_out_on: date
    reason: str | None = Field(default=None, max_length=500)


class RecordDeath(StreamCommand):
    died_on: date


class EraseResident(StreamCommand):
    """Erase a person's personal data across Anju (docs/personal-data.md); audited."""

    basis: ErasureBasis = ErasureBasis.SUBJECT_REQUEST
    reason: str = Field(min_length=1, max_length=500)
    """Why, for the audit: the request's reference, the retention rule."""


class FormHousehold(Command):
    unit_id: UUID
    head_resident_id: UUID


class AddMember(StreamCommand):
    resident_id: UUID
    relation: Relation


class RemoveMember(StreamCommand):
    reason: str | None = Field(default=None, max_length=500)


class ChangeHead(StreamCommand):
    resident_id: UUID


class RaiseFlag(StreamCommand):
    flag: FlagType
    tier: RiskTier
    note: str | None = Field(default=None, max_length=1000)


class ReviewFlag(StreamCommand):
    tier: RiskTier | None = None
    note: str | None = Field(default=None, max_length=1000)
    reason: str | None = Field(default=None, min_length=1, max_length=1000)


class ClearFlag(StreamCommand):
    reason: str = Field(min_length=1, max_length=1000)


class RecordVisit(StreamCommand):
    visited_at: datetime | None = None
    findings: str = Field(min_length=1, max_length=4000)
    actions: str | None = Field(default=None, max_length=4000)
    errands: list[str] = Field(default_factory=list, max_length=20)

    @field_validator("visited_at")
    @classmethod
    def _aware(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("visited_at needs a time zone")
        return value


class LiaisonIn(CommandPart):
    """A person at a partner organisation whom the community deals with."""

    name: str = Field(min_length=1, max_length=50)
    role: str = Field(min_length=1, max_length=50, examples=["党委办公室主任"])
    phone: str | None = Field(default=None, max_length=30)

    def liaison(self) -> Liaison:
        return Liaison(name=self.name, role=self.role, phone=self.phone)


class RegisterOrganisation(Command):
    kind: OrganisationKind
    name: str = Field(min_length=1, max_length=100)
    community_ids: list[UUID] = Field(
        min_length=1,
        max_length=50,
        description="The communities it serves or works with; the first is where it is scoped",
    )
    liaisons: list[LiaisonIn] = Field(default_factory=list, max_length=20)


class ChangeOrganisation(StreamCommand):
    """What to change; a list given replaces the old one whole."""

    name: str | None = Field(default=None, min_length=1, max_length=100)
    community_ids: list[UUID] | None = Field(default=None, min_length=1, max_length=50)
    liaisons: list[LiaisonIn] | None = Field(default=None, max_length=20)


class RetireOrganisation(StreamCommand):
    reason: str = Field(min_length=1, max_length=500)
