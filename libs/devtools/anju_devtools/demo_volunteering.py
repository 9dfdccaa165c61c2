"""``anju demo``'s volunteering part, through the registry's and volunteering's HTTP APIs only.

As the community's director, the demo registers the partner organisations in the registry (the
paired unit, the housing security centre, the property company, the police station, the
community health centre, three employers of in-service party members). As its volunteer
coordinator and its grid workers it then, in volunteering:

- registers volunteers of every kind: a grid worker, two in-service party members (with their
  employer), a registered party member or two, three resident volunteers and a volunteer police
  officer in each grid — residents among them are the demo's residents;
- forms six teams (cleaning, hardship aid, policy outreach, opinion collection, mediation,
  patrol) with leaders, members and partner organisations;
- works the requests: volunteering raised this month's home cleaning of every elder living alone
  by itself on learning the registry's flag; the grid workers and the desk raise errands,
  hardship aid, policy explanations, repairs and companionship. Most are assigned (the cleaning
  to the cleaning team), accepted, checked in and out and delivered with the resident's
  feedback; a few are left open, one is declined and given to someone else, one is cancelled;
- schedules upcoming activities (a themed party day, a practical-things day, patrols) with
  shifts, and signs volunteers up;
- approves most of the hours the check-outs recorded, rejects two, leaves two pending, and
  issues two certificates of service, checked by their numbers without a token.

Time: volunteering records a request as raised when the command arrives; the work on it may be
written down afterwards, as a grid worker does in the evening, up to a week before that (and
never in the future). So every request here is raised in this run, and its visit is recorded as
done in the past days: a check-in :func:`visit_of` says when, and a check-out one to three hours
later. A year of history needs commands that carry their business time; for the same reason
shifts lie in the future (volunteering refuses a schedule in the past): nobody has attended
one yet.

What to send is planned first from the demo's seed (:func:`plan_volunteering`), then sent
(:func:`anju_devtools.demo_volunteering_load.load_volunteering`), and the query service's figures
read back (:func:`anju_devtools.demo_volunteering_load.read_back`).

The id of a month's cleaning request is the one volunteering derives from the resident and the
month (:func:`anju_volunteering.domain.plans.request_id`), so the demo names it without a
lookup; its first command carries the consistency token of the flag, so volunteering decides
only once it has learnt the flag, and with it raised the request.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from uuid import UUID

from anju_devtools.demo import GIVEN, SURNAMES, Community, Resident, age_of
from anju_volunteering.domain.plans import period_of, request_id


def visit_of(n: int, now: datetime) -> tuple[datetime, datetime]:
    """When the ``n``-th visit began and ended: on one of the past six days, 1–3 hours long."""
    arrived = now - timedelta(days=1 + n % 6, hours=2 + n % 4)
    return arrived, arrived + timedelta(minutes=60 + 30 * (n * 7 % 5))


LOCAL = timezone(timedelta(hours=8))
"""The community's clock: activities are planned in local time."""
ISSUER = "安居社区居民委员会"


@dataclass(frozen=True)
class Organisation:
    key: str
    kind: str
    name: str
    liaison: tuple[str, str]
    """(name, role) of the person the community deals with there."""


ORGANISATIONS = (
    Organisation("paired", "paired_unit", "区住房和城乡建设局", ("陈建华", "机关党委副书记")),
    Organisation(
        "housing", "housing_security_centre", "市住房保障服务中心", ("林晓燕", "保障科科长")
    ),
    Organisation("property", "property_company", "安居物业服务有限公司", ("周海涛", "项目经理")),
    Organisation("police", "police_station", "城东派出所", ("孙志强", "社区民警")),
    Organisation(
        "health", "health_centre", "城东街道社区卫生服务中心", ("何丽娟", "公共卫生科主任")
    ),
    Organisation("school", "employer", "城东实验小学", ("吴静", "党支部书记")),
    Organisation("hospital", "employer", "市第一人民医院", ("郑国平", "党委办公室主任")),
    Organisation("builder", "employer", "安和建设集团有限公司", ("黄志刚", "党群工作部部长")),
)
EMPLOYERS = ("school", "hospital", "builder")


@dataclass(frozen=True)
class Volunteer:
    key: str
    kind: str
    name: str
    grid: str
    resident: Resident | None = None
    organisation: str | None = None
    """The key of their employer, for an in-service party member."""
    skills: tuple[str, ...] = ()
    availability: str | None = None


@dataclass(frozen=True)
class Team:
    key: str
    name: str
    purpose: str
    leader: str
    members: tuple[str, ...]
    partners: tuple[str, ...]


@dataclass(frozen=True)
class Work:
    """A request and what becomes of it: ``fate`` is ``delivered``, ``accepted``, ``assigned``,
    ``open`` or ``cancelled``."""

    resident: Resident
    kind: str
    description: str
    fate: str
    raiser: str | None
    """The sender who raises it; ``None``: volunteering raised it (the elders' cleaning)."""
    after: str
    """The consistency token its first command waits for (the flag, or the registration)."""
    request_id: str | None = None
    """Known in advance for a month's cleaning; else volunteering names it."""
    team: str | None = None
    volunteer: str | None = None
    """Who accepts (a member of ``team`` when assigned to it)."""
    helpers: tuple[str, ...] = ()
    declined_by: str | None = None
    """Given first to this volunteer, who declines."""
    satisfaction: int = 5
    feedback: str | None = None


@dataclass(frozen=True)
class Activity:
    kind: str
    title: str
    grid: str | None
    """The grid it is held in; ``None``: the community."""
    team: str
    shifts: tuple[tuple[datetime, datetime, int, tuple[str, ...]], ...]
    """(starts, ends, capacity, who signs up)"""
    sender: str


@dataclass(frozen=True)
class Sender:
    sub: str
    role: str
    area: str


@dataclass
class VolunteeringPlan:
    """What the volunteering part sends."""

    community: str
    senders: dict[str, Sender]
    grid_tokens: dict[str, str]
    volunteers: list[Volunteer] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)
    work: list[Work] = field(default_factory=list)
    activities: list[Activity] = field(default_factory=list)

    def fates(self, *fates: str) -> int:
        return sum(w.fate in fates for w in self.work)


CLEANING_FEEDBACK = (
    "打扫得很干净，谢谢你们",
    "厨房油烟机也擦了，很细心",
    "每月都来，心里踏实",
    None,
)
STAFF_WORK = (
    # kind, description, raised at the desk, fate
    ("errand", "代购降压药和日用品", False, "delivered"),
    ("policy_explanation", "公租房资格年审政策讲解", True, "delivered"),
    ("repair", "更换厨房漏水的水龙头", False, "delivered"),
    ("hardship_aid", "冬季送温暖：棉被和米面油", False, "delivered"),
    ("errand", "代缴水电燃气费", False, "delivered"),
    ("companionship", "陪同到市第一人民医院复诊", False, "delivered"),
    ("policy_explanation", "高龄津贴申领政策讲解", True, "delivered"),
    ("repair", "楼道感应灯维修", False, "delivered"),
    ("hardship_aid", "低保家庭孩子助学物资", False, "delivered"),
    ("errand", "代办医保报销材料", True, "delivered"),
    ("repair", "疏通卫生间下水道", False, "delivered"),
    ("companionship", "周末上门陪伴聊天", False, "delivered"),
    ("policy_explanation", "城乡居民医保参保缴费政策讲解", True, "accepted"),
    ("hardship_aid", "残疾人家庭轮椅维修与生活帮扶", False, "open"),
    ("errand", "代取快递和药品", False, "open"),
    ("repair", "修理卧室门锁", False, "cancelled"),
)
"""Requests the grid workers and the desk raise; their beneficiaries go round the grids."""
STAFF_FEEDBACK = ("很及时，谢谢", "讲得清楚，听明白了", "修好了，不再漏水", None, "态度很好")


def _name(rng: random.Random) -> str:
    return rng.choice(SURNAMES) + "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))


def next_weekday(day: date, weekday: int) -> date:
    """The first ``weekday`` (Monday 0) on or after ``day``."""
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=LOCAL)


def _roster(rng: random.Random, c: Community, today: date) -> list[Volunteer]:
    """Per grid: a grid worker, two in-service party members, registered party members (two in
    the first two grids, else one), three resident volunteers, a volunteer police officer."""
    flagged = {f.resident.id for f in c.elderly_alone}
    taken: set[str] = set()

    def residents(grid: str, low: int, high: int, n: int) -> list[Resident]:
        fit = [
            r
            for r in c.people
            if r.grid == grid
            and r.id not in flagged | taken
            and low <= age_of(r.born, today) <= high
        ]
        chosen = rng.sample(fit, min(n, len(fit)))
        taken.update(r.id for r in chosen)
        return chosen

    roster: list[Volunteer] = []
    for g, grid in enumerate(c.grids):
        n = g + 1
        roster.append(
            Volunteer(
                f"gw-{n}",
                "grid_worker",
                _name(rng),
                grid,
                skills=("入户走访", "政策宣传"),
                availability="工作日 8:30-17:30",
            )
        )
        for i in range(2):
            roster.append(
                Volunteer(
                    f"isp-{n}-{i + 1}",
                    "in_service_party_member",
                    _name(rng),
                    grid,
                    organisation=EMPLOYERS[(2 * g + i) % len(EMPLOYERS)],
                    skills=tuple(rng.sample(("家电维修", "法律咨询", "医疗护理", "电脑维修"), 2)),
                    availability="周末及节假日",
                )
            )
        for i, r in enumerate(residents(grid, 55, 78, 2 if g < 2 else 1)):
            roster.append(
                Volunteer(
                    f"rpm-{n}-{i + 1}",
                    "registered_party_member",
                    r.name,
                    grid,
                    resident=r,
                    skills=("政策宣讲", "邻里调解"),
                    availability="工作日白天",
                )
            )
        for i, r in enumerate(residents(grid, 18, 70, 3)):
            roster.append(
                Volunteer(
                    f"res-{n}-{i + 1}",
                    "resident_volunteer",
                    r.name,
                    grid,
                    resident=r,
                    skills=tuple(rng.sample(("保洁", "代购代办", "陪伴聊天", "水电维修"), 2)),
                    availability=rng.choice(("周末", "工作日晚上", "随时")),
                )
            )
        roster.append(
            Volunteer(
                f"police-{n}",
                "volunteer_police",
                _name(rng),
                grid,
                skills=("治安巡逻", "消防检查"),
                availability="晚间",
            )
        )
    return roster


def _teams(roster: list[Volunteer]) -> list[Team]:
    """Six teams; each leader is the first of its members, who all exist in ``roster``."""
    keys = [v.key for v in roster]

    def of(*prefixes: str) -> list[str]:
        return [k for k in keys if k.startswith(prefixes)]

    def team(
        key: str, name: str, purpose: str, members: list[str], partners: tuple[str, ...]
    ) -> Team:
        chosen = [k for k in dict.fromkeys(members) if k in keys]
        leader, *rest = chosen
        return Team(key, name, purpose, leader, tuple(rest), partners)

    # in-service party members: the first of each grid cleans, the second helps families
    isp_first = [k for k in of("isp-") if k.endswith("-1")]
    isp_second = [k for k in of("isp-") if k.endswith("-2")]
    return [
        team(
            "cleaning",
            "“洁净家园”入户清扫队",
            "cleaning",
            of("rpm-")[:1] + [k for k in of("res-") if k.endswith("-1")] + isp_first,
            ("property",),
        ),
        team(
            "hardship",
            "邻里守望帮扶队",
            "hardship_aid",
            isp_second + of("gw-"),
            ("paired", "housing", "health"),
        ),
        team(
            "policy",
            "惠民政策宣讲队",
            "policy_outreach",
            of("gw-") + of("rpm-"),
            ("housing", "paired"),
        ),
        team(
            "opinion",
            "民情收集小组",
            "opinion_collection",
            of("rpm-")[1:2] + [k for k in of("res-") if k.endswith("-2")],
            ("paired",),
        ),
        team(
            "mediation",
            "“枫桥”调解志愿队",
            "mediation",
            of("police-")[:1] + of("rpm-"),
            ("police",),
        ),
        team(
            "patrol",
            "平安义警巡逻队",
            "patrol",
            of("police-") + [k for k in of("res-") if k.endswith("-3")],
            ("police", "property"),
        ),
    ]


TEAM_FOR = {"home_cleaning": "cleaning", "hardship_aid": "hardship", "policy_explanation": "policy"}
"""Requests of these kinds go to a team; the others to one volunteer."""


def plan_volunteering(rng: random.Random, c: Community, *, now: datetime) -> VolunteeringPlan:
    """The volunteering part's commands, from the demo's seed; ``now`` is the services' time."""
    today = now.date()
    senders = {
        "director": Sender("director-demo-1", "director", c.community),
        "coordinator": Sender("coord-demo-1", "volunteer_coordinator", c.community),
        "desk": Sender("desk-demo-1", "desk_staff", c.community),
    }
    for g, grid in enumerate(c.grids):
        senders[f"gw-{g + 1}"] = Sender(f"gw-demo-{g + 1}", "grid_worker", grid)
    plan = VolunteeringPlan(c.community, senders, {g: c.area_tokens.get(g, "") for g in c.grids})
    plan.volunteers = _roster(rng, c, today)
    plan.teams = _teams(plan.volunteers)
    grid_of = {v.key: v.grid for v in plan.volunteers}
    members = {t.key: (t.leader, *t.members) for t in plan.teams}
    by_grid: dict[str, list[str]] = {}
    for v in plan.volunteers:
        if v.kind != "volunteer_police":
            by_grid.setdefault(v.grid, []).append(v.key)
    worker = {grid: f"gw-{g + 1}" for g, grid in enumerate(c.grids)}

    def crew(kind: str, grid: str) -> tuple[str | None, str | None, tuple[str, ...]]:
        """(team, who accepts, who comes along) for a request in ``grid``."""
        local = by_grid.get(grid, [])
        team = TEAM_FOR.get(kind)
        in_team = [k for k in members.get(team or "", ()) if grid_of[k] == grid]
        if not in_team:
            team = None
        pool = in_team or local
        if not pool:
            return None, None, ()
        accepts = rng.choice(pool)
        others = [k for k in local if k != accepts]
        helpers = tuple(rng.sample(others, 1)) if kind == "home_cleaning" and others else ()
        return team, accepts, helpers

    # the elders' monthly cleaning: a few left with the team, not yet begun
    flags = list(c.elderly_alone)
    waiting = min(3, len(flags) // 3)
    for i, f in enumerate(flags):
        r = f.resident
        team, accepts, helpers = crew("home_cleaning", r.grid)
        fate = "delivered" if i < len(flags) - waiting else ("assigned", "accepted")[i % 2]
        if accepts is None:
            fate = "open"
        plan.work.append(
            Work(
                r,
                "home_cleaning",
                "每月入户清扫（独居老人）",
                fate,
                None,
                f.token,
                request_id=str(request_id(UUID(r.id), period_of(f.raised_at.date()))),
                team=team,
                volunteer=accepts,
                helpers=helpers,
                satisfaction=rng.choice((4, 5, 5, 5)),
                feedback=rng.choice(CLEANING_FEEDBACK),
            )
        )

    # the staff's requests, for residents round the grids (errands and company for the old)
    flagged = {f.resident.id for f in flags}
    for i, (kind, description, at_desk, fate) in enumerate(STAFF_WORK):
        grid = c.grids[i % len(c.grids)]
        here = [r for r in c.people if r.grid == grid and r.id not in flagged]
        old = [r for r in here if age_of(r.born, today) >= 65]
        if not here:
            continue
        resident = rng.choice(old if kind in ("errand", "companionship") and old else here)
        team, accepts, _ = crew(kind, grid)
        if accepts is None:
            fate = "open" if fate != "cancelled" else fate
        declined_by = None
        if i == 4 and accepts is not None:  # first given to someone who cannot go that day
            others = [k for k in by_grid.get(grid, []) if k != accepts]
            if others:
                declined_by, team = rng.choice(others), None
        plan.work.append(
            Work(
                resident,
                kind,
                description,
                fate,
                "desk" if at_desk else worker[grid],
                resident.token,
                team=team,
                volunteer=accepts,
                declined_by=declined_by,
                satisfaction=rng.choice((4, 5, 5)),
                feedback=rng.choice(STAFF_FEEDBACK),
            )
        )

    plan.activities = _activities(plan, now)
    return plan


def _activities(plan: VolunteeringPlan, now: datetime) -> list[Activity]:
    """Upcoming: a themed party day and a practical-things day on the coming Saturdays, a fire
    safety patrol on the Sunday, and three evening patrols in each grid from tomorrow."""
    local_today = now.astimezone(LOCAL).date()
    saturday = next_weekday(local_today + timedelta(days=2), 5)
    keys = [v.key for v in plan.volunteers]
    party = [k for k in keys if k.startswith(("isp-", "rpm-"))]
    helpers = [k for k in keys if k.startswith(("isp-", "res-"))]
    police = [k for k in keys if k.startswith("police-")]
    out = [
        Activity(
            "themed_party_day",
            "主题党日：重温入党誓词，走访慰问独居老人",
            None,
            "policy",
            ((at(saturday, 9), at(saturday, 11, 30), 30, tuple(party)),),
            "coordinator",
        ),
        Activity(
            "practical_things_day",
            "我为群众办实事：义务理发、家电维修、磨剪刀",
            None,
            "hardship",
            (
                (
                    at(saturday + timedelta(7), 8, 30),
                    at(saturday + timedelta(7), 11, 30),
                    10,
                    tuple(helpers[: len(helpers) // 2]),
                ),
                (
                    at(saturday + timedelta(7), 14),
                    at(saturday + timedelta(7), 16, 30),
                    10,
                    tuple(helpers[len(helpers) // 2 :][:10]),
                ),
            ),
            "coordinator",
        ),
        Activity(
            "patrol",
            "冬季消防安全巡查",
            None,
            "patrol",
            ((at(saturday + timedelta(1), 14), at(saturday + timedelta(1), 16), 8, tuple(police)),),
            "coordinator",
        ),
    ]
    for v in plan.volunteers:
        if v.kind != "volunteer_police":
            continue
        n = v.key.split("-")[1]
        local = [k for k in keys if k.startswith(f"res-{n}-")]
        evenings = [local_today + timedelta(days=d) for d in (1, 2, 3)]
        out.append(
            Activity(
                "patrol",
                f"第{n}网格夜间平安巡逻",
                v.grid,
                "patrol",
                tuple(
                    (at(day, 19), at(day, 21), 4, (v.key, *local[d : d + 1]))
                    for d, day in enumerate(evenings)
                ),
                f"gw-{n}",
            )
        )
    return out
