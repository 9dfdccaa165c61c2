"""Typed settings shared by every service; each service subclasses with its own env prefix.

Nothing here has a default secret: a service started without ``JWT_SECRET`` refuses to start
with a message naming the variable.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class KafkaSettings(BaseModel):
    """How to reach Kafka, and how consumers and the producer behave.

    The defaults suit the dev broker (Tansu): quick group joins and short fetch waits. Production
    sets ``enable_idempotence=true`` and usually longer session timeouts.
    """

    model_config = ConfigDict(extra="forbid")

    bootstrap: str = "127.0.0.1:9092"
    topic_prefix: str = Field(default="", pattern=r"^[a-z0-9_.-]*$")
    partitions: int = Field(default=3, ge=1)
    replication_factor: int = Field(default=1, ge=1)
    acks: Literal["all", "1", "0"] = "all"
    enable_idempotence: bool = False
    session_timeout_ms: int = Field(default=2000, ge=1000)
    heartbeat_interval_ms: int = Field(default=300, ge=100)
    fetch_max_wait_ms: int = Field(default=20, ge=0)
    metadata_max_age_ms: int = Field(default=2000, ge=500)
    max_batch: int = Field(default=1000, ge=1)

    @model_validator(mode="after")
    def _heartbeat_below_session(self) -> KafkaSettings:
        if self.heartbeat_interval_ms * 3 > self.session_timeout_ms:
            raise ValueError("heartbeat_interval_ms must be at most a third of session_timeout_ms")
        return self


class ServiceSettings(BaseSettings):
    """Settings every Anju process has. Subclass per service with ``env_prefix``."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    service: str
    database_url: str
    host: str = "127.0.0.1"
    port: int = Field(default=8100, ge=1, le=65535)
    jwt_secret: SecretStr
    jwt_algorithm: Literal["HS256"] = "HS256"
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    log_format: Literal["json", "console", "auto"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    relay_batch: int = Field(default=1000, ge=1)
    relay_idle_poll_s: float = Field(default=0.05, gt=0)
    topic_check_interval_s: float = Field(default=1.0, gt=0)
    scheduler_poll_s: float = Field(default=1.0, gt=0)
    # A failing deadline is tried again after retry_base_s, doubling up to retry_cap_s; after
    # max_attempts failures it stops with a dead letter for operators.
    deadline_max_attempts: int = Field(default=8, ge=1)
    deadline_retry_base_s: float = Field(default=30.0, gt=0)
    deadline_retry_cap_s: float = Field(default=3600.0, gt=0)
    consistency_wait_s: float = Field(default=5.0, ge=0)
    max_body_bytes: int = Field(default=1024 * 1024, ge=1024)
    """A request body over this is answered 413 before it is read (1 MiB)."""
    max_in_flight: int = Field(default=64, ge=1)
    """Requests served at once by one process; beyond it 503 ``overloaded`` at once."""
    clock_skew_s: float = Field(default=120.0, ge=0)
    """How far a command's ``occurred_at`` may lie ahead of this service's clock (and how far
    behind it before it counts as back-dated)."""
    backdate_limit_days: float = Field(default=3650.0, gt=0, le=36_500)
    """How far back a command's ``occurred_at`` may lie."""

    @field_validator("jwt_secret")
    @classmethod
    def _secret_strong_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("JWT_SECRET must be at least 16 characters")
        return value

    @property
    def topic(self) -> str:
        """The Kafka topic this service publishes its events to."""
        return topic_for(self.service, self.kafka.topic_prefix)


def topic_for(service: str, prefix: str = "") -> str:
    """The topic of a service's events: ``<service>.events``, keyed by stream id.

    A prefix separates several stacks (or tests) sharing one broker.
    """
    return f"{prefix}{service}.events"
