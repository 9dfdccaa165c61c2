"""Exports without a database: read models flattened into rows, CSV and XLSX written and read
back, and the format a request asks for."""

from __future__ import annotations

import csv
import io
from datetime import date
from uuid import UUID

import openpyxl
import pytest

from anju_query.application.models import Location, ResidentSummary
from anju_query.application.tables import Table, columns_of, flatten, records_of, to_csv, to_xlsx
from anju_query.entrypoints.exports import (
    ExportFormat,
    NotAcceptable,
    UnknownFormat,
    negotiate,
)


def _resident(name: str) -> ResidentSummary:
    return ResidentSummary.model_validate(
        {
            "id": "8d3b4c52-64f7-4a5c-9a53-2b8f1b0c6a11",
            "name": name,
            "sex": "female",
            "date_of_birth": date(1950, 2, 3),
            "age": 75,
            "id_number": "110101********1234",
            "status": "active",
            "location": Location(
                community_id=UUID("8d3b4c52-64f7-4a5c-9a53-2b8f1b0c6a12"),
                community_name="安居社区",
                grid_id=None,
                grid_name=None,
                building_id=None,
                building_name=None,
                unit_id=None,
                unit_name=None,
            ),
            "flags": [
                {"type": "elderly_alone", "tier": "red"},
                {"type": "disability", "tier": "blue"},
            ],
        }
    )


def test_nested_values_are_flattened_and_lists_joined() -> None:
    row = flatten(records_of([_resident("张三")])[0])
    assert row["location.community_name"] == "安居社区"
    assert row["location.grid_id"] is None
    assert row["flags"] == "type: elderly_alone, tier: red; type: disability, tier: blue"
    assert row["date_of_birth"] == "1950-02-03"
    assert flatten({"by": {}, "n": 3.0, "tags": ["a", "b"]}) == {"by": None, "n": 3, "tags": "a; b"}


def test_an_empty_board_has_the_columns_of_its_items() -> None:
    table = Table.of([], ResidentSummary)
    assert table.columns[:3] == ["id", "name", "sex"]
    assert "location.community_name" in table.columns
    assert "location" not in table.columns
    assert columns_of(ResidentSummary) == table.columns
    assert to_csv(table).decode("utf-8-sig").splitlines() == [",".join(table.columns)]


def test_csv_has_a_bom_and_reads_back() -> None:
    table = Table.of(records_of([_resident("张三"), _resident("李四")]), ResidentSummary)
    data = to_csv(table)
    assert data.startswith(b"\xef\xbb\xbf")
    rows = list(csv.DictReader(io.StringIO(data.decode("utf-8-sig"))))
    assert [r["name"] for r in rows] == ["张三", "李四"]
    assert rows[0]["location.community_name"] == "安居社区"
    assert rows[0]["location.grid_id"] == ""


@pytest.mark.parametrize("text", ["=1+2", "+1", "-1", "@SUM(A1)", "\tx"])
def test_text_that_a_spreadsheet_would_run_is_written_as_text(text: str) -> None:
    table = Table.of([{"note": text, "n": -1}], None)
    rows = list(csv.reader(io.StringIO(to_csv(table).decode("utf-8-sig"))))
    assert rows[1] == ["'" + text, "-1"]  # numbers stay numbers
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(table, "notes")))
    cell = book.active["A2"]  # type: ignore[index]
    assert cell.value == "'" + text
    assert cell.data_type == "s"


def test_xlsx_reads_back_with_its_header_and_types() -> None:
    table = Table.of(
        [{"label": "理论宣讲\x01", "amount": 2.5, "ok": True}, {"label": "b", "amount": 1}], None
    )
    book = openpyxl.load_workbook(io.BytesIO(to_xlsx(table, "dashboard/figures:x")))
    sheet = book.worksheets[0]
    assert sheet.title == "dashboard-figures-x"
    assert [list(r) for r in sheet.iter_rows(values_only=True)] == [
        ["label", "amount", "ok"],
        ["理论宣讲", 2.5, True],  # a control character a worksheet cannot hold is dropped
        ["b", 1, None],
    ]


def test_the_format_comes_from_the_query_then_accept() -> None:
    assert negotiate(None, None) is ExportFormat.JSON
    assert negotiate("csv", "application/json") is ExportFormat.CSV
    assert negotiate(" XLSX ", None) is ExportFormat.XLSX
    assert negotiate(None, "text/csv") is ExportFormat.CSV
    assert negotiate(None, "application/json, text/csv;q=0.5") is ExportFormat.JSON
    assert negotiate(None, "text/csv;q=0.5, application/json;q=0.4") is ExportFormat.CSV
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    assert negotiate(None, xlsx) is ExportFormat.XLSX
    assert negotiate(None, "text/html,application/xhtml+xml,*/*;q=0.8") is ExportFormat.JSON
    with pytest.raises(UnknownFormat) as unknown:
        negotiate("pdf", None)
    assert unknown.value.code == "unknown_format"
    with pytest.raises(NotAcceptable):
        negotiate(None, "application/xml")
    with pytest.raises(NotAcceptable):
        negotiate(None, "text/csv;q=0")
