"""Read models as tables, and tables as CSV or XLSX files: what an export of a board or a figure
writes.

A row is one item of a board, its fields as columns: a nested value is flattened into columns
named by its path (``location.grid_name``), a list is joined into one cell (``a; b``; an element
that is itself a record as ``key: value, ...``). The header is every column met, in the order
met; a board without items has the columns its item type declares.

A cell that a spreadsheet would read as a formula (text starting with ``=``, ``+``, ``-``, ``@``
or a tab) is written with a leading apostrophe, so that free text typed at the desk never runs
as a formula on the computer that opens the export.
"""

from __future__ import annotations

import csv
import io
import re
import types
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Union, get_args, get_origin

from openpyxl import Workbook
from pydantic import BaseModel

Cell = str | int | float | bool | None

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_ILLEGAL_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")
"""Control characters a worksheet cannot hold (openpyxl refuses them)."""


def _scalar(value: object) -> Cell:
    if isinstance(value, float) and value.is_integer():
        return int(value)  # a count typed as a float reads 3, not 3.0
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return str(value)


def _joined(value: object) -> str:
    if isinstance(value, Mapping):
        return ", ".join(f"{k}: {_joined(v)}" for k, v in value.items())
    if isinstance(value, list | tuple):
        return "; ".join(_joined(v) for v in value)
    return "" if value is None else str(value)


def flatten(record: Mapping[str, Any], prefix: str = "") -> dict[str, Cell]:
    """One row: ``record``'s values by column, nested mappings flattened, lists joined."""
    row: dict[str, Cell] = {}
    for key, value in record.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping) and value:
            row.update(flatten(value, f"{name}."))
        elif isinstance(value, Mapping):
            row[name] = None
        elif isinstance(value, list | tuple):
            row[name] = _joined(value)
        else:
            row[name] = _scalar(value)
    return row


def _model_in(annotation: Any) -> type[BaseModel] | None:
    """The record type ``annotation`` names, alone or as ``X | None``."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    if get_origin(annotation) in (Union, types.UnionType):
        found = [m for m in map(_model_in, get_args(annotation)) if m is not None]
        return found[0] if len(found) == 1 else None
    return None


def columns_of(model: type[BaseModel], prefix: str = "") -> list[str]:
    """The columns a record of ``model`` flattens into (a nested record's own columns)."""
    columns: list[str] = []
    for name, field in model.model_fields.items():
        nested = _model_in(field.annotation)
        if nested is not None:
            columns.extend(columns_of(nested, f"{prefix}{name}."))
        else:
            columns.append(f"{prefix}{name}")
    return columns


@dataclass(frozen=True)
class Table:
    columns: list[str]
    rows: list[dict[str, Cell]]

    @classmethod
    def of(cls, records: Iterable[Mapping[str, Any]], model: type[BaseModel] | None) -> Table:
        """The table of ``records`` (JSON-like mappings, as ``model_dump(mode="json")`` gives);
        with none, the columns of ``model``."""
        rows = [flatten(r) for r in records]
        if not rows:
            return cls(columns_of(model) if model is not None else [], [])
        columns = list(dict.fromkeys(c for row in rows for c in row))
        return cls(columns, rows)

    def values(self) -> Iterable[list[Cell]]:
        for row in self.rows:
            yield [_safe(row.get(c)) for c in self.columns]


def _safe(value: Cell) -> Cell:
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def to_csv(table: Table) -> bytes:
    """The table as CSV in UTF-8 with a byte-order mark (so that Excel reads Chinese text)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(table.columns)
    for values in table.values():
        writer.writerow(["" if v is None else v for v in values])
    return b"\xef\xbb\xbf" + text.getvalue().encode("utf-8")


def sheet_title(name: str) -> str:
    """A worksheet's name: at most 31 characters, none of ``[]:*?/\\``."""
    return re.sub(r"[\[\]:*?/\\]", "-", name)[:31] or "export"


def to_xlsx(table: Table, title: str) -> bytes:
    """The table as one worksheet named ``title`` (its header row frozen)."""
    book = Workbook(write_only=True)
    sheet = book.create_sheet(sheet_title(title))
    sheet.freeze_panes = "A2"
    sheet.append(table.columns)
    for values in table.values():
        sheet.append([_cleaned(v) for v in values])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def _cleaned(value: Cell) -> Cell:
    return _ILLEGAL_XLSX.sub("", value) if isinstance(value, str) else value


def records_of(items: Sequence[Any]) -> list[dict[str, Any]]:
    """Items of a read model as JSON-like mappings (what the JSON answer holds)."""
    return [i.model_dump(mode="json") if isinstance(i, BaseModel) else dict(i) for i in items]
