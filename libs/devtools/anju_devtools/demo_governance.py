"""``anju demo``, governance: a year of the community's meetings and their work list, through
governance's HTTP API.

As the community's director (the convener), the demo records the last twelve monthly joint
party-building meetings (党建联席会) with the partner organisations and a Fengqiao-hut meeting
(枫桥小屋) every other month, their minutes (confirmed, but for the latest) and decisions, and
schedules next month's joint meeting. Each decision becomes a work item owned by a partner (the
property company, the housing security centre, the police station, the paired unit), some with
co-organisations; the owners' liaisons sign for them and report, a grid worker verifies (never
the owner), the director closes. The items end up in every state the board shows:

- closed, after verification (one of them failing its first verification);
- closed, then reopened within the window when the problem came back;
- still open with their deadline passed: late — red once governance's scheduler fires;
- open with the deadline a few days off (yellow), or comfortably ahead.

Events carry today's timestamps (business time is a later issue): the meetings' dates are in the
past and the items' deadlines relative to now, so the late ones are late today.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from anju_devtools.demo import Community, Loader, Sign, SignLiaison

OWNERS = ("property", "housing", "police", "paired")
"""The partner organisations (keys of the volunteering demo's) that own work items."""

JOINT_DECISIONS = (
    ("修复3幢屋顶渗漏", "property", ("housing",)),
    ("规范电动车集中充电", "property", ("police",)),
    ("清理楼道堆放杂物", "property", ()),
    ("公租房资格年审上门服务", "housing", ()),
    ("夜间巡逻增加一班", "police", ("paired",)),
    ("为独居老人安装烟感报警器", "paired", ("property",)),
    ("修补小区东门道路", "housing", ("property",)),
    ("加装单元门禁", "property", ("police",)),
)
HUT_DECISIONS = (
    ("调解停车位纠纷后的划线", "property", ()),
    ("噪音扰民楼栋公约", "paired", ("police",)),
    ("宠物管理宣传", "property", ()),
)


@dataclass
class GovernanceDone:
    meetings: int = 0
    items: dict[str, list[str]] = field(default_factory=dict)
    """Items by what became of them: closed, reopened, late, near, open."""


async def _send(api: Loader, path: str, body: dict[str, Any], token: str) -> dict[str, Any]:
    """POST as the holder of ``token``, retrying while governance has not yet learnt an area or
    organisation the command names."""
    return await api.post_when_known(
        path,
        body,
        headers={"Authorization": f"Bearer {token}"},
        unknown=("area_not_found", "organisation_not_found"),
    )


async def load_governance(
    api: Loader,
    rng: random.Random,
    community: Community,
    organisations: dict[str, str],
    *,
    sign: Sign,
    sign_liaison: SignLiaison,
    now: datetime | None = None,
) -> GovernanceDone:
    """The year of meetings and items; ``organisations`` maps the volunteering demo's keys to
    the registry's ids."""
    now = now or datetime.now(UTC)
    areas = [community.community]
    director = sign("director-wang", ["director"], areas)
    verifier = sign("grid-worker-li", ["grid_worker"], areas)
    liaisons = {key: sign_liaison(f"liaison-{key}", areas, [organisations[key]]) for key in OWNERS}
    done = GovernanceDone()
    present = [organisations[k] for k in OWNERS]

    async def meeting(kind: str, title: str, held_on: date, agenda: list[str]) -> str:
        answer = await _send(
            api,
            "/meetings",
            {
                "kind": kind,
                "title": title,
                "area_id": community.community,
                "held_on": held_on.isoformat(),
                "place": "社区党群服务中心" if kind == "joint_party_building" else "枫桥小屋",
                "organisation_ids": present if kind == "joint_party_building" else present[:2],
                "attendees": ["王主任", "社区民警", "物业项目经理"],
                "agenda": agenda,
            },
            director,
        )
        done.meetings += 1
        return str(answer["id"])

    async def item(
        meeting_id: str, text: str, owner: str, co: tuple[str, ...], deadline: datetime
    ) -> str:
        decision = await _send(api, f"/meetings/{meeting_id}/decisions", {"text": text}, director)
        answer = await _send(
            api,
            f"/meetings/{meeting_id}/decisions/{decision['sub_id']}/items",
            {
                "title": text,
                "owner_organisation_id": organisations[owner],
                "co_organisation_ids": [organisations[c] for c in co],
                "responsible": f"{owner}-负责人",
                "deadline": deadline.isoformat(),
                "priority": rng.choice(["normal", "normal", "high", "urgent"]),
            },
            director,
        )
        return str(answer["id"])

    async def work(item_id: str, owner: str, fate: str) -> None:
        liaison = liaisons[owner]
        await _send(api, f"/items/{item_id}/receipt", {}, liaison)
        if fate in ("late", "near", "open"):
            if fate != "open":
                await _send(api, f"/items/{item_id}/progress", {"note": "已安排施工"}, liaison)
            return
        await _send(api, f"/items/{item_id}/completion", {"summary": "已整改完毕"}, liaison)
        if fate == "failed_once":
            await _send(
                api,
                f"/items/{item_id}/verification-failure",
                {"reason": "现场未整改到位"},
                verifier,
            )
            await _send(api, f"/items/{item_id}/completion", {"summary": "返工完成"}, liaison)
        await _send(api, f"/items/{item_id}/verification", {"note": "现场验收合格"}, verifier)
        await _send(api, f"/items/{item_id}/closing", {}, director)
        if fate == "reopened":
            await _send(
                api,
                f"/items/{item_id}/reopening",
                {"reason": "问题复发", "deadline": (now + timedelta(days=14)).isoformat()},
                director,
            )

    async def month(k: int) -> None:
        """The joint meeting ``k`` months ago (and a Fengqiao-hut meeting every other month)."""
        held_on = (now - timedelta(days=30 * k + 3)).date()
        meeting_id = await meeting(
            "joint_party_building",
            f"{held_on:%Y年%m月}党建联席会",
            held_on,
            ["上月工作清单销号情况", "本月重点难点问题"],
        )
        text, owner, co = JOINT_DECISIONS[k % len(JOINT_DECISIONS)]
        # older items are mostly done; the latest months' are still being worked on
        if k >= 4:
            fate = rng.choice(["closed", "closed", "failed_once", "reopened", "late"])
            deadline = now - timedelta(days=30 * k - 40)
        elif k >= 1:
            fate = "late" if k == 1 else "near"
            deadline = now + timedelta(days=2) if fate == "near" else now - timedelta(days=5)
        else:
            fate, deadline = "open", now + timedelta(days=45)
        item_id = await item(meeting_id, text, owner, co, deadline)
        await work(item_id, owner, fate)
        done.items.setdefault(fate, []).append(item_id)
        if k > 0:
            await _send(
                api,
                f"/meetings/{meeting_id}/minutes",
                {"minutes": f"会议议定：{text}，由{owner}牵头，限期整改。"},
                director,
            )
            await _send(api, f"/meetings/{meeting_id}/minutes/confirmation", {}, director)
        if k % 2 == 0 and k < 11:
            hut_day = held_on - timedelta(days=10)
            hut = await meeting("fengqiao_hut", "枫桥小屋微治理议事", hut_day, ["楼栋热点问题"])
            hut_text, hut_owner, hut_co = HUT_DECISIONS[k // 2 % len(HUT_DECISIONS)]
            hut_fate = "closed" if k >= 4 else "open"
            hut_deadline = (
                now + timedelta(days=20)
                if hut_fate == "open"
                else now - timedelta(days=30 * k - 50)
            )
            hut_item = await item(hut, hut_text, hut_owner, hut_co, hut_deadline)
            await work(hut_item, hut_owner, hut_fate)
            done.items.setdefault(hut_fate, []).append(hut_item)

    # a month at a time keeps the director's meetings in order; the months run side by side
    await asyncio.gather(*[month(k) for k in range(12)])
    await _send(
        api,
        "/meetings",
        {
            "kind": "joint_party_building",
            "title": "下月党建联席会",
            "area_id": community.community,
            "scheduled_for": (now + timedelta(days=27)).isoformat(),
            "organisation_ids": present,
            "agenda": ["工作清单督办情况"],
        },
        director,
    )
    done.meetings += 1
    return done


def summary(done: GovernanceDone) -> str:
    count = {fate: len(ids) for fate, ids in done.items.items()}
    closed = count.get("closed", 0) + count.get("failed_once", 0)
    return (
        f"demo governance loaded: {done.meetings} meetings (a year of monthly joint meetings and"
        f" Fengqiao-hut meetings, next month's scheduled), {sum(count.values())} work items:"
        f" {closed} closed ({count.get('failed_once', 0)} after a failed verification),"
        f" {count.get('reopened', 0)} reopened, {count.get('late', 0)} late (red),"
        f" {count.get('near', 0)} due within days (yellow), {count.get('open', 0)} open"
    )
