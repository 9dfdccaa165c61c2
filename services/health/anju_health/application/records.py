"""Handlers for health records: the record, its chart, programmes and visits."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel

from anju_contracts import Event
from anju_contracts.health import (
    EnrolmentReason,
    Observations,
    Programme,
    SelfCare,
    VisitKind,
)
from anju_health.application.aggregates import chart_stream
from anju_health.application.commands import (
    AssignDoctor,
    Diagnose,
    Enrol,
    Leave,
    OpenRecord,
    RecordAllergy,
    RecordEncounter,
    RescheduleVisit,
    SkipVisit,
)
from anju_health.application.glass import Glass
from anju_health.domain import chart, records
from anju_health.domain.chart import Chart
from anju_health.domain.errors import NotEligible, RecordNotFound
from anju_health.domain.records import Record, Schedule
from eventkit.aggregate import Aggregate, Work
from eventkit.commands import Accepted, Caller, Clock
from eventkit.dates import check_life_day
from eventkit.known import Known, KnownResident
from eventkit.store import Store, StoreSession


@dataclass(frozen=True)
class HealthConfig:
    """What the handlers need besides the store."""

    clock: Clock
    schedule: Schedule
    known: Known
    glass: Glass
    health_station: str
    records: Aggregate[Record]

    def today(self) -> date:
        return self.clock().date()

    def now(self) -> datetime:
        return self.clock()

    def day_of(self, caller: Caller) -> date:
        """The business day of a person's command: the day it says its fact happened (a
        check-up copied from the paper ledger), else today. Dates in its events and the visits
        it books run from it."""
        return caller.now(self.clock).date()


async def visible_resident(
    known: Known, session: StoreSession, resident_id: UUID, caller: Caller | None
) -> KnownResident:
    """The resident as the registry announced them, if the caller covers where they live."""
    person = await known.resident(session, resident_id)
    if person is None or (caller is not None and not caller.covers(person.path)):
        raise RecordNotFound("no such resident", resident_id=str(resident_id))
    return person


def _day(day: date | None, person: KnownResident, today: date, field: str) -> date:
    day = day or today
    born = person.date_of_birth or date.min
    check_life_day(day, born=born, today=today, field=field)
    return day


async def opened(w: Work[Record | None], cfg: HealthConfig, person: KnownResident) -> Record:
    """The record, opened first if the resident has none (a first encounter opens it)."""
    if w.state is None or not w.state.open:
        w.emit(
            records.open_record(
                w.state,
                w.id,
                path=person.path,
                health_station=cfg.health_station,
                family_doctor_id=None,
                today=cfg.day_of(w.caller),
            )
        )
    state = records.fold([*w.stream.payloads, *w.events])
    assert state is not None
    return state


async def _append_chart(
    w: Work[Record | None] | Work[Record], decide: Callable[[Chart, bool], Sequence[Event]]
) -> Chart:
    """Append to the resident's chart in the command's transaction; the chart's area is the
    record's."""
    stream = await w.session.load(chart_stream(w.id))
    current = chart.fold(w.id, stream.payloads)
    events = decide(current, stream.exists)
    record = records.fold([*w.stream.payloads, *w.events])
    area = None if record is None else str(record.grid_id or record.community_id)
    await w.session.append(stream.id, stream.version, events, context=w.caller.context, area=area)
    return chart.fold(w.id, [*stream.payloads, *events])


async def open_record(
    store: Store, resident_id: UUID, cmd: OpenRecord, caller: Caller, cfg: HealthConfig
) -> Accepted:
    today = cfg.day_of(caller)
    async with cfg.records.upsert(store, caller, "open_record", resident_id) as w:
        person = await visible_resident(cfg.known, w.session, resident_id, caller)
        w.emit(
            records.open_record(
                w.state,
                resident_id,
                path=person.path,
                health_station=cmd.health_station or cfg.health_station,
                family_doctor_id=cmd.family_doctor_id,
                today=today,
            )
        )
        if person.date_of_birth and records.aged_65_on(person.date_of_birth, today):
            state = records.fold([*w.stream.payloads, *w.events])
            if state is not None and Programme.ELDERLY_ANNUAL not in state.enrolled:
                w.emit(_enrol_elderly(state, cfg, EnrolmentReason.RECORD_REOPENED, today))
    return w.accepted


def _enrol_elderly(
    state: Record, cfg: HealthConfig, reason: EnrolmentReason, today: date
) -> list[Event]:
    return records.enrol(
        state,
        state.resident_id,
        Programme.ELDERLY_ANNUAL,
        reason=reason,
        today=today,
        schedule=cfg.schedule,
    )


async def assign_doctor(
    store: Store, resident_id: UUID, cmd: AssignDoctor, caller: Caller, cfg: HealthConfig
) -> Accepted:
    return await cfg.records.act(
        store,
        resident_id,
        caller,
        "assign_doctor",
        cmd.expected_version,
        lambda r: records.assign_doctor(
            r, health_station=cmd.health_station, family_doctor_id=cmd.family_doctor_id
        ),
    )


async def record_allergy(
    store: Store, resident_id: UUID, cmd: RecordAllergy, caller: Caller, cfg: HealthConfig
) -> Accepted:
    async with cfg.records.upsert(store, caller, "record_allergy", resident_id) as w:
        person = await visible_resident(cfg.known, w.session, resident_id, caller)
        await opened(w, cfg, person)
        await _append_chart(
            w,
            lambda c, exists: chart.record_allergy(
                c,
                exists=exists,
                substance=cmd.substance,
                reaction=cmd.reaction,
                doctor_id=caller.principal.sub,
            ),
        )
    return w.accepted


async def diagnose(
    store: Store, resident_id: UUID, cmd: Diagnose, caller: Caller, cfg: HealthConfig
) -> Accepted:
    async with cfg.records.upsert(store, caller, "diagnose", resident_id) as w:
        person = await visible_resident(cfg.known, w.session, resident_id, caller)
        on = _day(cmd.diagnosed_on, person, cfg.day_of(caller), "diagnosed_on")
        await opened(w, cfg, person)
        await _append_chart(
            w,
            lambda c, exists: chart.diagnose(
                c, exists=exists, icd10=cmd.icd10, on=on, doctor_id=caller.principal.sub
            ),
        )
    return w.accepted


async def resolve_condition(
    store: Store, resident_id: UUID, icd10: str, caller: Caller, cfg: HealthConfig
) -> Accepted:
    async with cfg.records.update(store, resident_id, caller, "resolve_condition") as w:
        await _append_chart(
            w,
            lambda c, _: chart.resolve(
                c, icd10=icd10, on=cfg.day_of(caller), doctor_id=caller.principal.sub
            ),
        )
    return w.accepted


async def enrol(
    store: Store, resident_id: UUID, cmd: Enrol, caller: Caller, cfg: HealthConfig
) -> Accepted:
    today = cfg.day_of(caller)
    async with cfg.records.upsert(store, caller, "enrol", resident_id) as w:
        person = await visible_resident(cfg.known, w.session, resident_id, caller)
        state = await opened(w, cfg, person)
        if cmd.programme == Programme.ELDERLY_ANNUAL:
            born = person.date_of_birth
            if born is None or not records.aged_65_on(born, today):
                raise NotEligible(
                    "the elderly programme is for residents aged 65 and over",
                    programme=cmd.programme,
                )
            reason = EnrolmentReason.AGED_65_AT_REGISTRATION
        else:
            stream = await w.session.load(chart_stream(resident_id))
            chart.require_condition(chart.fold(resident_id, stream.payloads), cmd.programme)
            reason = EnrolmentReason.DIAGNOSED
        w.emit(
            records.enrol(
                state,
                resident_id,
                cmd.programme,
                reason=reason,
                today=today,
                schedule=cfg.schedule,
            )
        )
    return w.accepted


async def leave(
    store: Store,
    resident_id: UUID,
    programme: Programme,
    cmd: Leave,
    caller: Caller,
    cfg: HealthConfig,
) -> Accepted:
    return await cfg.records.act(
        store,
        resident_id,
        caller,
        "leave_programme",
        cmd.expected_version,
        lambda r: records.leave(r, programme, reason=cmd.reason, today=cfg.day_of(caller)),
    )


async def record_encounter(
    store: Store, resident_id: UUID, cmd: RecordEncounter, caller: Caller, cfg: HealthConfig
) -> Accepted:
    """Record what a check-up or visit found (in the chart) and, for a programme's visit,
    complete it and book the next (on the record)."""
    today = cfg.day_of(caller)
    async with cfg.records.upsert(store, caller, "record_encounter", resident_id) as w:
        person = await visible_resident(cfg.known, w.session, resident_id, caller)
        on = _day(cmd.occurred_on, person, today, "occurred_on")
        state = await opened(w, cfg, person)
        visit_id = None
        if cmd.programme is not None:
            completing = records.complete(
                state,
                cmd.programme,
                on=on,
                doctor_id=caller.principal.sub,
                next_due_on=cmd.next_visit_on,
                today=today,
                schedule=cfg.schedule,
            )
            visit_id = state.visits[cmd.programme].id
            w.emit(completing)
        after = await _append_chart(
            w,
            lambda c, exists: chart.record_encounter(
                c,
                exists=exists,
                visit_id=visit_id,
                programme=cmd.programme,
                on=on,
                doctor_id=caller.principal.sub,
                observations=cmd.observations,
                findings=cmd.findings,
                guidance=cmd.guidance,
            ),
        )
        w.sub_id = after.encounters[-1].id
    return w.accepted


async def skip_visit(
    store: Store,
    resident_id: UUID,
    visit_id: UUID,
    cmd: SkipVisit,
    caller: Caller,
    cfg: HealthConfig,
) -> Accepted:
    return await cfg.records.act(
        store,
        resident_id,
        caller,
        "skip_visit",
        cmd.expected_version,
        lambda r: records.skip(
            r, visit_id, reason=cmd.reason, today=cfg.day_of(caller), schedule=cfg.schedule
        ),
    )


async def reschedule_visit(
    store: Store,
    resident_id: UUID,
    visit_id: UUID,
    cmd: RescheduleVisit,
    caller: Caller,
    cfg: HealthConfig,
) -> Accepted:
    return await cfg.records.act(
        store,
        resident_id,
        caller,
        "reschedule_visit",
        cmd.expected_version,
        lambda r: records.reschedule(
            r,
            visit_id,
            due_on=cmd.due_on,
            reason=cmd.reason,
            today=cfg.day_of(caller),
            schedule=cfg.schedule,
        ),
    )


# -- the doctor's view --------------------------------------------------------------------------


class VisitView(BaseModel):
    visit_id: UUID
    programme: Programme
    kind: VisitKind
    due_on: date
    overdue: bool


class EncounterView(BaseModel):
    encounter_id: UUID
    occurred_on: date
    programme: Programme | None
    doctor_id: str
    observations: Observations | None
    """Null once the person is erased, as are the findings and guidance."""
    self_care: SelfCare | None
    findings: str | None
    guidance: str | None
    review: list[str]


class ConditionView(BaseModel):
    icd10: str
    diagnosed_on: date


class AllergyView(BaseModel):
    substance: str
    reaction: str | None


class RecordView(BaseModel):
    """A resident's health record and clinical chart, for a doctor of their area (audited)."""

    resident_id: UUID
    open: bool
    health_station: str
    family_doctor_id: str | None
    programmes: dict[Programme, date]
    visits: list[VisitView]
    checked_up_this_year: bool
    conditions: list[ConditionView]
    allergies: list[AllergyView]
    encounters: list[EncounterView]
    version: int


async def view_record(
    store: Store, resident_id: UUID, caller: Caller, cfg: HealthConfig
) -> RecordView:
    record, stream = await cfg.records.read(store, resident_id, caller, "read_record")
    async with store.session() as session:
        c = chart.fold(resident_id, (await session.load(chart_stream(resident_id))).payloads)
    return RecordView(
        resident_id=resident_id,
        open=record.open,
        health_station=record.health_station,
        family_doctor_id=record.family_doctor_id,
        programmes=dict(record.enrolled),
        visits=[
            VisitView(
                visit_id=v.id,
                programme=v.programme,
                kind=v.kind,
                due_on=v.due_on,
                overdue=v.overdue,
            )
            for v in record.visits.values()
        ],
        checked_up_this_year=record.checked_up_in(cfg.today().year),
        conditions=[ConditionView(icd10=k, diagnosed_on=d) for k, d in c.conditions.items()],
        allergies=[AllergyView(substance=s, reaction=r) for s, r in c.allergies],
        encounters=[
            EncounterView(
                encounter_id=e.id,
                occurred_on=e.occurred_on,
                programme=e.programme,
                doctor_id=e.doctor_id,
                observations=e.observations,
                self_care=None if e.observations is None else e.observations.self_care,
                findings=e.findings,
                guidance=e.guidance,
                review=list(e.review),
            )
            for e in reversed(c.encounters)
        ],
        version=stream.version,
    )
