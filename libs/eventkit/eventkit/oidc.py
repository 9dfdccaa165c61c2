"""Access tokens from the organisation's identity provider (OIDC), verified with its public keys.

In production staff sign in at the organisation's provider (Keycloak, an Azure AD tenant, ...)
and the staff console sends the access token it got to the services. A service set up with
``AUTH__OIDC_ISSUER`` and ``AUTH__OIDC_AUDIENCE`` (:class:`eventkit.settings.AuthSettings`)
accepts such a token when:

- its header names ``RS256`` or ``ES256`` (as configured), never ``none`` or an HMAC algorithm:
  a token saying ``HS256`` is checked against ``JWT_SECRET`` only, so a provider's public key
  can never serve as an HMAC secret;
- it is signed by a key of the provider's JWKS of that algorithm's type, found by its ``kid``.
  The keys are fetched once and cached for ``oidc_jwks_ttl_s``; a ``kid`` not among them makes
  them be fetched again (the provider rotated its keys), at most once per
  ``oidc_jwks_min_refresh_s``;
- its ``iss`` is the issuer, its ``aud`` holds the audience, it has not expired (``exp``
  required, ``nbf`` honoured, ``oidc_leeway_s`` of clock skew) and it names its ``sub``.

Its roles (``oidc_roles_claim``) are mapped to Anju's (``oidc_role_map``) and names Anju does not
know are ignored; a token left with no Anju role is refused. Areas and organisations come from
their claims as they are. Nothing here logs a token or a claim.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any

import httpx
import jwt
import structlog
from pydantic import ValidationError

from eventkit.auth import InvalidToken, KeysUnavailable, Principal, Role, TokenVerifier
from eventkit.settings import AuthSettings, safe_url

log = structlog.get_logger("eventkit.oidc")

Fetch = Callable[[str], Awaitable[Any]]
"""Reads a URL as JSON (a seam for tests; the default uses httpx)."""

_KEY_TYPES = {"RS256": ("RSA", None), "ES256": ("EC", "P-256")}
"""The JWK type (and curve) each accepted algorithm's keys must have."""
_NO_KEYS_RETRY_S = 1.0
"""With no keys at all (the provider never answered), how often to try again at most."""


class Jwks:
    """The provider's signing keys, fetched when first needed and kept for a while."""

    def __init__(self, settings: AuthSettings, fetch: Fetch | None = None) -> None:
        assert settings.oidc_issuer is not None
        self.settings = settings
        self.issuer = settings.oidc_issuer
        self.fetch = fetch or _fetcher(settings.oidc_timeout_s)
        self.keys: list[dict[str, Any]] | None = None
        self.fetched_at = 0.0
        self.tried_at: float | None = None
        self.lock = asyncio.Lock()

    async def key(self, kid: str | None, algorithm: str) -> jwt.PyJWK:
        """The key that signs a token whose header names ``kid`` and ``algorithm``."""
        now = time.monotonic()
        if self.keys is None or now - self.fetched_at > self.settings.oidc_jwks_ttl_s:
            await self._refresh(now)
        found = self._find(kid, algorithm)
        if found is None and kid is not None:
            await self._refresh(now)
            found = self._find(kid, algorithm)
        if found is None:
            if self.keys is None:
                raise KeysUnavailable("the identity provider's keys cannot be fetched")
            raise InvalidToken("no key of the identity provider signs this token")
        return found

    def _find(self, kid: str | None, algorithm: str) -> jwt.PyJWK | None:
        kty, crv = _KEY_TYPES[algorithm]
        candidates = [
            jwk
            for jwk in self.keys or []
            if jwk.get("kty") == kty
            and (crv is None or jwk.get("crv") == crv)
            and jwk.get("use", "sig") == "sig"
            and jwk.get("alg", algorithm) == algorithm
            and (kid is None or jwk.get("kid") == kid)
        ]
        if len(candidates) != 1:  # none, or no kid to tell several apart
            return None
        try:
            return jwt.PyJWK(candidates[0], algorithm=algorithm)
        except jwt.PyJWTError:
            return None

    async def _refresh(self, asked_at: float) -> None:
        async with self.lock:
            if self.tried_at is not None and self.tried_at >= asked_at:
                return  # another request fetched them while this one waited
            if self.tried_at is not None:
                pause = (
                    _NO_KEYS_RETRY_S if self.keys is None else self.settings.oidc_jwks_min_refresh_s
                )
                if time.monotonic() - self.tried_at < pause:
                    return
            self.tried_at = time.monotonic()
            try:
                url = self.settings.oidc_jwks_url or await self._discovered_jwks_url()
                document = await self.fetch(url)
                keys = document["keys"]
                if not isinstance(keys, list):
                    raise TypeError("keys is not a list")
            except Exception as error:  # the provider is down or answers nonsense
                # Keep the keys we have: tokens they sign still verify until the provider is back.
                log.warning("oidc_keys_unavailable", issuer=self.issuer, error=type(error).__name__)
                return
            self.keys = [k for k in keys if isinstance(k, dict)]
            self.fetched_at = time.monotonic()
            log.info("oidc_keys_fetched", issuer=self.issuer, keys=len(self.keys))

    async def _discovered_jwks_url(self) -> str:
        document = await self.fetch(self.issuer.rstrip("/") + "/.well-known/openid-configuration")
        if document.get("issuer") != self.issuer:
            raise ValueError("the discovery document names another issuer")
        url = document["jwks_uri"]
        if not isinstance(url, str) or not safe_url(url):
            raise ValueError("the discovery document's jwks_uri is not an https URL")
        return url


def _fetcher(timeout_s: float) -> Fetch:
    async def fetch(url: str) -> Any:
        async with httpx.AsyncClient(timeout=timeout_s, follow_redirects=False) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            return response.json()

    return fetch


class OidcVerifier:
    """Verifies the provider's access tokens and maps their claims to a :class:`Principal`."""

    def __init__(self, settings: AuthSettings, fetch: Fetch | None = None) -> None:
        assert settings.oidc_issuer is not None
        assert settings.oidc_audience is not None
        self.settings = settings
        self.issuer = settings.oidc_issuer
        self.audience = settings.oidc_audience
        self.jwks = Jwks(settings, fetch)

    async def verify(self, token: str, header: dict[str, Any]) -> Principal:
        algorithm = header.get("alg")
        if algorithm not in self.settings.oidc_algorithms:
            raise InvalidToken("the token's algorithm is not accepted")
        kid = header.get("kid")
        key = await self.jwks.key(kid if isinstance(kid, str) else None, str(algorithm))
        try:
            claims = jwt.decode(
                token,
                key=key.key,
                algorithms=[str(algorithm)],
                audience=self.audience,
                issuer=self.issuer,
                leeway=self.settings.oidc_leeway_s,
                options={"require": ["exp", "iss", "aud", "sub"]},
            )
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        return self.principal(claims)

    def principal(self, claims: dict[str, Any]) -> Principal:
        """The caller a verified token's claims describe, in Anju's roles."""
        roles = self.roles(_names(_claim(claims, self.settings.oidc_roles_claim)))
        if not roles:
            raise InvalidToken("the token grants none of Anju's roles")
        try:
            return Principal(
                sub=claims["sub"],
                roles=roles,
                areas=tuple(_names(_claim(claims, self.settings.oidc_areas_claim))),
                organisations=tuple(_names(_claim(claims, self.settings.oidc_organisations_claim))),
            )
        except ValidationError as error:
            raise InvalidToken("the token's subject is not a string") from error

    def roles(self, names: list[str]) -> tuple[Role, ...]:
        mapping = self.settings.oidc_role_map
        known = {role.value for role in Role}
        found: list[Role] = []
        for name in names:
            value = mapping.get(name) if mapping else name
            if value in known and Role(value) not in found:
                found.append(Role(value))
        return tuple(found)


def _claim(claims: dict[str, Any], name: str) -> Any:
    """A claim by its name, or by a dotted path into objects (``realm_access.roles``); a name
    that itself holds dots (``https://anju.example.org/roles``) is tried first."""
    if name in claims:
        return claims[name]
    value: Any = claims
    for part in name.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def _names(value: Any) -> list[str]:
    """A claim holding names: a list of strings, or one string of names separated by spaces."""
    if isinstance(value, str):
        return value.split()
    if isinstance(value, list):
        return [v for v in value if isinstance(v, str)]
    return []


def token_verifier(secret: str, auth: AuthSettings | None = None) -> TokenVerifier:
    """The verifier of a service: the secret's tokens, and the provider's when ``auth`` names one."""
    if auth is None or not auth.oidc:
        return TokenVerifier(secret)
    return TokenVerifier(secret, OidcVerifier(auth))
