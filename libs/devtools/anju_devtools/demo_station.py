"""``anju demo``'s station part, through the registry's and the station's HTTP APIs only.

The station records facts as they happen: a reception, a service's steps, a certificate are
stamped with the time the command arrives (business time comes later). So the demo loads the
desk's *recent weeks as of today*, not its history since May 2023: what a fortnight or so at a
busy desk leaves behind, stamped now. As the community's director it registers the agencies of
record in the registry (reusing the housing security centre and the police station when the
volunteering part registered them); as the desk's clerks and the grid workers it then, at the
station:

- logs :data:`VISITS` receptions: consultations, complaints, the elderly window, people asking
  about a service or a lecture, and every visit that began a convenience service; about half
  came by themselves, a quarter were steered there by their grid worker, some came through the
  12345 hotline or a partner; some visitors gave no name; a few visits were logged by the grid
  worker who brought the resident;
- works :data:`SERVICES` convenience services of every type in the catalogue (the station's
  ``GET /catalogue``), each begun at its reception, and each type in every state: just received,
  waiting on a one-time notice (一次性告知) that lists everything missing at once, accepted,
  handed off to the agency of record with a due date, completed, or refused with a reason; some
  completed ones had a notice first; most completed and refused ones have the resident's
  satisfaction from the callback. The elderly window's bill help says the kind of bill only.
  A hand-off falls due after the catalogue's days, so none is overdue yet;
- prints a residence certificate for every completed residence-certificate service, checks each
  by its number without a token, revokes two (one printed with the wrong purpose, printed again);
- records the lectures, policy explanations and civilisation-practice activities held on past
  days of the last four weeks (:data:`LECTURES`), and two opinion-gathering sessions with a
  dozen opinions (:data:`CONSULTATIONS`): most answered, a few between neighbours referred to
  mediation (which reports each as a conflict signal linked to its opinion), two still open;
- sets the duty roster of the desk and the party-member pioneer post (党员先锋岗) for the
  fourteen days from today.

The registry part of the demo moves nobody out, so there is no refused certificate for a
resident who left.

What to send is planned first from the demo's seed (:func:`plan_station`), then sent
(:func:`load_station`): each record's first command carries the consistency token of the
registry writes it decides on (the community, the resident, the agency), so the station decides
only once it has learnt them. The query service then reads the receptions per week and the
services back (:func:`read_back`), once it has caught up with every reception and service; and
mediation, when it answers, shows the signals of the referred opinions (:func:`signals_of`).
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any, TypeVar
from uuid import UUID

from anju_contracts.station import (
    BillType,
    GatheringKind,
    OpinionDestination,
    Outcome,
    Purpose,
    Referral,
    ServiceStatus,
)
from anju_devtools.demo import GIVEN, SURNAMES, Community, Loader, Resident, Sign, age_of
from anju_mediation.domain.signals import signal_id_of_opinion

VISITS = 400
"""Receptions in all, those that began a service among them."""
SERVICES = 150
"""Convenience services."""
ROSTER_DAYS = 14
ELDERLY_BILLS = "elderly_window_bill_help"
RESIDENCE = "residence_certificate"
CLERKS = ("desk-demo-1", "desk-demo-2", "desk-demo-3")
"""The desk's full-time staff (``desk-demo-1`` is the desk the health and volunteering parts
send as)."""


@dataclass(frozen=True)
class Agency:
    """An organisation of the registry a service is handed off to (the agency of record)."""

    key: str
    kind: str
    name: str
    liaison: tuple[str, str]
    """(name, role) of the person the desk deals with there."""


AGENCIES = (
    # the same keys and names as the volunteering part's partners, which are reused when loaded
    Agency("housing", "housing_security_centre", "市住房保障服务中心", ("林晓燕", "保障科科长")),
    Agency("police", "police_station", "城东派出所", ("孙志强", "社区民警")),
    Agency("assistance", "other", "城东街道社会救助服务站", ("许桂兰", "救助站站长")),
    Agency("employment", "other", "区就业服务中心", ("韩俊杰", "就业指导科科长")),
    Agency("medical", "other", "区医疗保障服务中心", ("曹丽娟", "经办科科长")),
    Agency("street", "other", "城东街道便民服务中心", ("彭志远", "中心主任")),
)


@dataclass(frozen=True)
class Kind:
    """What the desk knows about a type of service: how common it is, what goes missing, what
    becomes of it, where it is handed off and how often."""

    share: int
    missing: tuple[str, ...]
    outcomes: tuple[str, ...]
    refusals: tuple[str, ...]
    agency: str
    handed_off: float
    """Of those that get past acceptance, the share handed off to :attr:`agency`."""
    purposes: tuple[Purpose, ...] = (Purpose.CONVENIENCE_SERVICE,)
    completed: int = 62
    """The weight of the completed among :data:`STATES`: what the desk finishes on the spot
    mostly ends completed."""

    def states(self) -> dict[ServiceStatus, int]:
        return {**STATES, ServiceStatus.COMPLETED: self.completed}


KINDS = {
    "public_rental_application": Kind(
        14,
        ("家庭收入证明", "户口簿复印件", "现住房租赁合同", "婚姻状况证明", "社保缴纳证明"),
        ("资格审核通过，已纳入公租房轮候", "资格审核通过，等待配租通知"),
        ("家庭人均收入超过保障标准", "家庭名下已有住房"),
        "housing",
        1.0,
    ),
    RESIDENCE: Kind(
        22,
        ("房屋租赁合同", "房东身份证明复印件", "申请人身份证复印件"),
        ("已开具居住证明",),
        ("无法提供租赁关系证明",),
        "police",
        0.1,
        (Purpose.CERTIFICATE,),
        completed=85,
    ),
    "low_income_certification": Kind(
        14,
        ("家庭成员收入证明", "家庭财产申报表", "残疾证复印件", "病历及医疗费用票据"),
        ("低保资格认定通过", "纳入低保边缘家庭，享受临时救助"),
        ("家庭收入超过低保标准", "家庭财产超过规定标准"),
        "assistance",
        1.0,
    ),
    "employment_information": Kind(
        20,
        ("失业登记证明", "学历证书复印件", "个人简历"),
        (
            "已推荐三个岗位并预约下周招聘会",
            "已登记求职意向，按周推送岗位信息",
            "已报名育婴师技能培训",
        ),
        ("已在职，不属就业援助对象",),
        "employment",
        0.3,
    ),
    ELDERLY_BILLS: Kind(
        34,
        ("缴费通知单", "老人身份证原件"),
        (),  # by the bill: BILLS
        ("该业务需本人携带证件到营业厅办理",),
        "medical",
        0.05,
        (Purpose.ELDERLY_WINDOW,),
        completed=80,
    ),
}
"""The catalogue's built-in types; a type the community added by configuration gets
:data:`OTHER_KIND`."""
OTHER_KIND = Kind(4, ("申请表", "身份证复印件"), ("已办结",), ("不符合办理条件",), "street", 0.5)
BILLS = {
    BillType.ELECTRICITY: (30, "电费"),
    BillType.WATER: (20, "水费"),
    BillType.GAS: (18, "燃气费"),
    BillType.MOBILE: (14, "话费"),
    BillType.MEDICAL: (12, "医保费"),
    BillType.HEATING: (6, "取暖费"),
}
"""The elderly window's bills: how common, and what the desk writes (the kind of bill only)."""
STATES = {
    ServiceStatus.COMPLETED: 62,
    ServiceStatus.HANDED_OFF: 12,
    ServiceStatus.NOTICE_ISSUED: 8,
    ServiceStatus.ACCEPTED: 6,
    ServiceStatus.RECEIVED: 6,
    ServiceStatus.REFUSED: 6,
}
"""Where the services stand: every type has one of each, the rest go by these weights."""
NOTICE_FIRST = 0.2
"""Of the services past their documents, the share that had a one-time notice first."""
CALLBACK_NOTES = ("办事效率高，少跑了好几趟", "工作人员很耐心", "材料一次说清楚了", None, None)
REFERRALS = {
    Referral.SELF: 55,
    Referral.GRID_WORKER: 25,
    Referral.HOTLINE_12345: 8,
    Referral.PARTNER: 5,
    Referral.OTHER: 7,
}
"""Who sent the visitors: the grid workers steer residents to the desk."""
ON_BEHALF = 0.2
"""Of the visitors a grid worker brought, the share whose reception the grid worker logged."""


@dataclass(frozen=True)
class Errand:
    """What brings a visitor who does not begin a service: purposes, weight, outcomes to choose
    from (repeated for their weight), notes the clerk may add, the share without a name."""

    purposes: tuple[Purpose, ...]
    weight: int
    outcomes: tuple[Outcome, ...]
    notes: tuple[str, ...]
    anonymous: float = 0.25


ERRANDS = (
    Errand(
        (Purpose.CONSULTATION,),
        40,
        (Outcome.ANSWERED,) * 6 + (Outcome.APPOINTMENT, Outcome.REFERRED),
        ("咨询公租房轮候进度", "咨询医保参保缴费标准", "咨询高龄津贴申领", "咨询灵活就业社保补贴"),
    ),
    Errand(
        (Purpose.CONSULTATION, Purpose.CONVENIENCE_SERVICE),
        8,
        (Outcome.ANSWERED, Outcome.APPOINTMENT),
        ("咨询低保申请条件，约定带齐材料再来", "咨询公租房申请需要哪些材料"),
        0.1,
    ),
    Errand(
        (Purpose.CONVENIENCE_SERVICE,),
        8,
        (Outcome.ANSWERED, Outcome.APPOINTMENT, Outcome.APPOINTMENT),
        ("预约下周办理居住证明", "询问就业信息登记时间"),
        0.1,
    ),
    Errand(
        (Purpose.ELDERLY_WINDOW,),
        12,
        (Outcome.ANSWERED,) * 4 + (Outcome.OTHER,),
        ("教老人用手机预约挂号", "协助养老金资格认证", "帮助设置健康码亲友代办"),
        0.1,
    ),
    Errand(
        (Purpose.COMPLAINT,),
        8,
        (Outcome.REFERRED, Outcome.REFERRED, Outcome.ANSWERED, Outcome.OTHER),
        ("反映楼道堆放杂物", "反映夜间施工噪音", "反映小区路灯不亮"),
    ),
    Errand(
        (Purpose.LECTURE,),
        6,
        (Outcome.ANSWERED,),
        ("报名参加政策解读会", "领取宣讲资料"),
        0.4,
    ),
    Errand(
        (Purpose.CERTIFICATE,),
        4,
        (Outcome.ANSWERED, Outcome.APPOINTMENT),
        ("咨询居住证明所需材料",),
        0.1,
    ),
    Errand(
        (Purpose.OTHER,),
        12,
        (Outcome.ANSWERED, Outcome.OTHER),
        ("借用轮椅", "领取垃圾分类袋", "复印打印材料"),
        0.5,
    ),
)
"""Visits that begin no service."""


@dataclass(frozen=True)
class Visit:
    """A reception: a visit to the desk, logged by ``sender`` for ``area``."""

    resident: Resident | None
    purposes: tuple[Purpose, ...]
    referred_by: Referral
    outcome: Outcome
    sender: str
    area: str
    note: str | None = None


@dataclass(frozen=True)
class Service:
    """A convenience service begun at the reception :attr:`visit` (an index into the plan's
    visits), and how far it gets: :attr:`fate` is the status it ends in."""

    service_type: str
    resident: Resident
    visit: int
    fate: ServiceStatus
    notice: tuple[str, ...] = ()
    """Everything missing, on one notice (a service that waits on it, or had one first)."""
    accepted: bool = False
    agency: str | None = None
    """The key of the agency of record it is handed off to."""
    bill_type: BillType | None = None
    outcome: str | None = None
    refusal: str | None = None
    satisfaction: int | None = None
    callback_note: str | None = None
    certificate: str | None = None
    """For a completed residence certificate: the purpose the certificate prints."""
    reprinted: str | None = None
    """Printed first with the wrong purpose, revoked, printed again with :attr:`certificate`."""
    revocation: str | None = None
    """Revoked afterwards, for this reason."""


@dataclass(frozen=True)
class Opinion:
    text: str
    resident: Resident | None
    fate: str
    """``answered``, ``mediation`` (referred) or ``open``."""
    reply: str | None = None
    """The answer, or the note of the referral."""


@dataclass(frozen=True)
class Gathering:
    kind: GatheringKind
    topic: str
    speaker: str | None
    held_on: date
    attendance: int
    area: str
    partner: str | None = None
    """The key of the agency that co-hosted it."""
    opinions: tuple[Opinion, ...] = ()


@dataclass(frozen=True)
class Talk:
    """A lecture or activity: its kind, topic, speaker, how many came (low, high), the agency
    that co-hosted it, and whether it was held in the first grid (else for the community)."""

    kind: GatheringKind
    topic: str
    speaker: str
    attendance: tuple[int, int]
    partner: str | None = None
    in_grid: bool = False


@dataclass(frozen=True)
class Duty:
    day: date
    desk: tuple[str, ...]
    pioneer_post: tuple[str, ...]


@dataclass(frozen=True)
class Sender:
    sub: str
    role: str
    area: str


@dataclass
class StationPlan:
    """What the station part sends."""

    community: str
    catalogue: dict[str, str]
    """code → name: the station's catalogue, as it answered."""
    area_tokens: dict[str, str]
    senders: dict[str, Sender]
    visits: list[Visit] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    gatherings: list[Gathering] = field(default_factory=list)
    roster: list[Duty] = field(default_factory=list)

    def states(self) -> dict[tuple[str, ServiceStatus], int]:
        """(type, status) → how many services end there."""
        out: dict[tuple[str, ServiceStatus], int] = {}
        for s in self.services:
            out[s.service_type, s.fate] = out.get((s.service_type, s.fate), 0) + 1
        return out

    def certificates(self) -> int:
        """Residence certificates printed (a reprint counts twice)."""
        return sum((s.certificate is not None) + (s.reprinted is not None) for s in self.services)

    def revoked(self) -> int:
        return sum((s.reprinted is not None) + (s.revocation is not None) for s in self.services)

    def opinions(self, fate: str) -> int:
        return sum(o.fate == fate for g in self.gatherings for o in g.opinions)


LECTURES = (
    Talk(
        GatheringKind.THEORY_LECTURE, "学习贯彻党的二十届三中全会精神", "区委党校 林教授", (45, 80)
    ),
    Talk(GatheringKind.THEORY_LECTURE, "新时代“枫桥经验”与基层治理", "社区党委书记", (30, 60)),
    Talk(
        GatheringKind.THEORY_LECTURE,
        "老党员讲初心：我和安居社区",
        "老党员 陈建国",
        (25, 50),
        in_grid=True,
    ),
    Talk(
        GatheringKind.POLICY_EXPLANATION,
        "公租房资格年审与租金补贴政策解读",
        "市住房保障服务中心 保障科",
        (50, 90),
        "housing",
    ),
    Talk(
        GatheringKind.POLICY_EXPLANATION,
        "城乡居民医保参保缴费政策解读",
        "区医疗保障服务中心 经办科",
        (40, 80),
        "medical",
    ),
    Talk(
        GatheringKind.POLICY_EXPLANATION,
        "低保与临时救助政策解读",
        "城东街道社会救助服务站",
        (20, 45),
        "assistance",
    ),
    Talk(
        GatheringKind.CIVILISATION_PRACTICE, "垃圾分类进楼道", "社区志愿者", (30, 70), in_grid=True
    ),
    Talk(
        GatheringKind.CIVILISATION_PRACTICE,
        "防范电信网络诈骗宣传",
        "城东派出所 社区民警",
        (50, 100),
        "police",
    ),
)
"""The lectures and activities of the last weeks (理论宣讲, 政策解读, 文明实践)."""
CONSULTATIONS = (
    (
        "小区停车管理意见征求会",
        (25, 40),
        (
            (
                "3幢和4幢住户因门前车位多次争执，希望社区出面调解",
                "mediation",
                "涉及两户，请调解员上门",
            ),
            (
                "夜间电动车在楼道充电，存在安全隐患",
                "answered",
                "已联系物业增设集中充电桩，月底完工",
            ),
            ("希望划定临时停车位，方便接送老人就医", "answered", "已在1幢东侧划定两个临时停车位"),
            ("私家车长期占用消防通道，邻里多次口角", "mediation", "先由网格员劝导，再组织双方调解"),
            ("外来车辆停车收费标准不透明", "answered", "物业将在各楼栋公告栏公示收费标准"),
            ("建议增设非机动车停放棚", "open", None),
            ("地下车库照明不足，晚上不安全", "answered", "物业已更换车库灯具"),
        ),
    ),
    (
        "老旧小区加装电梯意见征求会",
        (20, 35),
        (
            ("一楼住户反对加装电梯，与楼上住户分歧很大", "mediation", "一楼与楼上住户意见分歧"),
            ("加装电梯的费用怎么分摊", "answered", "按楼层系数分摊，详见住建部门加装电梯指导意见"),
            ("施工期间的噪音和出行怎么安排", "answered", "施工避开午休和夜间，单元口设临时通道"),
            (
                "希望优先给高龄老人多的楼栋加装",
                "answered",
                "已列入第一批意向楼栋，征求全体住户意见",
            ),
            ("电梯以后的维保费用由谁承担", "open", None),
        ),
    ),
)
"""The two opinion-gathering sessions (意见征求) and the opinions raised at each."""


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


T = TypeVar("T")


def _pick(rng: random.Random, weights: Mapping[T, int]) -> T:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def plan_station(
    rng: random.Random,
    c: Community,
    *,
    catalogue: Mapping[str, str],
    today: date,
    visits: int = VISITS,
    services: int = SERVICES,
) -> StationPlan:
    """The station part's commands, from the demo's seed; ``catalogue`` is the station's (code →
    name), ``today`` the services' date. There are ``visits`` receptions, of which about
    ``services`` begin a service (at least one of each type in each state)."""
    senders = {clerk: Sender(clerk, "desk_staff", c.community) for clerk in CLERKS} | {
        "director": Sender("director-demo-1", "director", c.community)
    }
    worker = {grid: f"gw-{g + 1}" for g, grid in enumerate(c.grids)}
    for grid, name in worker.items():
        senders[name] = Sender(f"gw-demo-{name.split('-')[1]}", "grid_worker", grid)
    plan = StationPlan(c.community, dict(catalogue), dict(c.area_tokens), senders)
    adults = [r for r in c.people if age_of(r.born, today) >= 18] or list(c.people)
    elders = [r for r in adults if age_of(r.born, today) >= 60] or adults

    def visit(
        resident: Resident | None, purposes: tuple[Purpose, ...], outcome: Outcome, note: str | None
    ) -> int:
        referred = _pick(rng, REFERRALS)
        clerk, area = rng.choice(CLERKS), c.community
        if referred == Referral.GRID_WORKER and resident is not None and rng.random() < ON_BEHALF:
            clerk, area = worker[resident.grid], resident.grid
        plan.visits.append(Visit(resident, purposes, referred, outcome, clerk, area, note))
        return len(plan.visits) - 1

    # the services: every type in every state, the rest by the states' weights
    kinds = {code: KINDS.get(code, OTHER_KIND) for code in sorted(catalogue)}
    total = sum(k.share for k in kinds.values())
    fates: list[tuple[str, ServiceStatus]] = []
    for code, kind in kinds.items():
        n = max(len(STATES), round(services * kind.share / total))
        fates += [(code, state) for state in STATES]
        fates += [(code, _pick(rng, kind.states())) for _ in range(n - len(STATES))]
    rng.shuffle(fates)
    reprint = revoke = False
    for code, fate in fates:
        kind = kinds[code]
        elderly = code == ELDERLY_BILLS
        resident = rng.choice(elders if elderly else adults)
        bill = _pick(rng, {b: w for b, (w, _) in BILLS.items()}) if elderly else None
        began = fate not in (ServiceStatus.RECEIVED, ServiceStatus.NOTICE_ISSUED)
        refused_early = fate == ServiceStatus.REFUSED and (elderly or rng.random() < 0.5)
        notice: tuple[str, ...] = ()
        if fate == ServiceStatus.NOTICE_ISSUED or (
            fate != ServiceStatus.RECEIVED and not elderly and rng.random() < NOTICE_FIRST
        ):
            notice = tuple(rng.sample(kind.missing, rng.randint(1, min(3, len(kind.missing)))))
        accepted = began and not refused_early
        handed = fate == ServiceStatus.HANDED_OFF or (
            accepted
            and fate in (ServiceStatus.COMPLETED, ServiceStatus.REFUSED)
            and rng.random() < kind.handed_off
        )
        if elderly and handed:
            bill = BillType.MEDICAL  # the medical insurance centre settles what the window cannot
        outcome = None
        if fate == ServiceStatus.COMPLETED:
            outcome = f"已协助在线缴纳{BILLS[bill][1]}" if bill else rng.choice(kind.outcomes)
        settled = fate in (ServiceStatus.COMPLETED, ServiceStatus.REFUSED)
        called = settled and rng.random() < (0.85 if fate == ServiceStatus.COMPLETED else 0.6)
        satisfaction = None
        if called:
            satisfaction = rng.choice(
                (5, 5, 5, 4, 4, 3) if fate == ServiceStatus.COMPLETED else (4, 3, 3, 2, 5)
            )
        certificate = reprinted = revocation = None
        if code == RESIDENCE and fate == ServiceStatus.COMPLETED:
            certificate = rng.choice(("子女入学", "办理居住证", "申请公租房", "单位落户材料"))
            if not reprint:
                reprint, reprinted = True, "办理居住证"
                certificate = "子女入学"
            elif not revoke:
                revoke, revocation = True, "租赁合同提前解除，申请人申请作废"
        plan.services.append(
            Service(
                code,
                resident,
                visit(resident, kind.purposes, Outcome.SERVICE_STARTED, None),
                fate,
                notice=notice,
                accepted=accepted,
                agency=kind.agency if handed else None,
                bill_type=bill,
                outcome=outcome,
                refusal=rng.choice(kind.refusals) if fate == ServiceStatus.REFUSED else None,
                satisfaction=satisfaction,
                callback_note=rng.choice(CALLBACK_NOTES) if called else None,
                certificate=certificate,
                reprinted=reprinted,
                revocation=revocation,
            )
        )

    # the other visits: consultations, complaints, the elderly window, ...
    weights = {e: e.weight for e in ERRANDS}
    while len(plan.visits) < visits:
        e = _pick(rng, weights)
        anonymous = rng.random() < e.anonymous
        who = (
            None
            if anonymous
            else rng.choice(elders if Purpose.ELDERLY_WINDOW in e.purposes else adults)
        )
        note = rng.choice(e.notes) if rng.random() < 0.4 else None
        visit(who, e.purposes, rng.choice(e.outcomes), note)
    plan.gatherings = _gatherings(rng, c, today)
    plan.roster = _roster(rng, today)
    return plan


def _gatherings(rng: random.Random, c: Community, today: date) -> list[Gathering]:
    """The lectures and the opinion-gathering sessions, each on its own day of the last four
    weeks, in the order they were held."""
    days = sorted(rng.sample(range(1, 28), len(LECTURES) + len(CONSULTATIONS)), reverse=True)
    held = iter(today - timedelta(days=d) for d in days)
    out: list[Gathering] = []
    sessions = iter(CONSULTATIONS)
    order: list[Talk | None] = [*LECTURES, *[None] * len(CONSULTATIONS)]
    rng.shuffle(order)
    for talk in order:
        on = next(held)
        if talk is not None:
            area = c.grids[0] if talk.in_grid and c.grids else c.community
            came = rng.randint(*talk.attendance)
            out.append(Gathering(talk.kind, talk.topic, talk.speaker, on, came, area, talk.partner))
            continue
        topic, (low, high), raised = next(sessions)
        people = [r for r in c.people if age_of(r.born, today) >= 18]
        opinions = tuple(
            Opinion(
                text, rng.choice(people) if people and rng.random() < 0.7 else None, fate, reply
            )
            for text, fate, reply in raised
        )
        out.append(
            Gathering(
                GatheringKind.OPINION_GATHERING,
                topic,
                "社区党委书记",
                on,
                rng.randint(low, high),
                c.community,
                opinions=opinions,
            )
        )
    return out


def _roster(rng: random.Random, today: date) -> list[Duty]:
    """From today, :data:`ROSTER_DAYS` days: two clerks on weekdays, one at the weekend; a party
    member at the pioneer post on weekdays and Saturday mornings."""
    members = [_name(rng) for _ in range(4)]
    out = []
    for d in range(ROSTER_DAYS):
        day = today + timedelta(days=d)
        weekday = day.weekday()
        on = (CLERKS[d % 3], CLERKS[(d + 1) % 3])
        desk = on if weekday < 5 else on[:1]
        post = (members[d % len(members)],) if weekday < 6 else ()
        out.append(Duty(day, desk, post))
    return out


# -- sending the plan ------------------------------------------------------------------------


def _headers(plan: StationPlan, sign: Sign | None) -> dict[str, dict[str, str]]:
    """Each sender's bearer token; without ``sign``, the loader's own (an admin's)."""
    if sign is None:
        return {name: {} for name in plan.senders}
    return {
        name: {"Authorization": f"Bearer {sign(s.sub, [s.role], [s.area])}"}
        for name, s in plan.senders.items()
    }


@dataclass
class StationDone:
    """What the station part wrote."""

    agencies: dict[str, tuple[str, str]] = field(default_factory=dict)
    """key → (the registry's id, the consistency token of its registration)"""
    registered: int = 0
    """Agencies the station part registered itself (the rest came from volunteering)."""
    receptions: list[str] = field(default_factory=list)
    """The consistency token of each reception."""
    services: dict[int, str] = field(default_factory=dict)
    """the plan's service → the consistency token of its last write"""
    certificates: dict[str, str] = field(default_factory=dict)
    """number → what checking it without a token said (``valid`` or ``revoked``)"""
    gatherings: list[str] = field(default_factory=list)
    opinions: int = 0
    referred: list[str] = field(default_factory=list)
    """The opinions referred to mediation."""
    rosters: int = 0


async def load_station(
    registry: Loader,
    api: Loader,
    plan: StationPlan,
    sign: Sign | None,
    partners: Mapping[str, tuple[str, str]] | None = None,
) -> StationDone:
    """Send the plan: the agencies not among ``partners`` (key → (id, consistency token), the
    volunteering part's) to the registry (``registry``), the rest to the station (``api``)."""
    headers = _headers(plan, sign)
    done = StationDone()
    partners = partners or {}
    needed = {s.agency for s in plan.services if s.agency} | {
        g.partner for g in plan.gatherings if g.partner
    }

    async def agency(a: Agency) -> None:
        if a.key in partners:
            done.agencies[a.key] = partners[a.key]
            return
        name, role = a.liaison
        answer = await registry.post(
            "/organisations",
            {
                "kind": a.kind,
                "name": a.name,
                "community_ids": [plan.community],
                "liaisons": [{"name": name, "role": role}],
            },
            headers=headers["director"],
        )
        done.agencies[a.key] = (answer["id"], answer["consistency_token"])
        done.registered += 1

    await asyncio.gather(*[agency(a) for a in AGENCIES if a.key in needed])
    community = plan.area_tokens[plan.community]

    async def reception(v: Visit) -> str:
        body: dict[str, Any] = {
            "area_id": v.area,
            "purposes": [p.value for p in v.purposes],
            "referred_by": v.referred_by.value,
            "outcome": v.outcome.value,
        }
        after = [plan.area_tokens.get(v.area, community)]
        if v.resident is not None:
            body["resident_id"] = v.resident.id
            after.append(v.resident.token)
        if v.note is not None:
            body["note"] = v.note
        answer = await api.post_after(
            "/receptions", body, after=",".join(after), headers=headers[v.sender]
        )
        done.receptions.append(answer["consistency_token"])
        return str(answer["id"])

    async def service(i: int, s: Service) -> None:
        logged_by = plan.visits[s.visit].sender
        # a grid worker may log the visit of the resident they brought; the desk serves them
        clerk = headers[logged_by if logged_by in CLERKS else CLERKS[i % len(CLERKS)]]
        reception_id = await reception(plan.visits[s.visit])
        body: dict[str, Any] = {
            "service_type": s.service_type,
            "area_id": plan.community,
            "resident_id": s.resident.id,
            "reception_id": reception_id,
        }
        if s.bill_type is not None:
            body["bill_type"] = s.bill_type.value
        answer = await api.post("/services", body, headers=clerk)
        base = f"/services/{answer['id']}"
        token = answer["consistency_token"]

        async def step(path: str, body: dict[str, Any], after: str | None = None) -> None:
            nonlocal token
            if after is None:
                answer = await api.post(base + path, body, headers=clerk)
            else:
                answer = await api.post_after(base + path, body, after=after, headers=clerk)
            token = answer["consistency_token"]

        if s.notice:
            await step("/documents", {"missing": list(s.notice)})
        if s.fate == ServiceStatus.REFUSED and not s.accepted:
            await step("/refusal", {"reason": s.refusal})
        if s.accepted:
            await step("/documents", {"missing": []})
        if s.agency is not None:
            organisation, registered = done.agencies[s.agency]
            await step("/hand-off", {"organisation_id": organisation}, after=registered)
        if s.certificate is not None:
            await _certify(api, s, clerk, done)
        if s.fate == ServiceStatus.COMPLETED:
            await step("/completion", {"outcome": s.outcome})
        if s.fate == ServiceStatus.REFUSED and s.accepted:
            await step("/refusal", {"reason": s.refusal})
        if s.satisfaction is not None:
            await step("/callback", {"satisfaction": s.satisfaction, "note": s.callback_note})
        done.services[i] = token

    served = {s.visit for s in plan.services}

    async def gathering(g: Gathering) -> None:
        desk = headers[CLERKS[0]]
        body: dict[str, Any] = {
            "area_id": g.area,
            "kind": g.kind.value,
            "topic": g.topic,
            "speaker": g.speaker,
            "held_on": g.held_on.isoformat(),
            "attendance": g.attendance,
        }
        after = [plan.area_tokens.get(g.area, community)]
        if g.partner is not None:
            body["partner_id"], token = done.agencies[g.partner]
            after.append(token)
        answer = await api.post_after("/gatherings", body, after=",".join(after), headers=desk)
        done.gatherings.append(answer["consistency_token"])
        for o in g.opinions:
            raised: dict[str, Any] = {"text": o.text}
            if o.resident is not None:
                raised["resident_id"] = o.resident.id
            opinion = await api.post_after(
                f"/gatherings/{answer['id']}/opinions",
                raised,
                after=o.resident.token if o.resident is not None else community,
                headers=desk,
            )
            done.opinions += 1
            if o.fate == "answered":
                await api.post(
                    f"/opinions/{opinion['id']}/answer", {"reply": o.reply}, headers=desk
                )
            elif o.fate == "mediation":
                await api.post(
                    f"/opinions/{opinion['id']}/referral",
                    {"to": OpinionDestination.MEDIATION.value, "note": o.reply},
                    headers=desk,
                )
                done.referred.append(str(opinion["id"]))

    async def duty(d: Duty) -> None:
        await api.post_after(
            f"/rosters/{plan.community}/{d.day.isoformat()}",
            {"desk": list(d.desk), "pioneer_post": list(d.pioneer_post)},
            after=community,
            method="PUT",
            headers=headers[CLERKS[0]],
        )
        done.rosters += 1

    await asyncio.gather(
        *[service(i, s) for i, s in enumerate(plan.services)],
        *[reception(v) for i, v in enumerate(plan.visits) if i not in served],
        *[gathering(g) for g in plan.gatherings],
        *[duty(d) for d in plan.roster],
    )
    print(_loaded(plan, done, api.sent + registry.sent))
    return done


async def _certify(api: Loader, s: Service, clerk: dict[str, str], done: StationDone) -> None:
    """Print the certificate (and, when the first said the wrong purpose, revoke it and print
    again), revoke it when it no longer holds, and check each number without a token."""
    assert s.certificate is not None
    printed: list[str] = []
    for purpose, reason in (
        ((s.reprinted, "证明用途填写有误，已重新开具"),) if s.reprinted else ()
    ) + ((s.certificate, s.revocation),):
        answer = await api.post_after(
            "/certificates",
            {"resident_id": s.resident.id, "purpose": purpose},
            after=s.resident.token,
            headers=clerk,
        )
        if reason is not None:
            await api.post(
                f"/certificates/{answer['id']}/revocation", {"reason": reason}, headers=clerk
            )
        printed.append(str(answer["id"]))
    for certificate in printed:
        number = (await _get(api, f"/certificates/{certificate}", headers=clerk))["number"]
        checked = await _get(api, f"/public/certificates/{number}", headers={})
        done.certificates[number] = checked["status"]


async def _get(
    api: Loader, path: str, *, headers: dict[str, str], params: dict[str, Any] | None = None
) -> dict[str, Any]:
    async with api.gate:
        response = await api.client.get(path, params=params, headers=headers)
    if response.status_code >= 300:
        raise RuntimeError(f"GET {path} → {response.status_code}: {response.text}")
    answer: dict[str, Any] = response.json()
    return answer


def _loaded(plan: StationPlan, done: StationDone, commands: int) -> str:
    anonymous = sum(v.resident is None for v in plan.visits)
    brought = sum(v.referred_by == Referral.GRID_WORKER for v in plan.visits)
    states = ", ".join(
        f"{sum(s.fate == state for s in plan.services)} {state.value.replace('_', ' ')}"
        for state in STATES
    )
    notices = sum(bool(s.notice) for s in plan.services)
    handed = sum(s.agency is not None for s in plan.services)
    callbacks = sum(s.satisfaction is not None for s in plan.services)
    lectures = [g for g in plan.gatherings if g.kind != GatheringKind.OPINION_GATHERING]
    revoked = sum(status == "revoked" for status in done.certificates.values())
    return (
        f"demo station loaded: {len(done.receptions)} receptions ({anonymous} anonymous,"
        f" {brought} brought by grid workers), {len(plan.services)} convenience services of"
        f" {len(plan.catalogue)} types ({states};"
        f" {notices} one-time notices, {handed} handed off, {callbacks} callbacks),"
        f" {len(done.certificates)} residence certificates ({revoked} revoked; each checked by"
        f" its number), {len(lectures)} lectures and activities attended by"
        f" {sum(g.attendance for g in lectures)}, {len(plan.gatherings) - len(lectures)}"
        f" opinion-gathering sessions with {done.opinions} opinions"
        f" ({plan.opinions('answered')} answered, {plan.opinions('mediation')} referred to"
        f" mediation, {plan.opinions('open')} open), the roster for {done.rosters} days;"
        f" agencies: {done.registered} registered, {len(done.agencies) - done.registered} reused"
        f" ({commands} commands)"
    )


async def signals_of(api: Loader, done: StationDone, *, wait_s: float = 30.0) -> int:
    """How many of the opinions referred to mediation it reported as conflict signals linked
    back to them, waiting up to ``wait_s`` for mediation to pick the referrals up (it names each
    signal after its opinion: :func:`anju_mediation.domain.signals.signal_id_of_opinion`)."""
    deadline = asyncio.get_running_loop().time() + wait_s

    async def reported(opinion: str) -> bool:
        path = f"/signals/{signal_id_of_opinion(UUID(opinion))}"
        while True:
            async with api.gate:
                response = await api.client.get(path)
            if response.status_code == 200:
                origin = response.json()["origin"] or {}
                return bool(origin.get("id") == opinion)
            if response.status_code != 404:
                raise RuntimeError(f"GET {path} → {response.status_code}: {response.text}")
            if asyncio.get_running_loop().time() > deadline:
                return False
            await asyncio.sleep(0.5)

    return sum(await asyncio.gather(*[reported(o) for o in done.referred]))


# -- reading the figures back ------------------------------------------------------------------


@dataclass(frozen=True)
class StationFigures:
    """What the query service shows for the community."""

    receptions: int
    weeks: int
    by_purpose: dict[str, int]
    by_referral: dict[str, int]
    services: int
    by_status: dict[str, int]
    by_type: dict[str, int]
    overdue: int
    mean_satisfaction: float | None
    agencies: dict[str, int]
    """agency name → services handed off to it (as the query names it)"""


async def read_back(
    api: Loader, plan: StationPlan, done: StationDone, sign: Sign | None, *, wait_s: float = 120.0
) -> StationFigures:
    """The community's receptions per week and its services from the query service, once it
    has caught up with every reception and service the demo wrote; read as the desk."""
    headers = _headers(plan, sign)[CLERKS[0]]
    await api.caught_up(
        "/station/services",
        [*done.receptions, *done.services.values()],
        headers=headers,
        wait_s=wait_s,
    )
    community = {"area_id": plan.community}
    counts = await _get(
        api, "/station/receptions", headers=headers, params={**community, "period": "week"}
    )
    first = await _get(
        api, "/station/services", headers=headers, params={**community, "limit": 100}
    )
    items = list(first["items"])
    while len(items) < first["total"]:
        page = await _get(
            api,
            "/station/services",
            headers=headers,
            params={**community, "limit": 100, "offset": len(items)},
        )
        if not page["items"]:
            break
        items += page["items"]
    groups = first["summary"]
    by_status: dict[str, int] = {}
    by_type: dict[str, int] = {}
    for g in groups:
        by_status[g["status"]] = by_status.get(g["status"], 0) + g["count"]
        by_type[g["service_type"]] = by_type.get(g["service_type"], 0) + g["count"]
    agencies: dict[str, int] = {}
    for item in items:
        if item["organisation_id"] is not None:
            name = item["organisation_name"] or item["organisation_id"]
            agencies[name] = agencies.get(name, 0) + 1
    return StationFigures(
        receptions=counts["total"],
        weeks=len(counts["periods"]),
        by_purpose={k: v for k, v in counts["by_purpose"].items() if v},
        by_referral={k: v for k, v in counts["by_referral"].items() if v},
        services=first["total"],
        by_status=by_status,
        by_type=by_type,
        overdue=sum(g["overdue"] for g in groups),
        mean_satisfaction=_mean(items, "satisfaction"),
        agencies=agencies,
    )


def _mean(items: Sequence[Mapping[str, Any]], key: str) -> float | None:
    values = [i[key] for i in items if i[key] is not None]
    return round(sum(values) / len(values), 2) if values else None


def summary(figures: StationFigures) -> str:
    def listed(counts: Mapping[str, int]) -> str:
        return ", ".join(f"{k} {v}" for k, v in sorted(counts.items(), key=lambda kv: -kv[1]))

    satisfaction = "—" if figures.mean_satisfaction is None else f"{figures.mean_satisfaction:.2f}"
    return (
        f"demo station in the query API: {figures.receptions} receptions in {figures.weeks}"
        f" week{'s' if figures.weeks != 1 else ''} (purposes: {listed(figures.by_purpose)}; referred by:"
        f" {listed(figures.by_referral)}); {figures.services} convenience services (by status:"
        f" {listed(figures.by_status)}; by type: {listed(figures.by_type)}), handed off to"
        f" {listed(figures.agencies)}, {figures.overdue} overdue; mean satisfaction"
        f" {satisfaction}"
    )
