"""Handlers for the desk: receptions and convenience services, and what they decide with."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from anju_contracts.registry import AreaPath
from anju_contracts.station import SOURCE, BillType, Outcome, Purpose, Referral, ServiceStatus
from anju_station.application.aggregates import RECEPTIONS, SERVICE_ACTOR, SERVICES
from anju_station.application.residences import Residences
from anju_station.domain import receptions, services
from anju_station.domain.errors import UnknownServiceType
from eventkit.commands import Accepted, Caller, Clock, Command, StreamCommand, area_of, counted
from eventkit.known import (
    Known,
    require_known,
    visible_location,
    visible_organisation,
    visible_residents,
)
from eventkit.scheduler import Deadline
from eventkit.store import Context, Session, Store, StoreSession


class ServiceType(BaseModel):
    """A convenience service in the community's catalogue."""

    name: str = Field(min_length=1, max_length=100)
    handoff_days: float = Field(default=10, gt=0, le=366)
    """How long the agency of record has, once the desk hands the service off."""


@dataclass(frozen=True)
class StationConfig:
    """What the handlers need besides the store."""

    clock: Clock
    known: Known
    catalogue: dict[str, ServiceType]
    residences: Residences
    public_url: str
    """Where the public checks a certificate (``{public_url}/public/certificates/{number}``)."""

    def service_type(self, code: str) -> ServiceType:
        found = self.catalogue.get(code)
        if found is None:
            raise UnknownServiceType(
                "no such service in the catalogue", service_type=code, known=sorted(self.catalogue)
            )
        return found


async def place(
    cfg: StationConfig, session: StoreSession, area_id: UUID, caller: Caller
) -> AreaPath:
    location = await visible_location(cfg.known, session, area_id, caller)
    return AreaPath(community_id=location.path.community_id, grid_id=location.path.grid_id)


# -- receptions ---------------------------------------------------------------------------------


class LogReception(Command):
    area_id: UUID = Field(description="The station's community (or a grid)")
    resident_id: UUID | None = Field(default=None, description="None for an anonymous visitor")
    purposes: list[Purpose] = Field(min_length=1, max_length=8)
    referred_by: Referral = Referral.SELF
    outcome: Outcome = Outcome.ANSWERED
    note: str | None = Field(default=None, max_length=500)


async def log_reception(
    store: Store, cmd: LogReception, caller: Caller, cfg: StationConfig
) -> Accepted:
    """One request, two lookups in the service's own tables (the place, the resident)."""
    async with RECEPTIONS.create(store, caller, "log_reception") as w:
        path = await place(cfg, w.session, cmd.area_id, caller)
        if cmd.resident_id is not None:
            found = await visible_residents(cfg.known, w.session, [cmd.resident_id], caller)
            require_known([cmd.resident_id], found)
        w.emit(
            receptions.log(
                w.id,
                resident_id=cmd.resident_id,
                purposes=cmd.purposes,
                referred_by=cmd.referred_by,
                outcome=cmd.outcome,
                path=path,
                staff_id=caller.principal.sub,
                note=cmd.note,
                now=caller.now(cfg.clock),
            )
        )
    return w.accepted


class ReceptionView(BaseModel):
    id: UUID
    resident_id: UUID | None
    purposes: list[Purpose]
    referred_by: Referral
    outcome: Outcome
    community_id: UUID
    grid_id: UUID | None
    logged_at: datetime


async def view_reception(store: Store, reception_id: UUID, caller: Caller) -> ReceptionView:
    r, _ = await RECEPTIONS.read(store, reception_id, caller, "read_reception")
    return ReceptionView(
        id=r.id,
        resident_id=r.resident_id,
        purposes=list(r.purposes),
        referred_by=r.referred_by,
        outcome=r.outcome,
        community_id=r.path.community_id,
        grid_id=r.path.grid_id,
        logged_at=r.logged_at,
    )


# -- convenience services -------------------------------------------------------------------------


class ReceiveService(Command):
    service_type: str = Field(pattern=r"^[a-z][a-z0-9_]{1,49}$")
    area_id: UUID
    resident_id: UUID | None = None
    reception_id: UUID | None = None
    bill_type: BillType | None = Field(
        default=None, description="For the elderly window's bill help: the kind of bill only"
    )


class CheckDocuments(StreamCommand):
    missing: list[str] = Field(
        default_factory=list,
        max_length=20,
        description="Everything missing, all at once (a one-time notice); empty: accepted",
    )


class HandOff(StreamCommand):
    organisation_id: UUID = Field(description="The agency of record, as the registry knows it")


class Complete(StreamCommand):
    outcome: str | None = Field(default=None, max_length=500)


class Refuse(StreamCommand):
    reason: str = Field(min_length=1, max_length=500)


class Callback(StreamCommand):
    satisfaction: int = Field(ge=1, le=5)
    note: str | None = Field(default=None, max_length=500)


async def receive_service(
    store: Store, cmd: ReceiveService, caller: Caller, cfg: StationConfig
) -> Accepted:
    cfg.service_type(cmd.service_type)
    async with SERVICES.create(store, caller, "receive_service") as w:
        path = await place(cfg, w.session, cmd.area_id, caller)
        if cmd.resident_id is not None:
            found = await visible_residents(cfg.known, w.session, [cmd.resident_id], caller)
            require_known([cmd.resident_id], found)
        if cmd.reception_id is not None:
            await RECEPTIONS.load(w.session, cmd.reception_id, caller)
        w.emit(
            services.receive(
                w.id,
                service_type=cmd.service_type,
                resident_id=cmd.resident_id,
                reception_id=cmd.reception_id,
                path=path,
                staff_id=caller.principal.sub,
                bill_type=cmd.bill_type,
                now=caller.now(cfg.clock),
            )
        )
    return w.accepted


async def check_documents(
    store: Store, service_id: UUID, cmd: CheckDocuments, caller: Caller, cfg: StationConfig
) -> Accepted:
    return await SERVICES.act(
        store,
        service_id,
        caller,
        "check_documents",
        cmd.expected_version,
        lambda s: services.check_documents(s, missing=cmd.missing, now=caller.now(cfg.clock)),
    )


async def hand_off(
    store: Store, service_id: UUID, cmd: HandOff, caller: Caller, cfg: StationConfig
) -> Accepted:
    async with SERVICES.update(
        store, service_id, caller, "hand_off_service", cmd.expected_version
    ) as w:
        await visible_organisation(cfg.known, w.session, cmd.organisation_id, caller)
        days = cfg.service_type(w.state.service_type).handoff_days
        w.emit(
            services.hand_off(
                w.state, organisation_id=cmd.organisation_id, days=days, now=caller.now(cfg.clock)
            )
        )
    return w.accepted


async def complete(
    store: Store, service_id: UUID, cmd: Complete, caller: Caller, cfg: StationConfig
) -> Accepted:
    return await SERVICES.act(
        store,
        service_id,
        caller,
        "complete_service",
        cmd.expected_version,
        lambda s: services.complete(s, outcome=cmd.outcome, now=caller.now(cfg.clock)),
    )


async def refuse(
    store: Store, service_id: UUID, cmd: Refuse, caller: Caller, cfg: StationConfig
) -> Accepted:
    return await SERVICES.act(
        store,
        service_id,
        caller,
        "complete_service",
        cmd.expected_version,
        lambda s: services.refuse(s, reason=cmd.reason, now=caller.now(cfg.clock)),
    )


async def call_back(
    store: Store, service_id: UUID, cmd: Callback, caller: Caller, cfg: StationConfig
) -> Accepted:
    return await SERVICES.act(
        store,
        service_id,
        caller,
        "call_back",
        cmd.expected_version,
        lambda s: services.callback(
            s, satisfaction=cmd.satisfaction, note=cmd.note, now=caller.now(cfg.clock)
        ),
    )


class NoticeView(BaseModel):
    """The latest one-time notice (一次性告知): its number and everything missing."""

    number: str
    missing: list[str]
    issued_at: datetime


class ServiceView(BaseModel):
    id: UUID
    service_type: str
    status: ServiceStatus
    resident_id: UUID | None
    community_id: UUID
    grid_id: UUID | None
    received_at: datetime
    notices: int
    notice: NoticeView | None
    """The latest one-time notice, kept after the documents came (it is what was asked for)."""
    organisation_id: UUID | None
    due_by: datetime | None
    overdue: bool
    satisfaction: int | None
    version: int


async def view_service(store: Store, service_id: UUID, caller: Caller) -> ServiceView:
    s, stream = await SERVICES.read(store, service_id, caller, "read_service")
    return ServiceView(
        id=s.id,
        service_type=s.service_type,
        status=s.status,
        resident_id=s.resident_id,
        community_id=s.path.community_id,
        grid_id=s.path.grid_id,
        received_at=s.received_at,
        notices=s.notices,
        notice=None
        if s.notice is None
        else NoticeView(
            number=s.notice.number, missing=list(s.notice.missing), issued_at=s.notice.issued_at
        ),
        organisation_id=s.organisation_id,
        due_by=s.due_by,
        overdue=s.overdue,
        satisfaction=s.satisfaction,
        version=stream.version,
    )


async def handoff_due(session: Session, deadline: Deadline) -> None:
    """Deadline handler: the agency had to finish by now."""
    service, stream = await SERVICES.load(session, UUID(deadline.key))
    due_by = datetime.fromisoformat(str(deadline.payload["due_by"]))
    events = services.mark_overdue(service, due_by=due_by)
    if events:
        with counted(SOURCE, "mark_handoff_overdue"):
            await session.append(
                stream.id,
                stream.version,
                events,
                context=Context(actor=SERVICE_ACTOR),
                area=area_of(service.path),
            )
