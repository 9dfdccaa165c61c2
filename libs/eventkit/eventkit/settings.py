"""Typed settings shared by every service; each service subclasses with its own env prefix.

Nothing here has a default secret: a service started without ``JWT_SECRET`` refuses to start
with a message naming the variable.
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from eventkit.auth import Role
from eventkit.keys import KeySettings


class KafkaSettings(BaseModel):
    """How to reach Kafka, and how consumers and the producer behave.

    The defaults suit the dev broker (Tansu): quick group joins and short fetch waits. Production
    sets ``enable_idempotence=true`` and usually longer session timeouts.

    Security defaults to ``PLAINTEXT`` (the dev broker on localhost). A managed cluster usually
    wants ``SASL_SSL`` with a SCRAM mechanism, a username and a password, and the cluster's CA
    when its certificate is not signed by a public one. Every client (producer, consumers, admin)
    is built from these by ``eventkit.kafka.connection``.
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
    """How long the broker may hold a consumer's fetch for new messages to arrive. Kafka answers
    as soon as a message comes, so a longer wait costs no latency there; the dev broker often
    answers only when the wait ends (a message produced to an idle consumer arrived after a
    median 141 ms with 500, 4.6 ms with 20, 2.9 ms with 5, at four times the idle fetches)."""
    linger_ms: int = Field(default=0, ge=0)
    """How long the producer holds a message for more to batch with it. The relay closes its
    batches itself (they are complete), so this only delays messages sent one by one."""
    metadata_max_age_ms: int = Field(default=2000, ge=500)
    max_batch: int = Field(default=1000, ge=1)

    security_protocol: Literal["PLAINTEXT", "SSL", "SASL_PLAINTEXT", "SASL_SSL"] = "PLAINTEXT"
    sasl_mechanism: Literal["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"] | None = None
    sasl_username: str | None = None
    sasl_password: SecretStr | None = None
    ssl_cafile: Path | None = None
    """PEM file of the CA(s) that signed the brokers' certificates; else the system's CAs."""
    ssl_certfile: Path | None = None
    """PEM client certificate, for clusters that authenticate clients by TLS (mutual TLS)."""
    ssl_keyfile: Path | None = None
    """PEM private key of ``ssl_certfile`` (if the certificate file does not hold it)."""
    ssl_key_password: SecretStr | None = None
    ssl_check_hostname: bool = True
    """Off only for brokers whose certificates do not name the host they are reached by; the
    certificate is still checked against the CA."""

    @model_validator(mode="after")
    def _heartbeat_below_session(self) -> KafkaSettings:
        if self.heartbeat_interval_ms * 3 > self.session_timeout_ms:
            raise ValueError("heartbeat_interval_ms must be at most a third of session_timeout_ms")
        return self

    @property
    def uses_sasl(self) -> bool:
        return self.security_protocol.startswith("SASL_")

    @property
    def uses_tls(self) -> bool:
        return self.security_protocol in ("SSL", "SASL_SSL")

    @model_validator(mode="after")
    def _security_consistent(self) -> KafkaSettings:
        """Refuse settings that would fail at the first connection, or be silently ignored."""
        protocol = self.security_protocol
        if self.uses_sasl:
            missing = [
                f"KAFKA__{name.upper()}"
                for name, value in (
                    ("sasl_mechanism", self.sasl_mechanism),
                    ("sasl_username", self.sasl_username),
                    ("sasl_password", self.sasl_password and self.sasl_password.get_secret_value()),
                )
                if not value
            ]
            if missing:
                raise ValueError(f"KAFKA__SECURITY_PROTOCOL={protocol} needs {', '.join(missing)}")
        else:
            given = [
                f"KAFKA__{name.upper()}"
                for name in ("sasl_mechanism", "sasl_username", "sasl_password")
                if getattr(self, name) is not None
            ]
            if given:
                raise ValueError(
                    f"{', '.join(given)} set but KAFKA__SECURITY_PROTOCOL is {protocol}: set it"
                    " to SASL_SSL (or SASL_PLAINTEXT) to authenticate, or remove them"
                )
        tls_only = {
            "ssl_cafile": self.ssl_cafile,
            "ssl_certfile": self.ssl_certfile,
            "ssl_keyfile": self.ssl_keyfile,
            "ssl_key_password": self.ssl_key_password,
        }
        if not self.uses_tls:
            given = [f"KAFKA__{name.upper()}" for name, value in tls_only.items() if value]
            if not self.ssl_check_hostname:
                given.append("KAFKA__SSL_CHECK_HOSTNAME")
            if given:
                raise ValueError(
                    f"{', '.join(given)} set but KAFKA__SECURITY_PROTOCOL is {protocol}, which"
                    " does not use TLS: set it to SSL or SASL_SSL, or remove them"
                )
            return self
        if (self.ssl_keyfile or self.ssl_key_password) and not self.ssl_certfile:
            raise ValueError(
                "KAFKA__SSL_KEYFILE and KAFKA__SSL_KEY_PASSWORD need KAFKA__SSL_CERTFILE"
            )
        for name in ("ssl_cafile", "ssl_certfile", "ssl_keyfile"):
            path: Path | None = getattr(self, name)
            if path is None:
                continue
            if not path.is_file():
                raise ValueError(f"KAFKA__{name.upper()}: {path} does not exist or is not a file")
            if not os.access(path, os.R_OK):
                raise ValueError(f"KAFKA__{name.upper()}: {path} is not readable by this process")
        return self


OidcAlgorithm = Literal["RS256", "ES256"]


class AuthSettings(BaseModel):
    """Which bearer tokens a service accepts besides those signed with ``JWT_SECRET``.

    With ``oidc_issuer`` set, the service also accepts access tokens the organisation's identity
    provider (OIDC) signed with a public-key algorithm (``RS256``/``ES256``, never ``none`` or an
    HMAC one), whose keys it fetches from the provider's JWKS (``oidc_jwks_url``, or the
    ``jwks_uri`` of the issuer's discovery document) and caches. The issuer, the audience
    (``oidc_audience``, required with an issuer) and the expiry are checked; the provider's roles
    are mapped to Anju's (see :mod:`eventkit.oidc`). In the environment:
    ``ANJU_QUERY_AUTH__OIDC_ISSUER``, ``ANJU_QUERY_AUTH__OIDC_AUDIENCE`` and so on.
    """

    model_config = ConfigDict(extra="forbid")

    oidc_issuer: str | None = None
    """The provider's issuer, exactly as its tokens' ``iss`` says
    (``https://sso.example.org/realms/anju``); https unless on a loopback address."""
    oidc_audience: str | None = None
    """What the tokens' ``aud`` must contain: the client or API the provider issues them for."""
    oidc_jwks_url: str | None = None
    """Where the provider's signing keys are; from the issuer's discovery document when unset."""
    oidc_algorithms: tuple[OidcAlgorithm, ...] = ("RS256", "ES256")
    oidc_roles_claim: str = "roles"
    """The claim holding the caller's roles (a list, or a string of names separated by spaces);
    a dotted path reaches into an object (Keycloak's ``realm_access.roles``)."""
    oidc_role_map: dict[str, str] = Field(default_factory=dict)
    """The provider's role names to Anju's (``{"anju-grid": "grid_worker"}``), a JSON object in
    the environment. When given, only the names it lists count; when empty, names that are
    Anju's roles count as they are. Other names are ignored."""
    oidc_areas_claim: str = "areas"
    """The claim holding the ids of the areas the caller covers."""
    oidc_organisations_claim: str = "organisations"
    """The claim holding a liaison's partner organisations (registry ids)."""
    oidc_leeway_s: int = Field(default=30, ge=0, le=300)
    """How far the provider's clock may be off this one's, for ``exp``, ``nbf`` and ``iat``."""
    oidc_jwks_ttl_s: float = Field(default=3600.0, gt=0)
    """How long fetched keys are used before they are fetched again."""
    oidc_jwks_min_refresh_s: float = Field(default=60.0, ge=0)
    """A token naming a key (``kid``) not among the cached ones makes the keys be fetched again
    (the provider rotated them), but not more often than this: made-up ``kid`` values cannot turn
    the service into a client hammering the provider."""
    oidc_timeout_s: float = Field(default=5.0, gt=0)

    @model_validator(mode="before")
    @classmethod
    def _empty_is_unset(cls, data: object) -> object:
        """A variable set empty (compose's ``${ANJU_OIDC_ISSUER:-}``, a ConfigMap's ``""``)
        leaves the setting at its default: no provider, or the default claim names."""
        if isinstance(data, dict):
            return {k: v for k, v in data.items() if v != ""}
        return data

    @property
    def oidc(self) -> bool:
        return self.oidc_issuer is not None

    @model_validator(mode="after")
    def _oidc_consistent(self) -> AuthSettings:
        if self.oidc_issuer is None:
            given = [
                f"AUTH__{name.upper()}"
                for name in ("oidc_audience", "oidc_jwks_url")
                if getattr(self, name) is not None
            ]
            if given:
                raise ValueError(f"{', '.join(given)} set without AUTH__OIDC_ISSUER")
            return self
        if not self.oidc_audience:
            raise ValueError("AUTH__OIDC_ISSUER needs AUTH__OIDC_AUDIENCE")
        unknown = sorted(set(self.oidc_role_map.values()) - {role.value for role in Role})
        if unknown:
            raise ValueError(f"AUTH__OIDC_ROLE_MAP maps to roles Anju does not have: {unknown}")
        if not self.oidc_algorithms:
            raise ValueError("AUTH__OIDC_ALGORITHMS must name RS256, ES256 or both")
        for name in ("oidc_issuer", "oidc_jwks_url"):
            url = getattr(self, name)
            if url is not None and not safe_url(url):
                raise ValueError(
                    f"AUTH__{name.upper()} must be an https:// URL (http:// only on a loopback"
                    f" address): {url}"
                )
        return self


def safe_url(url: str) -> bool:
    """https, or http on a loopback address (a dev or test provider)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return True
    if parts.scheme != "http" or not parts.hostname:
        return False
    if parts.hostname == "localhost":
        return True
    try:
        return ipaddress.ip_address(parts.hostname).is_loopback
    except ValueError:
        return False


class ServiceSettings(BaseSettings):
    """Settings every Anju process has. Subclass per service with ``env_prefix``."""

    model_config = SettingsConfigDict(env_nested_delimiter="__", extra="ignore")

    service: str
    database_url: str
    host: str = "127.0.0.1"
    port: int = Field(default=8100, ge=1, le=65535)
    jwt_secret: SecretStr
    jwt_algorithm: Literal["HS256"] = "HS256"
    auth: AuthSettings = Field(default_factory=AuthSettings)
    """Tokens from the organisation's identity provider (OIDC), besides the secret's."""
    kafka: KafkaSettings = Field(default_factory=KafkaSettings)
    keys: KeySettings | None = None
    """The key store that seals personal fields (``KEYS__DATABASE_URL``, ``KEYS__MASTER_KEY``;
    docs/personal-data.md). Every deployment sets it; without it personal fields are kept and
    published in clear, which only a unit test's throwaway stack may do."""
    db_pool_max: int = Field(default=20, ge=2)
    """Connections a process may hold to its database at once (its key store gets a quarter,
    at least 2, and one for its notices): with several services on one PostgreSQL server, their sum must stay under the
    server's ``max_connections``."""
    log_format: Literal["json", "console", "auto"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    relay_batch: int = Field(default=1000, ge=1)
    relay_idle_poll_s: float = Field(default=0.5, gt=0)
    """How often an idle relay looks for events nobody told it of. Appends wake it at once: in
    its process directly, in another replica by ``NOTIFY`` (:mod:`eventkit.listen`)."""
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
    cors_origins: list[str] = Field(default_factory=list)
    """Web origins (``https://console.example.org``) whose pages may call this API from a
    browser — the staff console's; none by default, so no page elsewhere can. A JSON list in the
    environment: ``'["http://127.0.0.1:8090"]'``."""
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
