"""Ledger import: a community's paper ledgers (CSV or XLSX) brought in through the commands.

A community that starts using Anju has years on paper: receptions, lectures, disputes. A service
declares, per kind of ledger, what a row holds (a :class:`LedgerRow` model) and the commands
that record it (:class:`Step` s, each an HTTP request to the service's own API, dated with the
row's business time). :func:`plan` reads and checks the whole file first — every bad row is
reported with its line and reason, and nothing is sent if any row is bad unless the caller
skips them — and :func:`run` then sends the commands, row by row, through a :data:`Send`: over
HTTP for ``anju import``, in process (the same routes, the caller's own token) for the upload
route ``POST /imports/{kind}``. There is no other way into the stores: every row passes the
command's validation, permissions, business-time check and audit like a command typed by hand.

Importing the same file again adds nothing: every command of a row goes with an idempotency key
(:mod:`eventkit.idempotency`) made of the ledger kind, the row's key — the row's own ``id``
column if the ledger numbers its rows, else a hash of its content and of how many identical rows
came before it in the file (two anonymous visitors logged alike on one day are two rows) — and
the step. A command sent again is answered from what was kept, so an import interrupted half way
is finished by running it again — by whoever runs it: a ledger's keys are the service's, not
the caller's.

Services list their ledgers under the entry point group ``anju.ledgers``
(:func:`installed`), so the command-line tool finds every kind without importing the services.
"""

from __future__ import annotations

import asyncio
import csv
import hashlib
import io
import json
import re
import types
import typing
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time
from importlib.metadata import entry_points
from typing import Any, Generic, TypeVar
from uuid import UUID
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from eventkit.errors import Invalid, NotFound, Rejected
from eventkit.idempotency import LEDGER_PREFIX

ENTRY_POINTS = "anju.ledgers"
MAX_ROWS = 100_000
"""Rows one file may hold: a community's ledgers of several years fit many times over."""
DEFAULT_ZONE = "Asia/Shanghai"
DEFAULT_TIME = time(9, 0)
"""When in the day a row happened, if its ledger gives the day only: the desk opens at nine."""
_LIST_SPLIT = re.compile(r"[,;，；、|]")
_XLSX_MAGIC = b"PK\x03\x04"


class UnknownLedger(NotFound):
    code = "unknown_ledger"


class UnreadableLedger(Invalid):
    code = "ledger_unreadable"


class LedgerInvalid(Rejected):
    code = "ledger_invalid"


class BadZone(Invalid):
    code = "bad_time_zone"


class LedgerRow(BaseModel):
    """A row of a ledger. Columns are the fields (headers matched without regard to case or
    surrounding spaces); an empty cell is a missing value; a list field takes its items
    separated by commas, semicolons, 、 or |."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True, frozen=True)

    id: str | None = Field(
        default=None,
        max_length=100,
        description="The ledger's own row number, if it has one (an import keys rows by it)",
    )

    @model_validator(mode="before")
    @classmethod
    def _cells(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        cells: dict[str, Any] = {}
        for name, value in data.items():
            if value is None or (isinstance(value, str) and not value.strip()):
                continue
            info = cls.model_fields.get(name)
            if info is not None and isinstance(value, str) and _is_list(info.annotation):
                value = [item.strip() for item in _LIST_SPLIT.split(value) if item.strip()]
            cells[name] = value
        return cells


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(arg) for arg in typing.get_args(annotation))
    return origin in (list, tuple, set, frozenset)


@dataclass(frozen=True)
class Options:
    """What an import is for: the community (or grid) its rows belong to, and the time zone
    the ledger's days and times are written in."""

    area_id: UUID
    zone: ZoneInfo

    def at(self, day: date, at: time | None = None) -> str:
        """The business time of a row that happened on ``day`` (at ``at``, else nine o'clock),
        as a command's ``occurred_at``."""
        return datetime.combine(day, at or DEFAULT_TIME, tzinfo=self.zone).isoformat()


def zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise BadZone("no such time zone", time_zone=name) from error


@dataclass(frozen=True)
class Step:
    """One command of a row: ``path`` may name what earlier steps of the row answered: the
    record's id as ``{step}`` (``/services/{receive}/hand-off``), the part the step created
    inside it as ``{step.sub_id}`` (a referral, a volunteer's hours entry)."""

    name: str
    method: str
    path: str
    body: dict[str, Any]


@dataclass(frozen=True)
class Answered:
    """What a step's command answered, as a later step's path names it: ``{step}`` is the
    record's id, ``{step.sub_id}`` the part the command created inside it."""

    id: str
    sub_id: str | None = None

    def __format__(self, spec: str) -> str:
        return format(self.id, spec)

    def __str__(self) -> str:
        return self.id


R = TypeVar("R", bound=LedgerRow)


@dataclass(frozen=True)
class Ledger(Generic[R]):
    """A kind of ledger: its rows and the commands that record one."""

    kind: str
    description: str
    row: type[R]
    steps: Callable[[R, Options], Sequence[Step]]


@dataclass(frozen=True)
class Ledgers:
    """The ledgers a service takes."""

    service: str
    kinds: tuple[Ledger[Any], ...]

    def get(self, kind: str) -> Ledger[Any]:
        for ledger in self.kinds:
            if ledger.kind == kind:
                return ledger
        raise UnknownLedger(
            f"{self.service} takes no ledger {kind!r}",
            kind=kind,
            known=[k.kind for k in self.kinds],
        )


def installed() -> dict[str, Ledgers]:
    """Every ledger kind the installed services take, by kind."""
    found: dict[str, Ledgers] = {}
    for point in entry_points(group=ENTRY_POINTS):
        ledgers = point.load()
        if isinstance(ledgers, Ledgers):
            found.update({ledger.kind: ledgers for ledger in ledgers.kinds})
    return found


# -- reading a file ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Line:
    """A data row of the file: its line (CSV) or row number (XLSX), as the user sees it."""

    number: int
    cells: dict[str, Any]


def read(data: bytes) -> list[Line]:
    """The file's rows under its header row: XLSX (the first sheet) or CSV (UTF-8, with or
    without a byte-order mark, else GB18030 as Chinese spreadsheets save it)."""
    rows = _xlsx(data) if data.startswith(_XLSX_MAGIC) else _csv(data)
    header: list[str] | None = None
    lines: list[Line] = []
    for number, cells in rows:
        if all(c is None or (isinstance(c, str) and not c.strip()) for c in cells):
            continue
        if header is None:
            header = [str(c or "").strip().lower() for c in cells]
            if len(set(header)) != len(header) or "" in header:
                raise UnreadableLedger(
                    "the header row must name every column once", line=number, header=header
                )
            continue
        if len(cells) > len(header):
            raise UnreadableLedger("a row has more cells than the header has columns", line=number)
        lines.append(Line(number, dict(zip(header, cells, strict=False))))
        if len(lines) > MAX_ROWS:
            raise UnreadableLedger(f"at most {MAX_ROWS} rows in one file", line=number)
    if header is None:
        raise UnreadableLedger("the file has no header row")
    return lines


def _csv(data: bytes) -> Iterable[tuple[int, list[Any]]]:
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("gb18030")
        except UnicodeDecodeError as error:
            raise UnreadableLedger("the file is neither UTF-8 nor GB18030 text") from error
    if "\x00" in text:
        raise UnreadableLedger("the file holds NUL characters: not a CSV ledger")
    reader = csv.reader(io.StringIO(text, newline=""))
    try:
        for cells in reader:
            yield reader.line_num, list(cells)
    except csv.Error as error:
        raise UnreadableLedger(f"not CSV: {error}", line=reader.line_num) from error


def _xlsx(data: bytes) -> Iterable[tuple[int, list[Any]]]:
    from openpyxl import load_workbook  # only a ledger in XLSX needs it

    try:
        book = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as error:  # a damaged workbook fails in many ways inside openpyxl
        raise UnreadableLedger(f"not an XLSX workbook: {type(error).__name__}") from error
    try:
        sheet = book.worksheets[0]
        for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
            yield number, list(cells)
    finally:
        book.close()


# -- checking it as a whole --------------------------------------------------------------------


@dataclass(frozen=True)
class BadRow:
    """Why a row cannot be imported: its line, the column at fault (if one) and the reason."""

    line: int
    reason: str
    column: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"line": self.line, "column": self.column, "reason": self.reason}


@dataclass(frozen=True)
class PlannedRow:
    line: int
    key: str
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Plan:
    kind: str
    rows: tuple[PlannedRow, ...]
    bad: tuple[BadRow, ...]


def plan(ledger: Ledger[Any], lines: Sequence[Line], options: Options) -> Plan:
    """Every row checked and turned into its commands, before anything is sent."""
    rows: list[PlannedRow] = []
    bad: list[BadRow] = []
    seen_ids: dict[str, int] = {}
    alike: Counter[str] = Counter()
    for line in lines:
        try:
            row = ledger.row.model_validate(line.cells)
            steps = tuple(ledger.steps(row, options))
        except ValidationError as error:
            bad.extend(
                BadRow(line.number, problem["msg"], ".".join(str(p) for p in problem["loc"]))
                for problem in error.errors()
            )
            continue
        except ValueError as error:  # a rule across columns, raised by the steps
            bad.append(BadRow(line.number, str(error)))
            continue
        if row.id is not None:
            if row.id in seen_ids:
                bad.append(
                    BadRow(
                        line.number, f"the id is also the row's at line {seen_ids[row.id]}", "id"
                    )
                )
                continue
            seen_ids[row.id] = line.number
            key = _digest(f"id:{row.id}")
        else:
            content = _digest(json.dumps(row.model_dump(mode="json"), sort_keys=True))
            alike[content] += 1
            key = _digest(f"{content}#{alike[content]}")
        rows.append(PlannedRow(line.number, key, steps))
    return Plan(ledger.kind, tuple(rows), tuple(bad))


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:32]


# -- sending it --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int
    body: Any
    replayed: bool


Send = Callable[[str, str, dict[str, Any], str], Awaitable[Answer]]
"""Sends one command (method, path, body, idempotency key) and returns the service's answer."""

RETRIES = 5
"""Times a command answered "try again" (busy, catching up, a concurrent duplicate) is sent."""


class Report(BaseModel):
    """What an import did."""

    kind: str
    rows: int = Field(description="Rows in the file")
    imported: int = Field(description="Rows recorded by this import")
    already_imported: int = Field(description="Rows an earlier import had recorded: unchanged")
    invalid: list[dict[str, Any]] = Field(
        default_factory=list, description="Rows that failed the check: line, column, reason"
    )
    refused: list[dict[str, Any]] = Field(
        default_factory=list,
        description="Rows the service refused while importing: line, step, code, reason",
    )
    stopped: bool = Field(
        default=False,
        description="A refused row stopped the import: rows after it were not sent. Fix the row "
        "and import the file again; what was recorded is not recorded twice",
    )


@dataclass
class _Progress:
    imported: int = 0
    already: int = 0
    refused: list[dict[str, Any]] = field(default_factory=list)
    stop: bool = False


async def run(
    the_plan: Plan,
    send: Send,
    *,
    skip_bad: bool = False,
    concurrency: int = 4,
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Send every planned row's commands, ``concurrency`` rows at a time, each row's in order.

    Refuses to send anything when the plan has bad rows, unless ``skip_bad``. Without
    ``skip_bad`` a row the service refuses stops the import (rows already under way finish);
    with it, the import goes on and reports it. ``progress`` is called with each row done.
    """
    if the_plan.bad and not skip_bad:
        raise LedgerInvalid(
            f"{len({b.line for b in the_plan.bad})} rows are bad; nothing was imported",
            kind=the_plan.kind,
            invalid=[b.as_dict() for b in the_plan.bad[:1000]],
        )
    state = _Progress()
    queue: asyncio.Queue[PlannedRow] = asyncio.Queue()
    for row in the_plan.rows:
        queue.put_nowait(row)

    async def worker() -> None:
        while not state.stop and not queue.empty():
            row = queue.get_nowait()
            fresh, refused = await _send_row(the_plan.kind, row, send)
            if refused is not None:
                state.refused.append(refused)
                state.stop = not skip_bad
            elif fresh:
                state.imported += 1
            else:
                state.already += 1
            if progress is not None:
                progress(1)

    await asyncio.gather(*(worker() for _ in range(max(1, concurrency))))
    return Report(
        kind=the_plan.kind,
        rows=len(the_plan.rows) + len({b.line for b in the_plan.bad}),
        imported=state.imported,
        already_imported=state.already,
        invalid=[b.as_dict() for b in the_plan.bad],
        refused=sorted(state.refused, key=lambda r: int(r["line"])),
        stopped=state.stop,
    )


async def _send_row(kind: str, row: PlannedRow, send: Send) -> tuple[bool, dict[str, Any] | None]:
    """Whether any command of the row was recorded now (not answered from an earlier import),
    and why the service refused the row, if it did."""
    ids: dict[str, Answered] = {}
    fresh = False
    for step in row.steps:
        path = step.path.format(**ids)
        answer = await _send(send, step, path, f"{LEDGER_PREFIX}{kind}:{row.key}:{step.name}")
        if answer.status >= 300:
            error = answer.body.get("error", {}) if isinstance(answer.body, dict) else {}
            return fresh, {
                "line": row.line,
                "step": step.name,
                "status": answer.status,
                "code": error.get("code", "failed"),
                "reason": error.get("message", str(answer.body)[:200]),
                "details": error.get("details", {}),
            }
        fresh = fresh or not answer.replayed
        if isinstance(answer.body, dict) and "id" in answer.body:
            sub_id = answer.body.get("sub_id")
            ids[step.name] = Answered(
                str(answer.body["id"]), None if sub_id is None else str(sub_id)
            )
    return fresh, None


async def _send(send: Send, step: Step, path: str, key: str) -> Answer:
    answer = await send(step.method, path, step.body, key)
    for attempt in range(RETRIES):
        if not _retry(answer):
            break
        await asyncio.sleep(0.2 * 2**attempt)
        answer = await send(step.method, path, step.body, key)
    return answer


def _retry(answer: Answer) -> bool:
    if answer.status == 503:
        return True
    code = answer.body.get("error", {}).get("code") if isinstance(answer.body, dict) else None
    return answer.status == 409 and code in ("idempotency_key_in_use", "conflict")
