"""What health does by itself: on the registry's news, and when a deadline comes.

- A resident registered aged 65 or over is enrolled in the elderly programme at once; a younger
  one gets a deadline on their 65th birthday, which enrols them then. A corrected date of birth
  moves that deadline (or enrols at once).
- A resident who moves inside the estate takes the record along; one who dies or moves out has
  the record closed, every visit cancelled and protected care ended. Registered again, the
  record reopens.
- A visit whose window ends without it becomes overdue, once.

Each reaction runs in the transaction of the event or deadline that caused it, as the service.
What it decides on the registry's news happened when the registry's fact did (its business time,
as far back as a registration brought in from a paper ledger): the record opened then can take a
check-up the doctor dates from that day on. What a deadline decides happens when it fires.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import date, datetime
from uuid import UUID

from anju_contracts import Event
from anju_contracts.health import (
    SOURCE,
    CloseReason,
    EnrolmentReason,
    LeaveReason,
    Programme,
)
from anju_contracts.registry import (
    ResidentDetailsCorrected,
    ResidentDied,
    ResidentMoved,
    ResidentMovedOut,
    ResidentRegistered,
)
from anju_health.application.aggregates import (
    PROTECTED_OVERDUE,
    SERVICE_ACTOR,
    TURNS_65,
    VISIT_OVERDUE,
    follow_protected,
    midnight,
    protected_stream,
)
from anju_health.application.records import HealthConfig
from anju_health.domain import protected, records
from anju_health.domain.records import Record
from eventkit.commands import area_of, counted
from eventkit.known import KnownResident
from eventkit.messages import Delivered
from eventkit.scheduler import Deadline, DeadlineHandler
from eventkit.store import Context, Session, StoreSession


async def _append(
    session: StoreSession,
    cfg: HealthConfig,
    resident_id: UUID,
    decide: Callable[[Record | None], Sequence[Event]],
    occurred_at: datetime | None = None,
) -> None:
    aggregate = cfg.records
    stream = await session.load(aggregate.stream(resident_id))
    state = aggregate.fold(resident_id, stream.payloads)
    events = list(decide(state))
    if not events:
        return
    after = aggregate.fold(resident_id, [*stream.payloads, *events])
    area = None if after is None else area_of(aggregate.guard(after))
    context = Context(actor=SERVICE_ACTOR, occurred_at=occurred_at)
    await session.append(stream.id, stream.version, events, context=context, area=area)
    assert aggregate.follow is not None
    await aggregate.follow(session, resident_id, events)


def _enrol_elderly(
    cfg: HealthConfig, person: KnownResident, today: date, reason: EnrolmentReason
) -> Callable[[Record | None], list[Event]]:
    def decide(state: Record | None) -> list[Event]:
        events: list[Event] = []
        if state is None or not state.open:
            events += records.open_record(
                state,
                person.resident_id,
                path=person.path,
                health_station=cfg.health_station,
                family_doctor_id=None,
                today=today,
            )
        current = _after(state, events)
        if Programme.ELDERLY_ANNUAL not in current.enrolled:
            events += records.enrol(
                current,
                person.resident_id,
                Programme.ELDERLY_ANNUAL,
                reason=reason,
                today=today,
                schedule=cfg.schedule,
            )
        return events

    return decide


def _after(state: Record | None, events: Sequence[Event]) -> Record:
    after = state
    for event in events:
        after = records.evolve(after, event)
    assert after is not None
    return after


async def _end_protected(
    session: StoreSession,
    cfg: HealthConfig,
    resident_id: UUID,
    today: date,
    area: str | None,
    occurred_at: datetime,
) -> None:
    stream = await session.load(protected_stream(resident_id))
    events = protected.end(
        protected.fold(stream.payloads), reason=LeaveReason.RECORD_CLOSED, today=today
    )
    if events:
        context = Context(actor=SERVICE_ACTOR, occurred_at=occurred_at)
        await session.append(stream.id, stream.version, events, context=context, area=area)
        await follow_protected(session, resident_id, events, cfg.schedule)


def registry_reaction(cfg: HealthConfig) -> Callable[[Session, Delivered], Awaitable[None]]:
    """The handler run after the kernel's mirror has learnt each registry event."""

    async def react(session: Session, delivered: Delivered) -> None:
        event = delivered.event
        today = delivered.envelope.occurred_at.date()
        at = min(delivered.envelope.occurred_at, cfg.now())
        if isinstance(event, ResidentRegistered | ResidentDetailsCorrected):
            person = await cfg.known.resident(session, event.resident_id)
            if person is None or not person.active or person.date_of_birth is None:
                return
            born = person.date_of_birth
            if records.aged_65_on(born, today):
                await session.cancel(TURNS_65, str(person.resident_id))
                reason = (
                    EnrolmentReason.AGED_65_AT_REGISTRATION
                    if isinstance(event, ResidentRegistered)
                    else EnrolmentReason.TURNED_65
                )
                with counted(SOURCE, "enrol_elderly"):
                    await _append(
                        session,
                        cfg,
                        person.resident_id,
                        _enrol_elderly(cfg, person, today, reason),
                        at,
                    )
            else:
                await _reopen_if_closed(session, cfg, person, today, at)
                payload = {"date_of_birth": born.isoformat()}
                due = midnight(records.turns_65_on(born))
                await session.schedule(TURNS_65, str(person.resident_id), due, payload)
        elif isinstance(event, ResidentMoved):
            await _append(
                session,
                cfg,
                event.resident_id,
                lambda r: [] if r is None else records.relocate(r, path=event.to_path),
                at,
            )
        elif isinstance(event, ResidentMovedOut | ResidentDied):
            why = CloseReason.DIED if isinstance(event, ResidentDied) else CloseReason.MOVED_OUT
            on = event.died_on if isinstance(event, ResidentDied) else event.moved_out_on
            await session.cancel(TURNS_65, str(event.resident_id))
            with counted(SOURCE, "close_record"):
                await _append(
                    session,
                    cfg,
                    event.resident_id,
                    lambda r: [] if r is None else records.close(r, reason=why, on=on),
                    at,
                )
                await _end_protected(
                    session, cfg, event.resident_id, on, delivered.envelope.area, at
                )

    return react


async def _reopen_if_closed(
    session: StoreSession,
    cfg: HealthConfig,
    person: KnownResident,
    today: date,
    occurred_at: datetime,
) -> None:
    await _append(
        session,
        cfg,
        person.resident_id,
        lambda r: [] if r is None or r.open else records.reopen(r, path=person.path, today=today),
        occurred_at,
    )


def deadline_handlers(cfg: HealthConfig) -> dict[str, DeadlineHandler]:
    async def turns_65(session: Session, deadline: Deadline) -> None:
        resident_id = UUID(deadline.key)
        person = await cfg.known.resident(session, resident_id)
        if person is None or not person.active or person.date_of_birth is None:
            return
        today = deadline.due_at.date()
        if not records.aged_65_on(person.date_of_birth, today):
            return  # the date of birth was corrected since; the new deadline will come
        with counted(SOURCE, "enrol_elderly"):
            await _append(
                session,
                cfg,
                resident_id,
                _enrol_elderly(cfg, person, today, EnrolmentReason.TURNED_65),
            )

    async def visit_overdue(session: Session, deadline: Deadline) -> None:
        resident_id = UUID(str(deadline.payload["resident_id"]))
        due_on = date.fromisoformat(str(deadline.payload["due_on"]))
        with counted(SOURCE, "mark_visit_overdue"):
            await _append(
                session,
                cfg,
                resident_id,
                lambda r: (
                    [] if r is None else records.mark_overdue(r, UUID(deadline.key), due_on=due_on)
                ),
            )

    async def protected_overdue(session: Session, deadline: Deadline) -> None:
        resident_id = UUID(deadline.key)
        due_on = date.fromisoformat(str(deadline.payload["due_on"]))
        stream = await session.load(protected_stream(resident_id))
        events = protected.mark_overdue(protected.fold(stream.payloads), due_on=due_on)
        if events:
            await session.append(
                stream.id, stream.version, events, context=Context(actor=SERVICE_ACTOR)
            )

    return {TURNS_65: turns_65, VISIT_OVERDUE: visit_overdue, PROTECTED_OVERDUE: protected_overdue}
