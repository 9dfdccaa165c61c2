"""``anju demo``: a small, believable community, loaded through the registry's HTTP API.

One community, four grids, three buildings per grid, twelve units per building, a few hundred
residents in households, special-group flags with tiers, and some follow-up visits. Everything
goes through the same commands a UI would send, so the demo exercises the whole pipeline.

Public-rental estates skew old: about one resident in six is 65 or over (old people living
alone, old couples, parents living with their children), born relative to today.

When the mediation service answers, the demo also loads its side through mediation's HTTP API:
conflict signals, 28 disputes across tiers and categories (some resolved with agreements and
return visits, some escalated, some referred, one sensitive) and 7 petitions by proxy.

When the health service answers, the demo loads health through its HTTP API
(:mod:`anju_devtools.demo_health`): the over-65s' check-ups this year, family doctors, a few
hypertension and diabetes patients, and the station's 16 health activities; the query service
then reads the coverage and the activities back for the summary.

When the volunteering service answers, the demo loads volunteering through its HTTP API and
the registry's (:mod:`anju_devtools.demo_volunteering`): partner organisations, volunteers of
every kind, teams, the elders' monthly cleaning and other requests worked and delivered, upcoming
activities with sign-ups, hours approved and certificates; the query service reads the figures
back.

When the station answers, the demo loads the desk's recent weeks as of today through the
station's HTTP API (:mod:`anju_devtools.demo_station`): 400 receptions, 150 convenience services
of every catalogue type in every state (one-time notices, hand-offs to the agencies of record,
refusals, callbacks; the elderly window's bill help), a residence certificate for each completed
request of one (two revoked), lectures and two opinion-gathering sessions held on past days with
their opinions answered or referred to mediation, and the duty roster of the next 14 days; the
query service reads the receptions per week and the services back, and mediation shows the
conflict signals it reported for the referred opinions.

When the governance service answers (and the volunteering part registered the partner
organisations), the demo loads a year of meetings and their work list through governance's HTTP
API (:mod:`anju_devtools.demo_governance`): monthly joint meetings and Fengqiao-hut meetings,
items closed, reopened, late and due soon.

Last, once every service is loaded, the community's history since the station opened in May 2023
is imported as its paper ledgers, each fact with the day it happened, by the staff who keep them
(:mod:`anju_devtools.demo_history`): the desk's receptions, services and lectures, the mediation
point's disputes and petitions, the health station's activities and the volunteers' hours. The
dashboard for the report's period (2023-05-01 – 2024-12-31) shows the report's figures — 3,186
receptions, 56 lectures, 2,946 convenience services, 28 disputes resolved, 7 petitions handled by
proxy, 16 health activities — and the volunteers' approved hours. ``--no-history`` leaves it out.

Loading twice does not duplicate anything: the registry refuses a second resident with the same
ID number, so a 409 on the demo's first resident means the community is already there.
"""

from __future__ import annotations

import asyncio
import random
import time
import uuid
from collections.abc import Callable, Iterable, Sequence
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘"
GIVEN = "秀英桂兰玉兰淑珍凤英建国建华志强海燕丽娟文军红梅晓明俊杰子涵雨萱浩然欣怡宇轩思远佳怡"
REGIONS = ("330106", "330105", "330102", "331002", "341202")
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK = "10X98765432"
Sign = Callable[[str, Sequence[str], Sequence[str]], str]
"""Issues a bearer token for ``(sub, roles, areas)``."""
SignLiaison = Callable[[str, Sequence[str], Sequence[str]], str]
"""Issues a partner liaison's bearer token for ``(sub, areas, organisations)``."""
CONFLICT_TRIES = 5
"""How often a command is sent while the record it acts on moves on under it (409 ``conflict``)."""
AGED_SHARE = 0.17
"""About this share of the residents are 65 or over: public-rental estates skew old."""


def id_number(rng: random.Random, born: date, sex: str) -> str:
    """A syntactically valid 18-character resident ID number (region, birth date, check digit)."""
    serial = rng.randrange(0, 500) * 2 + (1 if sex == "male" else 0)
    body = f"{rng.choice(REGIONS)}{born:%Y%m%d}{serial:03d}"
    return body + CHECK[sum(int(c) * w for c, w in zip(body, WEIGHTS, strict=True)) % 11]


def age_of(born: date, on: date) -> int:
    """Completed years on ``on``."""
    return on.year - born.year - ((on.month, on.day) < (born.month, born.day))


def member_ages(relation: str, head_age: int) -> tuple[int, int]:
    """The age range of a household member, given the head's age."""
    if relation == "spouse":
        return max(20, head_age - 5), min(95, head_age + 6)
    if relation == "child":
        return max(0, head_age - 45), max(1, min(head_age - 20, 40))
    return head_age + 22, min(head_age + 35, 99)  # a parent


def relations(head_age: int) -> tuple[str, ...]:
    """Who may live with a head of household of this age (parents only with younger heads)."""
    if head_age <= 50:
        return ("spouse", "child", "child", "parent")
    return ("spouse", "child", "child")


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

    async def send(
        self,
        path: str,
        body: dict[str, Any],
        *,
        method: str = "POST",
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        for _ in range(CONFLICT_TRIES):
            async with self.gate:
                response = await self.client.request(method, path, json=body, headers=headers)
            self.sent += 1
            if not _moved(response):
                break
            # the record changed while the command was decided (a service's own work on it, a
            # scheduler's deadline): nothing was written, and the answer says to try again
            await asyncio.sleep(0.2)
        return response

    async def post(
        self,
        path: str,
        body: dict[str, Any],
        *,
        method: str = "POST",
        headers: dict[str, str] | None = None,
    ) -> dict[str, Any]:
        response = await self.send(path, body, method=method, headers=headers)
        if response.status_code >= 300:
            raise RuntimeError(f"{method} {path} → {response.status_code}: {response.text}")
        result: dict[str, Any] = response.json()
        return result

    async def caught_up(
        self,
        path: str,
        tokens: Iterable[str],
        *,
        headers: dict[str, str] | None = None,
        wait_s: float = 120.0,
    ) -> None:
        """Return once the query service has caught up with every write the consistency
        ``tokens`` name, read at ``path`` (a page of one); fail after ``wait_s`` seconds."""
        deadline = asyncio.get_running_loop().time() + wait_s

        async def one(token: str) -> None:
            while True:
                async with self.gate:
                    response = await self.client.get(
                        path,
                        params={"limit": 1},
                        headers={**(headers or {}), "X-Consistency-Token": token},
                    )
                if response.status_code >= 300:
                    raise RuntimeError(f"GET {path} → {response.status_code}: {response.text}")
                if response.headers.get("x-consistency") == "fresh":
                    return
                if asyncio.get_running_loop().time() > deadline:
                    raise RuntimeError(f"the query service has not caught up with {token}")

        await asyncio.gather(*[one(token) for token in tokens])

    async def post_after(
        self,
        path: str,
        body: dict[str, Any],
        *,
        after: str,
        method: str = "POST",
        headers: dict[str, str] | None = None,
        wait_s: float = 120.0,
        until_found: bool = False,
    ) -> dict[str, Any]:
        """Send a command that decides on another service's write, named by its consistency
        token ``after``: the service waits until it has learnt that write (or answers 503
        ``consistency_timeout``, and the command is sent again). With ``until_found``, a
        record the service makes a moment after learning the write (a month's cleaning, when
        the flag came before the resident's registration) is waited for too."""
        deadline = time.monotonic() + wait_s
        headers = {**(headers or {}), "X-Consistency-Token": after}
        while True:
            response = await self.send(path, body, method=method, headers=headers)
            code = _error_code(response)
            if code == "consistency_timeout" and time.monotonic() < deadline:
                continue
            if until_found and response.status_code == 404 and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                continue
            if response.status_code >= 300:
                raise RuntimeError(f"{method} {path} → {response.status_code}: {response.text}")
            result: dict[str, Any] = response.json()
            return result

    async def post_when_known(
        self,
        path: str,
        body: dict[str, Any],
        *,
        wait_s: float = 60.0,
        headers: dict[str, str] | None = None,
        unknown: tuple[str, ...] = ("area_not_found", "unknown_resident"),
    ) -> dict[str, Any]:
        """POST to a service that learns the registry's records from its events (mediation,
        governance), retrying while it has not yet learnt those the command names (the error
        codes ``unknown``): it learns them a moment after they happen."""
        deadline = time.monotonic() + wait_s
        while True:
            response = await self.send(path, body, headers=headers)
            code = _error_code(response)
            if code in unknown and time.monotonic() < deadline:
                await asyncio.sleep(0.5)
                continue
            if response.status_code >= 300:
                raise RuntimeError(f"POST {path} → {response.status_code}: {response.text}")
            result: dict[str, Any] = response.json()
            return result


def _moved(response: httpx.Response) -> bool:
    """A 409 answering that the record moved on while the command was decided, or that
    PostgreSQL rolled the command back against a concurrent write (the service's own work, a
    scheduler's deadline on the same record): nothing was written, and it may be sent again."""
    if response.status_code != 409 or _error_code(response) != "conflict":
        return False
    details = response.json()["error"].get("details") or {}
    return "stream" in details or "nothing was written" in response.json()["error"]["message"]


def _error_code(response: httpx.Response) -> str | None:
    if response.status_code < 300:
        return None
    try:
        code = response.json()["error"]["code"]
    except (ValueError, KeyError, TypeError):
        return None
    return str(code)


@dataclass(frozen=True)
class Resident:
    """A registered resident, as the health and volunteering parts need them."""

    id: str
    born: date
    grid: str
    token: str
    """The consistency token of the registration: a service that learns residents from the
    registry's events decides on this resident once it has learnt that write."""
    name: str = ""


@dataclass(frozen=True)
class Flag:
    """An ``elderly_alone`` flag the registry accepted: volunteering plans that resident's
    monthly cleaning on learning it."""

    resident: Resident
    token: str
    """The consistency token of the flag's write."""
    raised_at: datetime
    """When the demo raised it (the month of the first cleaning request)."""


@dataclass
class Community:
    """What the registry part loaded, as the mediation and health parts need it."""

    community: str
    grids: list[str]
    buildings: dict[str, list[str]] = field(default_factory=dict)  # grid → its buildings
    residents: dict[str, list[str]] = field(default_factory=dict)  # building → residents
    people: list[Resident] = field(default_factory=list)
    area_tokens: dict[str, str] = field(default_factory=dict)  # area → its creation's token
    elderly_alone: list[Flag] = field(default_factory=list)

    def register(
        self, answer: dict[str, Any], who: dict[str, Any], grid: str, building: str
    ) -> str:
        """Note a resident the registry accepted (``answer``) in ``building``; ``who`` is what
        was sent (their name and date of birth)."""
        resident = Resident(
            answer["id"],
            date.fromisoformat(who["date_of_birth"]),
            grid,
            answer["consistency_token"],
            who["name"],
        )
        self.people.append(resident)
        self.residents[building].append(resident.id)
        return resident.id

    def area(self, answer: dict[str, Any]) -> str:
        """Note an area the registry accepted (``answer``)."""
        self.area_tokens[answer["id"]] = answer["consistency_token"]
        return str(answer["id"])


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
    health: str | None = "http://127.0.0.1:8103",
    volunteering: str | None = "http://127.0.0.1:8104",
    station: str | None = "http://127.0.0.1:8105",
    governance: str | None = "http://127.0.0.1:8106",
    query: str | None = "http://127.0.0.1:8100",
    sign: Sign | None = None,
    sign_liaison: SignLiaison | None = None,
    history: bool = True,
) -> int:
    """Load the demo; ``sign`` issues the tokens of the staff who send the health, volunteering
    and station commands (``(sub, roles, areas)`` → token), else every command is sent with
    ``token``."""
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
    if mediation is not None:
        async with httpx.AsyncClient(base_url=mediation, headers=headers, timeout=30) as client:
            if await answers(client):
                await load_mediation(Loader(client, parallel=4), rng, loaded)
            else:
                print(
                    f"anju demo: the mediation service at {mediation} does not answer;"
                    " skipping signals, disputes and petitions."
                )
    if health is not None:
        await _load_health(health, query, headers, random.Random(seed + 1), loaded, sign)
    partners: dict[str, tuple[str, str]] = {}
    if volunteering is not None:
        partners = await _load_volunteering(
            registry, volunteering, query, headers, random.Random(seed + 2), loaded, sign
        )
    agency_id: str | None = None
    if station is not None:
        agency_id = await _load_station(
            registry,
            station,
            query,
            mediation,
            headers,
            random.Random(seed + 3),
            loaded,
            sign,
            partners,
        )
    if governance is not None:
        organisations = {key: organisation for key, (organisation, _) in partners.items()}
        await _load_governance(
            governance,
            headers,
            random.Random(seed + 4),
            loaded,
            organisations,
            sign,
            sign_liaison,
        )
    if history:
        services = {
            "station": station,
            "mediation": mediation,
            "health": health,
            "volunteering": volunteering,
        }
        await _load_history(services, headers, loaded, agency_id, random.Random(seed + 5), sign)
    return 0


async def _load_governance(
    governance: str,
    headers: dict[str, str],
    rng: random.Random,
    loaded: Community,
    organisations: dict[str, str],
    sign: Sign | None,
    sign_liaison: SignLiaison | None,
) -> None:
    # demo_governance builds on this module's loader and community
    from anju_devtools.demo_governance import OWNERS, load_governance, summary

    async with httpx.AsyncClient(base_url=governance, headers=headers, timeout=30) as client:
        if not await answers(client):
            print(
                f"anju demo: the governance service at {governance} does not answer;"
                " skipping meetings and work items."
            )
            return
        if sign is None or sign_liaison is None or not set(OWNERS) <= set(organisations):
            print(
                "anju demo: governance needs the partner organisations the volunteering part"
                " registers and tokens for its staff and liaisons; skipping it."
            )
            return
        done = await load_governance(
            Loader(client, parallel=4),
            rng,
            loaded,
            organisations,
            sign=sign,
            sign_liaison=sign_liaison,
        )
    print(summary(done))


async def _load_health(
    health: str,
    query: str | None,
    headers: dict[str, str],
    rng: random.Random,
    loaded: Community,
    sign: Sign | None,
) -> None:
    # demo_health builds on this module's loader and community
    from anju_devtools.demo_health import load_health, plan_health, read_back, summary

    async with httpx.AsyncClient(base_url=health, headers=headers, timeout=30) as client:
        if not await answers(client):
            print(f"anju demo: the health service at {health} does not answer; skipping health.")
            return
        plan = plan_health(rng, loaded, today=datetime.now(UTC).date())
        written = await load_health(Loader(client, parallel=4), plan, sign)
    if query is None:
        return
    async with httpx.AsyncClient(base_url=query, headers=headers, timeout=30) as client:
        if not await answers(client):
            print(f"anju demo: the query service at {query} does not answer; no health figures.")
            return
        figures = await read_back(Loader(client), loaded, plan, written)
    print(summary(figures, plan.year))


async def _load_volunteering(
    registry: str,
    volunteering: str,
    query: str | None,
    headers: dict[str, str],
    rng: random.Random,
    loaded: Community,
    sign: Sign | None,
) -> dict[str, tuple[str, str]]:
    """Load volunteering; the partner organisations it registered (key → (id, consistency
    token)), which the station hands services off to."""
    # demo_volunteering builds on this module's loader and community
    from anju_devtools.demo_volunteering import plan_volunteering
    from anju_devtools.demo_volunteering_load import load_volunteering, read_back, summary

    async with (
        httpx.AsyncClient(base_url=registry, headers=headers, timeout=30) as partners,
        httpx.AsyncClient(base_url=volunteering, headers=headers, timeout=30) as client,
    ):
        if not await answers(client):
            print(
                f"anju demo: the volunteering service at {volunteering} does not answer;"
                " skipping volunteering."
            )
            return {}
        plan = plan_volunteering(rng, loaded, now=datetime.now(UTC))
        done = await load_volunteering(
            Loader(partners, parallel=4), Loader(client, parallel=4), plan, sign
        )
    registered = {
        key: (done.organisations[key], token) for key, token in done.organisation_tokens.items()
    }
    if query is None:
        return registered
    async with httpx.AsyncClient(base_url=query, headers=headers, timeout=30) as client:
        if not await answers(client):
            print(
                f"anju demo: the query service at {query} does not answer; no volunteering figures."
            )
            return registered
        figures = await read_back(Loader(client), plan, done, sign)
    print(summary(figures))
    return registered


async def _load_station(
    registry: str,
    station: str,
    query: str | None,
    mediation: str | None,
    headers: dict[str, str],
    rng: random.Random,
    loaded: Community,
    sign: Sign | None,
    partners: dict[str, tuple[str, str]],
) -> str | None:
    """Load the desk's recent weeks; the housing security centre the desk hands services off to,
    if it was registered."""
    # demo_station builds on this module's loader and community
    from anju_devtools.demo_station import (
        load_station,
        plan_station,
        read_back,
        signals_of,
        summary,
    )

    async with (
        httpx.AsyncClient(base_url=registry, headers=headers, timeout=30) as agencies,
        httpx.AsyncClient(base_url=station, headers=headers, timeout=30) as client,
    ):
        if not await answers(client):
            print(
                f"anju demo: the station at {station} does not answer; skipping the desk's"
                " receptions, services, certificates, lectures and roster."
            )
            return None
        catalogue = (await client.get("/catalogue")).raise_for_status().json()
        plan = plan_station(
            rng,
            loaded,
            catalogue={code: kind["name"] for code, kind in catalogue.items()},
            today=datetime.now(UTC).date(),
        )
        done = await load_station(
            Loader(agencies, parallel=4), Loader(client, parallel=8), plan, sign, partners
        )
    agency = done.agencies.get("housing")
    agency_id = agency and agency[0]
    if query is None:
        return agency_id
    async with httpx.AsyncClient(base_url=query, headers=headers, timeout=30) as client:
        if not await answers(client):
            print(f"anju demo: the query service at {query} does not answer; no station figures.")
            return agency_id
        figures = await read_back(Loader(client, parallel=8), plan, done, sign)
    print(summary(figures))
    if mediation is None or not done.referred:
        return agency_id
    async with httpx.AsyncClient(base_url=mediation, headers=headers, timeout=30) as client:
        if await answers(client):
            reported = await signals_of(Loader(client), done)
            print(
                f"demo station's referred opinions in mediation: {reported} of"
                f" {len(done.referred)} reported as conflict signals linked to their opinion"
            )
    return agency_id


HISTORY_STAFF = {
    "station": ("desk-demo-1", "desk_staff"),
    "mediation": ("director-demo-1", "director"),
    "health": ("doctor-demo-1", "doctor"),
    "volunteering": ("coord-demo-1", "volunteer_coordinator"),
}
"""Who brings each service's paper ledgers in: the desk's clerk, the director (disputes, the
sensitive ones too, and petitions), a family doctor, the volunteer coordinator."""


async def _load_history(
    services: dict[str, str | None],
    headers: dict[str, str],
    loaded: Community,
    agency_id: str | None,
    rng: random.Random,
    sign: Sign | None,
) -> None:
    from anju_devtools.demo_history import REPORT_FROM, REPORT_TO, Target, load_history

    async with AsyncExitStack() as stack:
        targets: dict[str, Target] = {}
        for service, url in services.items():
            if url is None:
                continue
            client = await stack.enter_async_context(
                httpx.AsyncClient(base_url=url, headers=headers, timeout=60)
            )
            if not await answers(client):
                print(f"anju demo: {service} at {url} does not answer; its ledgers are left out.")
                continue
            sub, role = HISTORY_STAFF[service]
            staff = (
                {}
                if sign is None
                else {"Authorization": f"Bearer {sign(sub, [role], [loaded.community])}"}
            )
            targets[service] = Target(client, staff)
        print(
            f"demo history: importing the community's ledgers {REPORT_FROM} – {REPORT_TO}"
            f" into {', '.join(targets)}"
        )
        ledgers, reports = await load_history(rng, targets.get, loaded, agency_id=agency_id)
    for kind, report in reports.items():
        refused = f", {len(report.refused)} refused" if report.refused else ""
        print(
            f"  {kind}: {len(ledgers[kind])} rows, {report.imported} imported,"
            f" {report.already_imported} imported before{refused}"
        )


async def load_registry(api: Loader, rng: random.Random, *, residents: int) -> Community:
    """The community, its areas, residents in households, flags and visits.

    The first resident is registered as soon as there is a unit for them: on a second run the
    registry refuses their ID number (409) and nothing more is created.
    """
    community = await api.post("/areas", {"kind": "community", "name": "安居社区"})
    grids: list[str] = []
    loaded = Community(community["id"], grids)
    loaded.area(community)
    unit_place: dict[str, tuple[str, str]] = {}  # unit → (grid, building)
    first_head: tuple[str, str, date] | None = None  # (unit, resident, born)
    for g in range(4):
        grid = loaded.area(
            await api.post(
                "/areas", {"kind": "grid", "name": f"第{g + 1}网格", "parent_id": loaded.community}
            )
        )
        grids.append(grid)
        loaded.buildings[grid] = []
        for b in range(3):
            building = loaded.area(
                await api.post(
                    "/areas",
                    {"kind": "building", "name": f"{g * 3 + b + 1}幢", "parent_id": grid},
                )
            )
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
                head_id = loaded.register(response.json(), head, grid, building)
                first_head = (unit, head_id, date.fromisoformat(head["date_of_birth"]))
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

    today = date.today()
    people = 0
    elderly: list[str] = []  # living alone: flagged
    others: list[str] = []
    for unit in units:
        if people >= residents:
            break
        grid, building = unit_place[unit]
        size = rng.choice((1, 1, 2, 2, 2, 3, 3, 4))
        # an old person living alone, or an old couple, while the estate is short of its share
        aged = sum(age_of(r.born, today) >= 65 for r in loaded.people)
        old = size <= 2 and aged < AGED_SHARE * (people + size) and rng.random() < 0.7
        alone = old and size == 1
        if unit == first_head[0]:
            head_id, head_born, alone, old = first_head[1], first_head[2], False, False
        else:
            head = person(rng, min_age=66 if old else 28, max_age=90 if old else 62)
            accepted = await api.post("/residents", {**head, "unit_id": unit})
            head_id = loaded.register(accepted, head, grid, building)
            head_born = date.fromisoformat(head["date_of_birth"])
        household = (await api.post("/households", {"unit_id": unit, "head_resident_id": head_id}))[
            "id"
        ]
        people += 1
        (elderly if alone else others).append(head_id)
        head_age = age_of(head_born, today)
        for _ in range(size - 1):
            relation = "spouse" if old else rng.choice(relations(head_age))
            low, high = member_ages(relation, head_age)
            member = person(rng, min_age=low, max_age=high)
            accepted = await api.post("/residents", {**member, "unit_id": unit})
            member_id = loaded.register(accepted, member, grid, building)
            await api.post(
                f"/households/{household}/members",
                {"resident_id": member_id, "relation": relation},
            )
            others.append(member_id)
            people += 1

    flagged = []
    by_id = {r.id: r for r in loaded.people}
    for resident in elderly:
        tier = rng.choice(("red", "yellow", "yellow", "blue"))
        raised_at = datetime.now(UTC)
        answer = await api.post(
            f"/residents/{resident}/flags", {"flag": "elderly_alone", "tier": tier}
        )
        loaded.elderly_alone.append(Flag(by_id[resident], answer["consistency_token"], raised_at))
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
    aged = sum(age_of(r.born, today) >= 65 for r in loaded.people)
    print(
        f"demo community loaded: 1 community, {len(grids)} grids, {buildings} buildings,"
        f" {len(unit_place)} units, {people} residents ({aged} aged 65+), {len(flagged)} flags"
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
