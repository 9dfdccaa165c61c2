"""Volunteering handlers on the in-memory store: the elderly-alone cleaning plan, requests from
raised to delivered (decline and reassignment too), hours that count once approved,
certificates, activities with no-shows, and scoping — no PostgreSQL, no broker."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from anju_contracts import Actor, Event
from anju_contracts.registry import (
    AreaKind,
    AreaPath,
    FlagType,
    Location,
    ResidentDied,
    RiskTier,
    SpecialGroupFlagCleared,
    SpecialGroupFlagRaised,
)
from anju_contracts.volunteering import (
    CATALOG,
    CleaningPlanStarted,
    DeclineReason,
    RequestCancelReason,
    RequestKind,
    ServiceRequestCancelled,
    ServiceRequestRaised,
    ServiceRequestResponseOverdue,
    Shift,
    TeamPurpose,
    VolunteerActivityKind,
    VolunteerConsentPurpose,
    VolunteerKind,
)
from anju_volunteering.application import consents, hours, people, work
from anju_volunteering.application.aggregates import MONTHLY_CLEANING, RESPONSE_DUE
from anju_volunteering.application.commands import (
    AcceptRequest,
    AssignRequest,
    Attendance,
    CheckIn,
    CheckOut,
    ConsentStep,
    DeclineRequest,
    Deliver,
    FormTeam,
    IssueCertificate,
    RaiseRequest,
    RegisterVolunteer,
    RejectHours,
    ScheduleActivity,
    ShiftVolunteer,
    TeamMember,
)
from anju_volunteering.application.people import VolunteeringConfig
from anju_volunteering.application.reactions import deadline_handlers, registry_reaction
from anju_volunteering.domain import plans
from anju_volunteering.domain.errors import (
    CertificateNotFound,
    EntryDecided,
    NoApprovedHours,
    NotTheAssignee,
    RequestNotFound,
    VolunteerNotFound,
    WrongRequestState,
)
from eventkit.auth import Principal, Role
from eventkit.commands import Caller
from eventkit.consent import ConsentNotGiven, consent_id
from eventkit.dates import DateInFuture, DateTooEarly
from eventkit.errors import Forbidden, UnknownResident
from eventkit.known import AreaNotFound, MemoryKnown
from eventkit.memory import MemoryEventStore
from eventkit.scheduler import Deadline
from eventkit.store import Context
from eventkit.testing.delivery import delivered

COMMUNITY, OTHER = uuid4(), uuid4()
GRID, OTHER_GRID = uuid4(), uuid4()
HOME = AreaPath(community_id=COMMUNITY, grid_id=GRID)
NOW = datetime(2026, 3, 10, 9, 0, tzinfo=UTC)


def caller(*roles: Role, areas: tuple[UUID, ...] = (COMMUNITY,), sub: str = "coord-1") -> Caller:
    principal = Principal(sub=sub, roles=roles, areas=tuple(str(a) for a in areas))
    return Caller(principal, Context(actor=Actor(id=sub, roles=tuple(map(str, roles)))))


COORD = caller(Role.VOLUNTEER_COORDINATOR)
FAR_COORD = caller(Role.VOLUNTEER_COORDINATOR, areas=(OTHER,), sub="coord-2")
GRID_WORKER = caller(Role.GRID_WORKER, areas=(GRID,), sub="gw-1")
DESK = caller(Role.DESK_STAFF, sub="desk-1")


class Clock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class Estate:
    def __init__(self) -> None:
        self.store = MemoryEventStore(CATALOG)
        self.known = MemoryKnown()
        self.clock = Clock(NOW)
        self.cfg = VolunteeringConfig(
            clock=self.clock, known=self.known, response=timedelta(hours=48)
        )
        for area, kind, community in (
            (COMMUNITY, AreaKind.COMMUNITY, COMMUNITY),
            (GRID, AreaKind.GRID, COMMUNITY),
            (OTHER, AreaKind.COMMUNITY, OTHER),
        ):
            path = AreaPath(community_id=community, grid_id=area if area == GRID else None)
            self.known.locations[area] = Location(area_id=area, kind=kind, path=path)
        self.react = registry_reaction(self.cfg)
        self.deadlines = deadline_handlers(self.cfg)

    def resident(self, path: AreaPath = HOME) -> UUID:
        resident_id = uuid4()
        self.known.place(resident_id, path, date_of_birth=date(1940, 1, 1))
        return resident_id

    async def registry(self, event: Event, at: datetime | None = None) -> None:
        self.known.learn(event)
        sent = delivered(
            event,
            source="registry",
            subject="care-x",
            offset=0,
            occurred_at=at or self.clock(),
            correlation_id="c",
            actor=Actor(id="registry", roles=("service",)),
        )
        async with self.store.session() as session:
            await self.react(session, sent)  # type: ignore[arg-type]

    async def fire(self, kind: str, key: str) -> None:
        armed = self.store.deadlines[(kind, key)]
        self.clock.now = max(self.clock.now, armed.due_at)
        async with self.store.session() as session:
            await self.deadlines[kind](
                session,  # type: ignore[arg-type]
                Deadline(kind, key, armed.due_at, armed.payload),
            )

    async def volunteer(self, name: str = "李志愿", area: UUID = GRID, who: Caller = COORD) -> UUID:
        answer = await people.register(
            self.store,
            RegisterVolunteer(kind=VolunteerKind.RESIDENT_VOLUNTEER, name=name, area_id=area),
            who,
            self.cfg,
        )
        return UUID(answer.id)

    async def request(self, resident: UUID) -> UUID:
        answer = await work.raise_request(
            self.store,
            RaiseRequest(resident_id=resident, kind=RequestKind.ERRAND, description="代买药品"),
            GRID_WORKER,
            self.cfg,
        )
        return UUID(answer.id)

    async def events(self, stream: str) -> list[Event]:
        return list((await self.store.load(stream)).payloads)

    def armed(self, kind: str) -> set[str]:
        return {k for (x, k), d in self.store.deadlines.items() if x == kind and not d.fired}


def flag_raised(resident: UUID) -> SpecialGroupFlagRaised:
    return SpecialGroupFlagRaised(
        resident_id=resident, flag=FlagType.ELDERLY_ALONE, tier=RiskTier.RED
    )


async def test_a_flag_plans_monthly_cleaning_once_a_month_until_it_is_cleared() -> None:
    estate = Estate()
    resident = estate.resident()
    await estate.registry(flag_raised(resident))
    march = plans.request_id(resident, "2026-03")
    (raised,) = await estate.events(f"request-{march}")
    assert isinstance(raised, ServiceRequestRaised)
    assert (raised.kind, raised.period, raised.path) == (RequestKind.HOME_CLEANING, "2026-03", HOME)
    assert estate.store.deadlines[(MONTHLY_CLEANING, str(resident))].due_at == datetime(
        2026, 4, 1, tzinfo=UTC
    )
    # the flag raised again (a re-delivery, a new tier) raises nothing new
    await estate.registry(flag_raised(resident))
    assert len(await estate.events(f"request-{march}")) == 1
    # April comes: April's request, and the deadline re-armed for May
    await estate.fire(MONTHLY_CLEANING, str(resident))
    april = plans.request_id(resident, "2026-04")
    assert len(await estate.events(f"request-{april}")) == 1
    assert estate.store.deadlines[(MONTHLY_CLEANING, str(resident))].due_at == datetime(
        2026, 5, 1, tzinfo=UTC
    )
    # the scheduler firing April twice (a crash before it marked it) raises April once
    async with estate.store.session() as session:
        await estate.deadlines[MONTHLY_CLEANING](
            session,  # type: ignore[arg-type]
            Deadline(MONTHLY_CLEANING, str(resident), datetime(2026, 4, 1, tzinfo=UTC), {}),
        )
    assert len(await estate.events(f"request-{april}")) == 1
    # cleared: the plan stops, April's untouched request is cancelled, May never comes
    await estate.registry(
        SpecialGroupFlagCleared(
            resident_id=resident, flag=FlagType.ELDERLY_ALONE, reason="子女同住"
        )
    )
    assert estate.armed(MONTHLY_CLEANING) == set()
    cancelled = (await estate.events(f"request-{april}"))[-1]
    assert isinstance(cancelled, ServiceRequestCancelled)
    assert cancelled.reason == RequestCancelReason.PLAN_STOPPED
    # last month's, never begun either, goes too; no response deadline is left
    march_events = await estate.events(f"request-{march}")
    assert isinstance(march_events[-1], ServiceRequestCancelled)
    assert estate.armed(RESPONSE_DUE) == set()


async def test_other_flags_plan_nothing_and_a_death_stops_the_plan() -> None:
    estate = Estate()
    resident = estate.resident()
    await estate.registry(
        SpecialGroupFlagRaised(resident_id=resident, flag=FlagType.DISABILITY, tier=RiskTier.BLUE)
    )
    assert estate.armed(MONTHLY_CLEANING) == set()
    await estate.registry(flag_raised(resident))
    await estate.registry(ResidentDied(resident_id=resident, died_on=date(2026, 3, 9)))
    assert estate.armed(MONTHLY_CLEANING) == set()
    march = plans.request_id(resident, "2026-03")
    last = (await estate.events(f"request-{march}"))[-1]
    assert isinstance(last, ServiceRequestCancelled)
    assert last.reason == RequestCancelReason.RESIDENT_LEFT


async def test_a_flag_that_overtakes_the_registration_starts_the_plan_once_it_is_known() -> None:
    """The registry orders its topic per stream: the care record's flag may come before the
    resident's registration."""
    estate = Estate()
    resident = uuid4()  # not registered yet, as far as volunteering knows
    flagged_at = NOW - timedelta(minutes=1)
    await estate.registry(flag_raised(resident), at=flagged_at)
    assert await estate.events(f"plan-{resident}") == []
    assert estate.store.deadlines[(MONTHLY_CLEANING, str(resident))].due_at == flagged_at
    # fired while the resident is still unknown: refused, so the scheduler tries it again
    with pytest.raises(UnknownResident):
        await estate.fire(MONTHLY_CLEANING, str(resident))
    assert await estate.events(f"plan-{resident}") == []
    # once known, the plan starts as of the flag, with this month's cleaning
    estate.known.place(resident, HOME)
    await estate.fire(MONTHLY_CLEANING, str(resident))
    (started,) = await estate.events(f"plan-{resident}")
    assert isinstance(started, CleaningPlanStarted)
    assert (started.path, started.started_on) == (HOME, flagged_at.date())
    (raised,) = await estate.events(f"request-{plans.request_id(resident, '2026-03')}")
    assert isinstance(raised, ServiceRequestRaised)
    assert raised.raised_at == flagged_at
    assert estate.store.deadlines[(MONTHLY_CLEANING, str(resident))].due_at == datetime(
        2026, 4, 1, tzinfo=UTC
    )


async def test_a_flag_cleared_before_its_resident_was_known_plans_nothing() -> None:
    estate = Estate()
    resident = uuid4()
    await estate.registry(flag_raised(resident))
    await estate.registry(
        SpecialGroupFlagCleared(
            resident_id=resident, flag=FlagType.ELDERLY_ALONE, reason="子女同住"
        )
    )
    assert estate.armed(MONTHLY_CLEANING) == set()
    assert await estate.events(f"plan-{resident}") == []


async def test_a_request_from_raised_to_delivered_with_a_decline_and_a_reassignment() -> None:
    estate = Estate()
    resident = estate.resident()
    first, second = await estate.volunteer("王一"), await estate.volunteer("赵二")
    request = await estate.request(resident)
    await work.assign(estate.store, request, AssignRequest(volunteer_id=first), COORD, estate.cfg)
    with pytest.raises(NotTheAssignee):
        await work.accept(
            estate.store, request, AcceptRequest(volunteer_id=second), GRID_WORKER, estate.cfg
        )
    await work.accept(
        estate.store, request, AcceptRequest(volunteer_id=first), GRID_WORKER, estate.cfg
    )
    await work.decline(
        estate.store,
        request,
        DeclineRequest(reason=DeclineReason.UNAVAILABLE),
        GRID_WORKER,
        estate.cfg,
    )
    # open again: given to a team whose member takes it up
    team = UUID(
        (
            await people.form_team(
                estate.store,
                FormTeam(
                    name="清扫服务队", purpose=TeamPurpose.CLEANING, area_id=GRID, leader_id=second
                ),
                COORD,
                estate.cfg,
            )
        ).id
    )
    await work.assign(estate.store, request, AssignRequest(team_id=team), COORD, estate.cfg)
    await work.accept(
        estate.store, request, AcceptRequest(volunteer_id=second), GRID_WORKER, estate.cfg
    )
    estate.clock.now += timedelta(hours=1)
    await work.check_in(estate.store, request, CheckIn(), GRID_WORKER, estate.cfg)
    estate.clock.now += timedelta(hours=1, minutes=30)
    with pytest.raises(WrongRequestState):
        await work.deliver(estate.store, request, Deliver(satisfaction=5), GRID_WORKER, estate.cfg)
    await work.check_out(estate.store, request, CheckOut(), GRID_WORKER, estate.cfg)
    await work.deliver(
        estate.store, request, Deliver(satisfaction=5, feedback="很满意"), GRID_WORKER, estate.cfg
    )
    view = await work.view_request(estate.store, request, COORD)
    assert (view.status, view.accepted_by, view.volunteers) == ("delivered", second, [second])
    ledger = await hours.view_ledger(estate.store, second, COORD)
    assert (ledger.pending_hours, ledger.approved_hours) == (1.5, 0)
    assert (await hours.view_ledger(estate.store, first, COORD)).entries == []


async def test_a_request_not_taken_up_in_time_is_flagged_once() -> None:
    estate = Estate()
    request = await estate.request(estate.resident())
    await estate.fire(RESPONSE_DUE, str(request))
    await estate.fire(RESPONSE_DUE, str(request))
    overdue = [
        e
        for e in await estate.events(f"request-{request}")
        if isinstance(e, ServiceRequestResponseOverdue)
    ]
    assert len(overdue) == 1
    assert (await work.view_request(estate.store, request, COORD)).response_overdue


async def _delivered_hours(estate: Estate, volunteer: UUID, minutes: int) -> UUID:
    request = await estate.request(estate.resident())
    await work.assign(
        estate.store, request, AssignRequest(volunteer_id=volunteer), COORD, estate.cfg
    )
    await work.accept(
        estate.store, request, AcceptRequest(volunteer_id=volunteer), COORD, estate.cfg
    )
    await work.check_in(estate.store, request, CheckIn(), COORD, estate.cfg)
    estate.clock.now += timedelta(minutes=minutes)
    await work.check_out(estate.store, request, CheckOut(), COORD, estate.cfg)
    entries = (await hours.view_ledger(estate.store, volunteer, COORD)).entries
    (entry,) = [e for e in entries if e.source_id == request]
    return entry.entry_id


async def test_hours_count_once_approved_and_a_certificate_verifies_by_its_number() -> None:
    estate = Estate()
    volunteer = await estate.volunteer("王秀英")
    kept = await _delivered_hours(estate, volunteer, 120)
    dropped = await _delivered_hours(estate, volunteer, 60)
    period = IssueCertificate(
        period_from=date(2026, 1, 1),
        period_to=date(2026, 3, 10),
        content="入户服务",
        issuer="安居社区",
    )
    with pytest.raises(NoApprovedHours):
        await hours.issue_certificate(estate.store, volunteer, period, COORD, estate.cfg)
    with pytest.raises(Forbidden):
        await hours.approve(estate.store, volunteer, kept, GRID_WORKER, estate.cfg)
    await hours.approve(estate.store, volunteer, kept, COORD, estate.cfg)
    await hours.reject(
        estate.store, volunteer, dropped, RejectHours(reason="重复登记"), COORD, estate.cfg
    )
    with pytest.raises(EntryDecided):
        await hours.approve(estate.store, volunteer, dropped, COORD, estate.cfg)
    ledger = await hours.view_ledger(estate.store, volunteer, COORD)
    assert (ledger.approved_hours, ledger.pending_hours) == (2.0, 0)
    answer = await hours.issue_certificate(estate.store, volunteer, period, COORD, estate.cfg)
    certificate = await hours.view_certificate(estate.store, UUID(answer.id), COORD)
    assert (certificate.hours, certificate.services) == (2.0, 1)
    checked = await hours.verify(estate.store, certificate.number)
    assert (checked.valid, checked.volunteer, checked.hours) == (True, "王*英", 2.0)
    with pytest.raises(CertificateNotFound):
        await hours.verify(estate.store, "ANJU-V-2026-00000000")
    with pytest.raises(CertificateNotFound):
        await hours.view_certificate(estate.store, UUID(answer.id), FAR_COORD)


async def test_a_shift_credits_attendees_and_not_no_shows() -> None:
    estate = Estate()
    came, missed = await estate.volunteer("甲"), await estate.volunteer("乙")
    shift = Shift(
        shift_id=uuid4(),
        starts_at=NOW + timedelta(days=1),
        ends_at=NOW + timedelta(days=1, hours=3),
        capacity=2,
    )
    activity = UUID(
        (
            await work.schedule_activity(
                estate.store,
                ScheduleActivity(
                    kind=VolunteerActivityKind.THEMED_PARTY_DAY,
                    title="主题党日",
                    area_id=COMMUNITY,
                    shifts=[shift],
                ),
                COORD,
                estate.cfg,
            )
        ).id
    )
    for v in (came, missed):
        await work.sign_up(
            estate.store,
            activity,
            shift.shift_id,
            ShiftVolunteer(volunteer_id=v),
            COORD,
            estate.cfg,
        )
    estate.clock.now = shift.ends_at
    for v, attended in ((came, True), (missed, False)):
        await work.record_attendance(
            estate.store,
            activity,
            shift.shift_id,
            Attendance(volunteer_id=v, attended=attended),
            COORD,
            estate.cfg,
        )
    assert (await hours.view_ledger(estate.store, came, COORD)).pending_hours == 3.0
    assert (await hours.view_ledger(estate.store, missed, COORD)).entries == []
    view = await work.view_activity(estate.store, activity, COORD)
    assert (view.shifts[0].attended, view.shifts[0].no_shows) == ([came], [missed])


async def test_a_coordinator_of_another_community_sees_nothing() -> None:
    estate = Estate()
    volunteer = await estate.volunteer()
    request = await estate.request(estate.resident())
    with pytest.raises(VolunteerNotFound):
        await people.view_volunteer(estate.store, volunteer, FAR_COORD)
    with pytest.raises(RequestNotFound):
        await work.view_request(estate.store, request, FAR_COORD)
    with pytest.raises(RequestNotFound):
        await work.assign(
            estate.store, request, AssignRequest(volunteer_id=volunteer), FAR_COORD, estate.cfg
        )
    with pytest.raises(VolunteerNotFound):
        await hours.view_ledger(estate.store, volunteer, FAR_COORD)
    with pytest.raises(AreaNotFound):
        await estate.volunteer(area=GRID, who=FAR_COORD)
    # and their own volunteer is unknown here
    theirs = await estate.volunteer(area=OTHER, who=FAR_COORD)
    with pytest.raises(VolunteerNotFound):
        await work.assign(
            estate.store, request, AssignRequest(volunteer_id=theirs), COORD, estate.cfg
        )
    team = await people.form_team(
        estate.store,
        FormTeam(name="巡逻队", purpose=TeamPurpose.PATROL, area_id=GRID, leader_id=volunteer),
        COORD,
        estate.cfg,
    )
    with pytest.raises(VolunteerNotFound):
        await people.add_member(estate.store, UUID(team.id), TeamMember(volunteer_id=theirs), COORD)


async def test_desk_staff_raise_requests_but_do_not_run_them() -> None:
    estate = Estate()
    request = UUID(
        (
            await work.raise_request(
                estate.store,
                RaiseRequest(
                    resident_id=estate.resident(), kind=RequestKind.REPAIR, description="灯坏了"
                ),
                DESK,
                estate.cfg,
            )
        ).id
    )
    with pytest.raises(Forbidden):
        await work.assign(
            estate.store, request, AssignRequest(volunteer_id=uuid4()), DESK, estate.cfg
        )


async def test_work_done_earlier_is_recorded_afterwards_within_a_week() -> None:
    estate = Estate()
    volunteer = await estate.volunteer()
    request = await estate.request(estate.resident())
    await work.assign(
        estate.store, request, AssignRequest(volunteer_id=volunteer), COORD, estate.cfg
    )
    await work.accept(
        estate.store, request, AcceptRequest(volunteer_id=volunteer), COORD, estate.cfg
    )
    with pytest.raises(DateTooEarly):
        await work.check_in(
            estate.store, request, CheckIn(at=NOW - timedelta(days=8)), COORD, estate.cfg
        )
    with pytest.raises(DateInFuture):
        await work.check_in(
            estate.store, request, CheckIn(at=NOW + timedelta(hours=1)), COORD, estate.cfg
        )
    await work.check_in(
        estate.store, request, CheckIn(at=NOW - timedelta(hours=3)), COORD, estate.cfg
    )
    await work.check_out(
        estate.store, request, CheckOut(at=NOW - timedelta(hours=1)), COORD, estate.cfg
    )
    assert (await hours.view_ledger(estate.store, volunteer, COORD)).pending_hours == 2.0


# -- consent -----------------------------------------------------------------------------------


async def test_a_withdrawn_profile_consent_hides_the_profile_from_others() -> None:
    estate = Estate()
    v = await estate.volunteer("王志愿")
    shown = await people.view_volunteer(estate.store, v, GRID_WORKER)
    assert (shown.name, shown.profile_shown) == ("王志愿", True)  # joining counts as consent

    profile = ConsentStep(purpose=VolunteerConsentPurpose.PROFILE)
    await consents.withdraw(estate.store, v, profile, COORD, estate.cfg)
    hidden = await people.view_volunteer(estate.store, v, GRID_WORKER)
    assert (hidden.name, hidden.skills, hidden.profile_shown) == (None, [], False)
    # the coordinators who manage the volunteer still see who they are
    assert (await people.view_volunteer(estate.store, v, COORD)).name == "王志愿"
    with pytest.raises(ConsentNotGiven):  # nothing left to withdraw
        await consents.withdraw(estate.store, v, profile, COORD, estate.cfg)

    await consents.give(estate.store, v, profile, COORD, estate.cfg)
    await consents.give(estate.store, v, profile, COORD, estate.cfg)  # again: nothing new
    assert (await people.view_volunteer(estate.store, v, GRID_WORKER)).name == "王志愿"
    stream = await estate.store.load(f"consent-{consent_id(v, 'profile')}")
    assert [e.event_type for e in stream.payloads] == [
        "volunteering.VolunteerConsentWithdrawn",
        "volunteering.VolunteerConsentGiven",
    ]

    photos = ConsentStep(purpose=VolunteerConsentPurpose.PHOTOS)
    with pytest.raises(ConsentNotGiven):  # photos need a consent given first
        await consents.withdraw(estate.store, v, photos, COORD, estate.cfg)
    with pytest.raises(Forbidden):  # a grid worker does not record consents
        await consents.give(estate.store, v, photos, GRID_WORKER, estate.cfg)
    with pytest.raises(VolunteerNotFound):  # nor does another community's coordinator
        await consents.give(estate.store, v, photos, FAR_COORD, estate.cfg)
