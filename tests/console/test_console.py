"""The staff console in a real browser against a real stack: Debian's chromium, headless, driven by
Playwright (no browser is downloaded), pages served by the console service, and every service the
screens call — registry, station, mediation, health, volunteering, governance and query — on real
ports of 127.0.0.1 with their relays, policies and projections on real PostgreSQL and a
Kafka-protocol broker. Each test signs in as a role the way staff do (the dev sign-in page), walks
its main task end to end, saves a screenshot of the screen to docs/screenshots/, and runs axe-core
in the page: no critical violations.
"""

from __future__ import annotations

import asyncio
import os
import re
import tempfile
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest_asyncio
from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]
from playwright.async_api import Browser, Page, ViewportSize, expect
from pydantic import SecretStr

from anju_console.entrypoints.app import create_app as create_console
from anju_console.settings import ConsoleSettings
from anju_governance.entrypoints.app import create_app as create_governance
from anju_governance.settings import GovernanceSettings
from anju_health.entrypoints.app import create_app as create_health
from anju_health.settings import HealthSettings
from anju_mediation.entrypoints.app import create_app as create_mediation
from anju_mediation.settings import MediationSettings
from anju_query.entrypoints.app import create_app as create_query
from anju_query.settings import QuerySettings
from anju_registry.entrypoints.app import create_app as create_registry
from anju_registry.settings import RegistrySettings
from anju_station.entrypoints.app import create_app as create_station
from anju_station.settings import StationSettings
from anju_volunteering.entrypoints.app import create_app as create_volunteering
from anju_volunteering.settings import VolunteeringSettings
from eventkit.auth import issue_token
from eventkit.settings import KafkaSettings
from eventkit.testing.infra import databases, free_port
from eventkit.testing.service import listening, once_learnt

from .estate import FLAGGED_DAYS_AGO, accepted, seed_estate

SCREENSHOTS = Path(os.environ.get("ANJU_SCREENSHOTS") or tempfile.mkdtemp(prefix="anju-shots-"))
"""Where the tests save what each screen looks like: ``make screenshots`` sets it to the README's
``docs/screenshots``; a plain test run writes to a temporary folder and leaves the tree clean."""
SECRET = "console-browser-tests-secret-0123456789"
WAIT_S = 60.0
PHONE: ViewportSize = {"width": 360, "height": 740}


@dataclass
class Stack:
    console: str
    apis: dict[str, str]
    community_id: str
    grid_id: str
    resident_id: str
    dispute_id: str
    work_item_id: str
    volunteer_id: str = ""
    request_id: str = ""
    petition_id: str = ""

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(SECRET, 'admin', ['admin'])}"}


async def _seed(
    registry: str, station: str, mediation: str, governance: str, query: str, admin: dict[str, str]
) -> tuple[str, str, str, str, str]:
    """The estate (:mod:`estate`: one grid, an elderly resident living alone whose weekly
    follow-up visit is overdue), which the station has learnt too. And a water leak between two
    neighbours of the building, registered with mediation. And the joint meeting's decision to fix
    the estate's lights, on the work list with its deadline tomorrow: near, so the scheduler
    raises yellow supervision."""
    async with httpx.AsyncClient(headers=admin, timeout=WAIT_S) as http:
        estate = await seed_estate(http, registry, query)
        community, grid, building = (estate.areas[k] for k in ("community", "grid", "building"))
        # The station decides once it has learnt the tree (a command waits for the token).
        await accepted(
            http,
            f"{station}/receptions",
            {"area_id": community, "purposes": ["other"]},
            **{"X-Consistency-Token": estate.unit_token},
        )
        dispute = await accepted(
            http,
            f"{mediation}/disputes",
            {
                "channel": "walk_in",
                "category": "water_leak",
                "description": "301室卫生间漏水，渗到201室天花板，两户多次协商未果。",
                "area_id": building,
                "parties": [
                    {"role": "applicant", "name": "赵建国", "contact": "201室"},
                    {"role": "respondent", "name": "钱敏", "contact": "301室"},
                ],
            },
            **{"X-Consistency-Token": estate.unit_token},
        )
        registered = await http.get(
            f"{query}/disputes/{dispute['id']}",
            headers={"X-Consistency-Token": dispute["consistency_token"]},
        )
        assert registered.status_code == 200, registered.text
        meeting = await accepted(
            http,
            f"{governance}/meetings",
            {
                "kind": "joint_party_building",
                "title": "党建联席会",
                "area_id": community,
                "held_on": datetime.now(UTC).date().isoformat(),
            },
            **{"X-Consistency-Token": estate.unit_token},
        )
        decision = await accepted(
            http,
            f"{governance}/meetings/{meeting['id']}/decisions",
            {"text": "修复小区3号楼楼道照明。"},
        )
        item = await accepted(
            http,
            f"{governance}/meetings/{meeting['id']}/decisions/{decision['sub_id']}/items",
            {
                "title": "修复3号楼楼道照明",
                "responsible": "物业 刘经理",
                "deadline": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
                "priority": "high",
            },
        )
    return community, grid, estate.resident_id, dispute["id"], item["id"]


async def _eventually(client: httpx.AsyncClient, url: str, done: Any, **headers: str) -> Any:
    """Read ``url`` until ``done(body)`` holds (a policy or projection catching up)."""
    for _ in range(int(WAIT_S * 10)):
        response = await client.get(url, headers=headers)
        if response.status_code == 200 and done(response.json()):
            return response.json()
        await asyncio.sleep(0.1)
    raise AssertionError(f"{url} never got there: {response.text}")


async def _once_learnt(client: httpx.AsyncClient, url: str, body: dict[str, Any]) -> Any:
    """POST a command that names the registry's records, once the service has learnt them."""
    response = await once_learnt(lambda: client.post(url, json=body), attempts=int(WAIT_S * 10))
    assert response.status_code == 201, response.text
    return response.json()


async def _seed_care(
    apis: dict[str, str], grid: str, resident: str, admin: dict[str, str]
) -> tuple[str, str, str]:
    """For the doctor, the coordinator and the petition agent: the resident, aged 80, enrolled
    in the elderly check-up programme by health itself (due within 30 days); a resident
    volunteer serving the grid, with two hours of a finished errand waiting for approval; the
    home cleaning her cleaning plan asked for, which nobody has yet; and a petition about the building's
    lift taken by proxy for her."""
    volunteering, mediation, query = apis["volunteering"], apis["mediation"], apis["query"]
    async with httpx.AsyncClient(headers=admin, timeout=WAIT_S) as http:
        await _eventually(http, f"{query}/health/visits", lambda b: b["total"] >= 1)
        volunteer = (
            await _once_learnt(
                http,
                f"{volunteering}/volunteers",
                {"kind": "resident_volunteer", "name": "李志强", "area_id": grid},
            )
        )["id"]
        errand = (
            await _once_learnt(
                http,
                f"{volunteering}/requests",
                {"resident_id": resident, "kind": "errand", "description": "代买药品"},
            )
        )["id"]
        now = datetime.now(UTC)
        for path, body in (
            ("assignment", {"volunteer_id": volunteer}),
            ("acceptance", {"volunteer_id": volunteer}),
            ("check-in", {"at": (now - timedelta(hours=2)).isoformat()}),
            ("check-out", {"at": now.isoformat()}),
        ):
            state = (await http.get(f"{volunteering}/requests/{errand}")).json()
            await accepted(
                http,
                f"{volunteering}/requests/{errand}/{path}",
                body | {"expected_version": state["version"]},
            )
        await _eventually(
            http,
            f"{volunteering}/volunteers/{volunteer}/hours",
            lambda b: b["pending_hours"] > 0,
        )
        # Her red elderly-alone flag put her on the monthly cleaning plan: a request for the
        # month she was flagged in, and one on the first of each month since (so in the first
        # days of a month, last month's too). Last month's was done on paper: the coordinator's
        # board starts with this month's alone.
        flagged = now - timedelta(days=FLAGGED_DAYS_AGO)
        months = {f"{d.year:04d}-{d.month:02d}" for d in (flagged, now)}
        this_month = f"{now.year:04d}-{now.month:02d}"
        opened = f"{query}/volunteering/requests?status=open"
        plan = await _eventually(http, opened, lambda b: b["total"] == len(months))
        assert {i["period"] for i in plan["items"]} == months, plan["items"]
        for item in plan["items"]:
            assert item["raised_by"] == "elderly_alone_plan", item
            if item["period"] != this_month:
                state = (await http.get(f"{volunteering}/requests/{item['id']}")).json()
                await accepted(
                    http,
                    f"{volunteering}/requests/{item['id']}/cancellation",
                    {"reason": "no_longer_needed", "expected_version": state["version"]},
                )
        plan = await _eventually(http, opened, lambda b: b["total"] == 1)
        cleaning = plan["items"][0]
        assert cleaning["period"] == this_month, cleaning
        petition = await _once_learnt(
            http,
            f"{mediation}/petitions",
            {"resident_id": resident, "subject": "3号楼电梯长期停运", "department": "区住建局"},
        )
        await _eventually(
            http,
            f"{query}/petitions",
            lambda b: b["total"] == 1,
            **{"X-Consistency-Token": petition["consistency_token"]},
        )
    return volunteer, cleaning["id"], petition["id"]


@pytest_asyncio.fixture(scope="module")
async def stack(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[Stack]:
    console_port = free_port()
    origin = f"http://127.0.0.1:{console_port}"
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:10]}.")
    common: dict[str, Any] = {
        "jwt_secret": SecretStr(SECRET),
        "kafka": kafka,
        "cors_origins": [origin],
        "consistency_wait_s": WAIT_S,
        "relay_idle_poll_s": 0.05,
    }
    async with (
        databases(
            pg_server_url,
            "registry",
            "station",
            "mediation",
            "governance",
            "read",
            "health",
            "volunteering",
        ) as urls,
        AsyncExitStack() as running,
    ):
        registry = await running.enter_async_context(
            listening(create_registry(RegistrySettings(database_url=urls[0], **common)))
        )
        station = await running.enter_async_context(
            listening(create_station(StationSettings(database_url=urls[1], **common)))
        )
        mediation = await running.enter_async_context(
            listening(create_mediation(MediationSettings(database_url=urls[2], **common)))
        )
        governance = await running.enter_async_context(
            listening(create_governance(GovernanceSettings(database_url=urls[3], **common)))
        )
        query = await running.enter_async_context(
            listening(create_query(QuerySettings(database_url=urls[4], **common)))
        )
        health = await running.enter_async_context(
            listening(create_health(HealthSettings(database_url=urls[5], **common)))
        )
        volunteering = await running.enter_async_context(
            listening(create_volunteering(VolunteeringSettings(database_url=urls[6], **common)))
        )
        apis = {
            "health": health,
            "volunteering": volunteering,
            "registry": registry,
            "station": station,
            "mediation": mediation,
            "governance": governance,
            "query": query,
        }
        console = await running.enter_async_context(
            listening(
                create_console(
                    ConsoleSettings(
                        jwt_secret=SecretStr(SECRET), sign_in="dev", apis=apis, port=console_port
                    )
                ),
                port=console_port,
            )
        )
        admin = {"Authorization": f"Bearer {issue_token(SECRET, 'admin', ['admin'])}"}
        seeded = await _seed(registry, station, mediation, governance, query, admin)
        more = await _seed_care(apis, seeded[1], seeded[2], admin)
        yield Stack(console, apis, *seeded, *more)


async def sign_in(page: Page, stack: Stack, role: str, area: str, name: str) -> None:
    await page.goto(stack.console + "/")
    await expect(page.get_by_role("heading", name="登录（开发环境）")).to_be_visible()
    await page.get_by_label("角色").select_option(role)
    await page.get_by_label("区域").select_option(area)
    await page.get_by_label("工号（可不填）").fill(name)
    await page.get_by_role("button", name="登录").click()


async def no_critical_violations(page: Page) -> None:
    results = await Axe().run(page)
    critical = [v for v in results.response["violations"] if v.get("impact") == "critical"]
    assert not critical, [(v["id"], v["help"]) for v in critical]


async def no_token_in_the_url(page: Page) -> None:
    token = await page.evaluate("JSON.parse(sessionStorage.getItem('anju.session')).token")
    assert token
    assert token not in page.url


async def test_the_grid_worker_records_a_visit_and_the_board_updates(
    browser: Browser, stack: Stack
) -> None:
    context = await browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = await context.new_page()
    await sign_in(page, stack, "grid_worker", stack.grid_id, "wang")
    await expect(page.get_by_role("heading", name="走访任务")).to_be_visible()
    card = page.locator(f'[data-resident="{stack.resident_id}"]')
    await expect(card.get_by_text("已逾期")).to_be_visible()
    await expect(page.locator('[data-count="overdue"]')).to_have_text("1")
    await expect(card.get_by_text("独居老人 · 红色（高风险）")).to_be_visible()
    await no_token_in_the_url(page)
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "grid-worker-board.png"), full_page=True)

    await card.get_by_role("button", name="记录走访").click()
    # An empty visit is refused by the API; its reason appears in Chinese beside the field.
    await card.get_by_role("button", name="提交走访记录").click()
    await expect(card.locator('[data-field="findings"] .field-error')).to_have_text("不能为空。")
    await card.get_by_label("走访情况").fill("老人身体尚好，冰箱里食物充足。")
    await card.get_by_label("代办事项（每行一件，可不填）").fill("代缴电费")
    await card.get_by_role("button", name="提交走访记录").click()

    # Read your writes: the board read with the visit's consistency token shows it at once.
    await expect(page.locator('[data-count="overdue"]')).to_have_text("0")
    await expect(page.locator('[data-count="due"]')).to_have_text("1")
    await expect(card.get_by_text("待走访")).to_be_visible()
    await expect(card.get_by_text("上次走访：—")).to_have_count(0)
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "grid-worker-visit-recorded.png"), full_page=True)
    await context.close()


async def test_the_desk_logs_a_reception_in_one_tap_and_prints_a_one_time_notice(
    browser: Browser, stack: Stack
) -> None:
    context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = await context.new_page()
    await sign_in(page, stack, "desk_staff", stack.community_id, "li")
    await expect(page.get_by_role("heading", name="窗口服务")).to_be_visible()

    await page.get_by_role("group", name="一键登记来访").get_by_role("button", name="咨询").click()
    await expect(page.locator("[data-receptions]")).to_have_attribute("data-receptions", "1")
    await expect(page.get_by_role("status")).to_have_text("已登记来访：咨询")
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "desk-reception.png"), full_page=True)

    await page.get_by_role("button", name="接收").click()
    await page.get_by_label("缺少的材料（一次性全部告知）").fill("户口簿原件\n近期一寸照片两张")
    await page.get_by_role("button", name="核对完成").click()
    await page.get_by_role("link", name="打印一次性告知单").click()
    await expect(page.get_by_role("heading", name="一次性告知单")).to_be_visible()
    await expect(page.get_by_role("listitem")).to_have_text(["户口簿原件", "近期一寸照片两张"])
    await page.emulate_media(media="print")
    assert not await page.get_by_role("button", name="打印").is_visible()
    await page.screenshot(path=str(SCREENSHOTS / "desk-one-time-notice.png"), full_page=True)
    await page.emulate_media(media="screen")
    await no_critical_violations(page)
    await context.close()


async def test_the_desk_hands_a_service_off_completes_it_and_issues_a_residence_certificate(
    browser: Browser, stack: Stack
) -> None:
    # The housing security centre serves the community; the station has learnt it (a command
    # waits for the registry's write) and so has the query service.
    async with httpx.AsyncClient(headers=stack.admin, timeout=WAIT_S) as http:
        centre = await accepted(
            http,
            f"{stack.apis['registry']}/organisations",
            {
                "kind": "housing_security_centre",
                "name": "市住房保障服务中心",
                "community_ids": [stack.community_id],
            },
        )
        learnt = {"X-Consistency-Token": centre["consistency_token"]}
        await accepted(
            http,
            f"{stack.apis['station']}/receptions",
            {"area_id": stack.community_id, "purposes": ["other"]},
            **learnt,
        )
        await _eventually(
            http, f"{stack.apis['query']}/organisations/{centre['id']}", bool, **learnt
        )

    context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = await context.new_page()
    await sign_in(page, stack, "desk_staff", stack.community_id, "li")
    await expect(page.get_by_role("heading", name="窗口服务")).to_be_visible()
    await page.get_by_label("服务事项").select_option("public_rental_application")
    await page.get_by_role("button", name="接收").click()
    await expect(page.get_by_role("heading", name="公租房申请登记")).to_be_visible()
    service_id = page.url.rsplit("/", 1)[-1]
    await page.get_by_label("缺少的材料（一次性全部告知）").fill("收入证明\n户口簿")
    await page.get_by_role("button", name="核对完成").click()
    await expect(page.locator("[data-status]")).to_have_text("已一次性告知")

    # Another clerk, in another browser, prints the same notice: it comes from the station.
    other = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    elsewhere = await other.new_page()
    await sign_in(elsewhere, stack, "desk_staff", stack.community_id, "zhou")
    await expect(elsewhere.get_by_role("heading", name="窗口服务")).to_be_visible()
    await elsewhere.get_by_role("link", name="公租房申请登记").first.click()
    await elsewhere.get_by_role("link", name="打印一次性告知单").click()
    await expect(elsewhere.get_by_role("heading", name="一次性告知单")).to_be_visible()
    await expect(elsewhere.get_by_role("listitem")).to_have_text(["收入证明", "户口簿"])
    assert service_id in elsewhere.url
    await other.close()

    # The resident comes back with everything: accepted, handed off, completed, called back.
    await page.get_by_label("仍缺少的材料（材料已补齐则留空）").fill("")
    await page.get_by_role("button", name="核对完成").click()
    await expect(page.locator("[data-status]")).to_have_text("已受理")
    await page.get_by_role("button", name="转交").click()
    await expect(page.locator('[data-field="organisation_id"] .field-error')).to_have_text(
        "请从列表中选择。"
    )
    await page.get_by_label("承办单位", exact=True).select_option(centre["id"])
    await page.get_by_role("button", name="转交").click()
    await expect(page.locator("[data-status]")).to_have_text("已转交")
    await expect(page.get_by_text("市住房保障服务中心")).to_be_visible()
    await page.get_by_label("办理结果（可不填）").fill("已登记轮候")
    await page.get_by_role("button", name="办结").click()
    await expect(page.locator("[data-status]")).to_have_text("已办结")
    await page.get_by_label("居民满意度").select_option("5")
    await page.get_by_role("button", name="记录回访").click()
    await expect(page.get_by_text("5 / 5")).to_be_visible()
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "desk-service-completed.png"), full_page=True)

    # A residence certificate: find the resident, issue, print.
    await page.get_by_role("link", name="← 返回窗口服务").click()
    box = page.locator('[data-section="certificate"]')
    await box.get_by_role("button", name="开具居住证明").click()
    await expect(box.locator('[data-field="resident_id"] .field-error')).to_have_text(
        "请从列表中选择。"
    )
    await box.get_by_label("居民姓名").fill("王秀英")
    await box.get_by_role("button", name="查找").click()
    await box.get_by_label("居民", exact=True).select_option(stack.resident_id)
    await box.get_by_label("用途（可不填）").fill("办理公租房申请")
    await box.get_by_role("button", name="开具居住证明").click()
    await expect(page.get_by_role("heading", name="居住证明")).to_be_visible()
    await expect(page.locator("[data-certificate]")).to_contain_text("兹证明 王秀英")
    await expect(page.locator("[data-certificate]")).to_contain_text("3号楼 301")
    async with context.expect_page() as opened:
        await page.get_by_role("button", name="下载PDF").click()
    pdf = await opened.value
    await expect(pdf).to_have_url(re.compile("^blob:"))
    await pdf.close()
    await page.emulate_media(media="print")
    assert not await page.get_by_role("button", name="打印").is_visible()
    await page.screenshot(path=str(SCREENSHOTS / "desk-residence-certificate.png"), full_page=True)
    await page.emulate_media(media="screen")
    await no_token_in_the_url(page)
    await no_critical_violations(page)
    await context.close()


async def test_a_missing_record_reads_as_the_sentence_of_every_not_found(
    browser: Browser, stack: Stack
) -> None:
    """The API answers a record out of the caller's areas exactly as a missing one (404), and
    the console words every ``*_not_found`` the same (services/console unit tests)."""
    context = await browser.new_context(locale="zh-CN")
    page = await context.new_page()
    await sign_in(page, stack, "desk_staff", stack.community_id, "zhao")
    await expect(page.get_by_role("heading", name="窗口服务")).to_be_visible()
    await page.goto(f"{stack.console}/#/notice/{uuid.uuid4()}")
    await expect(page.get_by_role("alert")).to_have_text("找不到这条记录。请核对后重试。")
    await context.close()


async def test_the_mediator_moves_a_dispute_from_registered_to_agreement(
    browser: Browser, stack: Stack
) -> None:
    context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = await context.new_page()
    await sign_in(page, stack, "mediator", stack.community_id, "zhang")
    await expect(page.get_by_role("heading", name="纠纷调解")).to_be_visible()
    card = page.locator(f'[data-dispute="{stack.dispute_id}"]')
    await expect(card.locator("[data-sla]")).to_have_attribute("data-sla", "on_track")
    await expect(card.get_by_text("尚未指派调解员")).to_be_visible()
    await expect(page.locator('[data-count="on_track"]')).to_have_text("1")
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "mediator-board.png"), full_page=True)

    await card.get_by_role("link").click()
    await expect(page.get_by_role("heading", name="漏水纠纷")).to_be_visible()
    parties = page.locator('[data-section="parties"]')
    await expect(parties.get_by_role("listitem")).to_have_text(
        ["赵建国 · 申请人", "钱敏 · 被申请人"]
    )

    # Assign oneself: the case page, read again with the command's token, lists the mediator.
    mediators = page.locator('[data-section="mediators"]')
    await mediators.get_by_label("调解员姓名（可不填）").fill("张调解")
    await mediators.get_by_role("button", name="指派").click()
    await expect(mediators.get_by_text("张调解 · 人民调解员")).to_be_visible()

    # Schedule a session at the Fengqiao hut tomorrow, then record it held.
    sessions = page.locator('[data-section="sessions"]')
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT10:00")
    await sessions.get_by_label("调解会时间").fill(tomorrow)
    await sessions.get_by_label("地点").select_option("fengqiao_hut")
    await sessions.get_by_role("button", name="安排调解会").click()
    await expect(sessions.get_by_text("待召开")).to_be_visible()
    await sessions.get_by_label("参加人（每行一人）").fill("赵建国\n钱敏\n张调解")
    await sessions.get_by_label("调解记录").fill(
        "双方同意由301室维修防水层，201室天花板由301室修补。"
    )
    await sessions.get_by_role("button", name="记录召开").click()
    await expect(sessions.get_by_text("已召开")).to_be_visible()

    # An agreement one party confirmed is refused; the reason stands beside the confirmations.
    agreement = page.locator('[data-section="agreement"]')
    await agreement.get_by_label("钱敏的承诺").fill("两周内请人重做卫生间防水，并修补201室天花板。")
    await agreement.get_by_role("checkbox", name="赵建国").check()
    await agreement.get_by_role("button", name="记录调解协议").click()
    await expect(agreement.locator('[data-field="confirmed_by"] .field-error')).to_have_text(
        "调解协议至少需要两名当事人确认。"
    )
    await agreement.get_by_role("checkbox", name="钱敏").check()
    await agreement.get_by_role("button", name="记录调解协议").click()
    await expect(agreement.get_by_text("已达成调解协议")).to_be_visible()
    await expect(
        agreement.get_by_text("钱敏：两周内请人重做卫生间防水，并修补201室天花板。")
    ).to_be_visible()
    timeline = page.locator('[data-section="timeline"] li strong')
    await expect(timeline).to_have_text(
        ["登记纠纷", "指派调解员", "安排调解会", "召开调解会", "达成调解协议"]
    )
    await no_token_in_the_url(page)
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "mediator-case.png"), full_page=True)
    await context.close()


async def test_the_director_opens_the_dashboard_drills_into_a_figure_and_supervises_the_work_list(
    browser: Browser, stack: Stack
) -> None:
    context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = await context.new_page()
    await sign_in(page, stack, "director", stack.community_id, "sun")
    await expect(page.get_by_role("heading", name="工作仪表盘")).to_be_visible()
    row = page.locator('[data-figure="disputes_registered"]')
    await expect(row.get_by_role("rowheader")).to_have_text("登记矛盾纠纷（起）")
    await expect(row.get_by_role("cell").first).to_have_text("1")
    # The charts are the page's own SVG; each bar is a link into its figure.
    chart = page.get_by_role("group", name="矛盾纠纷化解（按层级）")
    await expect(chart.get_by_role("link")).to_have_count(3)  # building, grid, community
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "director-dashboard.png"), full_page=True)

    # Drill into a figure: the records behind it, as many as the figure says.
    await page.get_by_role("link", name="服务站接待居民（人次）的明细").click()
    await expect(page.get_by_role("heading", name="服务站接待居民（人次）")).to_be_visible()
    value = await page.locator("[data-value]").get_attribute("data-value")
    assert value is not None
    assert int(value) >= 1
    await expect(page.locator("[data-record]")).to_have_count(int(value))
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "director-figure.png"), full_page=True)

    # The printable report: fetched with the token, opened from a blob (no token in any URL).
    await page.get_by_role("link", name="← 返回仪表盘").click()
    async with context.expect_page() as opened:
        await page.get_by_role("button", name="打印报表").click()
    report = await opened.value
    await expect(report.get_by_role("heading", level=1)).to_contain_text("安居苑社区")
    assert report.url.startswith("blob:"), report.url
    await report.close()

    # The work list: the item due tomorrow is under yellow supervision (the scheduler raised it).
    await page.get_by_role("link", name="工作事项督办").click()
    await expect(page.get_by_role("heading", name="工作事项督办")).to_be_visible()
    item = page.locator(f'[data-item="{stack.work_item_id}"]')
    await expect(item.get_by_role("rowheader")).to_have_text("修复3号楼楼道照明")
    for _ in range(20):
        if await item.get_attribute("data-colour") == "yellow":
            break
        await page.wait_for_timeout(500)
        await page.reload()
    await expect(item.get_by_text("黄色督办")).to_be_visible()
    await expect(page.locator('[data-colour-count="yellow"]')).to_have_text("1")
    await no_token_in_the_url(page)
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "director-work-items.png"), full_page=True)
    await context.close()


async def test_the_doctor_records_a_check_up_and_holds_a_clinic_day(
    browser: Browser, stack: Stack
) -> None:
    context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = await context.new_page()
    await sign_in(page, stack, "doctor", stack.community_id, "dr-chen")
    await expect(page.get_by_role("heading", name="体检随访")).to_be_visible()
    card = page.locator(f'[data-resident="{stack.resident_id}"]')
    await expect(card.get_by_role("heading", name="王秀英")).to_be_visible()
    await expect(card.get_by_text("65岁以上老年人年度体检")).to_be_visible()
    await expect(page.locator('[data-count="due"]')).to_have_text("1")
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "doctor-check-ups.png"), full_page=True)

    await card.get_by_role("button", name="记录体检").click()
    # A pressure no living person shows is refused; the reason stands beside that reading.
    await card.get_by_label("收缩压（mmHg）").fill("400")
    await card.get_by_label("舒张压（mmHg）").fill("80")
    await card.get_by_role("button", name="提交体检记录").click()
    await expect(card.locator('[data-field="systolic_mmhg"] .field-error')).to_have_text(
        "测量值不合理，请核对。"
    )
    await card.get_by_label("收缩压（mmHg）").fill("138")
    await card.get_by_label("空腹血糖（mmol/L）").fill("5.6")
    await card.get_by_label("检查所见").fill("血压略高，精神状态良好。")
    await card.get_by_label("健康指导（可不填）").fill("低盐饮食，每日散步半小时。")
    await card.get_by_role("button", name="提交体检记录").click()
    # Read your writes: the check-up done, next year's is not due yet, so the board is empty.
    await expect(page.locator('[data-count="due"]')).to_have_text("0")
    await expect(page.get_by_text("近期没有到期的体检或随访。")).to_be_visible()

    await page.get_by_role("link", name="义诊与健康活动").click()
    await expect(page.get_by_role("heading", name="义诊与健康活动")).to_be_visible()
    form = page.get_by_role("form", name="登记健康活动")
    await form.get_by_label("活动类型").select_option("free_check_up_day")
    await form.get_by_label("服务人次").fill("36")
    await form.get_by_role("button", name="登记活动").click()
    await expect(form.locator('[data-field="place"] .field-error')).to_have_text("不能为空。")
    await form.get_by_label("地点").fill("社区服务站")
    await form.get_by_label("主题（可不填）").fill("老年人免费体检")
    await form.get_by_role("button", name="登记活动").click()
    row = page.locator("[data-activity]")
    await expect(row).to_have_count(1)
    await expect(row.get_by_role("cell")).to_contain_text(["义诊", "社区服务站", "36"])
    await expect(page.locator("[data-served]")).to_have_text("36")
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "doctor-clinic-days.png"), full_page=True)
    await context.close()


async def test_the_coordinator_assigns_a_request_approves_hours_and_issues_a_certificate(
    browser: Browser, stack: Stack
) -> None:
    context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = await context.new_page()
    await sign_in(page, stack, "volunteer_coordinator", stack.community_id, "zhou")
    await expect(page.get_by_role("heading", name="服务需求派单")).to_be_visible()
    card = page.locator(f'[data-request="{stack.request_id}"]')
    await expect(card.get_by_role("heading")).to_have_text("入户清洁 · 王秀英")
    await expect(page.locator('[data-count="open"]')).to_have_text("1")
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "coordinator-requests.png"), full_page=True)

    # No volunteer chosen: the API's reason stands beside the choice.
    await card.get_by_role("button", name="派单").click()
    await expect(card.locator('[data-field="volunteer_id"] .field-error')).to_have_text(
        "请指定办理人。"
    )
    await card.get_by_label("派给志愿者").select_option(stack.volunteer_id)
    await card.get_by_role("button", name="派单").click()
    await expect(page.locator('[data-count="open"]')).to_have_text("0")
    await expect(page.get_by_text("没有待派单的服务需求。")).to_be_visible()

    await page.get_by_role("link", name="志愿者与服务时长").click()
    await page.get_by_role("link", name="李志强").click()
    await expect(page.get_by_role("heading", name="李志强")).to_be_visible()
    await expect(page.locator('[data-hours="pending"]')).to_have_text("2")
    # Nothing approved yet: a certificate has nothing to certify.
    await page.get_by_role("button", name="颁发证书").click()
    await expect(page.locator('[data-field="period_from"] .field-error')).to_have_text(
        "没有已核准的服务时长。"
    )
    await page.locator('[data-section="hours"]').get_by_role("button", name="核准").click()
    await expect(page.locator('[data-hours="approved"]')).to_have_text("2")
    await expect(page.locator('[data-status="approved"]')).to_have_count(1)
    await page.get_by_role("button", name="颁发证书").click()
    certificate = page.locator("[data-certificate]")
    await expect(certificate.get_by_role("heading", name="志愿服务证明")).to_be_visible()
    await expect(certificate.locator("[data-certificate-hours]")).to_have_text("2")
    await no_token_in_the_url(page)
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "coordinator-certificate.png"), full_page=True)
    await context.close()


async def test_the_petition_agent_takes_a_petition_from_forwarding_to_closing(
    browser: Browser, stack: Stack
) -> None:
    context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = await context.new_page()
    await sign_in(page, stack, "petition_agent", stack.community_id, "agent-wu")
    await expect(page.get_by_role("heading", name="信访代办")).to_be_visible()
    card = page.locator(f'[data-petition="{stack.petition_id}"]')
    await expect(card.locator("[data-status]")).to_have_text("已登记")
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "petition-agent-list.png"), full_page=True)

    await card.get_by_role("link", name="3号楼电梯长期停运").click()
    await expect(page.get_by_role("heading", name="3号楼电梯长期停运")).to_be_visible()
    steps = page.locator('[data-section="steps"]')
    await steps.get_by_role("button", name="转交承办部门").click()
    await expect(page.locator("h1 + p [data-status]")).to_have_text("已转交")
    await steps.get_by_role("button", name="记录部门已受理").click()
    await expect(page.locator("h1 + p [data-status]")).to_have_text("已受理")
    # An empty answer is refused beside the answer's field.
    await steps.get_by_role("button", name="记录部门答复").click()
    await expect(steps.locator('[data-field="answer"] .field-error')).to_have_text("不能为空。")
    await steps.get_by_label("部门答复内容").fill("已安排维保单位本月内更换电梯主板。")
    await steps.get_by_role("button", name="记录部门答复").click()
    await expect(page.locator("h1 + p [data-status]")).to_have_text("已答复")
    await steps.get_by_label("办结结果").fill("居民对答复满意")
    await steps.get_by_role("button", name="办结").click()
    await expect(page.get_by_text("本件信访已办结。")).to_be_visible()
    # Read your writes: the query's record, read with the closing's token, has every step.
    await expect(steps.locator('[data-done="yes"]')).to_have_count(5)
    await expect(page.get_by_text("居民对答复满意")).to_be_visible()
    await no_token_in_the_url(page)
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "petition-agent-case.png"), full_page=True)
    await context.close()


async def test_the_director_reviews_who_read_sensitive_records(
    browser: Browser, stack: Stack
) -> None:
    # Another director of the community opens the resident's profile: her full identity
    # number, an audited read.
    other = {
        "Authorization": f"Bearer {issue_token(SECRET, 'dir-qian', ['director'], [stack.community_id])}"
    }
    async with httpx.AsyncClient(timeout=WAIT_S) as http:
        read = await http.get(f"{stack.apis['query']}/residents/{stack.resident_id}", headers=other)
        assert read.status_code == 200, read.text

    context = await browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai")
    page = await context.new_page()
    await sign_in(page, stack, "director", stack.community_id, "sun")
    await page.get_by_role("link", name="敏感信息查阅记录").click()
    await expect(page.get_by_role("heading", name="敏感信息查阅记录")).to_be_visible()
    await page.get_by_label("查阅人工号（可不填）").fill("dir-qian")
    await page.get_by_role("button", name="查询").click()
    row = page.locator('[data-kind="resident"]')
    await expect(row).to_have_count(1)
    await expect(row.get_by_role("cell")).to_contain_text(
        ["dir-qian", "社区书记/主任", "居民身份证号", "王秀英", "居民档案"]
    )
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "director-audit.png"), full_page=True)

    # One record's reads; a record outside the director's areas reads as a missing one.
    await row.get_by_role("link", name="王秀英的全部查阅记录").click()
    await expect(page.locator("[data-read]")).not_to_have_count(0)
    await page.goto(f"{stack.console}/#/audit/resident/{uuid.uuid4()}")
    await expect(page.get_by_role("alert")).to_have_text("找不到这条记录。请核对后重试。")
    await no_token_in_the_url(page)
    await context.close()


async def test_the_grid_worker_opens_a_profile_flags_reports_a_signal_and_raises_a_request(
    browser: Browser, stack: Stack
) -> None:
    """Last in the file: the request raised here would be one more open request on the
    coordinator's board."""
    context = await browser.new_context(viewport=PHONE, locale="zh-CN", timezone_id="Asia/Shanghai")
    page = await context.new_page()
    await sign_in(page, stack, "grid_worker", stack.grid_id, "wang")
    await expect(page.get_by_role("heading", name="走访任务")).to_be_visible()
    await page.get_by_role("link", name="王秀英").click()
    await expect(page.get_by_role("heading", name="王秀英", level=1)).to_be_visible()
    flags = page.locator('[data-section="flags"]')
    await expect(flags.get_by_role("listitem")).to_have_text(
        [re.compile("独居老人 · 红色（高风险）")]
    )
    follow_up = page.locator('[data-section="follow-up"]')
    await expect(follow_up.get_by_text("每 7 天")).to_be_visible()
    await expect(follow_up.locator("[data-visit]")).not_to_have_count(0)
    await expect(page.locator('[data-section="services"] [data-request]')).not_to_have_count(0)
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "grid-worker-profile.png"), full_page=True)

    # A flag with no group chosen is refused beside the choice; then she is flagged disabled.
    await flags.get_by_role("button", name="新增标记").click()
    await expect(flags.locator('[data-field="flag"] .field-error')).to_have_text("请从列表中选择。")
    await flags.get_by_label("类别").select_option("disability")
    await flags.get_by_label("风险等级").select_option("yellow")
    await flags.get_by_role("button", name="新增标记").click()
    await expect(flags.locator('[data-flag="disability"]')).to_contain_text(
        "残疾人 · 黄色（中风险）"
    )

    # A tension spotted on patrol: reported to mediation, listed for her building at once.
    signals = page.locator('[data-section="signals"]')
    await signals.get_by_label("类别").select_option("noise")
    await signals.get_by_label("情况描述").fill("楼上夜间装修噪音，老人休息不好。")
    await signals.get_by_role("button", name="上报").click()
    await expect(signals.locator("[data-signal]")).to_have_count(1)
    await expect(signals.locator("[data-signal]")).to_contain_text("噪音 · 已上报")

    # A service request for her: volunteering takes it, her profile lists it at once.
    services = page.locator('[data-section="services"]')
    before = await services.locator("[data-request]").count()
    await services.get_by_label("服务类型").select_option("repair")
    await services.get_by_label("需求描述").fill("厨房水龙头漏水，需上门维修。")
    await services.get_by_role("button", name="提出需求").click()
    await expect(services.locator("[data-request]")).to_have_count(before + 1)
    await expect(services.get_by_text("维修 · 待派单")).to_be_visible()
    await no_token_in_the_url(page)
    await no_critical_violations(page)
    await page.screenshot(path=str(SCREENSHOTS / "grid-worker-profile-updated.png"), full_page=True)
    await context.close()
