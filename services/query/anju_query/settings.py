"""Settings of the query service (env prefix ``ANJU_QUERY_``)."""

from __future__ import annotations

from pydantic_settings import SettingsConfigDict

from eventkit.settings import ServiceSettings


class QuerySettings(ServiceSettings):
    """The query service: projections of other services' events and the read API (port 8100)."""

    model_config = SettingsConfigDict(
        env_prefix="ANJU_QUERY_", env_nested_delimiter="__", extra="ignore"
    )

    service: str = "query"
    port: int = 8100
