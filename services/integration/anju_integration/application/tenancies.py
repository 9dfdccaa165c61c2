"""The tenancy flow: a notice of the housing security centre in, the registry's move-ins and
move-outs out, exactly once per message id; and the desk's parked list, match and dismissal.

1. :func:`receive` records the notice in the service's store first (at stream version 0: a
   message id that comes again finds its notice and adds nothing) and keeps its tenants'
   details aside until it is settled.
2. :func:`advance` matches it (:func:`anju_integration.domain.tenancies.plan`): it is parked
   with its problems, or its steps go one by one to the registry's HTTP API with the idempotency
   key ``housing:<message id>:<step>``, each recorded once the registry accepted it; then the
   notice is applied. Run twice at once (a redelivery beside a clerk's match), every step is
   still done once: the registry answers a key it has seen from its memory of the first.
3. A desk clerk lists the parked notices of their areas and matches one to a unit and/or
   residents (or dismisses it); the flow goes on from there.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Self
from uuid import UUID

from pydantic import BaseModel, Field, model_validator

from anju_contracts import Actor
from anju_contracts.housing import (
    TenancyEnded,
    TenancyStarted,
    TenancyTransferred,
    Tenant,
    UnitReference,
)
from anju_contracts.integration import SOURCE
from anju_contracts.registry import AreaKind
from anju_contracts.tenancies import (
    NoticeTenant,
    Problem,
    ProblemKind,
    StepAction,
    TenancyChange,
)
from anju_integration.application.permissions import PERMISSIONS
from anju_integration.application.registry_commands import (
    Refused,
    RegistryCommands,
    Unavailable,
)
from anju_integration.application.tenancy_tables import IdHasher, TenancyTables
from anju_integration.domain import tenancies
from anju_integration.domain.errors import NoticeNotFound, UnitRequired
from anju_integration.domain.tenancies import Found, Notice, Person, Plan, Status, Step
from eventkit.access import Guarded, mask_id_number
from eventkit.aggregate import Aggregate
from eventkit.commands import Caller, Clock, StreamCommand, counted
from eventkit.known import Known, require_known, visible_location, visible_residents
from eventkit.scheduler import Deadline, DeadlineHandler
from eventkit.store import ConcurrencyError, Context, Session, Store, StoreSession

SERVICE_ACTOR = Actor(id=SOURCE, roles=("service",))
CONTEXT = Context(actor=SERVICE_ACTOR)
MAX_STEPS = 100
NOWHERE = UUID(int=0)
"""The place of a notice parked where no community is known: only admins see it."""
ADVANCE = "tenancy_advance"
"""The deadline that takes a notice on again if the registry could not be reached."""
RESUME_AFTER = timedelta(minutes=1)


def _guard(notice: Notice) -> Guarded:
    """Where a notice is for the access policy: where it was parked (the unit's or building's
    grid, else every community the housing security centres serve)."""
    if notice.grid_id is not None and notice.community_ids:
        return Guarded(notice.community_ids[0], notice.grid_id)
    if notice.community_ids:
        return Guarded.serving(list(notice.community_ids))
    return Guarded(NOWHERE)


NOTICES: Aggregate[Notice] = Aggregate(
    name="tenancy_notice",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: tenancies.fold(events),
    guard=_guard,
    not_found=NoticeNotFound,
    locked=True,
)


@dataclass(frozen=True)
class Tenancies:
    """What the flow needs besides the store."""

    tables: TenancyTables
    hasher: IdHasher
    registry: RegistryCommands
    known: Known
    clock: Clock


TenancyMessage = TenancyStarted | TenancyEnded | TenancyTransferred


def _parts(message: TenancyMessage) -> tuple[TenancyChange, list[Tenant], list[Tenant], date]:
    """What changes: who moves out, who moves in, and on what day."""
    if isinstance(message, TenancyStarted):
        return TenancyChange.STARTED, [], message.tenants, message.started_on
    if isinstance(message, TenancyEnded):
        return TenancyChange.ENDED, message.tenants, [], message.ended_on
    return (
        TenancyChange.TRANSFERRED,
        message.previous_tenants,
        message.new_tenants,
        message.transferred_on,
    )


async def receive(store: Store, t: Tenancies, message_id: str, message: TenancyMessage) -> Notice:
    """Record the message once per message id, then take its notice as far as it goes."""
    change, out, in_, on = _parts(message)
    outs = {f"out-{i}": tenant for i, tenant in enumerate(out)}
    ins = {f"in-{i}": tenant for i, tenant in enumerate(in_)}
    notice_id = tenancies.notice_id_of(message_id)
    try:
        async with store.session() as session:
            stream = await session.load(NOTICES.stream(notice_id))
            if not stream.exists:
                with counted(SOURCE, "receive_tenancy_notice"):
                    events = tenancies.receive(
                        notice_id,
                        message_id=message_id,
                        change=change,
                        tenancy_id=message.tenancy_id,
                        unit=message.unit,
                        moving_out=_refs(t, outs),
                        moving_in=_refs(t, ins),
                        effective_on=on,
                    )
                    await session.append(stream.id, 0, events, context=CONTEXT)
                    await t.tables.keep_tenants(session, notice_id, outs | ins)
                    await _resume_later(session, t, notice_id)
    except ConcurrencyError:
        pass  # the same message id, recorded by a delivery beside this one
    notice = await advance(store, t, notice_id)
    await _wait_for_its_day(store, t, notice)
    return notice


def due(notice: Notice, t: Tenancies) -> datetime | None:
    """When a pending notice whose day is still to come may go on (the start of its day): the
    registry records a move-out on the day it happened, and a tenancy that starts next month
    does not make its tenants residents today. ``None`` when it may go on now."""
    if notice.status is not Status.PENDING or notice.effective_on <= t.clock().date():
        return None
    return datetime.combine(notice.effective_on, time.min, tzinfo=UTC)


async def _wait_for_its_day(store: Store, t: Tenancies, notice: Notice) -> None:
    when = due(notice, t)
    if when is not None:
        async with store.session() as session:
            await session.schedule(ADVANCE, str(notice.id), when)


async def _resume_later(session: StoreSession, t: Tenancies, notice_id: UUID) -> None:
    """Arm the deadline that takes the notice on again should this run stop half-way (the
    registry away): it finds a settled or parked notice and does nothing."""
    await session.schedule(ADVANCE, str(notice_id), t.clock() + RESUME_AFTER)


def deadline_handlers(store: Callable[[], Store], t: Tenancies) -> dict[str, DeadlineHandler]:
    """``ADVANCE``, on the service's store (``store()``: it exists once the runtime runs)."""

    async def resume(session: Session, deadline: Deadline) -> None:
        # Raises while the registry is away: the scheduler tries again, backing off.
        notice = await advance(store(), t, UUID(deadline.key))
        when = due(notice, t)
        if when is not None:  # re-armed in the scheduler's own transaction (it holds the row)
            await session.schedule(ADVANCE, deadline.key, when)

    return {ADVANCE: resume}


def _refs(t: Tenancies, tenants: Mapping[str, Tenant]) -> list[NoticeTenant]:
    return [NoticeTenant(ref=ref, id_hash=t.hasher(p.id_number)) for ref, p in tenants.items()]


async def advance(store: Store, t: Tenancies, notice_id: UUID) -> Notice:
    """Take a pending notice on until it is applied or parked (a settled or parked one is left
    as it is)."""
    for _ in range(MAX_STEPS):
        async with store.session() as session:
            notice, version = await _load(session, notice_id)
            if notice.status is not Status.PENDING:
                return notice
            decision = tenancies.plan(notice, await _found(session, t, notice))
            if not isinstance(decision, Plan):
                await _park(session, t, notice, version, decision)
                continue
            if not decision.steps:
                with counted(SOURCE, "apply_tenancy_notice"):
                    unit = decision.unit
                    await session.append(
                        NOTICES.stream(notice_id),
                        version,
                        tenancies.applied(notice, unit),
                        context=CONTEXT,
                        area=str(unit.grid_id or unit.community_id),
                    )
                    await t.tables.forget(session, notice_id)
                    await t.tables.remember_reference(session, notice.unit, unit.id)
                continue
            if due(notice, t) is not None:
                return notice  # its day is still to come: ADVANCE takes it on then
            step = decision.steps[0]
            tenant = (await t.tables.tenants(session, notice_id)).get(step.ref)
        # The registry is called outside any transaction of this store.
        try:
            resident_id = await _send(t, notice, step, tenant)
        except Refused as refused:
            problem = Problem(
                kind=ProblemKind.REFUSED, ref=step.ref, detail=f"{refused.code}: {refused.message}"
            )
            async with store.session() as session:
                notice, version = await _load(session, notice_id)
                if notice.status is Status.PENDING:
                    await _park(session, t, notice, version, [problem])
            continue
        try:
            await store.append(
                NOTICES.stream(notice_id),
                version,
                tenancies.step_taken(notice, step, resident_id),
                context=CONTEXT,
                area=str(step.unit.grid_id or step.unit.community_id),
            )
        except ConcurrencyError:
            continue  # a run beside this one recorded it (the same key: the same resident)
    raise RuntimeError(f"tenancy notice {notice_id} did not settle in {MAX_STEPS} steps")


async def _load(session: StoreSession, notice_id: UUID) -> tuple[Notice, int]:
    stream = await session.load(NOTICES.stream(notice_id))
    notice = tenancies.fold(stream.payloads)
    if notice is None:
        raise NoticeNotFound("no such tenancy notice", notice_id=str(notice_id))
    return notice, stream.version


def idempotency_key(notice: Notice, step: Step) -> str:
    """``housing:<message id>:<step>``: the registry does each step of a message once."""
    if step.action is StepAction.REGISTERED:
        what = f"register:{step.ref}"
    else:
        assert step.person is not None
        verb = "move" if step.action is StepAction.MOVED_IN else "move-out"
        what = f"{verb}:{step.person.resident_id}"
    return f"housing:{notice.message_id}:{what}"


async def _send(t: Tenancies, notice: Notice, step: Step, tenant: Tenant | None) -> UUID:
    """Have the registry take ``step``; the resident it concerns."""
    key = idempotency_key(notice, step)
    unit = step.unit
    with counted(SOURCE, f"tenancy_{step.action}"):
        if step.action is StepAction.REGISTERED:
            if tenant is None:
                raise Refused(0, "details_missing", "the tenant's details are no longer kept")
            return await t.registry.register(
                key, tenant, unit_id=unit.id, areas=[unit.community_id]
            )
        person = step.person
        assert person is not None
        areas = [unit.community_id, person.community_id]
        if step.action is StepAction.MOVED_IN:
            await t.registry.move(key, person.resident_id, unit_id=unit.id, areas=areas)
        else:
            assert step.on is not None
            await t.registry.move_out(
                key,
                person.resident_id,
                on=step.on,
                reason=f"住房保障中心：租赁 {notice.tenancy_id} 终止",
                areas=areas,
            )
        return person.resident_id


async def _found(session: StoreSession, t: Tenancies, notice: Notice) -> Found:
    """What the service knows of the notice's unit and tenants, a clerk's match first."""
    if notice.matched_unit is not None:
        unit = await t.tables.unit(session, notice.matched_unit)
        units = [] if unit is None else [unit]
    else:
        units = await t.tables.units(session, notice.unit)
    by_hash = await t.tables.people(session, [tenant.id_hash for tenant in notice.tenants])
    people: dict[str, Sequence[Person]] = {}
    for tenant in notice.tenants:
        named = notice.matched.get(tenant.ref)
        if named is None:
            people[tenant.ref] = by_hash.get(tenant.id_hash, [])
        else:
            person = await t.tables.person(session, named)
            people[tenant.ref] = [] if person is None else [person]
    return Found(units=units, people=people)


async def _park(
    session: StoreSession, t: Tenancies, notice: Notice, version: int, problems: Sequence[Problem]
) -> None:
    """Park the notice where the desk of its place sees it: the unit's grid when the unit is
    known, else the grid of the one building its reference names, else every community the
    registry's housing security centres serve (else nowhere: admins alone)."""
    found = await _found(session, t, notice)
    communities: list[UUID]
    if len(found.units) == 1:
        communities, grid = [found.units[0].community_id], found.units[0].grid_id
    elif (building := await t.tables.building_grid(session, notice.unit)) is not None:
        communities, grid = [building[0]], building[1]
    else:
        communities, grid = await t.tables.centre_communities(session), None
    events = tenancies.park(notice, problems, community_ids=communities, grid_id=grid)
    if not events:
        return
    with counted(SOURCE, "park_tenancy_notice"):
        await session.append(
            NOTICES.stream(notice.id),
            version,
            events,
            context=CONTEXT,
            area=str(grid or communities[0]) if communities else None,
        )
        await t.tables.park(session, notice.id, communities, grid)


# -- the desk ---------------------------------------------------------------------------------


class MatchNotice(StreamCommand):
    """What a parked notice means: the unit, and/or the registry's residents its tenants are
    (by the ``ref`` the parked list shows: ``out-0``, ``in-1``)."""

    unit_id: UUID | None = None
    residents: dict[str, UUID] = Field(default_factory=dict, max_length=40)

    @model_validator(mode="after")
    def _names_something(self) -> Self:
        if self.unit_id is None and not self.residents:
            raise ValueError("name the unit, the residents, or both")
        return self


class DismissNotice(StreamCommand):
    reason: str = Field(min_length=1, max_length=500)


class TenantView(BaseModel):
    """A tenant of a notice as the desk sees them: the identity number masked."""

    ref: str
    moving: str = Field(description="`out` or `in`")
    name: str | None = Field(description="Null once the notice is settled (details dropped)")
    date_of_birth: date | None
    id_number: str | None = Field(description="Masked: the last four characters")
    resident_id: UUID | None = Field(
        description="The resident a clerk named, or the registry moved in or out for them"
    )


class NoticeView(BaseModel):
    """A tenancy notice of the housing security centre, as the integration service holds it."""

    id: UUID
    message_id: str
    change: TenancyChange
    tenancy_id: str
    unit: UnitReference
    effective_on: date
    status: Status
    problems: list[Problem]
    unit_id: UUID | None = Field(description="The unit it was applied to, or a clerk named")
    tenants: list[TenantView]
    version: int


def view_of(notice: Notice, version: int, details: Mapping[str, Tenant]) -> NoticeView:
    tenants = []
    for tenant in notice.tenants:
        person = details.get(tenant.ref)
        tenants.append(
            TenantView(
                ref=tenant.ref,
                moving="out" if tenant.ref.startswith("out-") else "in",
                name=None if person is None else person.name,
                date_of_birth=None if person is None else person.date_of_birth,
                id_number=None if person is None else mask_id_number(person.id_number),
                resident_id=notice.done.get(tenant.ref) or notice.matched.get(tenant.ref),
            )
        )
    return NoticeView(
        id=notice.id,
        message_id=notice.message_id,
        change=notice.change,
        tenancy_id=notice.tenancy_id,
        unit=notice.unit,
        effective_on=notice.effective_on,
        status=notice.status,
        problems=list(notice.problems),
        unit_id=notice.unit_id or notice.matched_unit,
        tenants=tenants,
        version=version,
    )


async def parked(store: Store, t: Tenancies, caller: Caller, *, limit: int) -> list[NoticeView]:
    """The parked notices in the caller's areas, oldest first."""
    PERMISSIONS.check(caller.principal, "read_tenancy_notices")
    views = []
    async with store.session() as session:
        for notice_id in await t.tables.parked(session, caller.principal, limit):
            notice, stream = await NOTICES.load(session, notice_id, caller)
            details = await t.tables.tenants(session, notice_id)
            views.append(view_of(notice, stream.version, details))
    return views


async def view(store: Store, t: Tenancies, notice_id: UUID, caller: Caller) -> NoticeView:
    notice, stream = await NOTICES.read(store, notice_id, caller, "read_tenancy_notices")
    async with store.session() as session:
        details = await t.tables.tenants(session, notice_id)
    return view_of(notice, stream.version, details)


async def match(
    store: Store, t: Tenancies, notice_id: UUID, cmd: MatchNotice, caller: Caller
) -> NoticeView:
    """Record a clerk's match (the unit and the residents must be theirs to see), then take
    the notice on at once."""
    async with NOTICES.update(
        store, notice_id, caller, "match_tenancy_notice", cmd.expected_version
    ) as w:
        if cmd.unit_id is not None:
            location = await visible_location(t.known, w.session, cmd.unit_id, caller)
            if location.kind is not AreaKind.UNIT:
                raise UnitRequired("a tenancy is of a unit", area_id=str(cmd.unit_id))
        named = set(cmd.residents.values())
        require_known(named, await visible_residents(t.known, w.session, named, caller))
        w.emit(tenancies.match(w.state, unit_id=cmd.unit_id, residents=cmd.residents))
        await t.tables.unpark(w.session, notice_id)
        await _resume_later(w.session, t, notice_id)
    # The registry away: the match is kept, and the notice goes on when it answers (ADVANCE).
    with contextlib.suppress(Unavailable):
        await _wait_for_its_day(store, t, await advance(store, t, notice_id))
    return await view(store, t, notice_id, caller)


async def dismiss(
    store: Store, t: Tenancies, notice_id: UUID, cmd: DismissNotice, caller: Caller
) -> NoticeView:
    """A parked notice the clerk saw to otherwise: it asks nothing more of the registry."""
    async with NOTICES.update(
        store, notice_id, caller, "dismiss_tenancy_notice", cmd.expected_version
    ) as w:
        w.emit(tenancies.dismiss(w.state, reason=cmd.reason))
        await t.tables.forget(w.session, notice_id)
    return await view(store, t, notice_id, caller)
