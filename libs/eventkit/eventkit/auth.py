"""Bearer JWT authentication: who the caller is, which roles they hold, which areas they cover.

Two kinds of token are accepted, told apart by the algorithm their header names:

- ``HS256``, signed with the stack's ``JWT_SECRET``: the dev stack's sign-in, ``anju token``,
  and services calling one another;
- ``RS256``/``ES256``, signed by the organisation's identity provider (OIDC), when the service is
  set up for one (:mod:`eventkit.oidc`).

:class:`TokenVerifier` is the one place that decides; the routes only see a :class:`Principal`.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable
from enum import StrEnum
from typing import TYPE_CHECKING

import jwt
from jwt.utils import base64url_decode
from pydantic import BaseModel, ConfigDict, ValidationError

if TYPE_CHECKING:
    from eventkit.oidc import OidcVerifier


class Role(StrEnum):
    ADMIN = "admin"
    DIRECTOR = "director"
    GRID_WORKER = "grid_worker"
    DESK_STAFF = "desk_staff"
    MEDIATOR = "mediator"
    POLICE = "police"
    PETITION_AGENT = "petition_agent"
    DOCTOR = "doctor"
    VOLUNTEER_COORDINATOR = "volunteer_coordinator"
    LIAISON = "liaison"
    """A partner organisation's liaison: sees only the records of the organisations their
    token's ``organisations`` names, within their ``areas``."""
    SERVICE = "service"


class Principal(BaseModel):
    """The authenticated caller: a staff member (or a service) with roles and areas."""

    model_config = ConfigDict(frozen=True)

    sub: str
    roles: tuple[Role, ...]
    areas: tuple[str, ...] = ()
    organisations: tuple[str, ...] = ()
    """For a liaison: the partner organisations (registry ids) they speak for."""

    def has(self, *roles: Role) -> bool:
        return any(role in self.roles for role in roles)


class InvalidToken(Exception):
    """The bearer token is missing, malformed, expired or not signed by us.

    Its message says why, for the caller; it never holds the token or its claims."""


class KeysUnavailable(InvalidToken):
    """The identity provider's keys could not be fetched (and none are cached): whether the token
    is good cannot be told now (503, not 401)."""


def issue_token(
    secret: str,
    sub: str,
    roles: Iterable[Role | str],
    areas: Iterable[str] = (),
    *,
    organisations: Iterable[str] = (),
    ttl_s: int = 12 * 3600,
) -> str:
    now = int(time.time())
    claims: dict[str, object] = {
        "sub": sub,
        "roles": [str(Role(r)) for r in roles],
        "areas": list(areas),
        "iat": now,
        "exp": now + ttl_s,
    }
    if organisations:
        claims["organisations"] = list(organisations)
    return jwt.encode(claims, secret, algorithm="HS256")


def verify_token(token: str, secret: str) -> Principal:
    try:
        claims = jwt.decode(
            token, secret, algorithms=["HS256"], options={"require": ["sub", "exp", "roles"]}
        )
        return Principal.model_validate(claims, strict=False)
    except (jwt.PyJWTError, ValidationError) as error:
        raise InvalidToken(str(error)) from error


class TokenVerifier:
    """Verifies a bearer token of either kind: the secret's (``HS256``) or, with ``oidc``, the
    identity provider's. A token naming any other algorithm is refused.

    A client sends the same token with every request until it expires, so a verified token is
    remembered (up to ``remembered`` of them, the oldest forgotten first) with the caller it
    names, until its ``exp``: checking the signature and the claims again would give the same
    answer. Only tokens that verified are remembered; one past its ``exp`` is verified again
    (and refused), so the provider's leeway still applies."""

    def __init__(self, secret: str, oidc: OidcVerifier | None = None, remembered: int = 4096):
        self.secret = secret
        self.oidc = oidc
        self.remembered = remembered
        self._verified: dict[str, tuple[Principal, float]] = {}

    async def verify(self, token: str) -> Principal:
        known = self._verified.get(token)
        if known is not None:
            if time.time() < known[1]:
                return known[0]
            del self._verified[token]
        principal = await self._verify(token)
        expires = _expiry(token)
        if expires is not None and self.remembered > 0:
            if len(self._verified) >= self.remembered:
                del self._verified[next(iter(self._verified))]
            self._verified[token] = (principal, expires)
        return principal

    async def _verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as error:
            raise InvalidToken(str(error)) from error
        if header.get("alg") == "HS256":
            return verify_token(token, self.secret)
        if self.oidc is None:
            raise InvalidToken("the token's algorithm is not accepted")
        return await self.oidc.verify(token, header)


def _expiry(token: str) -> float | None:
    """The ``exp`` of a token that has verified (both kinds require one), as a Unix time."""
    try:
        claims = json.loads(base64url_decode(token.split(".")[1]))
    except (IndexError, ValueError):
        return None
    expires = claims.get("exp") if isinstance(claims, dict) else None
    return float(expires) if isinstance(expires, int | float) else None
