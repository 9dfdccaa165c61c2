"""Settings of the registry service (environment variables ``ANJU_REGISTRY_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from anju_contracts.registry import RiskTier
from eventkit.settings import ServiceSettings


class RegistrySettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ANJU_REGISTRY_", env_nested_delimiter="__", extra="ignore"
    )

    service: str = "registry"
    port: int = Field(default=8101, ge=1, le=65535)
    followup_red_days: int = Field(default=7, ge=1, le=366)
    followup_yellow_days: int = Field(default=14, ge=1, le=366)
    followup_blue_days: int = Field(default=30, ge=1, le=366)

    @property
    def followup_intervals(self) -> dict[RiskTier, int]:
        """Days between follow-up visits by risk tier."""
        return {
            RiskTier.RED: self.followup_red_days,
            RiskTier.YELLOW: self.followup_yellow_days,
            RiskTier.BLUE: self.followup_blue_days,
        }
