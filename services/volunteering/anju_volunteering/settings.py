"""Settings of the volunteering service (environment variables ``ANJU_VOLUNTEERING_*``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from eventkit.settings import ServiceSettings


class VolunteeringSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ANJU_VOLUNTEERING_", env_nested_delimiter="__", extra="ignore"
    )

    service: str = "volunteering"
    port: int = Field(default=8104, ge=1, le=65535)
