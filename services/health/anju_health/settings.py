"""Settings of the health service (environment variables ``ANJU_HEALTH_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from eventkit.settings import ServiceSettings


class HealthSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ANJU_HEALTH_", env_nested_delimiter="__", extra="ignore"
    )

    service: str = "health"
    port: int = Field(default=8103, ge=1, le=65535)
