"""``anju demo``: a small, believable community, loaded through the registry's HTTP API.

One community, four grids, three buildings per grid, twelve units per building, a few hundred
residents in households, special-group flags with tiers, and some follow-up visits. Everything
goes through the same commands a UI would send, so the demo exercises the whole pipeline.

When the mediation service answers, the demo also loads its side through mediation's HTTP API:
conflict signals, 28 disputes across tiers and categories (some resolved with agreements and
return visits, some escalated, some referred, one sensitive) and 7 petitions by proxy.

Loading twice does not duplicate anything: the registry refuses a second resident with the same
ID number, so a 409 on the demo's first resident means the community is already there.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from dataclasses import dataclass, field
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


class AlreadyLoaded(Exception):
    """The registry already holds the demo's first resident: the demo ran before."""

    def __init__(self, resident_id: str) -> None:
        super().__init__(resident_id)
        self.resident_id = resident_id


class Loader:
    def __init__(self, client: httpx.AsyncClient, parallel: int = 8) -> None:
        self.client = client
        self.gate = asyncio.Semaphore(parallel)
        self.sent = 0

    async def send(self, path: str, body: dict[str, Any]) -> httpx.Response:
        async with self.gate:
            response = await self.client.post(path, json=body)
        self.sent += 1
        return response

    async def post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        response = await self.send(path, body)
        if response.status_code >= 300:
            raise RuntimeError(f"POST {path} → {response.status_code}: {response.text}")
        result: dict[str, Any] = response.json()
        return result

    async def post_when_known(
        self, path: str, body: dict[str, Any], *, wait_s: float = 60.0
    ) -> dict[str, Any]:
        """POST to mediation, retrying while it has not yet learned the registry's areas and
        residents (it learns them from the registry's events, a moment after they happen)."""
        deadline = time.monotonic() + wait_s
        while True:
            response = await self.send(path, body)
            code = _error_code(response)
            if code in ("area_not_found", "unknown_resident") and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                continue
            if response.status_code >= 300:
                raise RuntimeError(f"POST {path} → {response.status_code}: {response.text}")
            result: dict[str, Any] = response.json()
            return result


def _error_code(response: httpx.Response) -> str | None:
    if response.status_code < 300:
        return None
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return str(code)


@dataclass
class Community:
    """What the registry part loaded, as the mediation part needs it."""

    community: str
    grids: list[str]
    buildings: dict[str, list[str]] = field(default_factory=dict)  # grid → its buildings
    residents: dict[str, list[str]] = field(default_factory=dict)  # building → residents


async def answers(client: httpx.AsyncClient) -> bool:
    try:
        response = await client.get("/healthz")
    except httpx.HTTPError:
        return False
    return response.status_code < 500


async def load(
    registry: str,
    token: str,
    *,
    seed: int = 2026,
    residents: int = 300,
    mediation: str | None = "http://127.0.0.1:8102",
) -> int:
    rng = random.Random(seed)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(base_url=registry, headers=headers, timeout=30) as client:
        try:
            await client.get("/healthz")
        except httpx.HTTPError as error:
            print(f"anju demo: the registry at {registry} does not answer ({error}); `make run`?")
            return 2
        api = Loader(client)
        try:
            loaded = await load_registry(api, rng, residents=residents)
        except AlreadyLoaded as already:
            print(
                "anju demo: the demo community is already loaded (the registry knows its first"
                f" resident, {already.resident_id}); nothing to do."
            )
            return 0
    if mediation is None:
        return 0
    async with httpx.AsyncClient(base_url=mediation, headers=headers, timeout=30) as client:
        if not await answers(client):
            print(
                f"anju demo: the mediation service at {mediation} does not answer;"
                " skipping signals, disputes and petitions."
            )
            return 0
        await load_mediation(Loader(client, parallel=4), rng, loaded)
    return 0


async def load_registry(api: Loader, rng: random.Random, *, residents: int) -> Community:
    """The community, its areas, residents in households, flags and visits.

    The first resident is registered as soon as there is a unit for them: on a second run the
    registry refuses their ID number (409) and nothing more is created.
    """
    community = (await api.post("/areas", {"kind": "community", "name": "安居社区"}))["id"]
    grids: list[str] = []
    loaded = Community(community, grids)
    unit_place: dict[str, tuple[str, str]] = {}  # unit → (grid, building)
    first_head: tuple[str, str] | None = None  # (unit, resident)
    for g in range(4):
        grid = (
            await api.post(
                "/areas", {"kind": "grid", "name": f"第{g + 1}网格", "parent_id": community}
            )
        )["id"]
        grids.append(grid)
        loaded.buildings[grid] = []
        for b in range(3):
            building = (
                await api.post(
                    "/areas",
                    {"kind": "building", "name": f"{g * 3 + b + 1}幢", "parent_id": grid},
                )
            )["id"]
            loaded.buildings[grid].append(building)
            loaded.residents[building] = []
            floors = [(floor, door) for floor in range(1, 7) for door in (1, 2)]
            if first_head is None:
                floor, door = floors.pop(0)
                unit = (
                    await api.post(
                        "/areas",
                        {"kind": "unit", "name": f"{floor}0{door}室", "parent_id": building},
                    )
                )["id"]
                unit_place[unit] = (grid, building)
                head = person(rng, min_age=28, max_age=70)
                response = await api.send("/residents", {**head, "unit_id": unit})
                if response.status_code == 409:
                    existing = response.json()["error"].get("details", {}).get("resident_id", "?")
                    raise AlreadyLoaded(str(existing))
                if response.status_code >= 300:
                    raise RuntimeError(f"POST /residents → {response.status_code}: {response.text}")
                first_head = (unit, response.json()["id"])
            created = await asyncio.gather(
                *[
                    api.post(
                        "/areas",
                        {"kind": "unit", "name": f"{floor}0{door}室", "parent_id": building},
                    )
                    for floor, door in floors
                ]
            )
            for u in created:
                unit_place[u["id"]] = (grid, building)
    assert first_head is not None
    units = [u for u in unit_place if u != first_head[0]]
    rng.shuffle(units)
    units.insert(0, first_head[0])

    people = 0
    elderly: list[str] = []
    others: list[str] = []
    for unit in units:
        if people >= residents:
            break
        building = unit_place[unit][1]
        size = rng.choice((1, 1, 2, 2, 2, 3, 3, 4))
        old = size == 1 and rng.random() < 0.5
        if unit == first_head[0]:
            head_id, old = first_head[1], False
        else:
            head = person(rng, min_age=66 if old else 28, max_age=92 if old else 70)
            head_id = (await api.post("/residents", {**head, "unit_id": unit}))["id"]
        household = (await api.post("/households", {"unit_id": unit, "head_resident_id": head_id}))[
            "id"
        ]
        people += 1
        loaded.residents[building].append(head_id)
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
            loaded.residents[building].append(member_id)
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
    buildings = sum(len(b) for b in loaded.buildings.values())
    print(
        f"demo community loaded: 1 community, {len(grids)} grids, {buildings} buildings,"
        f" {len(unit_place)} units, {people} residents, {len(flagged)} flags"
        f" ({api.sent} commands)"
    )
    return loaded


CATEGORIES = (
    ("noise", "楼上夜间噪音扰民"),
    ("water_leak", "楼上卫生间漏水到楼下"),
    ("parking", "私家车占用消防通道"),
    ("shared_space", "楼道堆放杂物"),
    ("pets", "犬只未牵绳、夜间吠叫"),
    ("property_fees", "物业费收费争议"),
    ("tenancy", "租客与房东押金纠纷"),
    ("neighbour_conflict", "邻里口角"),
    ("other", "空调外机噪音与滴水"),
)
PLACES = ("fengqiao_hut", "police_point", "station", "on_site")
MEDIATORS = (
    ("gw-demo-{g}", "grid_worker", "网格员"),
    ("pm-demo-1", "peoples_mediator", "人民调解员"),
    ("police-demo-1", "police_mediator", "社区民警"),
)


async def load_mediation(api: Loader, rng: random.Random, c: Community) -> None:
    """Signals, disputes at every tier with their work and outcomes, petitions by proxy."""
    by_building = [(g, b) for g in c.grids for b in c.buildings[g] if len(c.residents[b]) >= 2]
    if not by_building:
        print("anju demo: too few residents for mediation data; skipping it.")
        return

    def two_neighbours() -> tuple[str, str, str, str]:
        grid, building = rng.choice(by_building)
        a, b = rng.sample(c.residents[building], 2)
        return grid, building, a, b

    # conflict signals: spotted on patrol (未诉先办); some dismissed, some become disputes
    signals: list[tuple[str, str, str, str, str]] = []
    for i in range(8):
        grid, building, a, b = two_neighbours()
        category, text = CATEGORIES[i % len(CATEGORIES)]
        signal = await api.post_when_known(
            "/signals",
            {
                "reporter_role": ("grid_worker", "building_lead", "volunteer_police")[i % 3],
                "area_id": building,
                "category": category,
                "description": text,
                "involved_resident_ids": [a, b],
            },
        )
        signals.append((signal["id"], grid, building, a, b))
    for signal_id, *_ in signals[5:]:
        await api.post(f"/signals/{signal_id}/dismissal", {"reason": "现场查看已自行化解"})

    tiers = ["building"] * 12 + ["grid"] * 9 + ["community"] * 5 + ["external"] * 2
    disputes = {"resolved": 0, "escalated": 0, "referred": 0, "open": 0, "sensitive": 0}
    for i, tier in enumerate(tiers):
        grid, building, a, b = two_neighbours()
        category, text = CATEGORIES[i % len(CATEGORIES)]
        sensitive = i == 13
        if sensitive:
            category, text = "family_elder_care", "子女赡养老人纠纷"
        pa, pb = str(uuid.uuid4()), str(uuid.uuid4())
        parties = [
            {"role": "applicant", "resident_id": a, "party_id": pa},
            (
                {"role": "respondent", "resident_id": b, "party_id": pb}
                if i % 5
                else {
                    "role": "respondent",
                    "name": "物业公司",
                    "contact": "0571-8888" + f"{i:04d}",
                    "party_id": pb,
                }
            ),
        ]
        area = {"building": building, "grid": grid, "community": c.community}.get(tier, grid)
        if i < 3:  # the first signals become disputes
            signal_id = signals[i][0]
            grid, building, a, b = signals[i][1:]
            parties = [
                {"role": "applicant", "resident_id": a, "party_id": pa},
                {"role": "respondent", "resident_id": b, "party_id": pb},
            ]
            dispute = (await api.post(f"/signals/{signal_id}/dispute", {"parties": parties}))["id"]
        else:
            body: dict[str, Any] = {
                "channel": (
                    "walk_in",
                    "grid_patrol",
                    "police_point",
                    "hotline_12345",
                    "law_enforcement_point",
                )[i % 5],
                "category": category,
                "description": text,
                "area_id": area,
                "parties": parties,
                "sensitivity": "sensitive" if sensitive else "standard",
            }
            if tier == "external":
                body["tier"] = "external"
            dispute = (await api.post_when_known("/disputes", body))["id"]
        base = f"/disputes/{dispute}"
        mediator_id, role, name = MEDIATORS[i % len(MEDIATORS)]
        mediator_id = mediator_id.format(g=c.grids.index(grid) + 1)
        await api.post(
            f"{base}/mediators", {"mediator_id": mediator_id, "role": role, "name": name}
        )
        disputes["sensitive"] += sensitive
        if i % 4 == 3:  # still being worked on
            disputes["open"] += 1
            continue
        if i % 7 == 2 and tier in ("building", "grid"):
            await api.post(f"{base}/escalations", {"reason": "双方分歧较大，提交上一级调解"})
            disputes["escalated"] += 1
        await api.post(
            f"{base}/sessions/held",
            {
                "place": PLACES[i % len(PLACES)],
                "attendees": [mediator_id, "申请人", "被申请人"],
                "minutes": "双方陈述事实，调解员释法说理",
            },
        )
        if i % 9 == 5:  # mediation failed: referred on
            await api.post(f"{base}/failure", {"reason": "被申请人拒绝调解"})
            await api.post(f"{base}/referrals", {"to": "police", "note": "移交派出所处理"})
            disputes["referred"] += 1
            continue
        await api.post(
            f"{base}/agreement",
            {"terms": [{"party_id": pb, "action": "一周内整改到位"}], "confirmed_by": [pa, pb]},
        )
        await api.post(f"{base}/agreement/follow-ups", {"carried_out": i % 6 != 1})
        await api.post(
            f"{base}/return-visits",
            {
                "satisfaction": [
                    {"party_id": pa, "score": rng.choice((4, 5, 5))},
                    {"party_id": pb, "score": rng.choice((3, 4, 5))},
                ]
            },
        )
        await api.post(f"{base}/resolution", {"outcome": "达成调解协议并履行"})
        disputes["resolved"] += 1

    petitions = 0
    subjects = (
        ("老旧小区加装电梯", "住房和城乡建设局"),
        ("低保资格复核", "民政局"),
        ("拆迁补偿款发放", "街道办事处"),
        ("医保报销进度", "医疗保障局"),
        ("噪音扰民施工", "城市管理局"),
        ("供暖不足", "住房保障中心"),
        ("学位分配", "教育局"),
    )
    for i, (subject, department) in enumerate(subjects):
        grid, building, a, _ = two_neighbours()
        petition = (
            await api.post_when_known(
                "/petitions", {"resident_id": a, "subject": subject, "department": department}
            )
        )["id"]
        base = f"/petitions/{petition}"
        if i < 6:
            await api.post(f"{base}/forwarding", {})
        if i < 5:
            await api.post(f"{base}/acceptance", {})
        if i < 4:
            await api.post(f"{base}/answer", {"answer": "已受理并答复"})
            await api.post(f"{base}/closing", {"outcome": "已办结，当事人认可"})
        petitions += 1
    print(
        f"demo mediation loaded: {len(signals)} signals, {len(tiers)} disputes"
        f" ({disputes['resolved']} resolved, {disputes['escalated']} escalated,"
        f" {disputes['referred']} referred, {disputes['open']} open,"
        f" {disputes['sensitive']} sensitive), {petitions} petitions ({api.sent} commands)"
    )
