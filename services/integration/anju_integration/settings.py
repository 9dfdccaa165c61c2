"""Settings of the integration service (environment variables ``ANJU_INTEGRATION_*``)."""

from __future__ import annotations

import hmac
from uuid import UUID

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import SettingsConfigDict

from eventkit.settings import ServiceSettings


class IntegrationSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ANJU_INTEGRATION_", env_nested_delimiter="__", extra="ignore"
    )

    service: str = "integration"
    port: int = Field(default=8107, ge=1, le=65535)
    mediation_url: str = "http://127.0.0.1:8102"
    """Mediation's HTTP API, where 12345 work orders become disputes and signals."""
    registry_url: str = "http://127.0.0.1:8101"
    """The registry's HTTP API, where tenancy changes become move-ins and move-outs."""
    hotline_community_ids: list[UUID] | None = None
    """The communities this stack serves for the 12345 platform: their desk staff and directors
    see (and may place) a work order parked without any place (no area, an address naming no
    area Anju knows). Unset: every community the service has learnt of the registry when the
    order is parked. Fixed on each order when it is parked (a community added later sees the
    orders parked after it). A JSON list: ``["<uuid>", ...]``."""
    id_hash_key: SecretStr | None = None
    """The key of the hash under which the service keeps residents' identity numbers (never
    the numbers). Unset: derived from ``jwt_secret``; changing either key makes the hashes
    learnt so far useless until the registry's events are read again."""
    inbound_retries: int = Field(default=5, ge=1)
    """How often an inbound message whose handling fails (not for want of the database or the
    broker) is tried before it is dead-lettered as ``handler_failed``."""
    inbound_backoff_s: float = Field(default=0.5, gt=0)
    """The first wait before a failed inbound message comes again; it doubles each time, up to
    30 s."""

    @field_validator("id_hash_key")
    @classmethod
    def _key_long_enough(cls, value: SecretStr | None) -> SecretStr | None:
        if value is not None and len(value.get_secret_value()) < 16:
            raise ValueError("ID_HASH_KEY must be at least 16 characters")
        return value

    def id_hash_secret(self) -> bytes:
        """The identity-number hash key: its own, or one derived from the JWT secret."""
        if self.id_hash_key is not None:
            return self.id_hash_key.get_secret_value().encode()
        label = b"anju.integration.id-hash"
        return hmac.new(self.jwt_secret.get_secret_value().encode(), label, "sha256").digest()
