"""Settings of the volunteering service (environment variables ``ANJU_VOLUNTEERING_*``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from eventkit.settings import ServiceSettings

_ENV = SettingsConfigDict(
    env_prefix="ANJU_VOLUNTEERING_", env_nested_delimiter="__", extra="ignore"
)


class VolunteeringRules(BaseSettings):
    """The rules a replayed policy needs too (``anju dead-letters``)."""

    model_config = _ENV

    response_hours: float = Field(
        default=48,
        gt=0,
        le=24 * 30,
        description="How long a request may wait to be taken up before the coordinator is told",
    )

    @property
    def response(self) -> timedelta:
        return timedelta(hours=self.response_hours)


class VolunteeringSettings(VolunteeringRules, ServiceSettings):
    model_config = _ENV

    service: str = "volunteering"
    port: int = Field(default=8104, ge=1, le=65535)
