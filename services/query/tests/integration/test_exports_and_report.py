"""Exports of boards and figures (CSV, XLSX) and the community's printable report (PDF, HTML):
events of every service through the real relays and broker into the query API, then read back
as files — CSV parsed, XLSX opened with openpyxl, the PDF's text extracted with pypdf.

The world (``anju_query.testing.area_tree``): community C (安居社区) with grids G1 and G2,
community C2 (乐业社区) with grid G3. The period is March and April 2025, for C.

- Receptions: 8 in C (5 in March, 3 in April); 2 in C2.
- Gatherings: a theory lecture whose topic starts with ``=`` (a formula, if a spreadsheet ran
  it) and a policy explanation in C; a theory lecture in C2.
- Convenience services in G1: two residence certificates and a bill-payment help.
- Disputes in C resolved at the building (March), grid (April), community (April) tiers, and
  a sensitive one at the grid (March); one in C2.
- Petitions in G1: one answered in March, one closed in April; one answered in C2.
- Health activities in C: a free check-up day (20 served), a prevention talk (12 served).
- Volunteer hours in G1: 2.5 h (March) and 1.5 h (April), approved.
- Work items in C: one closed on time (March), one late (April).

The service runs with ``export_max_rows`` 7 (C's 8 receptions are too many for one export) and
``report_appendix_rows`` 3 (the report lists 3 receptions "and 5 more").
"""

from __future__ import annotations

import csv
import io
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import asyncpg
import httpx
import openpyxl
import pypdf
import pytest
import pytest_asyncio

from anju_contracts import Actor
from anju_contracts.health import ActivityKind
from anju_contracts.mediation import Sensitivity, Tier
from anju_contracts.station import GatheringKind, ServiceAccepted
from anju_query.application.labels import FIGURES as LABELS
from anju_query.entrypoints.exports import XLSX_MEDIA_TYPE
from anju_query.testing import WriteSides, area_tree, every_write_side
from eventkit.audit import reads_of
from eventkit.auth import Role, issue_token

from .report_facts import (
    at,
    convenience_service,
    dispute_registered,
    dispute_resolved,
    gathering,
    health_activity,
    petition,
    reception,
    volunteer_hours,
    work_item,
)

SECRET = "query-tests-secret-0123456789abcdef"
ACTOR = Actor(id="staff-1", roles=("director",))
PERIOD = {"from": "2025-03-01", "to": "2025-04-30"}
FORMULA_TOPIC = '=HYPERLINK("x") 理论宣讲'

pytestmark = pytest.mark.asyncio(loop_scope="session")


def token(*roles: Role, areas: tuple[uuid.UUID, ...] = ()) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, 'u-1', roles, [str(a) for a in areas])}"}


@dataclass
class World:
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    ids: dict[str, uuid.UUID]

    def director(self, community: str = "c") -> dict[str, str]:
        return token(Role.DIRECTOR, areas=(self.ids[community],))


async def _seed(sides: WriteSides) -> dict[str, uuid.UUID]:
    ids, paths = await area_tree(sides.registry)
    station = sides.station
    receptions = [("g1", f"2025-03-0{d}") for d in (1, 2, 3)]
    receptions += [("g2", "2025-03-10"), ("g2", "2025-03-31")]
    receptions += [("g1", f"2025-04-0{d}") for d in (1, 2, 3)]
    receptions += [("g3", "2025-03-05"), ("g3", "2025-04-05")]
    for where, day in receptions:
        await reception(station, paths[where], at(day))
    for kind, topic, held, where in [
        (GatheringKind.THEORY_LECTURE, FORMULA_TOPIC, "2025-03-05", "c"),
        (GatheringKind.POLICY_EXPLANATION, "公租房政策解读", "2025-04-02", "c"),
        (GatheringKind.THEORY_LECTURE, "乐业宣讲", "2025-03-06", "c2"),
    ]:
        await gathering(station, kind, held, paths[where], topic=topic)
    for service_type, day in [
        ("residence_certificate", "2025-03-03"),
        ("elderly_window_bill_help", "2025-03-10"),
        ("residence_certificate", "2025-04-05"),
    ]:
        sid = uuid.uuid4()
        accepted = ServiceAccepted(service_id=sid, accepted_at=at(day, 10))
        await convenience_service(station, sid, service_type, paths["g1"], at(day), accepted)
    for where, tier, resolved, sensitivity in [
        ("c", Tier.BUILDING, "2025-03-03", Sensitivity.STANDARD),
        ("c", Tier.GRID, "2025-04-10", Sensitivity.STANDARD),
        ("c", Tier.COMMUNITY, "2025-04-20", Sensitivity.STANDARD),
        ("c", Tier.GRID, "2025-03-11", Sensitivity.SENSITIVE),
        ("c2", Tier.GRID, "2025-03-15", Sensitivity.STANDARD),
    ]:
        did = uuid.uuid4()
        if sensitivity is Sensitivity.SENSITIVE:
            ids["sensitive_dispute"] = did
        await sides.mediation.emit(
            f"dispute-{did}",
            dispute_registered(did, tier, at("2025-03-01"), paths[where], sensitivity),
            dispute_resolved(did, tier, at(resolved, 12)),
            area=paths[where].community_id,
        )
    for where, answered, closed in [
        ("g1", "2025-03-05", None),
        ("g1", None, "2025-04-10"),
        ("g3", "2025-03-20", None),
    ]:
        await petition(
            sides.mediation,
            paths[where],
            at("2025-03-01"),
            answered=at(answered) if answered else None,
            closed=at(closed) if closed else None,
        )
    for activity, held, served in [
        (ActivityKind.FREE_CHECK_UP_DAY, "2025-03-15", 20),
        (ActivityKind.PREVENTION_TALK, "2025-04-01", 12),
    ]:
        await health_activity(sides.health, activity, held, served, paths["c"])
    await volunteer_hours(
        sides.volunteering, paths["g1"], [(2.5, "2025-03-03", True), (1.5, "2025-04-20", True)]
    )
    for closed, on_time in [("2025-03-10", True), ("2025-04-15", False)]:
        await work_item(sides.governance, paths["c"], at(closed), on_time=on_time)
    return ids


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def world(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    async with every_write_side(
        pg_server_url, kafka_bootstrap, secret=SECRET, actor=ACTOR
    ) as sides:
        ids = await _seed(sides)
        async with sides.caught_up_query(export_max_rows=7, report_appendix_rows=3) as query:
            yield World(query.client, query.pool, ids)


async def _get(
    world: World, url: str, headers: dict[str, str], *, status: Any = 200, **params: Any
) -> httpx.Response:
    """GET ``url`` with ``params`` (``status``: the one expected; typed loosely, so that query
    parameters may come as ``**dict[str, str]``)."""
    response = await world.client.get(url, params=params, headers=headers)
    assert response.status_code == status, response.text
    return response


def _csv(response: httpx.Response) -> list[dict[str, str]]:
    assert response.headers["content-type"].startswith("text/csv")
    assert response.content.startswith(b"\xef\xbb\xbf")  # the BOM: Excel reads UTF-8
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _xlsx(response: httpx.Response) -> list[list[Any]]:
    assert response.headers["content-type"] == XLSX_MEDIA_TYPE
    book = openpyxl.load_workbook(io.BytesIO(response.content))
    return [list(row) for row in book.worksheets[0].iter_rows(values_only=True)]


# -- exports ------------------------------------------------------------------------------------


async def test_a_figure_exports_every_record_not_one_page(world: World) -> None:
    c = str(world.ids["c"])
    json_page = (
        await _get(
            world,
            "/dashboard/figures/disputes_resolved",
            world.director(),
            community_id=c,
            limit=1,
            **PERIOD,
        )
    ).json()
    assert (json_page["total"], len(json_page["items"])) == (4, 1)
    response = await _get(
        world,
        "/dashboard/figures/disputes_resolved",
        world.director(),
        community_id=c,
        limit=1,
        offset=1,
        format="csv",
        **PERIOD,
    )
    rows = _csv(response)
    assert len(rows) == 4
    assert list(rows[0]) == ["id", "date", "label", "group", "amount", "event_id"]
    assert sorted(r["group"] for r in rows) == ["building", "community", "grid", "grid"]
    assert {r["id"] for r in rows} >= {i["id"] for i in json_page["items"]}
    disposition = response.headers["content-disposition"]
    assert disposition.startswith("attachment;")
    assert 'filename="dashboard-figures-disputes_resolved-2025-03-01-2025-04-30.csv"' in disposition


async def test_accept_asks_for_csv_too(world: World) -> None:
    headers = {**world.director(), "Accept": "text/csv"}
    rows = _csv(await _get(world, "/petitions", headers, limit=1))
    assert len(rows) == 2  # both of C's, though a page holds one
    assert {r["department"] for r in rows} == {"住建"}
    assert {r["status"] for r in rows} == {"answered", "closed"}
    json_answer = await _get(world, "/petitions", world.director(), limit=1)
    assert json_answer.headers["content-type"] == "application/json"
    assert len(json_answer.json()["items"]) == 1


async def test_a_board_exports_as_xlsx_and_text_is_never_a_formula(world: World) -> None:
    rows = _xlsx(
        await _get(
            world,
            "/station/gatherings",
            world.director(),
            community_id=str(world.ids["c"]),
            format="xlsx",
        )
    )
    header, *records = rows
    assert "topic" in header
    assert "kind" in header
    topics = {r[header.index("topic")] for r in records}
    assert topics == {"'" + FORMULA_TOPIC, "公租房政策解读"}
    book = openpyxl.load_workbook(
        io.BytesIO(
            (
                await _get(
                    world,
                    "/station/gatherings",
                    {**world.director(), "Accept": XLSX_MEDIA_TYPE},
                    community_id=str(world.ids["c"]),
                )
            ).content
        )
    )
    assert all(cell.data_type != "f" for row in book.worksheets[0].iter_rows() for cell in row)


async def test_the_dashboard_exports_as_a_table_of_figures(world: World) -> None:
    params = {"community_id": str(world.ids["c"]), **PERIOD}
    board = (await _get(world, "/dashboard", world.director(), **params)).json()
    rows = _csv(await _get(world, "/dashboard", world.director(), format="csv", **params))
    totals = {r["name"]: r for r in rows if r["kind"] == "figure" and not r["group"]}
    assert set(totals) == set(board["figures"])
    for name, figure in board["figures"].items():
        assert float(totals[name]["value"]) == figure["value"], name
        assert totals[name]["label"] == LABELS[name]
    tiers = {
        r["group_label"]: r["value"]
        for r in rows
        if r["name"] == "disputes_resolved" and r["group"]
    }
    assert tiers == {"楼栋": "1", "网格": "2", "社区": "1"}
    rates = {r["name"]: r for r in rows if r["kind"] == "rate"}
    assert set(rates) == {"response", "resolution", "satisfaction"}
    sheet = _xlsx(await _get(world, "/dashboard", world.director(), format="xlsx", **params))
    assert sheet[0][:3] == ["kind", "name", "label"]
    assert len(sheet) == len(rows) + 1


async def test_an_export_holds_what_the_caller_may_see_only(world: World) -> None:
    c2_director = world.director("c2")
    other = _csv(
        await _get(
            world,
            "/dashboard/figures/receptions",
            c2_director,
            community_id=str(world.ids["c"]),
            format="csv",
            **PERIOD,
        )
    )
    assert other == []  # C's receptions do not exist for C2's director
    own = _csv(
        await _get(world, "/dashboard/figures/receptions", c2_director, format="csv", **PERIOD)
    )
    assert len(own) == 2
    petitions = _csv(await _get(world, "/petitions", c2_director, format="csv"))
    assert {r["community_id"] for r in petitions} == {str(world.ids["c2"])}
    desk = token(Role.DESK_STAFF, areas=(world.ids["c"],))
    disputes = _csv(await _get(world, "/disputes", desk, format="csv", limit=1))
    assert len(disputes) == 3  # not the sensitive one
    assert str(world.ids["sensitive_dispute"]) not in {r["id"] for r in disputes}
    empty = await _get(world, "/disputes", desk, format="csv", tier="external")
    assert _csv(empty) == []
    assert empty.content.decode("utf-8-sig").startswith("id,category,channel")
    forbidden = await _get(
        world, "/disputes", token(Role.DOCTOR, areas=(world.ids["c"],)), status=403, format="csv"
    )
    assert forbidden.json()["error"]["code"] == "forbidden"


async def test_sensitive_records_are_refused_or_audited_as_in_json(world: World) -> None:
    desk = token(Role.DESK_STAFF, areas=(world.ids["c"],))
    for fmt in ("json", "csv", "xlsx"):
        hidden = await _get(
            world, "/dashboard/figures/special_group_flags", desk, status=403, format=fmt, **PERIOD
        )
        assert hidden.json()["error"]["code"] == "figure_records_hidden"
    sensitive = world.ids["sensitive_dispute"]
    before = len(await reads_of(world.pool, "dispute", sensitive))
    rows = _csv(await _get(world, "/disputes", world.director(), format="csv"))
    assert str(sensitive) in {r["id"] for r in rows}
    assert len(await reads_of(world.pool, "dispute", sensitive)) == before + 1
    await _get(
        world, "/dashboard/figures/disputes_resolved", world.director(), format="xlsx", **PERIOD
    )
    assert len(await reads_of(world.pool, "dispute", sensitive)) == before + 2


async def test_an_unknown_format_or_type_is_refused_with_a_code(world: World) -> None:
    unknown = await _get(world, "/petitions", world.director(), status=400, format="pdf")
    assert unknown.json()["error"]["code"] == "unknown_format"
    assert unknown.json()["error"]["details"]["formats"] == ["json", "csv", "xlsx"]
    refused = await world.client.get(
        "/petitions", headers={**world.director(), "Accept": "application/xml"}
    )
    assert refused.status_code == 406
    assert refused.json()["error"]["code"] == "not_acceptable"
    upper = await _get(world, "/petitions", world.director(), format="CSV")
    assert len(_csv(upper)) == 2
    browser = await _get(world, "/petitions", {**world.director(), "Accept": "text/html,*/*;q=0.8"})
    assert browser.headers["content-type"] == "application/json"


async def test_an_export_beyond_the_bound_asks_to_narrow_the_filters(world: World) -> None:
    c = str(world.ids["c"])
    too_many = await _get(
        world,
        "/dashboard/figures/receptions",
        world.director(),
        status=413,
        community_id=c,
        format="csv",
        **PERIOD,
    )
    error = too_many.json()["error"]
    assert error["code"] == "export_too_large"
    assert error["details"] == {"records": 8, "max_rows": 7}
    assert "narrow" in error["message"]
    march = _csv(
        await _get(
            world,
            "/dashboard/figures/receptions",
            world.director(),
            community_id=c,
            format="csv",
            **{"from": "2025-03-01", "to": "2025-03-31"},
        )
    )
    assert len(march) == 5
    # the JSON pages are not bounded by it
    page = await _get(world, "/dashboard/figures/receptions", world.director(), **PERIOD)
    assert page.json()["total"] == 8


# -- the report ---------------------------------------------------------------------------------


def _pdf_text(content: bytes) -> str:
    reader = pypdf.PdfReader(io.BytesIO(content))
    return "\n".join(page.extract_text() for page in reader.pages)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


async def test_the_report_pdf_holds_every_figure_of_the_dashboard(world: World) -> None:
    params = {"community_id": str(world.ids["c"]), **PERIOD}
    board = (await _get(world, "/dashboard", world.director(), **params)).json()
    response = await _get(world, "/reports/community", world.director(), **params)
    assert response.headers["content-type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")
    text = _pdf_text(response.content)
    lines = [line.strip() for line in text.splitlines()]
    assert "安居社区工作数据报告" in text
    assert "统计期间：2025年3月1日至2025年4月30日" in text
    for name, figure in board["figures"].items():
        label = LABELS[name]
        assert label in lines, name
        assert lines[lines.index(label) + 1] == _number(figure["value"]), name  # its value
    assert board["figures"]["receptions"]["value"] == 8
    assert board["figures"]["disputes_resolved"]["value"] == 4
    assert board["figures"]["volunteer_hours_approved"]["value"] == 4
    assert "楼栋 1、网格 2、社区 1" in text
    response_rate = board["rates"]["response"]["value"]
    assert f"{response_rate * 100:.1f}%" in text  # a rate as a percentage
    for title in ("每月接待居民与便民服务", "化解矛盾纠纷的层级占比", "每月办结工作事项"):
        assert title in text
    assert "附录：数据明细" in text
    assert "服务站接待居民（人次）（共 8 条）" in text
    assert "……及另外 5 条" in text  # 3 of the 8 listed
    assert "2025-04-03" in text


async def test_the_report_html_is_one_printable_page_in_chinese(world: World) -> None:
    params = {"community_id": str(world.ids["c"]), **PERIOD, "format": "html"}
    board = await _get(world, "/dashboard", world.director(), **params | {"format": "json"})
    response = await _get(world, "/reports/community", world.director(), **params)
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    assert page.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in page
    assert "<h1>安居社区工作数据报告</h1>" in page
    for name, figure in board.json()["figures"].items():
        assert f'<tr id="figure-{name}"><td>{LABELS[name]}</td>' in page, name
        assert f'<td class="value">{_number(figure["value"])}</td>' in page, name
    assert page.count("<svg ") == 8  # station 2, mediation 2, health 2, volunteering, governance
    assert "2025-03" in page
    assert "2025-04" in page
    assert "@media print" in page
    lowered = page.lower()
    for fetch in ("<script", "<link", "<img", "@import", "http://", "https://", "src="):
        assert fetch not in lowered, fetch
    assert "=HYPERLINK(&quot;x&quot;) 理论宣讲" in page  # a lecture's topic, escaped
    assert "……及另外 5 条" in page


async def test_the_report_is_for_directors_of_the_community_and_audited(world: World) -> None:
    params = {"community_id": str(world.ids["c"]), **PERIOD}
    for role in (Role.GRID_WORKER, Role.DESK_STAFF, Role.VOLUNTEER_COORDINATOR):
        refused = await _get(
            world, "/reports/community", token(role, areas=(world.ids["c"],)), status=403, **params
        )
        assert refused.json()["error"]["code"] == "forbidden"
    elsewhere = await _get(world, "/reports/community", world.director("c2"), status=404, **params)
    assert elsewhere.json()["error"]["code"] == "community_not_found"
    grid = await _get(
        world,
        "/reports/community",
        world.director(),
        status=404,
        **{**params, "community_id": str(world.ids["g1"])},
    )
    assert grid.json()["error"]["code"] == "community_not_found"
    admin = await _get(world, "/reports/community", token(Role.ADMIN), **params)
    assert admin.content.startswith(b"%PDF")
    sensitive = world.ids["sensitive_dispute"]
    before = len(await reads_of(world.pool, "dispute", sensitive))
    await _get(world, "/reports/community", world.director(), **params)
    assert len(await reads_of(world.pool, "dispute", sensitive)) > before


async def test_a_bad_report_request_is_a_4xx_with_a_code(world: World) -> None:
    c = str(world.ids["c"])
    director = world.director()
    backwards = await _get(
        world,
        "/reports/community",
        director,
        status=400,
        community_id=c,
        **{"from": "2025-04-30", "to": "2025-03-01"},
    )
    assert backwards.json()["error"]["code"] == "bad_date_range"
    decades = await _get(
        world,
        "/reports/community",
        director,
        status=400,
        community_id=c,
        **{"from": "2001-01-01", "to": "2025-01-01"},
    )
    assert decades.json()["error"]["code"] == "report_period_too_long"
    for first, last in [("0001-01-01", "0001-01-31"), ("9999-11-01", "9999-12-31")]:
        edge = await _get(
            world, "/reports/community", director, community_id=c, format="html",
            **{"from": first, "to": last},
        )  # fmt: skip
        assert "本期无数据" in edge.text  # charts of nothing, at the ends of the calendar
    odd = await _get(
        world, "/reports/community", director, status=422, community_id=c, format="docx", **PERIOD
    )
    assert odd.json()["error"]["code"] == "validation_failed"
    missing = await _get(world, "/reports/community", director, status=422, **PERIOD)
    assert missing.json()["error"]["code"] == "validation_failed"
