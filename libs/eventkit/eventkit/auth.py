"""Bearer JWT authentication: who the caller is, which roles they hold, which areas they cover.

The dev stack signs tokens with an HS256 secret from settings (``anju token`` prints one);
verification is one function, so RS256 with a JWKS endpoint can replace it without touching
the routes.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from enum import StrEnum

import jwt
from pydantic import BaseModel, ConfigDict, ValidationError


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
    """The bearer token is missing, malformed, expired or not signed by us."""


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
