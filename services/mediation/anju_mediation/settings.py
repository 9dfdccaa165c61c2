"""Settings of the mediation service (environment variables ``ANJU_MEDIATION_*``)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import SettingsConfigDict

from anju_contracts.mediation import Tier
from anju_mediation.domain.disputes import Slas
from anju_mediation.domain.petitions import Deadlines
from anju_mediation.domain.retention import Retention
from eventkit.settings import ServiceSettings

Days = Field(default=None, ge=1, le=36600)


class CommunityRetention(BaseModel):
    """A community's own retention periods; a period left out is mediation's default."""

    model_config = ConfigDict(extra="forbid")

    closed_dispute_days: int | None = Days


class RetentionSettings(BaseModel):
    """How long a closed dispute's personal data is kept before the scheduler erases it
    (``ANJU_MEDIATION_RETENTION__CLOSED_DISPUTE_DAYS``; per community
    ``ANJU_MEDIATION_RETENTION__COMMUNITIES='{"<community id>": {"closed_dispute_days": 730}}'``)."""

    model_config = ConfigDict(extra="forbid")

    closed_dispute_days: int = Field(default=1096, ge=1, le=36600)
    """From the dispute's closing (3 years)."""
    communities: dict[UUID, CommunityRetention] = Field(default_factory=dict)

    @property
    def retention(self) -> Retention:
        return Retention(
            closed_dispute_days=self.closed_dispute_days,
            communities={
                cid: c.closed_dispute_days
                for cid, c in self.communities.items()
                if c.closed_dispute_days is not None
            },
        )


class MediationSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ANJU_MEDIATION_", env_nested_delimiter="__", extra="ignore"
    )

    service: str = "mediation"
    # Fractions of a day are allowed, so a trial stack can watch a breach happen in minutes.
    port: int = Field(default=8102, ge=1, le=65535)
    sla_building_days: float = Field(default=3, gt=0, le=366)
    sla_grid_days: float = Field(default=7, gt=0, le=366)
    sla_community_days: float = Field(default=15, gt=0, le=366)
    escalate_on_breach_building: bool = True
    escalate_on_breach_grid: bool = True
    escalate_on_breach_community: bool = True
    reopen_window_days: int = Field(default=30, ge=0, le=366)
    petition_acceptance_days: int = Field(default=15, ge=1, le=366)
    petition_answer_days: int = Field(default=60, ge=1, le=366)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @property
    def slas(self) -> Slas:
        """Each tier's SLA, whether its breach escalates, and the window to reopen."""
        return Slas(
            days={
                Tier.BUILDING: self.sla_building_days,
                Tier.GRID: self.sla_grid_days,
                Tier.COMMUNITY: self.sla_community_days,
            },
            auto_escalate={
                Tier.BUILDING: self.escalate_on_breach_building,
                Tier.GRID: self.escalate_on_breach_grid,
                Tier.COMMUNITY: self.escalate_on_breach_community,
            },
            reopen_days=self.reopen_window_days,
        )

    @property
    def petition_deadlines(self) -> Deadlines:
        return Deadlines(
            acceptance_days=self.petition_acceptance_days, answer_days=self.petition_answer_days
        )
