"""Station handlers on the in-memory store: receptions in one request, a convenience service
from receipt to callback with a one-time notice and an overdue hand-off, the refusal of payment
details, and scoping — no PostgreSQL, no broker."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from anju_contracts import Actor
from anju_contracts.registry import (
    AreaKind,
    AreaPath,
    Location,
    OrganisationKind,
    OrganisationRegistered,
    ResidentMovedOut,
)
from anju_contracts.station import (
    CATALOG,
    BillType,
    GatheringKind,
    HandOffOverdue,
    OneTimeNoticeIssued,
    OpinionDestination,
    OpinionReferred,
    Purpose,
    Referral,
)
from anju_station.application import certifying, desk, duty, gathering
from anju_station.application.aggregates import HANDOFF_DUE, SERVICES
from anju_station.application.desk import (
    Callback,
    CheckDocuments,
    Complete,
    HandOff,
    LogReception,
    ReceiveService,
    StationConfig,
)
from anju_station.application.residences import MemoryResidences, NameAndSince
from anju_station.domain.errors import (
    BillTypeRequired,
    CertificateNotFound,
    CertificateRevoked,
    DayOutOfRange,
    GatheringNotFound,
    HeldInFuture,
    NotAnOpinionGathering,
    NotLivingHere,
    OpinionNotFound,
    OpinionSettled,
    PaymentDetailsRefused,
    ReceptionNotFound,
    ResidenceUnknown,
    RosterNotFound,
    ServiceNotFound,
    UnknownServiceType,
    WrongServiceState,
)
from anju_station.settings import CATALOGUE
from eventkit.auth import Principal, Role
from eventkit.commands import Caller
from eventkit.errors import AreaNotFound, Forbidden, UnknownResident
from eventkit.known import MemoryKnown
from eventkit.memory import MemoryEventStore
from eventkit.scheduler import Deadline
from eventkit.store import Context

COMMUNITY, OTHER = uuid4(), uuid4()
HOME = AreaPath(community_id=COMMUNITY)
NOW = datetime(2026, 5, 6, 9, 0, tzinfo=UTC)


def caller(*roles: Role, areas: tuple[UUID, ...] = (COMMUNITY,), sub: str = "desk-1") -> Caller:
    principal = Principal(sub=sub, roles=roles, areas=tuple(str(a) for a in areas))
    return Caller(principal, Context(actor=Actor(id=sub, roles=tuple(map(str, roles)))))


DESK = caller(Role.DESK_STAFF)
FAR_DESK = caller(Role.DESK_STAFF, areas=(OTHER,), sub="desk-9")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class Desk:
    def __init__(self) -> None:
        self.store = MemoryEventStore(CATALOG)
        self.known = MemoryKnown()
        self.clock = Clock()
        self.residences = MemoryResidences()
        self.cfg = StationConfig(
            clock=self.clock,
            known=self.known,
            catalogue=dict(CATALOGUE),
            residences=self.residences,
            public_url="https://anju.example.org/station",
        )
        self.known.names[COMMUNITY] = "安居社区"
        for area, community in ((COMMUNITY, COMMUNITY), (OTHER, OTHER)):
            path = AreaPath(community_id=community)
            self.known.locations[area] = Location(area_id=area, kind=AreaKind.COMMUNITY, path=path)
        self.resident = uuid4()
        self.known.place(self.resident, HOME)
        self.residences.rows[self.resident] = NameAndSince("王小英", date(2023, 5, 1))
        self.centre = uuid4()
        self.known.learn(
            OrganisationRegistered(
                organisation_id=self.centre,
                kind=OrganisationKind.HOUSING_SECURITY_CENTRE,
                name="市住房保障服务中心",
                community_ids=[COMMUNITY],
            )
        )

    async def service(self, service_type: str = "public_rental_application") -> UUID:
        cmd = ReceiveService(
            service_type=service_type, area_id=COMMUNITY, resident_id=self.resident
        )
        return UUID((await desk.receive_service(self.store, cmd, DESK, self.cfg)).id)


async def test_a_reception_is_logged_in_one_request_anonymous_or_not() -> None:
    d = Desk()
    named = await desk.log_reception(
        d.store,
        LogReception(
            area_id=COMMUNITY,
            resident_id=d.resident,
            purposes=[Purpose.CONVENIENCE_SERVICE, Purpose.CONSULTATION],
            referred_by=Referral.GRID_WORKER,
        ),
        DESK,
        d.cfg,
    )
    anonymous = await desk.log_reception(
        d.store, LogReception(area_id=COMMUNITY, purposes=[Purpose.CONSULTATION]), DESK, d.cfg
    )
    view = await desk.view_reception(d.store, UUID(named.id), DESK)
    assert (view.resident_id, view.referred_by) == (d.resident, Referral.GRID_WORKER)
    assert (await desk.view_reception(d.store, UUID(anonymous.id), DESK)).resident_id is None
    with pytest.raises(ReceptionNotFound):
        await desk.view_reception(d.store, UUID(named.id), FAR_DESK)
    with pytest.raises(AreaNotFound):
        await desk.log_reception(
            d.store, LogReception(area_id=COMMUNITY, purposes=[Purpose.OTHER]), FAR_DESK, d.cfg
        )
    with pytest.raises(UnknownResident):
        await desk.log_reception(
            d.store,
            LogReception(area_id=OTHER, resident_id=d.resident, purposes=[Purpose.OTHER]),
            FAR_DESK,
            d.cfg,
        )


async def test_a_service_from_receipt_through_a_one_time_notice_to_the_callback() -> None:
    d = Desk()
    service = await d.service()
    await desk.check_documents(
        d.store, service, CheckDocuments(missing=["户口簿复印件", "收入证明"]), DESK, d.cfg
    )
    notice = (await d.store.load(SERVICES.stream(service))).payloads[-1]
    assert isinstance(notice, OneTimeNoticeIssued)
    assert notice.missing == ["户口簿复印件", "收入证明"]  # all of it, at once
    with pytest.raises(WrongServiceState):
        await desk.hand_off(d.store, service, HandOff(organisation_id=d.centre), DESK, d.cfg)
    await desk.check_documents(d.store, service, CheckDocuments(), DESK, d.cfg)
    await desk.hand_off(d.store, service, HandOff(organisation_id=d.centre), DESK, d.cfg)
    view = await desk.view_service(d.store, service, DESK)
    assert view.due_by == NOW + timedelta(days=20)
    # the agency is late: overdue once
    armed = d.store.deadlines[(HANDOFF_DUE, str(service))]
    for _ in range(2):
        async with d.store.session() as session:
            await desk.handoff_due(
                session,  # type: ignore[arg-type]
                Deadline(HANDOFF_DUE, str(service), armed.due_at, armed.payload),
            )
    events = (await d.store.load(SERVICES.stream(service))).payloads
    assert sum(isinstance(e, HandOffOverdue) for e in events) == 1
    await desk.complete(d.store, service, Complete(outcome="已受理，等待配租"), DESK, d.cfg)
    assert not [
        k for (k, key), dl in d.store.deadlines.items() if not dl.fired and k == HANDOFF_DUE
    ]
    await desk.call_back(d.store, service, Callback(satisfaction=5), DESK, d.cfg)
    view = await desk.view_service(d.store, service, DESK)
    assert (view.status, view.overdue, view.satisfaction, view.notices) == (
        "completed",
        True,
        5,
        1,
    )


@pytest.mark.parametrize(
    "note",
    [
        "卡号 6222 0212 3456 7890 123",
        "电费户号 1100223344",
        "密码是老伴生日",
        "password 1234",
        "验证码 8841",
    ],
)
async def test_payment_details_are_refused_before_anything_is_stored(note: str) -> None:
    d = Desk()
    service = await d.service("employment_information")
    await desk.check_documents(d.store, service, CheckDocuments(), DESK, d.cfg)
    with pytest.raises(PaymentDetailsRefused):
        await desk.complete(d.store, service, Complete(outcome=note), DESK, d.cfg)
    with pytest.raises(PaymentDetailsRefused):
        await desk.log_reception(
            d.store,
            LogReception(area_id=COMMUNITY, purposes=[Purpose.ELDERLY_WINDOW], note=note),
            DESK,
            d.cfg,
        )
    assert (await desk.view_service(d.store, service, DESK)).status == "accepted"


async def test_the_elderly_window_records_the_bill_type_and_nothing_else() -> None:
    d = Desk()
    with pytest.raises(BillTypeRequired):
        await d.service("elderly_window_bill_help")
    answer = await desk.receive_service(
        d.store,
        ReceiveService(
            service_type="elderly_window_bill_help",
            area_id=COMMUNITY,
            resident_id=d.resident,
            bill_type=BillType.GAS,
        ),
        DESK,
        d.cfg,
    )
    (received,) = (await d.store.load(SERVICES.stream(UUID(answer.id)))).payloads
    assert received.bill_type == BillType.GAS  # type: ignore[attr-defined]


async def test_unknown_services_roles_and_strangers_are_refused() -> None:
    d = Desk()
    with pytest.raises(UnknownServiceType):
        await d.service("moon_landing")
    service = await d.service()
    with pytest.raises(ServiceNotFound):
        await desk.view_service(d.store, service, FAR_DESK)
    with pytest.raises(Forbidden):
        await desk.check_documents(
            d.store, service, CheckDocuments(), caller(Role.GRID_WORKER), d.cfg
        )


# -- residence certificates ------------------------------------------------------------------


async def test_a_certificate_states_the_registry_facts_and_anyone_can_check_its_number() -> None:
    d = Desk()
    issued = await certifying.issue_certificate(
        d.store,
        certifying.IssueCertificate(resident_id=d.resident, purpose="子女入学"),
        DESK,
        d.cfg,
    )
    c, version = await certifying.certificate(d.store, UUID(issued.id), DESK)
    view = certifying.view(c, version, d.cfg)
    assert (view.holder_name, view.address, view.living_since) == (
        "王小英",
        "安居社区",
        date(2023, 5, 1),
    )
    assert view.verify_url == f"https://anju.example.org/station/public/certificates/{c.number}"
    check = await certifying.check(d.store, c.number)
    assert (check.status, check.holder, check.community_name) == ("valid", "王*英", "安居社区")

    await certifying.revoke_certificate(
        d.store, c.id, certifying.RevokeCertificate(reason="开具有误"), DESK, d.cfg
    )
    assert (await certifying.check(d.store, c.number)).status == "revoked"
    with pytest.raises(CertificateRevoked):
        await certifying.revoke_certificate(
            d.store, c.id, certifying.RevokeCertificate(reason="again"), DESK, d.cfg
        )
    # a number nobody issued, and one of the right shape but another certificate's id
    with pytest.raises(CertificateNotFound):
        await certifying.check(d.store, "ANJU-R-2026-00000000")


async def test_a_certificate_is_refused_after_move_out_and_unseen_elsewhere() -> None:
    d = Desk()
    d.known.learn(ResidentMovedOut(resident_id=d.resident, moved_out_on=date(2026, 5, 1)))
    with pytest.raises(NotLivingHere):
        await certifying.issue_certificate(
            d.store, certifying.IssueCertificate(resident_id=d.resident), DESK, d.cfg
        )
    stranger = Desk()
    with pytest.raises(UnknownResident):
        await certifying.issue_certificate(
            stranger.store,
            certifying.IssueCertificate(resident_id=stranger.resident),
            FAR_DESK,
            stranger.cfg,
        )
    issued = await certifying.issue_certificate(
        stranger.store,
        certifying.IssueCertificate(resident_id=stranger.resident),
        DESK,
        stranger.cfg,
    )
    with pytest.raises(CertificateNotFound):
        await certifying.certificate(stranger.store, UUID(issued.id), FAR_DESK)


async def test_a_certificate_needs_what_the_registry_said() -> None:
    d = Desk()
    del d.residences.rows[d.resident]
    with pytest.raises(ResidenceUnknown):
        await certifying.issue_certificate(
            d.store, certifying.IssueCertificate(resident_id=d.resident), DESK, d.cfg
        )


# -- lectures, activities, opinions --------------------------------------------------------------


def gathering_cmd(kind: GatheringKind, **more: object) -> gathering.RecordGathering:
    return gathering.RecordGathering.model_validate(
        {
            "area_id": COMMUNITY,
            "kind": kind,
            "topic": "党的二十届三中全会精神",
            "speaker": "社区书记",
            "held_on": NOW.date(),
            "attendance": 42,
            **more,
        }
    )


async def test_opinions_are_raised_at_opinion_gatherings_and_settled_once() -> None:
    d = Desk()
    lecture = await gathering.record_gathering(
        d.store, gathering_cmd(GatheringKind.THEORY_LECTURE), DESK, d.cfg
    )
    with pytest.raises(NotAnOpinionGathering):
        await gathering.raise_opinion(
            d.store, UUID(lecture.id), gathering.RaiseOpinion(text="楼道灯坏了"), DESK, d.cfg
        )
    session = await gathering.record_gathering(
        d.store, gathering_cmd(GatheringKind.OPINION_GATHERING, partner_id=d.centre), DESK, d.cfg
    )
    noise = await gathering.raise_opinion(
        d.store,
        UUID(session.id),
        gathering.RaiseOpinion(text="楼上深夜噪音", resident_id=d.resident),
        DESK,
        d.cfg,
    )
    lights = await gathering.raise_opinion(
        d.store, UUID(session.id), gathering.RaiseOpinion(text="楼道灯坏了"), DESK, d.cfg
    )
    await gathering.refer_opinion(
        d.store,
        UUID(noise.id),
        gathering.ReferOpinion(to=OpinionDestination.MEDIATION, note="两户邻里"),
        DESK,
        d.cfg,
    )
    await gathering.answer_opinion(
        d.store, UUID(lights.id), gathering.AnswerOpinion(reply="已报物业，三日内修复"), DESK, d.cfg
    )
    referred = (await d.store.load(f"opinion-{noise.id}")).payloads[-1]
    assert isinstance(referred, OpinionReferred)
    assert (referred.to, referred.text, referred.resident_id, referred.path) == (
        OpinionDestination.MEDIATION,
        "楼上深夜噪音",
        d.resident,
        HOME,
    )
    with pytest.raises(OpinionSettled):
        await gathering.answer_opinion(
            d.store, UUID(noise.id), gathering.AnswerOpinion(reply="late"), DESK, d.cfg
        )
    view = await gathering.view_opinion(d.store, UUID(noise.id), DESK)
    assert (view.status, view.referred_to) == ("referred", OpinionDestination.MEDIATION)
    with pytest.raises(OpinionNotFound):
        await gathering.view_opinion(d.store, UUID(noise.id), FAR_DESK)
    with pytest.raises(GatheringNotFound):
        await gathering.raise_opinion(
            d.store, UUID(session.id), gathering.RaiseOpinion(text="x"), FAR_DESK, d.cfg
        )


async def test_a_gathering_is_recorded_once_held() -> None:
    d = Desk()
    tomorrow = NOW.date() + timedelta(days=1)
    with pytest.raises(HeldInFuture):
        await gathering.record_gathering(
            d.store, gathering_cmd(GatheringKind.POLICY_EXPLANATION, held_on=tomorrow), DESK, d.cfg
        )
    with pytest.raises(AreaNotFound):
        await gathering.record_gathering(
            d.store, gathering_cmd(GatheringKind.POLICY_EXPLANATION), FAR_DESK, d.cfg
        )


# -- duty roster ---------------------------------------------------------------------------------


async def test_a_days_roster_is_replaced_and_the_same_roster_adds_nothing() -> None:
    d = Desk()
    day = NOW.date()
    first = duty.SetRoster(desk=["desk-1", "desk-2"], pioneer_post=["党员-李"])
    await duty.set_roster(d.store, COMMUNITY, day, first, DESK, d.cfg)
    again = await duty.set_roster(d.store, COMMUNITY, day, first, DESK, d.cfg)
    changed = await duty.set_roster(
        d.store, COMMUNITY, day, duty.SetRoster(desk=["desk-3"]), DESK, d.cfg
    )
    assert (again.version, changed.version) == (1, 2)
    view = await duty.view_roster(d.store, COMMUNITY, day, DESK)
    assert (view.desk, view.pioneer_post) == (["desk-3"], [])
    with pytest.raises(RosterNotFound):
        await duty.view_roster(d.store, COMMUNITY, day, FAR_DESK)
    with pytest.raises(RosterNotFound):  # the day's roster exists, unseen from elsewhere
        await duty.set_roster(d.store, COMMUNITY, day, first, FAR_DESK, d.cfg)
    with pytest.raises(AreaNotFound):  # a day without one: the community is not seen
        await duty.set_roster(d.store, COMMUNITY, day - timedelta(days=1), first, FAR_DESK, d.cfg)
    with pytest.raises(DayOutOfRange):
        await duty.set_roster(d.store, COMMUNITY, day + timedelta(days=400), first, DESK, d.cfg)
