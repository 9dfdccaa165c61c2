"""``anju demo``'s health part, through the health service's HTTP API only.

Health learns the community and its residents from the registry's events, and enrols everyone
aged 65 or over in the elderly programme by itself. On top of that the demo, as the station's
family doctors (one per grid) and its desk:

- names a family doctor for every over-65 (家庭医生签约);
- records this year's check-up for most of them, on days between New Year (or their 65th
  birthday) and today, with plausible readings and a few alarming blood pressures; the rest are
  still waiting for theirs, and about half of those had an earlier check-up, copied now from
  the station's paper ledger: a year and more has passed since, so they are late;
- diagnoses a few hypertension (I10) and type-2 diabetes (E11) patients and enrols them in
  their programmes;
- records the station's 16 health activities of the year, of the four kinds.

What to send is planned first from the demo's seed (:func:`plan_health`), then sent, many
residents at a time (:func:`load_health`). Each resident's first command carries the
consistency token of their registration, so health decides only once it has learnt them.
The query service then reads the coverage and the activities back (:func:`read_back`), having
caught up with every write the demo made.

A check-up's first visit falls due ``ANJU_HEALTH_FIRST_CHECK_UP_DAYS`` (30) days after
enrolment: the over-65s with no check-up on record are due. A check-up from the ledger
books the next a year after it, so a resident whose anniversary lies more than
:data:`LATE_MARGIN` days back is overdue as soon as health's scheduler looks (whatever
``ANJU_HEALTH_GRACE_DAYS`` says, up to its maximum of 90); the read-back waits for that.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from anju_devtools.demo import Community, Loader, Resident, Sign, age_of

STATION = "安居社区卫生服务站"
CHECKED_UP_SHARE = 0.75
"""Of the over-65s, about this share has had this year's check-up."""
LEDGER_SHARE = 0.5
"""Of the over-65s without this year's check-up, about this share has an earlier one in the
paper ledger."""
LATE_MARGIN = 91
"""A ledger check-up's anniversary lies at least this many days back (more than the longest
grace health allows), so that its resident is overdue."""
ALARMING = 3
"""Over-65s whose check-up finds an alarming blood pressure (a doctor reviews it)."""
HYPERTENSION, DIABETES = 3, 2
"""Chronic-disease patients diagnosed and enrolled."""


@dataclass(frozen=True)
class Activity:
    kind: str
    topic: str
    place: str
    grid: int | None
    """Held in this grid (its index); ``None``: for the whole community."""
    at_station: bool = False
    partner: str | None = None
    served: range = range(20, 60)


ACTIVITIES = (
    Activity(
        "free_check_up_day",
        "老年人免费体检日",
        STATION,
        None,
        True,
        "社区卫生服务中心",
        range(60, 120),
    ),
    Activity(
        "prevention_talk", "春季传染病预防", "社区文化活动室", None, partner="区疾病预防控制中心"
    ),
    Activity("on_site_consultation", "家庭医生进网格", "第1网格小广场", 0),
    Activity(
        "medical_advice", "慢病用药咨询", STATION, None, True, "社区卫生服务中心", range(15, 40)
    ),
    Activity(
        "prevention_talk", "高血压防治知识讲座", "社区党群服务中心", None, partner="区人民医院"
    ),
    Activity(
        "on_site_consultation",
        "中医义诊",
        "社区文化活动室",
        None,
        partner="区中医院",
        served=range(30, 80),
    ),
    Activity(
        "free_check_up_day", "糖尿病筛查日", STATION, None, True, "社区卫生服务中心", range(40, 90)
    ),
    Activity("medical_advice", "老年人防跌倒咨询", "老年食堂", None, served=range(20, 45)),
    Activity("prevention_talk", "夏季防中暑宣传", "第3网格小广场", 2),
    Activity("on_site_consultation", "家庭医生进网格", "第2网格小广场", 1),
    Activity(
        "medical_advice", "心理健康咨询", STATION, None, True, "区精神卫生中心", range(10, 30)
    ),
    Activity(
        "prevention_talk", "急救知识与心肺复苏培训", "社区党群服务中心", None, partner="红十字会"
    ),
    Activity(
        "on_site_consultation",
        "眼科义诊",
        "社区文化活动室",
        None,
        partner="区人民医院",
        served=range(40, 90),
    ),
    Activity(
        "free_check_up_day",
        "秋季老年人体检日",
        STATION,
        None,
        True,
        "社区卫生服务中心",
        range(60, 120),
    ),
    Activity(
        "prevention_talk", "流感疫苗接种宣传", "第4网格小广场", 3, partner="区疾病预防控制中心"
    ),
    Activity(
        "medical_advice", "冬季慢病管理咨询", STATION, None, True, "社区卫生服务中心", range(15, 40)
    ),
)
"""The year's health activities, in the order they were held (the community report counts 16)."""


@dataclass(frozen=True)
class Step:
    """One command of the plan, sent by ``sender`` (a grid's family doctor or the desk)."""

    method: str
    path: str
    body: dict[str, Any]
    sender: str


@dataclass(frozen=True)
class Sender:
    sub: str
    role: str
    area: str


@dataclass
class HealthPlan:
    """What the health part sends, and the figures the query should then show."""

    year: int
    senders: dict[str, Sender]
    residents: dict[str, tuple[str, list[Step]]] = field(default_factory=dict)
    """resident → (their registration's consistency token, their commands in order)"""
    activities: list[tuple[str, Step]] = field(default_factory=list)
    """(the consistency token of the area's creation, the command)"""
    aged: int = 0
    """Residents aged 65 or over on 31 December."""
    enrolled: int = 0
    """Residents aged 65 or over today: health enrolled them at registration."""
    checked_up: int = 0
    alarming: int = 0
    chronic: dict[str, int] = field(default_factory=dict)
    waiting: int = 0
    """Over-65s without this year's check-up."""
    late: int = 0
    """Of those, the ones whose check-up from the ledger is over a year old: overdue."""
    ledger_eligible: int = 0
    """Of those waiting, the ones who were 65 long enough ago to have such a check-up."""
    first_due: date | None = None


def doctor_of(grid: int) -> str:
    return f"doctor-demo-{grid + 1}"


def _check_up(rng: random.Random, on: date, *, alarming: bool, diabetic: bool) -> dict[str, Any]:
    height = round(rng.uniform(148, 176), 1)
    if alarming:
        systolic, diastolic = rng.randint(180, 198), rng.randint(100, 118)
    else:
        systolic = rng.randint(108, 158)
        diastolic = rng.randint(62, min(98, systolic - 30))
    observations = {
        "systolic_mmhg": systolic,
        "diastolic_mmhg": diastolic,
        "heart_rate_bpm": rng.randint(58, 92),
        "height_cm": height,
        "weight_kg": round(rng.uniform(19.5, 27.5) * (height / 100) ** 2, 1),
        "fasting_glucose_mmol_l": round(
            rng.uniform(7.2, 11.5) if diabetic else rng.uniform(4.4, 6.6), 1
        ),
        "temperature_c": round(rng.uniform(36.2, 36.9), 1),
        "self_care_score": rng.choice((0, 0, 0, 1, 2, 3, 5, 9)),
    }
    if alarming:
        findings, guidance = "血压明显升高，伴头晕", "建议尽快转诊至区人民医院心内科，复测血压"
    elif systolic >= 140:
        findings, guidance = "血压偏高", "低盐饮食，规律作息，两周后复测血压"
    else:
        findings = rng.choice(("各项指标基本正常", "体重略超标", "睡眠欠佳", "腰腿疼痛"))
        guidance = rng.choice(("适量运动，均衡饮食", "注意防跌倒", "按时服药，定期复查"))
    return {
        "programme": "elderly_annual",
        "occurred_on": on.isoformat(),
        "observations": observations,
        "findings": findings,
        "guidance": guidance,
    }


def turns_65_on(born: date) -> date:
    """The 65th birthday (for someone born on 29 February, 1 March in a common year)."""
    try:
        return born.replace(year=born.year + 65)
    except ValueError:
        return date(born.year + 65, 3, 1)


def plan_health(rng: random.Random, c: Community, *, today: date) -> HealthPlan:
    """The health part's commands, from the demo's seed; ``today`` is the services' date."""
    year = today.year
    new_year = date(year, 1, 1)
    doctors = {grid: doctor_of(g) for g, grid in enumerate(c.grids)}
    senders = {name: Sender(name, "doctor", grid) for grid, name in doctors.items()}
    senders["desk"] = Sender("desk-demo-1", "desk_staff", c.community)
    plan = HealthPlan(year, senders)

    def send(r: Resident, method: str, path: str, body: dict[str, Any]) -> None:
        plan.residents.setdefault(r.id, (r.token, []))[1].append(
            Step(method, path, body, doctors[r.grid])
        )

    plan.aged = sum(r.born <= date(year - 65, 12, 31) for r in c.people)
    elders = [r for r in c.people if age_of(r.born, today) >= 65]
    plan.enrolled = len(elders)

    adults = [r for r in c.people if age_of(r.born, today) >= 50]
    chronic = rng.sample(adults, min(len(adults), HYPERTENSION + DIABETES))
    diabetic = {r.id for r in chronic[HYPERTENSION:]}
    for r in chronic:
        icd10, programme = (
            ("E11", "type2_diabetes") if r.id in diabetic else ("I10", "hypertension")
        )
        since = max(
            turns_65_on(r.born) - timedelta(days=20 * 365),
            new_year - timedelta(days=rng.randint(100, 3000)),
        )
        send(
            r,
            "POST",
            f"/records/{r.id}/conditions",
            {"icd10": icd10, "diagnosed_on": since.isoformat()},
        )
        send(r, "POST", f"/records/{r.id}/programmes", {"programme": programme})
        plan.chronic[programme] = plan.chronic.get(programme, 0) + 1

    checked = {r.id for r in elders if rng.random() < CHECKED_UP_SHARE}
    latest_ledger = today - timedelta(days=365 + LATE_MARGIN)
    on_paper: list[tuple[Resident, date]] = []
    alarming = set(rng.sample(sorted(checked), min(len(checked), ALARMING)))
    for r in elders:
        doctor = senders[doctors[r.grid]].sub
        send(
            r,
            "PUT",
            f"/records/{r.id}/family-doctor",
            {"health_station": STATION, "family_doctor_id": doctor},
        )
        first = max(new_year, turns_65_on(r.born))
        if r.id not in checked or first > today:
            plan.waiting += 1
            # the last check-up in the paper ledger, within three years, if they were 65 then
            earliest = max(today - timedelta(days=3 * 365), turns_65_on(r.born))
            if earliest <= latest_ledger:
                on_paper.append((r, earliest))
            continue
        on = first + timedelta(days=rng.randint(0, (today - first).days))
        send(
            r,
            "POST",
            f"/records/{r.id}/encounters",
            _check_up(rng, on, alarming=r.id in alarming, diabetic=r.id in diabetic),
        )
        plan.checked_up += 1
        plan.alarming += r.id in alarming

    # about half of those waiting who could have had one have a check-up in the paper ledger
    plan.ledger_eligible = len(on_paper)
    if on_paper:
        late = rng.sample(on_paper, max(1, round(len(on_paper) * LEDGER_SHARE)))
        for r, earliest in sorted(late, key=lambda pair: str(pair[0].id)):
            on = earliest + timedelta(days=rng.randint(0, (latest_ledger - earliest).days))
            send(
                r,
                "POST",
                f"/records/{r.id}/encounters",
                _check_up(rng, on, alarming=False, diabetic=r.id in diabetic),
            )
            plan.late += 1

    days = (today - new_year).days + 1
    staff = [senders[doctor].sub for doctor in doctors.values()]
    for i, a in enumerate(ACTIVITIES):
        held_on = new_year + timedelta(days=int((i + rng.random()) * days / len(ACTIVITIES)))
        area = c.grids[a.grid] if a.grid is not None and a.grid < len(c.grids) else c.community
        body = {
            "kind": a.kind,
            "held_on": held_on.isoformat(),
            "area_id": area,
            "place": a.place,
            "at_station": a.at_station,
            "partner": a.partner,
            "staff": [*rng.sample(staff, min(2, len(staff))), "护士长"],
            "served": rng.choice(a.served),
            "topic": a.topic,
        }
        plan.activities.append((c.area_tokens[area], Step("POST", "/activities", body, "desk")))
    return plan


def _headers(plan: HealthPlan, sign: Sign | None) -> dict[str, dict[str, str]]:
    """Each sender's bearer token; without ``sign``, the loader's own (an admin's)."""
    if sign is None:
        return {name: {} for name in plan.senders}
    return {
        name: {"Authorization": f"Bearer {sign(s.sub, [s.role], [s.area])}"}
        for name, s in plan.senders.items()
    }


async def load_health(api: Loader, plan: HealthPlan, sign: Sign | None) -> list[str]:
    """Send the plan; the consistency tokens of the last write to each record and activity."""
    headers = _headers(plan, sign)

    async def resident(registration: str, steps: list[Step]) -> str:
        token = registration
        for step in steps:
            answer = await api.post_after(
                step.path, step.body, after=token, method=step.method, headers=headers[step.sender]
            )
            token = answer["consistency_token"]
        return token

    async def activity(area: str, step: Step) -> str:
        answer = await api.post_after(
            step.path, step.body, after=area, headers=headers[step.sender]
        )
        return str(answer["consistency_token"])

    written = await asyncio.gather(
        *[resident(token, steps) for token, steps in plan.residents.values()],
        *[activity(area, step) for area, step in plan.activities],
    )
    served = sum(step.body["served"] for _, step in plan.activities)
    chronic = ", ".join(f"{n} {programme}" for programme, n in sorted(plan.chronic.items()))
    print(
        f"demo health loaded: {plan.enrolled} residents aged 65+ enrolled (family doctors named),"
        f" {plan.checked_up} check-ups this year ({plan.alarming} with an alarming blood"
        f" pressure), {plan.waiting} still waiting ({plan.late} late by the paper ledger),"
        f" {chronic} patients,"
        f" {len(plan.activities)} activities serving {served} people ({api.sent} commands)"
    )
    return list(written)


@dataclass(frozen=True)
class HealthFigures:
    """What the query service shows for the community and year."""

    aged: int
    enrolled: int
    checked_up: int
    share: float | None
    activities: int
    served: int
    due: int
    overdue: int


async def read_back(
    api: Loader, c: Community, plan: HealthPlan, written: list[str], *, wait_s: float = 120.0
) -> HealthFigures:
    """The coverage, visits and activities from the query service, once it has caught up with
    the residents counted and every health write the demo made."""
    registrations = [r.token for r in c.people if r.born <= date(plan.year - 65, 12, 31)]
    areas = [c.area_tokens[a] for a in (c.community, *c.grids)]
    deadline = asyncio.get_running_loop().time() + wait_s

    await api.caught_up("/health/activities", [*areas, *registrations, *written], wait_s=wait_s)
    year = {"area_id": c.community}
    # the late ones become overdue when health's scheduler looks, a moment after their writes
    while True:
        visits = await _get(api, "/health/visits", {**year, "limit": 1})
        if sum(g["overdue"] for g in visits["groups"]) >= plan.late:
            break
        if asyncio.get_running_loop().time() > deadline:
            raise RuntimeError("health has not marked the late check-ups overdue")
        await asyncio.sleep(0.5)
    coverage = await _get(api, "/health/coverage", {**year, "year": plan.year})
    activities = await _get(
        api,
        "/health/activities",
        {**year, "from": f"{plan.year}-01-01", "to": f"{plan.year}-12-31", "limit": 1},
    )
    groups = visits["groups"]
    return HealthFigures(
        aged=coverage["aged_65_plus"],
        enrolled=coverage["enrolled"],
        checked_up=coverage["checked_up"],
        share=coverage["share"],
        activities=activities["summary"]["count"],
        served=activities["summary"]["served"],
        due=sum(g["due"] for g in groups),
        overdue=sum(g["overdue"] for g in groups),
    )


async def _get(api: Loader, path: str, params: dict[str, Any]) -> dict[str, Any]:
    response = await api.client.get(path, params=params)
    if response.status_code >= 300:
        raise RuntimeError(f"GET {path} → {response.status_code}: {response.text}")
    answer: dict[str, Any] = response.json()
    return answer


def summary(figures: HealthFigures, year: int) -> str:
    share = "—" if figures.share is None else f"{figures.share:.1%}"
    return (
        f"demo health in the query API ({year}): {figures.aged} aged 65+, {figures.enrolled}"
        f" enrolled, {figures.checked_up} checked up ({share}); {figures.activities} activities"
        f" serving {figures.served} people; visits due within 30 days {figures.due},"
        f" overdue {figures.overdue}"
    )
