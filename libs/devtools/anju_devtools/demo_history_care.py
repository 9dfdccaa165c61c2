"""The health station's and the volunteers' ledgers of the report's period
(:mod:`anju_devtools.demo_history`).

``activities``: the :data:`HEALTH_ACTIVITIES` health activities of the report — free check-up
days for the over-65s, on-site consultations with the partner hospitals, medical advice and
disease-prevention talks — on their days, with the people each served.

``hours``: the hours of the volunteers who have served since the station opened (:data:`ROSTER`,
registered with volunteering as they joined in April 2023, before the ledger names them):
:data:`HOURS_ENTRIES` services — patrols, party days, practical things for residents, stairwell
cleaning — adding up to exactly :data:`VOLUNTEER_HOURS` approved hours.
"""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import httpx

from anju_devtools.demo_calendar import REPORT_FROM, REPORT_TO, after, spread, working_days
from eventkit.idempotency import HEADER

ACTIVITIES = (
    # kind, topic, place, at the station, partner, served (low, high), how many
    ("free_check_up_day", "65岁以上老年人免费体检", "社区卫生服务站", True, "城东社区卫生服务中心",
     (60, 120), 4),
    ("on_site_consultation", "名医义诊进社区", "社区文化广场", False, "市第一人民医院", (40, 90), 4),
    ("on_site_consultation", "中医义诊与健康咨询", "社区卫生服务站", True, "区中医院", (30, 70), 1),
    ("medical_advice", "慢病用药咨询", "社区卫生服务站", True, None, (20, 45), 3),
    ("prevention_talk", "高血压、糖尿病防治知识讲座", "社区活动室", False, "城东社区卫生服务中心",
     (25, 60), 2),
    ("prevention_talk", "流感与呼吸道传染病预防", "社区活动室", False, None, (25, 50), 1),
    ("prevention_talk", "夏季食品安全与肠道传染病预防", "社区活动室", False, None, (20, 45), 1),
)  # fmt: skip
HEALTH_ACTIVITIES = sum(n for *_, n in ACTIVITIES)
STAFF = ("家庭医生 赵医生", "家庭医生 林医生", "护士 陈护士")


def health_activities(
    rng: random.Random, days: Sequence[tuple[date, float]]
) -> list[dict[str, Any]]:
    """The station's health activities and clinic days, each on a weekday of its own."""
    held = sorted(rng.sample(working_days(days), HEALTH_ACTIVITIES))
    kinds = [a for a in ACTIVITIES for _ in range(a[-1])]
    rng.shuffle(kinds)
    rows = []
    for n, (day, (kind, topic, place, at_station, partner, (low, high), _)) in enumerate(
        zip(held, kinds, strict=True), 1
    ):
        row: dict[str, Any] = {
            "id": f"JK-{n:02d}",
            "kind": kind,
            "held_on": day.isoformat(),
            "place": place,
            "at_station": "true" if at_station else "false",
            "served": rng.randint(low, high),
            "topic": topic,
            "staff": "、".join(rng.sample(STAFF, 2)),
        }
        if partner is not None:
            row["partner"] = partner
        rows.append(row)
    return rows


ROSTER = (
    ("陈建华", "grid_worker", 0),
    ("周晓明", "grid_worker", 1),
    ("吴海燕", "grid_worker", 2),
    ("郑志强", "grid_worker", 3),
    ("王桂兰", "registered_party_member", 0),
    ("李建国", "registered_party_member", 1),
    ("张玉兰", "registered_party_member", 2),
    ("刘文军", "resident_volunteer", 3),
    ("杨淑珍", "resident_volunteer", 0),
    ("黄俊杰", "resident_volunteer", 2),
    ("赵国强", "volunteer_police", 1),
    ("孙红梅", "volunteer_police", 3),
)
"""The volunteers of the ledger: name, kind, and the grid (by its place in the community) they
serve."""
JOINED = (date(2023, 4, 20), date(2023, 4, 27))
"""They joined when the station was getting ready to open."""
HOURS_ENTRIES = 160
VOLUNTEER_HOURS = 420
SERVICES = {
    "grid_worker": (("patrol", "夜间治安巡逻", 19), ("other", "独居老人上门探访", 9),
                    ("practical_things_day", "我为群众办实事：代办代缴", 9)),
    "registered_party_member": (("themed_party_day", "主题党日志愿服务", 9),
                                ("practical_things_day", "我为群众办实事：上门代购", 14)),
    "resident_volunteer": (("other", "楼道清扫与垃圾分类引导", 8), ("other", "防诈骗宣传", 14)),
    "volunteer_police": (("patrol", "夜间治安巡逻", 19), ("other", "调解协助与安全宣传", 14)),
}  # fmt: skip
"""What each kind of volunteer does: the activity's kind, its title, the hour it begins."""
HALF_HOURS = (2, 3, 4, 5, 6, 8)
"""A service lasts one to four hours, in half hours."""


def volunteer_hours(
    rng: random.Random, volunteers: Sequence[str], grids: Sequence[str]
) -> list[dict[str, Any]]:
    """The hours of the roster's volunteers (``volunteers``: their ids, in :data:`ROSTER`'s
    order), every one of them serving at least once, adding up to :data:`VOLUNTEER_HOURS`."""
    if len(volunteers) != len(ROSTER):
        raise ValueError("the volunteers' ids, one for each of the roster")
    every_day = [(d, 1.0) for d in _days()]
    served = spread(rng, HOURS_ENTRIES, every_day)
    who = list(range(len(ROSTER)))
    who += rng.choices(
        who,
        weights=[3 if k != "resident_volunteer" else 2 for _, k, _ in ROSTER],
        k=HOURS_ENTRIES - len(who),
    )
    rng.shuffle(who)
    halves = _halves(rng, HOURS_ENTRIES, VOLUNTEER_HOURS * 2)
    rows = []
    for n, (day, v, length) in enumerate(zip(served, who, halves, strict=True), 1):
        _, kind, g = ROSTER[v]
        activity, title, hour = rng.choice(SERVICES[kind])
        row: dict[str, Any] = {
            "id": f"ZY-{n:04d}",
            "volunteer_id": volunteers[v],
            "served_on": day.isoformat(),
            "hours": str(Decimal(length) / 2),
            "what": title,
            "kind": activity,
            "start": f"{hour:02d}:00",
            "area_id": grids[g % len(grids)],
        }
        if rng.random() < 0.3:
            row["approved_on"] = after(day, rng.randint(1, 4)).isoformat()
        rows.append(row)
    return rows


def _days() -> list[date]:
    return [date.fromordinal(o) for o in range(REPORT_FROM.toordinal(), REPORT_TO.toordinal() + 1)]


def _halves(rng: random.Random, count: int, total: int) -> list[int]:
    """``count`` lengths in half hours, each one of :data:`HALF_HOURS`, adding up to ``total``."""
    low, high = min(HALF_HOURS), max(HALF_HOURS)
    if not count * low <= total <= count * high:
        raise ValueError("no such lengths")
    lengths = [rng.choice(HALF_HOURS) for _ in range(count)]
    while (gap := total - sum(lengths)) != 0:
        i = rng.randrange(count)
        step = 1 if gap > 0 else -1
        if low <= lengths[i] + step <= high:
            lengths[i] += step
    return lengths


async def enrol_volunteers(
    client: httpx.AsyncClient,
    headers: dict[str, str],
    grids: Sequence[str],
    *,
    wait_s: float = 60.0,
) -> list[str]:
    """Register the :data:`ROSTER` with volunteering on the days they joined; their ids.

    Each registration goes with an idempotency key, so a second run answers with the same
    volunteers; while volunteering has not yet learnt a grid from the registry, it is sent
    again."""
    ids = []
    for n, (name, kind, g) in enumerate(ROSTER):
        joined = JOINED[n % len(JOINED)]
        body = {
            "kind": kind,
            "name": name,
            "area_id": grids[g % len(grids)],
            "occurred_at": f"{joined.isoformat()}T10:00:00+08:00",
        }
        keyed = {**headers, HEADER: f"demo-history-volunteer-{n + 1}"}
        deadline = time.monotonic() + wait_s
        while True:
            response = await client.post("/volunteers", json=body, headers=keyed)
            code = response.json().get("error", {}).get("code") if response.content else None
            if code == "area_not_found" and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                continue
            if response.status_code >= 300:
                raise RuntimeError(f"POST /volunteers → {response.status_code}: {response.text}")
            ids.append(str(response.json()["id"]))
            break
    return ids
