"""The staff console in a real browser against a real stack: Debian's chromium, headless, driven by
Playwright (no browser is downloaded), pages served by the console service, and the registry,
station and query services on real ports of 127.0.0.1 with their relays, policies and projections
on real PostgreSQL and a Kafka-protocol broker (and mediation and governance, for the mediator's and the director's screens). Each test signs in as a role the way staff do (the
dev sign-in page), walks its main task end to end, saves a screenshot of the screen to
docs/screenshots/, and runs axe-core in the page: no critical violations.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
from axe_playwright_python.async_playwright import Axe  # type: ignore[import-untyped]
from playwright.async_api import Browser, Page, ViewportSize, async_playwright, expect
from pydantic import SecretStr

from anju_console.entrypoints.app import create_app as create_console
from anju_console.settings import ConsoleSettings
from anju_governance.entrypoints.app import create_app as create_governance
from anju_governance.settings import GovernanceSettings
from anju_mediation.entrypoints.app import create_app as create_mediation
from anju_mediation.settings import MediationSettings
from anju_query.entrypoints.app import create_app as create_query
from anju_query.settings import QuerySettings
from anju_registry.entrypoints.app import create_app as create_registry
from anju_registry.settings import RegistrySettings
from anju_registry.testing import id_number_for
from anju_station.entrypoints.app import create_app as create_station
from anju_station.settings import StationSettings
from eventkit.auth import issue_token
from eventkit.settings import KafkaSettings
from eventkit.testing.infra import databases, free_port
from eventkit.testing.service import listening

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
CHROMIUM = Path(os.environ.get("ANJU_CHROMIUM", "/usr/bin/chromium"))
SECRET = "console-browser-tests-secret-0123456789"
WAIT_S = 60.0
PHONE: ViewportSize = {"width": 360, "height": 740}
HAVE_CHROMIUM = CHROMIUM.exists()


@dataclass
class Stack:
    console: str
    apis: dict[str, str]
    community_id: str
    grid_id: str
    resident_id: str
    dispute_id: str
    work_item_id: str

    @property
    def admin(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(SECRET, 'admin', ['admin'])}"}


async def _accepted(
    client: httpx.AsyncClient, url: str, body: dict[str, Any], **headers: str
) -> Any:
    response = await client.post(url, json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json()


async def _seed(
    registry: str, station: str, mediation: str, governance: str, query: str, admin: dict[str, str]
) -> tuple[str, str, str, str, str]:
    """An estate with one grid and an elderly resident living alone whose weekly follow-up visit
        is overdue (flagged ten days ago); the station and the query services have learnt them. And a
        water leak between two neighbours of the building, registered with mediation. And the joint meeting's decision to fix the estate's lights, on
    the work list with its deadline tomorrow: near, so the scheduler raises yellow supervision."""
    ago = datetime.now(UTC) - timedelta(days=10)
    async with httpx.AsyncClient(headers=admin, timeout=WAIT_S) as http:
        community = (
            await _accepted(
                http,
                f"{registry}/areas",
                {"kind": "community", "name": "安居苑社区", "parent_id": None},
            )
        )["id"]
        grid = (
            await _accepted(
                http,
                f"{registry}/areas",
                {"kind": "grid", "name": "第一网格", "parent_id": community},
            )
        )["id"]
        building = (
            await _accepted(
                http, f"{registry}/areas", {"kind": "building", "name": "3号楼", "parent_id": grid}
            )
        )["id"]
        unit = await _accepted(
            http, f"{registry}/areas", {"kind": "unit", "name": "301", "parent_id": building}
        )
        born = datetime(1946, 5, 2).date()
        resident = await _accepted(
            http,
            f"{registry}/residents",
            {
                "name": "王秀英",
                "sex": "female",
                "date_of_birth": born.isoformat(),
                "id_number": id_number_for(born, 7),
                "unit_id": unit["id"],
                "occurred_at": (ago - timedelta(days=1)).isoformat(),
            },
        )
        flagged = await _accepted(
            http,
            f"{registry}/residents/{resident['id']}/flags",
            {"flag": "elderly_alone", "tier": "red", "occurred_at": ago.isoformat()},
        )
        # The station decides once it has learnt the tree (a command waits for the token).
        await _accepted(
            http,
            f"{station}/receptions",
            {"area_id": community, "purposes": ["other"]},
            **{"X-Consistency-Token": unit["consistency_token"]},
        )
        board = await http.get(
            f"{query}/follow-ups", headers={"X-Consistency-Token": flagged["consistency_token"]}
        )
        assert board.json()["total"] == 1, board.text
        dispute = await _accepted(
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
            **{"X-Consistency-Token": unit["consistency_token"]},
        )
        registered = await http.get(
            f"{query}/disputes/{dispute['id']}",
            headers={"X-Consistency-Token": dispute["consistency_token"]},
        )
        assert registered.status_code == 200, registered.text
        meeting = await _accepted(
            http,
            f"{governance}/meetings",
            {
                "kind": "joint_party_building",
                "title": "党建联席会",
                "area_id": community,
                "held_on": datetime.now(UTC).date().isoformat(),
            },
            **{"X-Consistency-Token": unit["consistency_token"]},
        )
        decision = await _accepted(
            http,
            f"{governance}/meetings/{meeting['id']}/decisions",
            {"text": "修复小区3号楼楼道照明。"},
        )
        item = await _accepted(
            http,
            f"{governance}/meetings/{meeting['id']}/decisions/{decision['sub_id']}/items",
            {
                "title": "修复3号楼楼道照明",
                "responsible": "物业 刘经理",
                "deadline": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
                "priority": "high",
            },
        )
    return community, grid, resident["id"], dispute["id"], item["id"]


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
        databases(pg_server_url, "registry", "station", "mediation", "governance", "read") as urls,
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
        apis = {
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
        yield Stack(console, apis, *seeded)


@pytest_asyncio.fixture(scope="module")
async def browser() -> AsyncIterator[Browser]:
    if not HAVE_CHROMIUM:
        pytest.fail(
            f"no browser at {CHROMIUM}: the console's tests drive Debian's chromium"
            " (`apt-get install chromium`; `make test` and .ci/run install it where apt can)"
        )
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True)
        yield browser
        await browser.close()


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
