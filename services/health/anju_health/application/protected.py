"""Handlers for protected care (severe mental disorders) and break-the-glass.

Protected care is visible to the doctors who manage the patient. Another doctor whose area
covers the resident may open it only by breaking the glass: a reason, an expiry, a row a
director reviews. To everyone else it does not exist (404), exactly like a resident who is not
in the programme: whether someone is in it is itself what is protected.

Commands answer with the resident's public record stream: nothing of protected care is
published, so a consistency token never names it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime, timedelta
from uuid import UUID

from pydantic import BaseModel

from anju_contracts import Event
from anju_contracts.registry import AreaPath
from anju_health.application.aggregates import chart_stream, follow_protected, protected_stream
from anju_health.application.commands import (
    BreakGlass,
    EnrolProtected,
    RecordProtectedVisit,
    RescheduleProtectedVisit,
)
from anju_health.application.glass import GlassBreak
from anju_health.application.records import HealthConfig, opened, visible_resident
from anju_health.domain import protected
from anju_health.domain.errors import ProtectedCareNotFound
from anju_health.domain.protected import ProtectedCare
from eventkit.auth import Role
from eventkit.commands import Accepted, Caller, counted
from eventkit.store import RecordedEvent, Store, StoreSession, Stream
from eventkit.subject_access import SubjectAccess, Withhold, known_place


async def _may_open(
    care: ProtectedCare, session: StoreSession, caller: Caller, cfg: HealthConfig
) -> bool:
    principal = caller.principal
    if principal.has(Role.ADMIN) or principal.sub in care.doctors:
        return True
    return await cfg.glass.is_open(session, care.resident_id, principal.sub, cfg.now())


async def _care(
    session: StoreSession, resident_id: UUID, caller: Caller, cfg: HealthConfig
) -> tuple[ProtectedCare | None, Stream]:
    """The protected care (None if the resident is not in it); not found when the caller may
    not open it."""
    stream = await session.load(protected_stream(resident_id))
    care = protected.fold(stream.payloads)
    if care is not None and not await _may_open(care, session, caller, cfg):
        raise ProtectedCareNotFound("no such protected care", resident_id=str(resident_id))
    return care, stream


Decide = Callable[[ProtectedCare | None], Sequence[Event]]


async def _act(
    store: Store, resident_id: UUID, caller: Caller, action: str, cfg: HealthConfig, decide: Decide
) -> Accepted:
    async with cfg.records.upsert(store, caller, action, resident_id) as w:
        person = await visible_resident(cfg.known, w.session, resident_id, caller)
        record = await opened(w, cfg, person)
        care, stream = await _care(w.session, resident_id, caller, cfg)
        events = decide(care)
        area = str(record.grid_id or record.community_id)
        await w.session.append(stream.id, stream.version, events, context=caller.context, area=area)
        await follow_protected(w.session, resident_id, events, cfg.schedule)
    return w.accepted


async def enrol(
    store: Store, resident_id: UUID, cmd: EnrolProtected, caller: Caller, cfg: HealthConfig
) -> Accepted:
    return await _act(
        store,
        resident_id,
        caller,
        "enrol_protected",
        cfg,
        lambda care: protected.enrol(
            care,
            resident_id,
            icd10=cmd.icd10,
            risk_grade=cmd.risk_grade,
            doctor_id=caller.principal.sub,
            today=cfg.day_of(caller),
        ),
    )


def _existing(care: ProtectedCare | None, resident_id: UUID) -> ProtectedCare:
    if care is None:
        raise ProtectedCareNotFound("no such protected care", resident_id=str(resident_id))
    return care


async def record_visit(
    store: Store, resident_id: UUID, cmd: RecordProtectedVisit, caller: Caller, cfg: HealthConfig
) -> Accepted:
    today = cfg.day_of(caller)
    return await _act(
        store,
        resident_id,
        caller,
        "record_protected_visit",
        cfg,
        lambda care: protected.record_visit(
            _existing(care, resident_id),
            resident_id,
            on=cmd.visited_on or today,
            risk_grade=cmd.risk_grade,
            doctor_id=caller.principal.sub,
            findings=cmd.findings,
            next_due_on=cmd.next_visit_on,
            today=today,
        ),
    )


async def reschedule(
    store: Store,
    resident_id: UUID,
    cmd: RescheduleProtectedVisit,
    caller: Caller,
    cfg: HealthConfig,
) -> Accepted:
    return await _act(
        store,
        resident_id,
        caller,
        "reschedule_protected_visit",
        cfg,
        lambda care: protected.reschedule(
            _existing(care, resident_id),
            resident_id,
            due_on=cmd.due_on,
            reason=cmd.reason,
            today=cfg.day_of(caller),
        ),
    )


class GlassOpened(BaseModel):
    resident_id: UUID
    expires_at: datetime


async def break_glass(
    store: Store, resident_id: UUID, cmd: BreakGlass, caller: Caller, cfg: HealthConfig
) -> GlassOpened:
    """Open protected care for ``cmd.minutes``. Allowed for any resident of the doctor's area,
    whether or not in the programme, so that the answer does not tell which residents are."""
    with counted(cfg.records.source, "break_glass"):
        cfg.records.permissions.check(caller.principal, "break_glass")
        async with store.session() as session:
            person = await visible_resident(cfg.known, session, resident_id, caller)
            now = cfg.now()
            opening = GlassBreak(
                sub=caller.principal.sub,
                resident_id=resident_id,
                reason=cmd.reason,
                opened_at=now,
                expires_at=now + timedelta(minutes=cmd.minutes),
                path=AreaPath(community_id=person.path.community_id, grid_id=person.path.grid_id),
            )
            await cfg.glass.open(session, opening)
        return GlassOpened(resident_id=resident_id, expires_at=opening.expires_at)


async def glass_reason(
    store: Store, resident_id: UUID, caller: Caller, cfg: HealthConfig
) -> str | None:
    """Why the caller broke the glass on the resident's protected care, while it is open: the
    reason their read of it is audited with (none for its managing doctors)."""
    async with store.session() as session:
        return await cfg.glass.open_reason(session, resident_id, caller.principal.sub, cfg.now())


class GlassBreakView(BaseModel):
    doctor_id: str
    resident_id: UUID
    reason: str
    opened_at: datetime
    expires_at: datetime
    community_id: UUID
    grid_id: UUID | None


async def glass_breaks(
    store: Store, since: datetime, caller: Caller, cfg: HealthConfig
) -> list[GlassBreakView]:
    """The openings in the director's areas since ``since``, newest first."""
    cfg.records.permissions.check(caller.principal, "read_glass_breaks")
    async with store.session() as session:
        openings = await cfg.glass.since(session, since)
    return [
        GlassBreakView(
            doctor_id=o.sub,
            resident_id=o.resident_id,
            reason=o.reason,
            opened_at=o.opened_at,
            expires_at=o.expires_at,
            community_id=o.path.community_id,
            grid_id=o.path.grid_id,
        )
        for o in openings
        if caller.covers(o.path)
    ]


class ProtectedView(BaseModel):
    resident_id: UUID
    icd10: str | None
    """Null once the person is erased."""
    risk_grade: int
    managing_doctors: list[str]
    due_on: date
    overdue: bool
    active: bool
    version: int


async def view(store: Store, resident_id: UUID, caller: Caller, cfg: HealthConfig) -> ProtectedView:
    cfg.records.permissions.check(caller.principal, "read_protected")
    async with store.session() as session:
        await visible_resident(cfg.known, session, resident_id, caller)
        care, stream = await _care(session, resident_id, caller, cfg)
    care = _existing(care, resident_id)
    return ProtectedView(
        resident_id=resident_id,
        icd10=care.icd10,
        risk_grade=care.risk_grade,
        managing_doctors=sorted(care.doctors),
        due_on=care.due_on,
        overdue=care.overdue,
        active=care.active,
        version=stream.version,
    )


def subject_access(cfg: HealthConfig) -> SubjectAccess:
    """What health answers a data-subject access request with: the resident's record, chart and
    protected care, and every other event naming them. The chart is clinical: it is read only by
    those who may read the record with its chart (``read_record``); protected care only by those
    who may open it (its managing doctors, admins, a doctor whose glass is open). A director
    sees how many of each were withheld, never their content."""

    async def withhold(session: StoreSession, caller: Caller, resident_id: UUID) -> Withhold:
        permissions = cfg.records.permissions
        chart = permissions.allows(caller.principal, "read_record")
        care = protected.fold((await session.load(protected_stream(resident_id))).payloads)
        opens = (
            care is not None
            and permissions.allows(caller.principal, "read_protected")
            and await _may_open(care, session, caller, cfg)
        )

        def why(recorded: RecordedEvent) -> str | None:
            if recorded.stream_id == chart_stream(resident_id) and not chart:
                return "clinical: the chart is read by the resident's doctors"
            if recorded.stream_id == protected_stream(resident_id) and not opens:
                return "protected care: read by its managing doctors or after breaking the glass"
            return None

        return why

    return SubjectAccess(
        prefixes=("record-", "chart-", "protected_care-"),
        locate=known_place(cfg.known),
        withhold=withhold,
    )
