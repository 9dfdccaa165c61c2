"""What every command endpoint shares: the caller's context and the answer it gets.

A command's answer carries a *consistency token* naming the stream and the version the command
produced. A query that passes it back waits until the read model has caught up to it, so a UI
that writes and then reads at once sees its own write.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, TypeVar

from fastapi import Request
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator

from anju_contracts import Actor
from anju_contracts.base import check_text
from eventkit.access import Guarded, Placed, covers, may_see
from eventkit.auth import Principal
from eventkit.business import BusinessTime
from eventkit.errors import DomainError, Invalid, Kind
from eventkit.http import CurrentUser
from eventkit.idempotency import CommandKey
from eventkit.metrics import COMMANDS
from eventkit.store import AppendResult, ConcurrencyError, Context, Stream

Clock = Callable[[], datetime]
"""Where a service reads the time: deciders take ``now`` from it, tests move it by hand."""


def utcnow() -> datetime:
    return datetime.now(UTC)


def _checked_text(value: Any) -> Any:
    if isinstance(value, str):
        return check_text(value)
    if isinstance(value, list | tuple | set | frozenset):
        for item in value:
            _checked_text(item)
    elif isinstance(value, dict):
        for key, item in value.items():
            _checked_text(key)
            _checked_text(item)
    return value


class CommandPart(BaseModel):
    """Part of a command's body (a party of a dispute, a liaison of an organisation), and the
    base of every command: unknown fields refused, text stripped, and no text anywhere in it
    (however nested) holding control characters other than tab and newline — one check for
    every field of every command, answered 422 naming the field."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)

    @field_validator("*", mode="after")
    @classmethod
    def _no_control_characters(cls, value: Any) -> Any:
        return _checked_text(value)


class Command(CommandPart):
    """A command as it arrives over HTTP (see :class:`CommandPart`), which may say when what it
    records happened (business time, :mod:`eventkit.business`)."""

    occurred_at: AwareDatetime | None = Field(
        default=None,
        description="Business time: when what this command records happened, with its time "
        "zone (a visit from a paper ledger). Omitted: now. Never in the future beyond the "
        "clock skew, never further back than the service accepts, never before the record it "
        "refers to; a date in the past needs the `backdate` permission and is audited",
    )


class StreamCommand(Command):
    """A command on an existing record, which may name the version it was decided on."""

    expected_version: int | None = Field(
        default=None,
        ge=0,
        le=2**62,
        description="Fail with 409 unless the record is still at this version",
    )


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
        if not (sep and sep2 and source and stream_id and version.isdigit() and len(version) <= 18):
            raise BadConsistencyToken("malformed consistency token", token=token)
        return cls(source, stream_id, int(version))


class BadConsistencyToken(Invalid):
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
    business: BusinessTime | None = getattr(request.state, "business_time", None)
    dated: dict[str, Any] = (
        {}
        if business is None
        else {"occurred_at": business.occurred_at, "backdated": business.backdated}
    )
    key: CommandKey | None = getattr(request.state, "idempotency", None)
    if key is not None:
        dated["idempotency"] = key
    return (
        Context(actor=actor, correlation_id=correlation_id, **dated)
        if correlation_id
        else Context(actor=actor, **dated)
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
    except DomainError as error:
        outcome = "conflict" if error.kind is Kind.CONFLICT else "rejected"
        raise
    except Exception:
        outcome = "failed"
        raise
    finally:
        COMMANDS.labels(service, command, outcome).inc()


class StaleVersion(ConcurrencyError):
    """The version the caller named is no longer the record's: they must look again (a 409
    like any conflict, but never tried again for them: see :class:`eventkit.app.CommandRoute`)."""


def expect_version(stream: Stream, expected_version: int | None) -> int:
    """The version to append at: the caller's, if they named one and it is still current.

    A client that read version 3 and sends ``expected_version=3`` gets a 409 if someone else
    changed the record since, instead of silently overwriting their change.
    """
    if expected_version is not None and expected_version != stream.version:
        raise StaleVersion(stream.id, expected_version)
    return stream.version


def area_of(place: Placed) -> str:
    """The envelope ``area`` of a fact at ``place``: its grid, or its community above the grids."""
    return str(place.grid_id or place.community_id)


@dataclass(frozen=True)
class Caller:
    """Who sends a command (copied onto its events) and what the one access policy lets them see."""

    principal: Principal
    context: Context

    def now(self, clock: Clock) -> datetime:
        """Business time for a decider: when the command says its fact happened, else
        ``clock()``. Timestamps in events and deadlines run from it."""
        return self.context.occurred_at or clock()

    def sees(self, record: Guarded) -> bool:
        return may_see(self.principal, record)

    def covers(self, place: Placed) -> bool:
        return covers(self.principal, place.community_id, place.grid_id)


C = TypeVar("C", bound=Caller)


def caller_dependency(cls: type[C]) -> Callable[..., Awaitable[C]]:
    """A FastAPI dependency: the authenticated caller of a route. What their role may do is
    checked per action by the service's permission table (``eventkit.access``)."""

    async def dependency(request: Request, principal: CurrentUser) -> C:
        return cls(principal=principal, context=context_of(request, principal))

    return dependency
