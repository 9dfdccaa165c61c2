"""The mediation point's ledgers of the report's period (:mod:`anju_devtools.demo_history`).

``disputes``: :data:`DISPUTES_RESOLVED` disputes resolved, most where they arose — 琐事不出楼栋、
小事不出网格、大事不出社区 (:data:`RESOLVED_AT`): at the building, registered there, or at the
grid, some registered at a building and escalated; at the community, some escalated from a grid
(:data:`ESCALATED`). Not every dispute ends well: :data:`REFERRED` failed and were referred on,
and :data:`STILL_OPEN` came in during the last weeks of the period and are still being worked
on. Parties are the community's residents where the registry knows enough of them, else named
with a contact as the paper ledger writes them.

``petitions``: :data:`PETITIONS_HANDLED` petitions by proxy handled (answered by the department,
or closed unanswered), and :data:`PETITIONS_WAITING` still waiting on their department.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from anju_devtools.demo import GIVEN, SURNAMES, Community
from anju_devtools.demo_calendar import REPORT_TO, after, working_days

RESOLVED_AT = {"building": 13, "grid": 10, "community": 5}
"""The disputes resolved in the period, by the tier they were resolved at."""
ESCALATED = {("building", "grid"): 3, ("grid", "community"): 2}
"""Of those, the ones registered a tier lower and escalated before they were resolved."""
DISPUTES_RESOLVED = sum(RESOLVED_AT.values())
REFERRED = 2
STILL_OPEN = 3

PETITIONS_ANSWERED = 5
PETITIONS_CLOSED = 2
"""Closed by the agent without the department's answer (the petitioner withdrew it)."""
PETITIONS_HANDLED = PETITIONS_ANSWERED + PETITIONS_CLOSED
PETITIONS_WAITING = 2

CASES = {
    "building": (
        ("noise", "楼上夜间噪音扰民", "晚十点后不再发出噪音"),
        ("water_leak", "楼上卫生间漏水到楼下", "一周内修复防水层并赔偿墙面损失"),
        ("shared_space", "楼道堆放杂物", "三日内清理楼道杂物"),
        ("pets", "犬只未牵绳、夜间吠叫", "遛狗牵绳，夜间关好门窗"),
        ("neighbour_conflict", "邻里口角", "双方互相致歉，和睦相处"),
    ),
    "grid": (
        ("parking", "私家车占用消防通道", "车辆停入指定车位"),
        ("other", "空调外机噪音与滴水", "移装空调外机并加装接水管"),
        ("tenancy", "租客与房东押金纠纷", "房东十日内退还押金"),
        ("neighbour_conflict", "楼栋之间公共绿地使用纠纷", "按网格协商方案轮流使用"),
    ),
    "community": (
        ("property_fees", "物业费收费争议", "物业公司公示收费明细，业主按期缴费"),
        ("tenancy", "公租房转租纠纷", "限期解除转租，恢复自住"),
        ("family_elder_care", "子女赡养老人纠纷", "子女按月支付赡养费并轮流照料"),
    ),
}
MEDIATORS = {
    "building": ("gw-demo-{g}", "grid_worker", "网格员"),
    "grid": ("gw-demo-{g}", "grid_worker", "网格员"),
    "community": ("pm-demo-1", "peoples_mediator", "人民调解员"),
}
PLACES = {"building": "on_site", "grid": "fengqiao_hut", "community": "station"}
CHANNELS = ("walk_in", "grid_patrol", "police_point", "hotline_12345", "law_enforcement_point")
PROPERTY_COMPANY = "安居物业服务有限公司"
SLA_DAYS = {"building": 3, "grid": 7, "community": 15}
"""Each tier's SLA (mediation's default). The ledger's disputes move on, or end, before theirs
runs out — a day's margin for a Sunday: a dispute left past it would have been escalated by
mediation's scheduler the moment it learnt of it, and would end a tier higher than the paper
says."""


@dataclass(frozen=True)
class Case:
    starts: str
    ends: str
    fate: str
    """``resolved``, ``referred`` or ``open``."""


def cases() -> list[Case]:
    """Every dispute of the period: where it started, where it stood at its end, and its fate."""
    found = [Case(a, b, "resolved") for (a, b), n in ESCALATED.items() for _ in range(n)]
    for tier, n in RESOLVED_AT.items():
        escalated_to = sum(k for (_, b), k in ESCALATED.items() if b == tier)
        found += [Case(tier, tier, "resolved")] * (n - escalated_to)
    found += [Case("grid", "grid", "referred"), Case("community", "community", "referred")]
    found += [Case(t, t, "open") for t in ("building", "grid", "community")]
    assert len(found) == DISPUTES_RESOLVED + REFERRED + STILL_OPEN
    return found


class Parties:
    """Who the disputes are between: residents the registry knows, else people the ledger
    names with a contact."""

    def __init__(self, rng: random.Random, community: Community) -> None:
        self.rng = rng
        self.community = community
        self.names = {r.id: r.name for r in community.people}

    def residents(self, tier: str, grid: str, building: str | None) -> list[str]:
        if tier == "building" and building is not None:
            return list(self.community.residents.get(building, []))
        if tier == "grid":
            return [
                r
                for b in self.community.buildings.get(grid, [])
                for r in self.community.residents.get(b, [])
            ]
        return [r.id for r in self.community.people]

    def pair(self, tier: str, grid: str, building: str | None, category: str) -> dict[str, str]:
        """The applicant and the respondent of a dispute at ``tier``, as ledger columns."""
        known = self.residents(tier, grid, building)
        chosen: list[str | None] = [*self.rng.sample(known, 2)] if len(known) >= 2 else [None, None]
        applicant = self._party("applicant", chosen[0])
        if category == "property_fees":
            return applicant | {
                "respondent": PROPERTY_COMPANY,
                "respondent_contact": "0571-88886000",
            }
        return applicant | self._party("respondent", chosen[1])

    def _party(self, role: str, resident: str | None) -> dict[str, str]:
        if resident is not None:
            return {role: self.names.get(resident) or "居民", f"{role}_resident_id": resident}
        name = self.rng.choice(SURNAMES) + "".join(self.rng.choice(GIVEN) for _ in range(2))
        return {
            role: name,
            f"{role}_contact": f"1{self.rng.choice('3589')}{self.rng.randrange(10**9):09d}",
        }


def disputes(
    rng: random.Random, community: Community, days: Sequence[tuple[date, float]]
) -> list[dict[str, Any]]:
    """One row per dispute, from its registration to its end, in the order registered."""
    parties = Parties(rng, community)
    plan = cases()
    ending = [c for c in plan if c.fate != "open"]
    weekdays = working_days(days, until=REPORT_TO - timedelta(days=40))
    registered = sorted(rng.sample(weekdays, len(ending)))
    late = working_days(days)[-10:]
    registered += sorted(rng.sample(late, len(plan) - len(ending)))
    rng.shuffle(ending)
    rows = []
    sensitive_done = False
    for n, (case, day) in enumerate(
        zip([*ending, *(c for c in plan if c.fate == "open")], registered, strict=True), 1
    ):
        g = rng.randrange(len(community.grids))
        grid = community.grids[g]
        buildings = community.buildings.get(grid, [])
        building = rng.choice(buildings) if buildings else None
        area = {"building": building or grid, "grid": grid, "community": community.community}[
            case.starts
        ]
        category, description, terms = rng.choice(CASES[case.ends])
        row: dict[str, Any] = {
            "id": f"MD-{n:03d}",
            "registered_on": day.isoformat(),
            "channel": rng.choice(CHANNELS),
            "category": category,
            "description": description,
            "area_id": area,
            **parties.pair(case.starts, grid, building, category),
        }
        if category == "family_elder_care" and not sensitive_done:
            row["sensitive"] = "true"
            sensitive_done = True
        mediator_id, role, name = MEDIATORS[case.ends]
        row |= {"mediator": name, "mediator_id": mediator_id.format(g=g + 1), "mediator_role": role}
        if row["channel"] == "police_point":
            row |= {
                "mediator": "社区民警",
                "mediator_id": "police-demo-1",
                "mediator_role": "police_mediator",
            }
        on = day
        if case.starts != case.ends:
            on = after(on, rng.randint(1, SLA_DAYS[case.starts] - 2))
            row |= {
                "escalated_on": on.isoformat(),
                "escalated_to": case.ends,
                "escalation_reason": "双方分歧较大，提交上一级调解",
            }
        if case.fate == "open":
            session = after(on, 1)
            if rng.random() < 0.5 and session <= REPORT_TO:
                row |= {"session_on": session.isoformat(), "session_place": PLACES[case.ends]}
            rows.append(row)
            continue
        end = after(on, rng.randint(0, SLA_DAYS[case.ends] - 2))
        assert end <= REPORT_TO, "registered early enough to end within the period"
        session = after(on, rng.randint(0, max(0, (end - on).days)))
        session = min(session, end)
        row |= {"session_on": session.isoformat(), "session_place": PLACES[case.ends]}
        if case.fate == "referred":
            target = "police" if case.ends == "grid" else "court"
            row |= {
                "failed_on": end.isoformat(),
                "failure_reason": "被申请人拒绝调解",
                "referred_on": after(end, 1).isoformat(),
                "referred_to": target,
            }
            rows.append(row)
            continue
        row |= {
            "agreed_on": end.isoformat(),
            "terms": terms,
            "resolved_on": end.isoformat(),
            "outcome": "达成调解协议并履行",
        }
        visited = after(end, rng.randint(3, 10))
        if rng.random() < 0.75 and visited <= REPORT_TO:
            score = rng.choices((5, 4, 3), weights=(60, 32, 8))[0]
            row |= {"visited_on": visited.isoformat(), "satisfaction": score}
        rows.append(row)
    return sorted(rows, key=lambda r: (str(r["registered_on"]), str(r["id"])))


SUBJECTS = (
    ("老旧小区加装电梯", "住房和城乡建设局"),
    ("低保资格复核", "民政局"),
    ("拆迁补偿款发放", "街道办事处"),
    ("医保报销进度", "医疗保障局"),
    ("噪音扰民施工", "城市管理局"),
    ("供暖不足", "住房保障中心"),
    ("学位分配", "教育局"),
    ("公租房租金补贴核定", "住房保障中心"),
    ("残疾人护理补贴发放", "残疾人联合会"),
)
ANSWERS = ("已纳入年度改造计划并答复", "经复核符合条件，已恢复发放", "已责令整改并书面答复")


def petitions(
    rng: random.Random, community: Community, days: Sequence[tuple[date, float]]
) -> list[dict[str, Any]]:
    """One row per petition by proxy: filed for a resident, forwarded, and — for most — accepted,
    answered and closed, or closed unanswered; the last ones still wait on their department."""
    residents = [r.id for r in community.people]
    if not residents:
        raise ValueError("petitions by proxy are filed for residents: the community has none")
    handled = sorted(rng.sample(working_days(days, until=date(2024, 9, 30)), PETITIONS_HANDLED))
    waiting = sorted(rng.sample(working_days(days)[-40:-15], PETITIONS_WAITING))
    fates = ["answered"] * PETITIONS_ANSWERED + ["closed"] * PETITIONS_CLOSED
    rng.shuffle(fates)
    fates += ["forwarded", "accepted"][:PETITIONS_WAITING]
    rows = []
    for n, (filed, fate) in enumerate(zip([*handled, *waiting], fates, strict=True), 1):
        subject, department = SUBJECTS[(n - 1) % len(SUBJECTS)]
        forwarded = after(filed, rng.randint(0, 1))
        row: dict[str, Any] = {
            "id": f"XF-{n:02d}",
            "filed_on": filed.isoformat(),
            "resident_id": rng.choice(residents),
            "subject": subject,
            "department": department,
            "forwarded_on": forwarded.isoformat(),
        }
        if fate == "closed":
            row |= {
                "closed_on": after(forwarded, rng.randint(5, 20)).isoformat(),
                "outcome": "当事人撤回，已协调解决",
            }
        elif fate in ("answered", "accepted"):
            accepted = after(forwarded, rng.randint(2, 12))
            row["accepted_on"] = accepted.isoformat()
            if fate == "answered":
                answered = after(accepted, rng.randint(10, 50))
                row |= {
                    "answered_on": answered.isoformat(),
                    "answer": rng.choice(ANSWERS),
                    "closed_on": after(answered, rng.randint(1, 5)).isoformat(),
                    "outcome": "已办结，当事人认可",
                }
        rows.append(row)
    return rows
