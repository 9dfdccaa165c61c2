"""The demo's history since the station opened (May 2023), imported as the community's paper
ledgers: the figures of the community's own report, produced by the services from their events.

The report (塔利公租房服务站, "截至目前") says: more than 3,000 receptions, more than 50 theory
lectures, nearly 3,000 convenience services, 28 disputes resolved, 7 petitions handled by proxy,
16 health activities. The demo writes those ledgers for the report's period
(:data:`REPORT_FROM` – :data:`REPORT_TO`, :mod:`anju_devtools.demo_calendar`), with the desk's
weekly and seasonal rhythm — busier on Mondays, half a day on Saturdays, closed on Sundays and
over the Spring Festival and National Day holidays, a slow first month after opening,
public-rental applications peaking in the spring and autumn rounds — and imports them through
the ledger import (:mod:`eventkit.ledger`), that is through the services' own commands with their
real dates:

- the station's ``receptions``, ``services`` and ``gatherings`` (this module);
- mediation's ``disputes`` and ``petitions`` (:mod:`anju_devtools.demo_history_mediation`): 28
  resolved, most at the building and the grid, some referred on or still open; 7 petitions
  handled, two still waiting;
- health's ``activities`` and the volunteers' ``hours`` (:mod:`anju_devtools.demo_history_care`):
  16 health activities; the hours of the volunteers who have served since the station opened,
  registered with volunteering as they joined.

Disputes and petitions name the community's residents and places, which the services learnt from
the registry (:func:`load_history` takes the demo's :class:`~anju_devtools.demo.Community`). The
dashboard for the period then shows exactly :data:`FIGURES`.
"""

from __future__ import annotations

import asyncio
import random
import time as clock
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, time
from typing import Any
from uuid import UUID

import httpx

from anju_devtools.demo import Community
from anju_devtools.demo_calendar import (
    REPORT_FROM as REPORT_FROM,
    REPORT_TO as REPORT_TO,
    after,
    open_days as open_days,
    pick,
    spread as spread,
)
from anju_devtools.demo_history_care import (
    HEALTH_ACTIVITIES,
    HOURS_ENTRIES,
    ROSTER,
    VOLUNTEER_HOURS,
    enrol_volunteers,
    health_activities,
    volunteer_hours,
)
from anju_devtools.demo_history_mediation import (
    DISPUTES_RESOLVED,
    PETITIONS_ANSWERED,
    PETITIONS_CLOSED,
    PETITIONS_HANDLED,
    RESOLVED_AT,
    disputes,
    petitions,
)
from eventkit.ledger import (
    DEFAULT_ZONE,
    Answer,
    Line,
    Options,
    Report,
    Send,
    installed,
    plan,
    run,
    zone,
)
from eventkit.ledger_http import http_send

RECEPTIONS = 3_186
SERVICES = 2_946
THEORY_LECTURES = 31
POLICY_EXPLANATIONS = 25
CIVILISATION_PRACTICE = 22
OPINION_GATHERINGS = 9

FIGURES: dict[str, int] = {
    "receptions": RECEPTIONS,
    "lectures": THEORY_LECTURES + POLICY_EXPLANATIONS,
    "convenience_services": SERVICES,
    "civilisation_practice_activities": CIVILISATION_PRACTICE,
    "opinion_gathering_sessions": OPINION_GATHERINGS,
    "disputes_resolved": DISPUTES_RESOLVED,
    "petitions_handled": PETITIONS_HANDLED,
    "health_activities": HEALTH_ACTIVITIES,
    "volunteers_active": len(ROSTER),
    "volunteer_hours_approved": VOLUNTEER_HOURS,
}
"""What the dashboard shows for the report's period once the history is loaded."""
RECORDS: dict[str, int] = FIGURES | {"volunteer_hours_approved": HOURS_ENTRIES}
"""How many records each figure's drill-down lists: its value, but for the hours (a sum)."""
BY = {
    "disputes_resolved": RESOLVED_AT,
    "petitions_handled": {"answered": PETITIONS_ANSWERED, "closed": PETITIONS_CLOSED},
}
"""The breakdown of some figures."""


PURPOSES = {
    "convenience_service": 0.42,
    "elderly_window": 0.2,
    "consultation": 0.2,
    "certificate": 0.08,
    "complaint": 0.05,
    "lecture": 0.03,
    "other": 0.02,
}
REFERRALS = {
    "self": 0.55,
    "grid_worker": 0.3,
    "hotline_12345": 0.08,
    "partner": 0.05,
    "other": 0.02,
}
OUTCOMES = {"convenience_service": "service_started", "elderly_window": "service_started"}
BILLS = {"medical": 0.3, "water": 0.15, "electricity": 0.2, "gas": 0.15, "heating": 0.1,
         "mobile": 0.1}  # fmt: skip
SERVICE_TYPES = {
    "elderly_window_bill_help": 0.38,
    "residence_certificate": 0.2,
    "employment_information": 0.16,
    "public_rental_application": 0.16,
    "low_income_certification": 0.1,
}
MISSING = (
    ("户口簿复印件",),
    ("近六个月收入证明", "银行流水"),
    ("家庭成员身份证复印件",),
    ("原租赁合同",),
    ("残疾证复印件", "低保证明"),
)


def receptions(rng: random.Random, days: Sequence[tuple[date, float]]) -> list[dict[str, Any]]:
    rows = []
    for day in spread(rng, RECEPTIONS, days):
        first = pick(rng, PURPOSES)
        purposes = [first]
        if rng.random() < 0.15:
            purposes.append(pick(rng, PURPOSES))
        minute = rng.randint(0, 8 * 60 if day.weekday() < 5 else 3 * 60)
        at = time(8 + (30 + minute) // 60, (30 + minute) % 60)
        outcome = OUTCOMES.get(first) or rng.choice(
            ("answered", "answered", "referred", "appointment")
        )
        rows.append(
            {
                "day": day.isoformat(),
                "time": at.isoformat("minutes"),
                "purposes": ",".join(dict.fromkeys(purposes)),
                "referred_by": pick(rng, REFERRALS),
                "outcome": outcome,
            }
        )
    return rows


def services(
    rng: random.Random, days: Sequence[tuple[date, float]], agency_id: str | None
) -> list[dict[str, Any]]:
    """Each service from receipt to its end, as the desk's ledger keeps it."""
    rows = []
    rentals = [(d, w * (1.8 if d.month in (3, 4, 9, 10) else 0.7)) for d, w in days]
    for received in spread(rng, SERVICES, days):
        kind = pick(rng, SERVICE_TYPES)
        if kind == "public_rental_application":  # the spring and autumn application rounds
            received = spread(rng, 1, rentals)[0]
        row: dict[str, Any] = {"service_type": kind, "received_on": received.isoformat()}
        if kind == "elderly_window_bill_help":
            row["bill_type"] = pick(rng, BILLS)
            row["completed_on"] = received.isoformat()
        elif kind in ("residence_certificate", "employment_information"):
            row["completed_on"] = after(received, rng.choice((0, 0, 1, 2))).isoformat()
        else:
            accepted = received
            if rng.random() < 0.18:  # a one-time notice first: everything missing at once
                row["missing"] = "、".join(rng.choice(MISSING))
                accepted = after(received, rng.randint(2, 9))
            row["accepted_on"] = accepted.isoformat()
            if kind == "public_rental_application" and agency_id is not None:
                row["handed_off_on"] = accepted.isoformat()
                row["organisation_id"] = agency_id
                late = rng.random() < 0.08
                took = rng.randint(21, 30) if late else rng.randint(6, 19)
            else:
                took = rng.randint(5, 25)
            end = after(accepted, took)
            if rng.random() < 0.05:
                row["refused_on"] = end.isoformat()
                row["refusal_reason"] = rng.choice(
                    ("家庭收入超过保障标准", "户籍不符合申请条件", "已享受其他住房保障")
                )
            else:
                row["completed_on"] = end.isoformat()
        ended = row.get("completed_on") or row.get("refused_on")
        if ended and rng.random() < 0.3:
            row["satisfaction"] = rng.choices((5, 4, 3, 2), weights=(62, 28, 8, 2))[0]
            row["called_back_on"] = after(date.fromisoformat(ended), rng.randint(1, 4)).isoformat()
        rows.append(row)
    return rows


TOPICS = {
    "theory_lecture": (
        ("学习贯彻党的二十大精神", "社区党支部书记"),
        ("新时代“枫桥经验”与基层治理", "区委党校讲师"),
        ("铸牢中华民族共同体意识", "街道党工委宣传委员"),
        ("老党员讲初心", "老党员 陈建国"),
        ("学习贯彻党的二十届三中全会精神", "区委党校 林教授"),
    ),
    "policy_explanation": (
        ("公租房资格年审与租金补贴政策解读", "市住房保障服务中心 保障科"),
        ("城乡居民医保参保缴费政策解读", "区医疗保障服务中心 经办科"),
        ("低保与临时救助政策解读", "城东街道社会救助服务站"),
        ("高校毕业生与就业困难人员就业政策", "区就业服务中心"),
        ("65岁以上老年人免费体检政策", "社区卫生服务中心"),
    ),
    "civilisation_practice": (
        ("垃圾分类进楼道", "社区志愿者"),
        ("防范电信网络诈骗宣传", "城东派出所 社区民警"),
        ("邻里文化节", "社区党支部"),
        ("楼道清理与消防安全", "综合执法队"),
    ),
    "opinion_gathering": (
        ("小区停车管理意见征求会", "社区党支部书记"),
        ("老旧小区加装电梯意见征求会", "社区居委会主任"),
        ("公租房物业服务意见征求会", "社区居委会主任"),
    ),
}


def gatherings(rng: random.Random, days: Sequence[tuple[date, float]]) -> list[dict[str, Any]]:
    weekdays = [(d, 1.0) for d, _ in days if d.weekday() < 5]
    counts = {
        "theory_lecture": THEORY_LECTURES,
        "policy_explanation": POLICY_EXPLANATIONS,
        "civilisation_practice": CIVILISATION_PRACTICE,
        "opinion_gathering": OPINION_GATHERINGS,
    }
    rows = []
    for kind, count in counts.items():
        for day in spread(rng, count, weekdays):
            topic, speaker = rng.choice(TOPICS[kind])
            rows.append(
                {
                    "kind": kind,
                    "topic": topic,
                    "speaker": speaker,
                    "held_on": day.isoformat(),
                    "attendance": rng.randint(18, 85),
                }
            )
    return sorted(rows, key=lambda r: str(r["held_on"]))


def plan_history(
    rng: random.Random,
    *,
    agency_id: str | None,
    community: Community,
    volunteers: Sequence[str] = (),
) -> dict[str, list[dict[str, Any]]]:
    """Every ledger of the report's period, by kind (the rows as their CSV files hold them):
    ``community`` gives the disputes' places and parties and the petitioners, ``volunteers``
    the ids volunteering gave the roster (no hours without them)."""
    days = open_days()
    ledgers = {
        "receptions": receptions(rng, days),
        "services": services(rng, days, agency_id),
        "gatherings": gatherings(rng, days),
        "disputes": disputes(rng, community, days),
        "petitions": petitions(rng, community, days),
        "activities": health_activities(rng, days),
    }
    if volunteers:
        ledgers["hours"] = volunteer_hours(rng, volunteers, community.grids)
    return ledgers


def counts(ledgers: Mapping[str, Sequence[dict[str, Any]]]) -> Counter[str]:
    return Counter({kind: len(rows) for kind, rows in ledgers.items()})


@dataclass(frozen=True)
class Target:
    """Where a ledger kind's commands go, and as whom."""

    client: httpx.AsyncClient
    headers: dict[str, str]


async def load_history(
    rng: random.Random,
    targets: Callable[[str], Target | None],
    community: Community,
    *,
    agency_id: str | None,
    progress: Callable[[str, int], None] | None = None,
) -> tuple[dict[str, list[dict[str, Any]]], dict[str, Report]]:
    """Register the volunteers of the ledger (when volunteering is a target), plan every
    ledger and import it (:func:`import_history`); the ledgers and what each import did."""
    volunteering = targets("volunteering")
    volunteers: list[str] = []
    if volunteering is not None:
        volunteers = await enrol_volunteers(
            volunteering.client, volunteering.headers, community.grids
        )
    ledgers = plan_history(rng, agency_id=agency_id, community=community, volunteers=volunteers)
    reports = await import_history(ledgers, targets, community.community, progress=progress)
    return ledgers, reports


async def import_history(
    ledgers: Mapping[str, Sequence[dict[str, Any]]],
    targets: Callable[[str], Target | None],
    area_id: str,
    *,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, Report]:
    """Import each ledger through its service's commands (``targets``: by service name; a
    kind whose service is missing is skipped), one after the other. Importing again adds
    nothing."""
    kinds = installed()
    options = Options(area_id=UUID(area_id), zone=zone(DEFAULT_ZONE))
    reports: dict[str, Report] = {}
    for kind, rows in ledgers.items():
        ledgers_of = kinds.get(kind)
        target = None if ledgers_of is None else targets(ledgers_of.service)
        if ledgers_of is None or target is None:
            continue
        lines = [Line(n, {k: str(v) for k, v in row.items()}) for n, row in enumerate(rows, 2)]
        the_plan = plan(ledgers_of.get(kind), lines, options)
        on_row = None if progress is None else (lambda n, kind=kind: progress(kind, n))
        reports[kind] = await run(the_plan, _sender(target), concurrency=8, progress=on_row)
    return reports


LEARNING = ("area_not_found", "unknown_resident", "organisation_not_found")
"""What a service answers while it has not yet learnt a record of the registry's that a row
names: it learns it a moment after it happens."""


def _sender(target: Target, *, wait_s: float = 60.0) -> Send:
    """Sends over the target's client, waiting (up to ``wait_s``) while the service has not
    yet learnt the registry's record a row names."""
    plain = http_send(target.client, target.headers)

    async def send(method: str, path: str, body: dict[str, Any], key: str) -> Answer:
        deadline = clock.monotonic() + wait_s
        while True:
            answer = await plain(method, path, body, key)
            error = answer.body.get("error", {}) if isinstance(answer.body, dict) else {}
            if error.get("code") not in LEARNING or clock.monotonic() > deadline:
                return answer
            await asyncio.sleep(0.5)

    return send
