"""What volunteering does by itself: on the registry's news, and when a deadline comes.

- A resident flagged ``elderly_alone`` gets a monthly home cleaning: the plan starts, this
  month's request is raised at once and a deadline on the first of next month raises the next
  and re-arms itself. Clearing the flag, a move out or a death stops the plan, cancels the
  deadline and whatever cleaning nobody has begun.
- The registry's topic keeps order per stream only, so the flag (on the resident's care record)
  may come before the registration (on the resident's own stream). Then the monthly deadline is
  armed for the flag's own time: when it fires the resident is known and the plan starts, as of
  the flag (until then the scheduler tries it again, backing off).
- A request nobody took up by its response time is flagged to the coordinator, once.

Each reaction runs in the transaction of the event or deadline that caused it, as the service.
What it decides on the registry's news happened when the registry's fact did (its business
time): a plan started from a flag brought in from a paper ledger starts, and raises its first
request, on the flag's day, so the coordinator can date its assignment from then on.
A month's cleaning request has an id made of the resident and the month, so a deadline fired
twice, or a flag raised again, never raises a month's request twice.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date, datetime
from uuid import UUID

from anju_contracts.registry import (
    AreaPath,
    FlagType,
    ResidentDied,
    ResidentMovedOut,
    SpecialGroupFlagCleared,
    SpecialGroupFlagRaised,
)
from anju_contracts.volunteering import (
    SOURCE,
    PlanStopReason,
    RaisedBy,
    RequestCancelReason,
    RequestKind,
)
from anju_volunteering.application.aggregates import (
    MONTHLY_CLEANING,
    PLANS,
    REQUESTS,
    RESPONSE_DUE,
    SERVICE_ACTOR,
)
from anju_volunteering.application.people import VolunteeringConfig
from anju_volunteering.domain import plans, requests
from eventkit.commands import area_of, counted
from eventkit.errors import UnknownResident
from eventkit.messages import Delivered
from eventkit.scheduler import Deadline, DeadlineHandler
from eventkit.store import Context, Session, StoreSession

CONTEXT = Context(actor=SERVICE_ACTOR)
CLEANING = "每月入户清扫（独居老人）"
"""The description of a planned cleaning request."""


def _as_of(at: datetime, cfg: VolunteeringConfig) -> Context:
    """The service's context for what it decides on another service's fact of ``at``."""
    return Context(actor=SERVICE_ACTOR, occurred_at=min(at, cfg.clock()))


async def _raise_cleaning(
    session: StoreSession,
    cfg: VolunteeringConfig,
    resident_id: UUID,
    path: AreaPath,
    now: datetime,
    context: Context,
) -> None:
    """This month's cleaning request, unless it was raised already."""
    period = plans.period_of(now.date())
    request_id = plans.request_id(resident_id, period)
    stream = await session.load(REQUESTS.stream(request_id))
    if stream.exists:
        return
    events = requests.raise_request(
        request_id,
        resident_id=resident_id,
        kind=RequestKind.HOME_CLEANING,
        description=CLEANING,
        path=path,
        raised_by=RaisedBy.ELDERLY_ALONE_PLAN,
        staff_id=None,
        period=period,
        now=now,
        response=cfg.response,
    )
    await session.append(stream.id, 0, events, context=context, area=area_of(path))
    assert REQUESTS.follow is not None
    await REQUESTS.follow(session, request_id, events)


async def _cancel_cleaning(
    session: StoreSession,
    resident_id: UUID,
    *,
    reason: RequestCancelReason,
    now: datetime,
    context: Context,
) -> None:
    """Cancel this month's and last month's cleaning if nobody has begun it."""
    months = {plans.period_of(now.date())}
    first = now.date().replace(day=1)
    last_month = (
        date(first.year - 1, 12, 1) if first.month == 1 else first.replace(month=first.month - 1)
    )
    months.add(plans.period_of(last_month))
    for period in sorted(months):
        request_id = plans.request_id(resident_id, period)
        stream = await session.load(REQUESTS.stream(request_id))
        request = requests.fold(stream.payloads)
        if request is None:
            continue
        events = requests.cancel_if_live(request, reason=reason, now=now)
        if events:
            await session.append(
                stream.id, stream.version, events, context=context, area=area_of(request.path)
            )
            assert REQUESTS.follow is not None
            await REQUESTS.follow(session, request_id, events)


async def start_plan(
    session: StoreSession,
    cfg: VolunteeringConfig,
    resident_id: UUID,
    path: AreaPath,
    now: datetime,
    context: Context = CONTEXT,
) -> None:
    stream = await session.load(PLANS.stream(resident_id))
    events = plans.start(plans.fold(stream.payloads), resident_id, path=path, today=now.date())
    if not events:
        return
    await session.append(stream.id, stream.version, events, context=context, area=area_of(path))
    await _raise_cleaning(session, cfg, resident_id, path, now, context)
    due = plans.next_month(now.date())
    await session.schedule(MONTHLY_CLEANING, str(resident_id), due, {})


async def stop_plan(
    session: StoreSession,
    resident_id: UUID,
    *,
    reason: PlanStopReason,
    now: datetime,
    context: Context = CONTEXT,
) -> None:
    stream = await session.load(PLANS.stream(resident_id))
    plan = plans.fold(stream.payloads)
    # also a plan still waiting for the flagged resident to be known
    await session.cancel(MONTHLY_CLEANING, str(resident_id))
    events = plans.stop(plan, reason=reason, today=now.date())
    if plan is None or not events:
        return
    await session.append(
        stream.id, stream.version, events, context=context, area=area_of(plan.path)
    )
    cancel_reason = (
        RequestCancelReason.PLAN_STOPPED
        if reason == PlanStopReason.FLAG_CLEARED
        else RequestCancelReason.RESIDENT_LEFT
    )
    await _cancel_cleaning(session, resident_id, reason=cancel_reason, now=now, context=context)


async def _start_late(
    session: Session, cfg: VolunteeringConfig, resident_id: UUID, *, flagged_at: datetime
) -> None:
    """Start the plan of a resident flagged before volunteering knew them, as of the flag."""
    person = await cfg.known.resident(session, resident_id)
    if person is None:
        raise UnknownResident("the flagged resident is not known yet", resident_id=str(resident_id))
    if not person.active:
        return
    with counted(SOURCE, "start_cleaning_plan"):
        await start_plan(session, cfg, resident_id, person.path, flagged_at)


def registry_reaction(cfg: VolunteeringConfig) -> Callable[[Session, Delivered], Awaitable[None]]:
    """The handler run after the kernel's mirror has learnt each registry event."""

    async def react(session: Session, delivered: Delivered) -> None:
        event = delivered.event
        now = delivered.envelope.occurred_at
        context = _as_of(now, cfg)
        if isinstance(event, SpecialGroupFlagRaised) and event.flag == FlagType.ELDERLY_ALONE:
            person = await cfg.known.resident(session, event.resident_id)
            if person is None:  # not registered yet, as far as volunteering has learnt
                await session.schedule(MONTHLY_CLEANING, str(event.resident_id), now, {})
                return
            if not person.active:
                return
            with counted(SOURCE, "start_cleaning_plan"):
                await start_plan(session, cfg, event.resident_id, person.path, now, context)
        elif isinstance(event, SpecialGroupFlagCleared) and event.flag == FlagType.ELDERLY_ALONE:
            with counted(SOURCE, "stop_cleaning_plan"):
                await stop_plan(
                    session,
                    event.resident_id,
                    reason=PlanStopReason.FLAG_CLEARED,
                    now=now,
                    context=context,
                )
        elif isinstance(event, ResidentMovedOut | ResidentDied):
            reason = (
                PlanStopReason.DIED if isinstance(event, ResidentDied) else PlanStopReason.MOVED_OUT
            )
            with counted(SOURCE, "stop_cleaning_plan"):
                await stop_plan(session, event.resident_id, reason=reason, now=now, context=context)

    return react


def deadline_handlers(cfg: VolunteeringConfig) -> dict[str, DeadlineHandler]:
    async def monthly_cleaning(session: Session, deadline: Deadline) -> None:
        resident_id = UUID(deadline.key)
        plan = plans.fold((await session.load(PLANS.stream(resident_id))).payloads)
        if plan is None:  # flagged before volunteering learnt of the resident
            await _start_late(session, cfg, resident_id, flagged_at=deadline.due_at)
            return
        if not plan.active:
            return
        person = await cfg.known.resident(session, resident_id)
        path = plan.path if person is None else person.path
        with counted(SOURCE, "raise_monthly_cleaning"):
            await _raise_cleaning(session, cfg, resident_id, path, deadline.due_at, CONTEXT)
        due = plans.next_month(deadline.due_at.date())
        await session.schedule(MONTHLY_CLEANING, str(resident_id), due, {})

    async def response_due(session: Session, deadline: Deadline) -> None:
        request_id = UUID(deadline.key)
        respond_by = datetime.fromisoformat(str(deadline.payload["respond_by"]))
        request, stream = await REQUESTS.load(session, request_id)
        events = requests.mark_response_overdue(request, respond_by=respond_by)
        if events:
            with counted(SOURCE, "mark_response_overdue"):
                await session.append(
                    stream.id, stream.version, events, context=CONTEXT, area=area_of(request.path)
                )

    return {MONTHLY_CLEANING: monthly_cleaning, RESPONSE_DUE: response_due}
