"""Settings of the health service (environment variables ``ANJU_HEALTH_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from anju_health.domain.records import Schedule
from eventkit.settings import ServiceSettings

_ENV = SettingsConfigDict(env_prefix="ANJU_HEALTH_", env_nested_delimiter="__", extra="ignore")


class HealthRules(BaseSettings):
    """The programme rules and names: all a replayed policy needs (``anju dead-letters``)."""

    model_config = _ENV

    health_station: str = Field(
        default="社区卫生服务站",
        min_length=1,
        max_length=100,
        description="The health station a record opened by the service itself belongs to",
    )
    first_check_up_days: int = Field(default=30, ge=0, le=366)
    follow_up_days: int = Field(default=90, ge=7, le=366)
    grace_days: int = Field(default=7, ge=0, le=90)

    @property
    def schedule(self) -> Schedule:
        return Schedule(
            first_check_up_days=self.first_check_up_days,
            follow_up_days=self.follow_up_days,
            grace_days=self.grace_days,
        )


class HealthSettings(HealthRules, ServiceSettings):
    model_config = _ENV

    service: str = "health"
    port: int = Field(default=8103, ge=1, le=65535)
