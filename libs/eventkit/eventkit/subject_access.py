"""Data-subject access: everything one service's event store holds about a person.

A person may ask what Anju holds about them. Each service answers for its own store, through the
same route (``POST /subject-access``, :func:`subject_access_router`), and ``anju subject-access``
asks every service and puts the answers together.

A service declares, once (:class:`SubjectAccess`):

- the stream prefixes keyed by a resident's id (registry ``resident-``, ``care-``; health
  ``record-``, ``chart-``, ``protected_care-``): those streams are the person's;
- where a resident is (:attr:`SubjectAccess.locate`): the registry from its own streams, the
  other services from what they learnt of the registry (:func:`known_place`);
- its own rules for restricted records (:attr:`SubjectAccess.withhold`): an event the caller may
  not read under them is left out of the answer and listed by type and count with the reason.

Besides the person's streams, the answer holds every event of any other stream whose payload
names them (:data:`~eventkit.store.NAMES_PERSON`: a dispute party, a volunteer who is a
resident, a consent). The rules of access are the kernel's: the action ``subject_access``
(directors and admins unless a service's table says more), a resident outside the caller's areas
does not exist (404), a reason is required, and the request is recorded in the audit of
sensitive reads (kind ``subject_access``) with its reason before the answer leaves.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any
from uuid import UUID

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field, StringConstraints

from anju_contracts.registry import AreaPath
from eventkit import audit
from eventkit.access import SUBJECT_ACCESS, Permissions, area_ids
from eventkit.auth import Role
from eventkit.commands import Caller, CommandPart, caller_dependency
from eventkit.errors import NotFound
from eventkit.known import Known
from eventkit.store import RecordedEvent, Store, StoreSession

AUDIT_KIND = "subject_access"
"""The kind of record an access request is audited as (its subject: the resident's id)."""

Locate = Callable[[StoreSession, UUID], Awaitable[AreaPath | None]]
"""Where the resident is, as this service knows them; None when it does not know them."""

Withhold = Callable[[RecordedEvent], str | None]
"""Why the caller may not read an event (it is withheld), or None when they may."""

Rules = Callable[[StoreSession, Caller, UUID], Awaitable[Withhold]]
"""A service's own rules for restricted records, for this caller and this resident."""


async def _no_restrictions(session: StoreSession, caller: Caller, resident_id: UUID) -> Withhold:
    return lambda recorded: None


@dataclass(frozen=True)
class SubjectAccess:
    """What a service declares so that its store can answer access requests."""

    prefixes: Sequence[str]
    """The prefixes of the streams keyed by a resident's id (``resident-`` for
    ``resident-<id>``)."""
    locate: Locate
    withhold: Rules = _no_restrictions


def known_place(known: Known) -> Locate:
    """:attr:`SubjectAccess.locate` from what the service learnt of the registry."""

    async def locate(session: StoreSession, resident_id: UUID) -> AreaPath | None:
        resident = await known.resident(session, resident_id)
        return None if resident is None else resident.path

    return locate


class ResidentNotFound(NotFound):
    code = "resident_not_found"


Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=3, max_length=500)]


class SubjectAccessRequest(CommandPart):
    """A request for everything held about a resident, with why it is made (a command's body:
    unknown fields refused, no control characters in the reason)."""

    resident_id: UUID
    reason: Reason = Field(
        description="Why the report is made (the resident's request, its reference): audited"
    )


class HeldEvent(BaseModel):
    """One event held about the person."""

    type: str
    version: int
    stream_id: str
    occurred_at: datetime
    """Business time: when the fact happened."""
    recorded_at: datetime
    data: dict[str, Any]


class Withheld(BaseModel):
    """Events held about the person that the caller may not read, by type: never their content."""

    type: str
    count: int
    why: str


class SubjectAccessReport(BaseModel):
    """What one service's event store holds about a resident, as the caller may read it."""

    service: str
    resident_id: UUID
    reason: str
    made_at: datetime
    events: list[HeldEvent]
    """The events the caller may read, in the order recorded."""
    withheld: list[Withheld]
    """The events left out under the service's rules, by type and count."""


async def gather(
    store: Store,
    access: SubjectAccess,
    caller: Caller,
    request: SubjectAccessRequest,
    *,
    permissions: Permissions,
) -> SubjectAccessReport:
    """The report of ``store`` on the requested resident, for ``caller``.

    Raises 403 ``forbidden`` when the caller's role may not make access requests, and 404
    ``resident_not_found`` when the service does not know the resident or the caller's areas do
    not cover them (the same answer for both).
    """
    resident_id = request.resident_id
    permissions.check(caller.principal, SUBJECT_ACCESS)
    async with store.session() as session:
        place = await access.locate(session, resident_id)
        if place is None or not caller.covers(place):
            raise ResidentNotFound("no such resident", resident_id=str(resident_id))
        held = await session.about(resident_id, prefixes=access.prefixes)
        withhold = await access.withhold(session, caller, resident_id)
    elsewhere = _elsewhere(caller, place)
    events: list[HeldEvent] = []
    withheld: Counter[tuple[str, str]] = Counter()
    for recorded in held:
        why = elsewhere(recorded) or withhold(recorded)
        if why is not None:
            withheld[(recorded.event.event_type, why)] += 1
            continue
        events.append(
            HeldEvent(
                type=recorded.event.event_type,
                version=recorded.event.event_version,
                stream_id=recorded.stream_id,
                occurred_at=recorded.occurred_at,
                recorded_at=recorded.recorded_at,
                data=recorded.event.model_dump(mode="json"),
            )
        )
    return SubjectAccessReport(
        service=store.source,
        resident_id=resident_id,
        reason=request.reason,
        made_at=datetime.now(UTC),
        events=events,
        withheld=[
            Withheld(type=type_, count=count, why=why)
            for (type_, why), count in sorted(withheld.items())
        ],
    )


OUTSIDE_AREAS = "recorded in an area outside the caller's"


def _elsewhere(caller: Caller, place: AreaPath) -> Withhold:
    """The kernel's rule before any service's: an event recorded in an area the caller does not
    cover (a dispute in another community that names the resident as a party) is withheld, as
    the record itself would be a 404 to them. An event's area is its grid or community; those
    of the resident's own place, and the caller's own areas, are covered (an area of another
    grid of a covered community is withheld too: the kernel cannot place it here, and withholding
    is the safe side). Admins see everywhere."""
    if caller.principal.has(Role.ADMIN):
        return lambda recorded: None
    covered = {str(a) for a in area_ids(caller.principal)}
    covered |= {str(place.community_id)} | ({str(place.grid_id)} if place.grid_id else set())

    def outside(recorded: RecordedEvent) -> str | None:
        if recorded.area is None or recorded.area in covered:
            return None
        return OUTSIDE_AREAS

    return outside


CallerDep = Annotated[Caller, Depends(caller_dependency(Caller))]


def subject_access_router(access: SubjectAccess) -> APIRouter:
    """``POST /subject-access`` for a service that declares ``access``."""
    router = APIRouter(tags=["personal data"])

    @router.post(
        "/subject-access",
        summary="Everything this service holds about a resident (data-subject access)",
        description="The events of the resident's own records and every other event naming "
        "them, with business time and data; restricted events the caller may not read under "
        "this service's rules are withheld and listed by type and count. Directors of the "
        "resident's area and admins; a reason is required and the request is audited.",
    )
    async def subject_access(
        body: SubjectAccessRequest, request: Request, caller: CallerDep
    ) -> SubjectAccessReport:
        runtime = request.app.state.runtime
        report = await gather(
            runtime.store, access, caller, body, permissions=request.app.state.permissions
        )
        await audit.record_read(
            runtime.pool,
            caller.principal,
            AUDIT_KIND,
            body.resident_id,
            audit.route_of(request),
            correlation_id=audit.correlation_of(request),
            reason=body.reason,
        )
        return report

    return router
