"""What every command endpoint shares: the caller's context and the answer it gets.

A command's answer carries a *consistency token* naming the stream and the version the command
produced. A query that passes it back waits until the read model has caught up to it, so a UI
that writes and then reads at once sees its own write.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Protocol, TypeVar
from uuid import UUID

from fastapi import Depends, Request
from pydantic import BaseModel

from anju_contracts import Actor
from eventkit.auth import Principal, Role, covers
from eventkit.http import ApiError, Forbidden, require
from eventkit.metrics import COMMANDS
from eventkit.store import AppendResult, ConcurrencyError, Context, Stream

Clock = Callable[[], datetime]
"""Where a service reads the time: deciders take ``now`` from it, tests move it by hand."""


def utcnow() -> datetime:
    return datetime.now(UTC)


class Accepted(BaseModel):
    """The answer to a command that was decided and committed.

    ``id`` names the record the command wrote to and ``version``/``consistency_token`` where that
    record now stands. ``sub_id`` names what the command created inside the record (a mediation
    session, an agreement, a referral, a follow-up visit), so a client can hold it without reading
    the record again; it is null for commands that create no such part.
    """

    id: str
    version: int
    consistency_token: str
    sub_id: str | None = None

    def with_sub_id(self, sub_id: object) -> Accepted:
        """This answer, naming ``sub_id`` as the part the command created."""
        return self.model_copy(update={"sub_id": str(sub_id)})


@dataclass(frozen=True)
class ConsistencyToken:
    source: str
    stream_id: str
    version: int

    def encode(self) -> str:
        return f"{self.source}:{self.stream_id}:{self.version}"

    @classmethod
    def decode(cls, token: str) -> ConsistencyToken:
        source, sep, rest = token.partition(":")
        stream_id, sep2, version = rest.rpartition(":")
        if not (sep and sep2 and source and stream_id and version.isdigit()):
            raise BadConsistencyToken("malformed consistency token", token=token)
        return cls(source, stream_id, int(version))


class BadConsistencyToken(ApiError):
    status = 400
    code = "bad_consistency_token"


def accepted(
    source: str, entity_id: str, result: AppendResult, *, sub_id: object | None = None
) -> Accepted:
    """The answer to a committed command on ``entity_id`` (and the ``sub_id`` it created, if any)."""
    token = ConsistencyToken(source, result.stream_id, result.version)
    return Accepted(
        id=entity_id,
        version=result.version,
        consistency_token=token.encode(),
        sub_id=None if sub_id is None else str(sub_id),
    )


def context_of(request: Request, principal: Principal) -> Context:
    """The command context: the caller and the request's correlation id."""
    correlation_id: str = getattr(request.state, "correlation_id", "") or ""
    actor = Actor(id=principal.sub, roles=tuple(str(r) for r in principal.roles))
    return (
        Context(actor=actor, correlation_id=correlation_id)
        if correlation_id
        else Context(actor=actor)
    )


@contextmanager
def counted(service: str, command: str) -> Iterator[None]:
    """Count a command in ``anju_commands_total`` by outcome: accepted, conflict, rejected, failed."""
    outcome = "accepted"
    try:
        yield
    except ConcurrencyError:
        outcome = "conflict"
        raise
    except ApiError as error:
        outcome = "conflict" if error.status == 409 else "rejected"
        raise
    except Exception:
        outcome = "failed"
        raise
    finally:
        COMMANDS.labels(service, command, outcome).inc()


def expect_version(stream: Stream, expected_version: int | None) -> int:
    """The version to append at: the caller's, if they named one and it is still current.

    A client that read version 3 and sends ``expected_version=3`` gets a 409 if someone else
    changed the record since, instead of silently overwriting their change.
    """
    if expected_version is not None and expected_version != stream.version:
        raise ConcurrencyError(stream.id, expected_version)
    return stream.version


class Placed(Protocol):
    """Anything that sits in the area tree: a community and, below it, maybe a grid."""

    @property
    def community_id(self) -> UUID: ...
    @property
    def grid_id(self) -> UUID | None: ...


def area_of(place: Placed) -> str:
    """The envelope ``area`` of a fact at ``place``: its grid, or its community above the grids."""
    return str(place.grid_id or place.community_id)


@dataclass(frozen=True)
class Caller:
    """Who sends a command (copied onto its events) and where they may act."""

    principal: Principal
    context: Context

    def may_act_on(self, place: Placed) -> bool:
        grid = None if place.grid_id is None else str(place.grid_id)
        return covers(self.principal, str(place.community_id), grid)

    def check_write(self, place: Placed) -> None:
        if not self.may_act_on(place):
            raise Forbidden("this is outside your areas", area=area_of(place))


C = TypeVar("C", bound=Caller)


def caller_dependency(cls: type[C], *roles: Role) -> Callable[..., C]:
    """A FastAPI dependency: the caller of a command route, holding one of ``roles``."""

    # A default rather than ``Annotated``: this module postpones annotations, and FastAPI cannot
    # resolve an annotation that names the closure's ``roles``.
    def dependency(request: Request, principal: Principal = Depends(require(*roles))) -> C:  # noqa: B008
        return cls(principal=principal, context=context_of(request, principal))

    return dependency
