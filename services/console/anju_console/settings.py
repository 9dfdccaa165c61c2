"""Settings of the staff console (environment variables ``ANJU_CONSOLE_*``).

The console keeps nothing: it has no database and no topic, and reads the kernel's settings only
for what serving HTTP needs. Two ways to sign staff in:

- ``SIGN_IN=dev`` (the dev stack, ``make run``): a page where one picks a role and an area, and
  the console signs the token with ``JWT_SECRET``, the services' own secret. Only on a loopback
  address: a console reachable from elsewhere refuses to start in this mode.
- ``SIGN_IN=oidc`` (the default, production): the token comes from the organisation's identity
  provider, ``OIDC_ISSUER`` and ``OIDC_CLIENT_ID`` (a public client: the page runs the
  authorization-code flow with PKCE itself, see ``static/oidc.js``). The console does not sign
  anything then; the services verify the provider's tokens (their ``AUTH__OIDC_*`` settings).
"""

from __future__ import annotations

import ipaddress
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import SettingsConfigDict

from eventkit.settings import ServiceSettings, safe_url

DEV_APIS: dict[str, str] = {
    "query": "http://127.0.0.1:8100",
    "registry": "http://127.0.0.1:8101",
    "mediation": "http://127.0.0.1:8102",
    "health": "http://127.0.0.1:8103",
    "volunteering": "http://127.0.0.1:8104",
    "station": "http://127.0.0.1:8105",
    "governance": "http://127.0.0.1:8106",
    "integration": "http://127.0.0.1:8107",
}
"""Where the browser finds each service in the dev stack (a test holds it to the manifests)."""


class ConsoleSettings(ServiceSettings):
    model_config = SettingsConfigDict(
        env_prefix="ANJU_CONSOLE_", env_nested_delimiter="__", extra="ignore"
    )

    service: str = "console"
    port: int = Field(default=8090, ge=1, le=65535)
    database_url: str = ""
    """Unused: the console keeps nothing."""
    apis: dict[str, str] = Field(default_factory=lambda: dict(DEV_APIS))
    """Each service's API as the staff's browser reaches it (``/config.json`` hands it to the
    page); a JSON object in the environment. Every service must list the console's origin in
    its ``CORS_ORIGINS``."""
    sign_in: Literal["dev", "oidc"] = "oidc"
    oidc_issuer: str | None = None
    """The identity provider (the services' ``AUTH__OIDC_ISSUER`` when unset) (``https://sso.example.org/realms/anju``) whose tokens carry the
    claims the services read (``sub``, ``roles``, ``areas``)."""
    oidc_client_id: str | None = None
    """The console's client at the provider: public (no secret), authorization code with PKCE,
    its redirect URI the console's own address (``https://console.example.org/``)."""
    oidc_scopes: str = Field(default="openid profile", pattern=r"^[\x21\x23-\x5b\x5d-\x7e ]+$")
    """The scopes the console asks for, separated by spaces; ``openid`` is required."""
    token_ttl_s: int = Field(default=8 * 3600, ge=60, le=24 * 3600)
    """How long a token signed by the dev sign-in lasts: one working day."""

    @field_validator("oidc_issuer", "oidc_client_id", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: object) -> object:
        return None if value == "" else value

    @model_validator(mode="after")
    def _oidc_consistent(self) -> ConsoleSettings:
        if self.oidc_issuer is None:
            # The provider the services accept tokens from (AUTH__OIDC_ISSUER), unless told.
            self.oidc_issuer = self.auth.oidc_issuer
        if "openid" not in self.oidc_scopes.split():
            raise ValueError("OIDC_SCOPES must include openid")
        if self.oidc_issuer is not None and not safe_url(self.oidc_issuer):
            raise ValueError(
                "OIDC_ISSUER must be an https:// URL (http:// only on a loopback address):"
                f" {self.oidc_issuer}"
            )
        return self

    @model_validator(mode="after")
    def _dev_sign_in_only_on_loopback(self) -> ConsoleSettings:
        if self.sign_in == "dev" and not _loopback(self.host):
            raise ValueError(
                f"SIGN_IN=dev signs tokens for any role, so the console serves it only on a"
                f" loopback address, not on {self.host}: use SIGN_IN=oidc with OIDC_ISSUER and"
                " OIDC_CLIENT_ID"
            )
        return self


def _loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
