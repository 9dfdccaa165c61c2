"""The ledger import's reading, checking and sending, against a fake service."""

from __future__ import annotations

import io
from datetime import date
from typing import Any
from uuid import uuid4
from zoneinfo import ZoneInfo

import pytest
from openpyxl import Workbook
from pydantic import Field

from eventkit.ledger import (
    Answer,
    Ledger,
    LedgerInvalid,
    LedgerRow,
    Options,
    Step,
    UnreadableLedger,
    plan,
    read,
    run,
)

OPTIONS = Options(area_id=uuid4(), zone=ZoneInfo("Asia/Shanghai"))


class Visit(LedgerRow):
    day: date
    purposes: list[str] = Field(min_length=1)
    count: int = Field(default=1, ge=1)


def _steps(row: Visit, options: Options) -> list[Step]:
    if row.count > 5:
        raise ValueError("a visit of more than five is a gathering")
    body = {"purposes": row.purposes, "occurred_at": options.at(row.day)}
    return [
        Step("log", "POST", "/visits", body),
        Step("close", "POST", "/visits/{log}/close", {"occurred_at": options.at(row.day)}),
    ]


VISITS = Ledger("visits", "visits", Visit, _steps)


def test_csv_in_utf8_with_a_bom_or_gb18030_reads_alike() -> None:
    text = "Day , Purposes\n2024-03-04,咨询、投诉\n\n2024-03-05,咨询\n"
    for data in (text.encode("utf-8-sig"), text.encode("gb18030")):
        lines = read(data)
        assert [(line.number, line.cells) for line in lines] == [
            (2, {"day": "2024-03-04", "purposes": "咨询、投诉"}),
            (4, {"day": "2024-03-05", "purposes": "咨询"}),
        ]


def test_xlsx_reads_its_first_sheet_with_row_numbers() -> None:
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.append(["day", "purposes"])
    sheet.append([date(2024, 3, 4), "consultation;complaint"])
    buffer = io.BytesIO()
    book.save(buffer)
    (line,) = read(buffer.getvalue())
    assert line.number == 2
    the_plan = plan(VISITS, [line], OPTIONS)
    (row,) = the_plan.rows
    assert row.steps[0].body == {
        "purposes": ["consultation", "complaint"],
        "occurred_at": "2024-03-04T09:00:00+08:00",
    }


@pytest.mark.parametrize(
    "data",
    [b"", b"day,day\n2024-01-01,x\n", b"day,\n", b"day\n2024-01-01,extra\n", b"PK\x03\x04junk"],
)
def test_a_file_that_is_no_ledger_is_refused(data: bytes) -> None:
    with pytest.raises(UnreadableLedger):
        read(data)


def test_every_bad_row_is_reported_with_its_line_and_column() -> None:
    lines = read(
        b"id,day,purposes,count\n"
        b"a,2024-03-04,x,1\n"
        b"b,2024-02-30,x,1\n"
        b"c,2024-03-04,,1\n"
        b"a,2024-03-04,x,1\n"
        b"d,2024-03-04,x,9\n"
        b"e,2024-03-04,x,1\n"
    )
    the_plan = plan(VISITS, lines, OPTIONS)
    assert [(b.line, b.column) for b in the_plan.bad] == [
        (3, "day"),
        (4, "purposes"),
        (5, "id"),
        (6, None),
    ]
    assert [r.line for r in the_plan.rows] == [2, 7]


def test_row_keys_are_stable_and_alike_rows_stay_apart() -> None:
    data = b"day,purposes\n2024-03-04,x\n2024-03-04,x\n2024-03-05,x\n"
    first = plan(VISITS, read(data), OPTIONS)
    again = plan(VISITS, read(data), OPTIONS)
    assert [r.key for r in first.rows] == [r.key for r in again.rows]
    assert len({r.key for r in first.rows}) == 3
    # A row added at the end keeps the keys of those before it.
    more = plan(VISITS, read(data + b"2024-03-04,x\n"), OPTIONS)
    assert [r.key for r in more.rows][:3] == [r.key for r in first.rows]


class FakeService:
    """Answers commands as a service would: remembers keys, refuses what it is told to."""

    def __init__(self, refuse_day: str | None = None, busy: int = 0) -> None:
        self.kept: dict[str, Answer] = {}
        self.sent: list[tuple[str, str]] = []
        self.refuse_day = refuse_day
        self.busy = busy

    async def send(self, method: str, path: str, body: dict[str, Any], key: str) -> Answer:
        self.sent.append((path, key))
        if self.busy:
            self.busy -= 1
            return Answer(503, {"error": {"code": "consistency_timeout"}}, False)
        if key in self.kept:
            kept = self.kept[key]
            return Answer(kept.status, kept.body, True)
        if self.refuse_day and body["occurred_at"].startswith(self.refuse_day):
            return Answer(422, {"error": {"code": "occurred_too_long_ago", "message": "no"}}, False)
        answer = Answer(201, {"id": f"v{len(self.kept)}"}, False)
        self.kept[key] = answer
        return answer


async def test_rows_are_sent_in_order_and_never_twice() -> None:
    data = b"day,purposes\n2024-03-04,x\n2024-03-04,x\n2024-03-05,y\n"
    the_plan = plan(VISITS, read(data), OPTIONS)
    service = FakeService(busy=2)
    done: list[int] = []
    report = await run(the_plan, service.send, concurrency=2, progress=done.append)
    assert (report.imported, report.already_imported, report.refused) == (3, 0, [])
    assert sum(done) == 3
    # Each row's second command goes to the record its first one made.
    for row in the_plan.rows:
        made = service.kept[f"ledger:visits:{row.key}:log"].body["id"]
        assert (f"/visits/{made}/close", f"ledger:visits:{row.key}:close") in service.sent
    again = await run(the_plan, service.send)
    assert (again.imported, again.already_imported) == (0, 3)
    assert len(service.kept) == 6


async def test_a_refused_row_stops_the_import_unless_bad_rows_are_skipped() -> None:
    data = b"day,purposes\n2024-03-04,x\n2024-03-05,x\n2024-03-06,x\n"
    the_plan = plan(VISITS, read(data), OPTIONS)
    stopped = await run(the_plan, FakeService(refuse_day="2024-03-05").send, concurrency=1)
    assert stopped.stopped
    assert stopped.imported == 1
    assert [(r["line"], r["step"], r["code"]) for r in stopped.refused] == [
        (3, "log", "occurred_too_long_ago")
    ]
    going_on = await run(
        the_plan, FakeService(refuse_day="2024-03-05").send, concurrency=1, skip_bad=True
    )
    assert not going_on.stopped
    assert going_on.imported == 2


async def test_a_plan_with_bad_rows_sends_nothing() -> None:
    the_plan = plan(VISITS, read(b"day,purposes\n2024-03-04,x\nnever,x\n"), OPTIONS)
    service = FakeService()
    with pytest.raises(LedgerInvalid) as raised:
        await run(the_plan, service.send)
    assert raised.value.details["invalid"][0]["line"] == 3
    assert service.sent == []
    skipped = await run(the_plan, service.send, skip_bad=True)
    assert (skipped.rows, skipped.imported, len(skipped.invalid)) == (2, 1, 1)


async def test_a_step_names_the_part_an_earlier_step_created() -> None:
    def steps(row: Visit, options: Options) -> list[Step]:
        return [
            Step("log", "POST", "/visits", {"occurred_at": options.at(row.day)}),
            Step("sign", "POST", "/visits/{log}/notes/{log.sub_id}/signature", {}),
        ]

    sent: list[str] = []

    async def send(method: str, path: str, body: dict[str, Any], key: str) -> Answer:
        sent.append(path)
        return Answer(201, {"id": "v1", "sub_id": "n1"}, False)

    the_plan = plan(
        Ledger("visits", "visits", Visit, steps), read(b"day,purposes\n2024-03-04,x\n"), OPTIONS
    )
    report = await run(the_plan, send)
    assert report.imported == 1
    assert sent == ["/visits", "/visits/v1/notes/n1/signature"]
