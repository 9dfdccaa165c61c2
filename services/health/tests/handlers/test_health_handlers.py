"""Health handlers on the in-memory store: enrolment by age, visits from booking to overdue,
encounters, closing on death, protected care with break-the-glass — no PostgreSQL, no broker."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from anju_contracts import Actor, Event
from anju_contracts.health import (
    CATALOG,
    ActivityKind,
    EnrolmentReason,
    HealthConsentPurpose,
    HealthRecordClosed,
    Observations,
    Programme,
    ProgrammeEnrolled,
    ProtectedCareEnded,
    RescheduleReason,
    SkipReason,
    VisitBooked,
    VisitCancelled,
    VisitCompleted,
    VisitOverdue,
    VisitSkipped,
)
from anju_contracts.registry import (
    AreaKind,
    AreaPath,
    Location,
    ResidentDetailsCorrected,
    ResidentDied,
    ResidentRegistered,
    Sex,
)
from anju_health.application import activities, consents, protected, records
from anju_health.application.aggregates import (
    PROTECTED_OVERDUE,
    TURNS_65,
    VISIT_OVERDUE,
    records_aggregate,
)
from anju_health.application.commands import (
    BreakGlass,
    ConsentStep,
    Diagnose,
    Enrol,
    EnrolProtected,
    OpenRecord,
    RecordActivity,
    RecordAttendance,
    RecordEncounter,
    RescheduleVisit,
    SkipVisit,
)
from anju_health.application.glass import MemoryGlass
from anju_health.application.reactions import deadline_handlers, registry_reaction
from anju_health.application.records import HealthConfig
from anju_health.domain.errors import (
    DiagnosisRequired,
    ImplausibleReading,
    NotEligible,
    ProtectedCareNotFound,
    RecordNotFound,
)
from anju_health.domain.records import Schedule
from eventkit.auth import Principal, Role
from eventkit.commands import Caller
from eventkit.consent import ConsentNotGiven
from eventkit.dates import DateTooEarly
from eventkit.errors import Forbidden
from eventkit.known import MemoryKnown
from eventkit.memory import MemoryEventStore
from eventkit.scheduler import Deadline
from eventkit.store import Context
from eventkit.testing.delivery import delivered

COMMUNITY, OTHER = uuid4(), uuid4()
GRID1, GRID2 = uuid4(), uuid4()
HOME = AreaPath(community_id=COMMUNITY, grid_id=GRID1)


def caller(*roles: Role, areas: tuple[UUID, ...] = (COMMUNITY,), sub: str = "doc-1") -> Caller:
    principal = Principal(sub=sub, roles=roles, areas=tuple(str(a) for a in areas))
    return Caller(principal, Context(actor=Actor(id=sub, roles=tuple(map(str, roles)))))


DOCTOR = caller(Role.DOCTOR, sub="doc-1")
OTHER_DOCTOR = caller(Role.DOCTOR, sub="doc-2")
FAR_DOCTOR = caller(Role.DOCTOR, areas=(OTHER,), sub="doc-3")
GRID_WORKER = caller(Role.GRID_WORKER, areas=(GRID1,), sub="gw-1")
DIRECTOR = caller(Role.DIRECTOR, sub="dir-1")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Estate:
    def __init__(self, today: date = date(2026, 3, 1)) -> None:
        self.store = MemoryEventStore(CATALOG)
        self.known = MemoryKnown()
        self.glass = MemoryGlass()
        self.clock = Clock(datetime.combine(today, datetime.min.time(), tzinfo=UTC))
        schedule = Schedule()
        self.cfg = HealthConfig(
            clock=self.clock,
            schedule=schedule,
            known=self.known,
            glass=self.glass,
            health_station="安居社区卫生服务站",
            records=records_aggregate(schedule),
        )
        self.react = registry_reaction(self.cfg)
        self.deadlines = deadline_handlers(self.cfg)
        self.position = 0

    async def registry(self, event: Event, on: date | None = None) -> None:
        """The policy as the runtime runs it: the mirror learns, then health reacts."""
        self.known.learn(event)
        self.position += 1
        occurred = datetime.combine(on or self.clock().date(), datetime.min.time(), tzinfo=UTC)
        sent = delivered(
            event,
            source="registry",
            subject=f"resident-{uuid4()}",
            position=self.position,
            offset=0,
            occurred_at=occurred,
            correlation_id="c",
            actor=Actor(id="registry", roles=("service",)),
            area=str(GRID1),
        )
        async with self.store.session() as session:
            await self.react(session, sent)  # type: ignore[arg-type]

    async def register(self, born: date, path: AreaPath = HOME) -> UUID:
        resident_id = uuid4()
        await self.registry(
            ResidentRegistered(
                resident_id=resident_id,
                name="张桂兰",
                sex=Sex.FEMALE,
                date_of_birth=born,
                id_number="11010519491231002X",
                path=path,
            )
        )
        return resident_id

    async def fire(self, kind: str, key: str) -> None:
        """The scheduler firing a due deadline (the clock is moved past it first)."""
        armed = self.store.deadlines[(kind, key)]
        self.clock.now = max(self.clock.now, armed.due_at)
        async with self.store.session() as session:
            await self.deadlines[kind](
                session,  # type: ignore[arg-type]
                Deadline(kind, key, armed.due_at, armed.payload),
            )

    async def events(self, resident_id: UUID) -> list[Event]:
        return list((await self.store.load(f"record-{resident_id}")).payloads)

    def armed(self, kind: str) -> set[str]:
        return {k for (x, k), d in self.store.deadlines.items() if x == kind and not d.fired}


def of(events: list[Event], kind: type[Event]) -> list[Event]:
    return [e for e in events if isinstance(e, kind)]


async def test_a_resident_registered_at_65_is_enrolled_with_a_check_up_due() -> None:
    estate = Estate()
    resident = await estate.register(date(1950, 5, 1))
    events = await estate.events(resident)
    enrolled = of(events, ProgrammeEnrolled)
    assert [(e.programme, e.reason) for e in enrolled] == [  # type: ignore[attr-defined]
        (Programme.ELDERLY_ANNUAL, EnrolmentReason.AGED_65_AT_REGISTRATION)
    ]
    (booked,) = of(events, VisitBooked)
    assert booked.due_on == date(2026, 3, 31)  # type: ignore[attr-defined]
    assert estate.armed(VISIT_OVERDUE) == {str(booked.visit_id)}  # type: ignore[attr-defined]
    assert estate.armed(TURNS_65) == set()


async def test_a_younger_resident_is_enrolled_on_the_65th_birthday() -> None:
    estate = Estate()
    resident = await estate.register(date(1961, 7, 14))
    assert await estate.events(resident) == []
    deadline = estate.store.deadlines[(TURNS_65, str(resident))]
    assert deadline.due_at == datetime(2026, 7, 14, tzinfo=UTC)
    await estate.fire(TURNS_65, str(resident))
    enrolled = of(await estate.events(resident), ProgrammeEnrolled)
    assert [e.reason for e in enrolled] == [EnrolmentReason.TURNED_65]  # type: ignore[attr-defined]


async def test_a_corrected_date_of_birth_moves_the_birthday_or_enrols_at_once() -> None:
    estate = Estate()
    resident = await estate.register(date(1970, 1, 1))
    await estate.registry(
        ResidentDetailsCorrected(
            resident_id=resident, date_of_birth=date(1960, 1, 1), reason="户籍信息更正"
        )
    )
    assert of(await estate.events(resident), ProgrammeEnrolled)
    assert estate.armed(TURNS_65) == set()


async def test_a_birthday_deadline_after_a_correction_to_a_later_date_does_nothing() -> None:
    estate = Estate()
    resident = await estate.register(date(1961, 7, 14))
    deadline = estate.store.deadlines[(TURNS_65, str(resident))]
    estate.known.people[resident] = estate.known.people[resident].__class__(
        resident, HOME, date(1962, 7, 14), True, None
    )
    async with estate.store.session() as session:
        await estate.deadlines[TURNS_65](
            session,  # type: ignore[arg-type]
            Deadline(TURNS_65, str(resident), deadline.due_at, deadline.payload),
        )
    assert await estate.events(resident) == []


async def test_a_missed_visit_is_overdue_exactly_once() -> None:
    estate = Estate()
    resident = await estate.register(date(1950, 5, 1))
    (booked,) = of(await estate.events(resident), VisitBooked)
    key = str(booked.visit_id)  # type: ignore[attr-defined]
    await estate.fire(VISIT_OVERDUE, key)
    await estate.fire(VISIT_OVERDUE, key)  # a second firing (a crash before marking it fired)
    assert len(of(await estate.events(resident), VisitOverdue)) == 1


async def test_skip_books_the_next_and_reschedule_opens_a_new_window() -> None:
    estate = Estate()
    resident = await estate.register(date(1950, 5, 1))
    (booked,) = of(await estate.events(resident), VisitBooked)
    visit = booked.visit_id  # type: ignore[attr-defined]
    await estate.fire(VISIT_OVERDUE, str(visit))
    estate.clock.now += timedelta(days=1)
    later = estate.clock().date() + timedelta(days=10)
    await records.reschedule_visit(
        estate.store,
        resident,
        visit,
        RescheduleVisit(due_on=later, reason=RescheduleReason.RESIDENT_ASKED),
        DOCTOR,
        estate.cfg,
    )
    assert estate.store.deadlines[(VISIT_OVERDUE, str(visit))].due_at == datetime.combine(
        later + timedelta(days=8), datetime.min.time(), tzinfo=UTC
    )
    await estate.fire(VISIT_OVERDUE, str(visit))
    assert len(of(await estate.events(resident), VisitOverdue)) == 2  # one per window
    await records.skip_visit(
        estate.store, resident, visit, SkipVisit(reason=SkipReason.AWAY), DOCTOR, estate.cfg
    )
    events = await estate.events(resident)
    assert of(events, VisitSkipped)
    next_visit = of(events, VisitBooked)[-1]
    assert next_visit.visit_id != visit  # type: ignore[attr-defined]
    assert estate.armed(VISIT_OVERDUE) == {str(next_visit.visit_id)}  # type: ignore[attr-defined]


async def test_a_check_up_completes_the_visit_and_books_the_next() -> None:
    estate = Estate()
    resident = await estate.register(date(1950, 5, 1))
    answer = await records.record_encounter(
        estate.store,
        resident,
        RecordEncounter(
            programme=Programme.ELDERLY_ANNUAL,
            observations=Observations(
                systolic_mmhg=200, diastolic_mmhg=120, height_cm=160, weight_kg=64
            ),
            findings="血压偏高",
        ),
        DOCTOR,
        estate.cfg,
    )
    events = await estate.events(resident)
    assert of(events, VisitCompleted)
    assert of(events, VisitBooked)[-1].due_on == date(2027, 3, 1)  # type: ignore[attr-defined]
    view = await records.view_record(estate.store, resident, DOCTOR, estate.cfg)
    assert view.checked_up_this_year
    (encounter,) = view.encounters
    assert str(encounter.encounter_id) == answer.sub_id
    assert encounter.observations is not None
    assert encounter.observations.bmi == 25.0
    assert set(encounter.review) >= {"systolic_high", "diastolic_high"}


async def test_a_check_up_from_last_years_ledger_leaves_the_resident_overdue() -> None:
    estate = Estate()
    resident = await estate.register(date(1950, 5, 1))
    await records.record_encounter(
        estate.store,
        resident,
        RecordEncounter(
            programme=Programme.ELDERLY_ANNUAL,
            occurred_on=date(2025, 1, 20),
            observations=Observations(systolic_mmhg=135, diastolic_mmhg=85),
        ),
        DOCTOR,
        estate.cfg,
    )
    booked = of(await estate.events(resident), VisitBooked)[-1]
    assert booked.due_on == date(2026, 1, 20)  # type: ignore[attr-defined]
    deadline = estate.store.deadlines[(VISIT_OVERDUE, str(booked.visit_id))]  # type: ignore[attr-defined]
    assert deadline.due_at < estate.clock()  # due already: the scheduler fires it at once
    await estate.fire(VISIT_OVERDUE, str(booked.visit_id))  # type: ignore[attr-defined]
    assert of(await estate.events(resident), VisitOverdue)
    view = await records.view_record(estate.store, resident, DOCTOR, estate.cfg)
    assert not view.checked_up_this_year
    with pytest.raises(DateTooEarly):
        await records.record_encounter(
            estate.store,
            resident,
            RecordEncounter(
                programme=Programme.ELDERLY_ANNUAL,
                observations=Observations(heart_rate_bpm=70),
                next_visit_on=date(2026, 2, 1),
            ),
            DOCTOR,
            estate.cfg,
        )


@pytest.mark.parametrize(
    "observations",
    [
        Observations(systolic_mmhg=400, diastolic_mmhg=80),
        Observations(systolic_mmhg=120, diastolic_mmhg=130),
        Observations(weight_kg=3),
        Observations(fasting_glucose_mmol_l=95),
    ],
)
async def test_impossible_readings_are_refused(observations: Observations) -> None:
    estate = Estate()
    resident = await estate.register(date(1950, 5, 1))
    with pytest.raises(ImplausibleReading):
        await records.record_encounter(
            estate.store,
            resident,
            RecordEncounter(programme=Programme.ELDERLY_ANNUAL, observations=observations),
            DOCTOR,
            estate.cfg,
        )
    assert not of(await estate.events(resident), VisitCompleted)


async def test_chronic_programmes_need_the_diagnosis_and_the_elderly_one_the_age() -> None:
    estate = Estate()
    resident = await estate.register(date(1980, 5, 1))
    await records.open_record(estate.store, resident, OpenRecord(), DOCTOR, estate.cfg)
    with pytest.raises(NotEligible):
        await records.enrol(
            estate.store, resident, Enrol(programme=Programme.ELDERLY_ANNUAL), DOCTOR, estate.cfg
        )
    with pytest.raises(DiagnosisRequired):
        await records.enrol(
            estate.store, resident, Enrol(programme=Programme.HYPERTENSION), DOCTOR, estate.cfg
        )
    await records.diagnose(estate.store, resident, Diagnose(icd10="I10"), DOCTOR, estate.cfg)
    await records.enrol(
        estate.store, resident, Enrol(programme=Programme.HYPERTENSION), DOCTOR, estate.cfg
    )
    (booked,) = of(await estate.events(resident), VisitBooked)
    assert booked.due_on == date(2026, 5, 30)  # type: ignore[attr-defined]


async def test_death_closes_the_record_cancels_visits_and_ends_protected_care() -> None:
    estate = Estate()
    resident = await estate.register(date(1950, 5, 1))
    await protected.enrol(
        estate.store, resident, EnrolProtected(icd10="F20.0", risk_grade=1), DOCTOR, estate.cfg
    )
    assert estate.armed(PROTECTED_OVERDUE) == {str(resident)}
    await estate.registry(ResidentDied(resident_id=resident, died_on=date(2026, 2, 27)))
    events = await estate.events(resident)
    assert of(events, VisitCancelled)
    assert of(events, HealthRecordClosed)
    assert estate.armed(VISIT_OVERDUE) == set()
    assert estate.armed(PROTECTED_OVERDUE) == set()
    care = (await estate.store.load(f"protected_care-{resident}")).payloads
    assert isinstance(care[-1], ProtectedCareEnded)


async def test_clinical_data_is_for_doctors_of_the_area() -> None:
    estate = Estate()
    resident = await estate.register(date(1950, 5, 1))
    with pytest.raises(Forbidden):
        await records.view_record(estate.store, resident, GRID_WORKER, estate.cfg)
    with pytest.raises(Forbidden):
        await records.view_record(estate.store, resident, DIRECTOR, estate.cfg)
    with pytest.raises(RecordNotFound):
        await records.view_record(estate.store, resident, FAR_DOCTOR, estate.cfg)
    with pytest.raises(RecordNotFound):
        await records.open_record(estate.store, resident, OpenRecord(), FAR_DOCTOR, estate.cfg)


async def test_protected_care_opens_only_to_its_doctors_or_through_the_glass() -> None:
    estate = Estate()
    resident = await estate.register(date(1980, 5, 1))
    await protected.enrol(
        estate.store, resident, EnrolProtected(icd10="F20", risk_grade=3), DOCTOR, estate.cfg
    )
    view = await protected.view(estate.store, resident, DOCTOR, estate.cfg)
    assert view.due_on == date(2026, 3, 15)  # grade 3: within two weeks
    with pytest.raises(ProtectedCareNotFound):
        await protected.view(estate.store, resident, OTHER_DOCTOR, estate.cfg)
    # breaking the glass for a resident outside one's area finds nobody
    with pytest.raises(RecordNotFound):
        await protected.break_glass(
            estate.store,
            resident,
            BreakGlass(reason="急诊就诊需要了解病史", minutes=30),
            FAR_DOCTOR,
            estate.cfg,
        )
    opened = await protected.break_glass(
        estate.store,
        resident,
        BreakGlass(reason="急诊就诊需要了解病史", minutes=30),
        OTHER_DOCTOR,
        estate.cfg,
    )
    assert (await protected.view(estate.store, resident, OTHER_DOCTOR, estate.cfg)).icd10 == "F20"
    openings = await protected.glass_breaks(
        estate.store, estate.clock() - timedelta(days=1), DIRECTOR, estate.cfg
    )
    assert [(o.doctor_id, o.resident_id) for o in openings] == [("doc-2", resident)]
    estate.clock.now = opened.expires_at
    with pytest.raises(ProtectedCareNotFound):
        await protected.view(estate.store, resident, OTHER_DOCTOR, estate.cfg)
    with pytest.raises(Forbidden):
        await protected.glass_breaks(estate.store, estate.clock(), DOCTOR, estate.cfg)


async def test_breaking_the_glass_does_not_tell_who_is_in_protected_care() -> None:
    estate = Estate()
    resident = await estate.register(date(1980, 5, 1))
    opened = await protected.break_glass(
        estate.store,
        resident,
        BreakGlass(reason="核实是否在册管理对象"),
        OTHER_DOCTOR,
        estate.cfg,
    )
    assert opened.resident_id == resident
    with pytest.raises(ProtectedCareNotFound):
        await protected.view(estate.store, resident, OTHER_DOCTOR, estate.cfg)


async def test_protected_events_never_reach_the_record_stream() -> None:
    estate = Estate()
    resident = await estate.register(date(1950, 5, 1))
    await records.diagnose(estate.store, resident, Diagnose(icd10="E11"), DOCTOR, estate.cfg)
    await protected.enrol(
        estate.store, resident, EnrolProtected(icd10="F31", risk_grade=0), DOCTOR, estate.cfg
    )
    for event in await estate.events(resident):
        assert event.event_type not in CATALOG.restricted
    assert {e.event_type for e in (await estate.store.load(f"chart-{resident}")).payloads} <= (
        CATALOG.restricted
    )


# -- consent and attendance ---------------------------------------------------------------------


async def test_attendance_is_linked_only_with_consent_and_unlinked_on_withdrawal() -> None:
    estate = Estate()
    resident_id = await estate.register(date(1950, 5, 1))
    desk = caller(Role.DESK_STAFF, sub="desk-1")
    estate.known.locations[COMMUNITY] = Location(
        area_id=COMMUNITY, kind=AreaKind.COMMUNITY, path=AreaPath(community_id=COMMUNITY)
    )
    held = await activities.record_activity(
        estate.store,
        RecordActivity(
            kind=ActivityKind.ON_SITE_CONSULTATION,
            held_on=date(2026, 2, 28),
            area_id=COMMUNITY,
            place="社区服务站",
            at_station=True,
            served=0,
        ),
        desk,
        estate.cfg,
    )
    activity_id = UUID(held.id)
    attend = RecordAttendance(resident_id=resident_id)
    # no consent yet: counted, not linked
    await activities.record_attendance(estate.store, activity_id, attend, desk, estate.cfg)
    view = await activities.view_activity(estate.store, activity_id, desk)
    assert (view.attended, view.attendees) == (1, [])

    purpose = ConsentStep(purpose=HealthConsentPurpose.ACTIVITY_ATTENDANCE)
    await consents.give(estate.store, resident_id, purpose, desk, estate.cfg)
    await activities.record_attendance(estate.store, activity_id, attend, desk, estate.cfg)
    await activities.record_attendance(
        estate.store, activity_id, RecordAttendance(), desk, estate.cfg
    )
    view = await activities.view_activity(estate.store, activity_id, desk)
    assert (view.attended, view.attendees) == (3, [resident_id])
    # a grid worker sees the counts, never who attended
    grid_worker = caller(Role.GRID_WORKER, sub="gw-2")
    seen = await activities.view_activity(estate.store, activity_id, grid_worker)
    assert (seen.attended, seen.attendees) == (3, [])

    await consents.withdraw(estate.store, resident_id, purpose, desk, estate.cfg)
    view = await activities.view_activity(estate.store, activity_id, desk)
    assert (view.attended, view.attendees) == (3, [])  # still counted, no longer linked
    await activities.record_attendance(estate.store, activity_id, attend, desk, estate.cfg)
    kept = (await estate.store.load(f"attendance-{activity_id}")).payloads
    assert [getattr(e, "resident_id", None) for e in kept] == [None, resident_id, None, None]
    with pytest.raises(ConsentNotGiven):
        await consents.withdraw(estate.store, resident_id, purpose, desk, estate.cfg)
    with pytest.raises(Forbidden):
        await consents.give(estate.store, resident_id, purpose, grid_worker, estate.cfg)
    with pytest.raises(RecordNotFound):
        await consents.give(estate.store, resident_id, purpose, FAR_DOCTOR, estate.cfg)
