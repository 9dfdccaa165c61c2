"""``anju demo``: a small, believable community, loaded through the registry's HTTP API.

One community, four grids, three buildings per grid, twelve units per building, a few hundred
residents in households, special-group flags with tiers, and some follow-up visits. Everything
goes through the same commands a UI would send, so the demo exercises the whole pipeline.
"""

from __future__ import annotations

import asyncio
import random
from datetime import date, timedelta
from typing import Any

import httpx

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "秀英桂兰玉兰淑珍凤英建国建华志强海燕丽娟文军红梅晓明俊杰子涵雨萱浩然欣怡宇轩思远佳怡"
REGIONS = ("330106", "330105", "330102", "331002", "341202")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"


def id_number(rng: random.Random, born: date, sex: str) -> str:
    """A syntactically valid 18-character resident ID number (region, birth date, check digit)."""
    serial = rng.randrange(0, 500) * 2 + (1 if sex == "male" else 0)
    body = f"{rng.choice(REGIONS)}{born:%Y%m%d}{serial:03d}"
    return body + CHECK[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


def person(rng: random.Random, *, min_age: int, max_age: int) -> dict[str, Any]:
    sex = rng.choice(("female", "male"))
    born = date.today() - timedelta(days=rng.randint(min_age * 365 + 1, max_age * 365 - 1))
    given = "".join(rng.choice(GIVEN) for _ in range(rng.choice((1, 2))))
    return {
        "name": rng.choice(SURNAMES) + given,
        "sex": sex,
        "date_of_birth": born.isoformat(),
        "id_number": id_number(rng, born, sex),
        "phone": f"1{rng.choice('3589')}{rng.randrange(10**9):09d}",
    }


class Loader:
    def __init__(self, client: httpx.AsyncClient, parallel: int = 8) -> None:
        self.client = client
        self.gate = asyncio.Semaphore(parallel)
        self.sent = 0

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.gate:
            response = await self.client.post(path, json=body)
        self.sent += 1
        if response.status_code >= 300:
            raise RuntimeError(f"POST {path} → {response.status_code}: {response.text}")
        result: dict[str, Any] = response.json()
        return result


async def load(registry: str, token: str, *, seed: int = 2026, residents: int = 300) -> int:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=registry, headers=headers, timeout=30) as client:
        try:
            await client.get("/healthz")
        except httpx.HTTPError as error:
            print(f"anju demo: the registry at {registry} does not answer ({error}); `make run`?")
            return 2
        api = Loader(client)
        community = (await api.post("/areas", {"kind": "community", "name": "安居社区"}))["id"]
        grids = [
            (
                await api.post(
                    "/areas", {"kind": "grid", "name": f"第{i}网格", "parent_id": community}
                )
            )["id"]
            for i in range(1, 5)
        ]
        buildings = await asyncio.gather(
            *[
                api.post(
                    "/areas",
                    {"kind": "building", "name": f"{g * 3 + b + 1}幢", "parent_id": grid},
                )
                for g, grid in enumerate(grids)
                for b in range(3)
            ]
        )
        units: list[str] = []
        for building in buildings:
            created = await asyncio.gather(
                *[
                    api.post(
                        "/areas",
                        {
                            "kind": "unit",
                            "name": f"{floor}0{door}室",
                            "parent_id": building["id"],
                        },
                    )
                    for floor in range(1, 7)
                    for door in (1, 2)
                ]
            )
            units += [u["id"] for u in created]
        rng.shuffle(units)

        people = 0
        elderly: list[str] = []
        others: list[str] = []
        for unit in units:
            if people >= residents:
                break
            size = rng.choice((1, 1, 2, 2, 2, 3, 3, 4))
            old = size == 1 and rng.random() < 0.5
            head = person(rng, min_age=66 if old else 28, max_age=92 if old else 70)
            head_id = (await api.post("/residents", {**head, "unit_id": unit}))["id"]
            household = (
                await api.post("/households", {"unit_id": unit, "head_resident_id": head_id})
            )["id"]
            people += 1
            (elderly if old else others).append(head_id)
            for _ in range(size - 1):
                relation = rng.choice(("spouse", "child", "child", "parent"))
                ages = {"spouse": (28, 75), "child": (1, 27), "parent": (60, 95)}[relation]
                member = person(rng, min_age=ages[0], max_age=ages[1])
                member_id = (await api.post("/residents", {**member, "unit_id": unit}))["id"]
                await api.post(
                    f"/households/{household}/members",
                    {"resident_id": member_id, "relation": relation},
                )
                others.append(member_id)
                people += 1

        flagged = []
        for resident in elderly:
            tier = rng.choice(("red", "yellow", "yellow", "blue"))
            await api.post(f"/residents/{resident}/flags", {"flag": "elderly_alone", "tier": tier})
            flagged.append(resident)
        for flag, share in (("disability", 0.03), ("low_income", 0.04), ("mental_disorder", 0.015)):
            for resident in rng.sample(others, max(1, int(len(others) * share))):
                tier = rng.choice(("red", "yellow", "blue"))
                await api.post(f"/residents/{resident}/flags", {"flag": flag, "tier": tier})
                flagged.append(resident)
        for resident in rng.sample(flagged, len(flagged) // 2):
            await api.post(
                f"/residents/{resident}/visits",
                {
                    "findings": rng.choice(
                        ("身体状况稳定", "独居，情绪良好", "腿脚不便，需代买药品", "家中水管漏水")
                    ),
                    "actions": rng.choice(("电话随访", "上门查看", "联系物业维修")),
                    "errands": rng.choice(([], ["代缴水电费"], ["代办医保报销"])),
                },
            )
        print(
            f"demo community loaded: 1 community, {len(grids)} grids, {len(buildings)} buildings,"
            f" {len(units)} units, {people} residents, {len(flagged)} flags"
            f" ({api.sent} commands)"
        )
    return 0
