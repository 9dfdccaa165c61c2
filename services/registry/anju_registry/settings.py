"""Settings of the registry service (environment variables ``ANJU_REGISTRY_*``)."""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import SettingsConfigDict

from anju_contracts.registry import RiskTier
from anju_registry.domain.retention import Retention, Rule
from eventkit.settings import ServiceSettings

Days = Field(default=None, ge=1, le=36600)


class CommunityRetention(BaseModel):
    """A community's own retention periods; a period left out is the registry's default."""

    model_config = ConfigDict(extra="forbid")

    moved_out_days: int | None = Days
    deceased_days: int | None = Days


class RetentionSettings(BaseModel):
    """How long a closed record's personal data is kept before the scheduler erases it
    (``ANJU_REGISTRY_RETENTION__MOVED_OUT_DAYS``, ``..._DECEASED_DAYS``; per community
    ``ANJU_REGISTRY_RETENTION__COMMUNITIES='{"<community id>": {"moved_out_days": 1096}}'``)."""

    model_config = ConfigDict(extra="forbid")

    moved_out_days: int = Field(default=1826, ge=1, le=36600)
    """From the day a resident moved out (5 years)."""
    deceased_days: int = Field(default=1826, ge=1, le=36600)
    """From the day of a resident's death (5 years)."""
    communities: dict[UUID, CommunityRetention] = Field(default_factory=dict)

    @property
    def retention(self) -> Retention:
        def own(community: CommunityRetention) -> dict[Rule, int]:
            given = {
                Rule.MOVED_OUT: community.moved_out_days,
                Rule.DECEASED: community.deceased_days,
            }
            return {rule: days for rule, days in given.items() if days is not None}

        return Retention(
            days={Rule.MOVED_OUT: self.moved_out_days, Rule.DECEASED: self.deceased_days},
            communities={cid: own(c) for cid, c in self.communities.items()},
        )


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ANJU_REGISTRY_", env_nested_delimiter="__", extra="ignore"
    )

    service: str = "registry"
    port: int = Field(default=8101, ge=1, le=65535)
    followup_red_days: int = Field(default=7, ge=1, le=366)
    followup_yellow_days: int = Field(default=14, ge=1, le=366)
    followup_blue_days: int = Field(default=30, ge=1, le=366)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)

    @property
    def followup_intervals(self) -> dict[RiskTier, int]:
        """Days between follow-up visits by risk tier."""
        return {
            RiskTier.RED: self.followup_red_days,
            RiskTier.YELLOW: self.followup_yellow_days,
            RiskTier.BLUE: self.followup_blue_days,
        }
