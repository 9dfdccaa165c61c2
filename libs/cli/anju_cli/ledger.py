"""``anju import KIND FILE``: a paper ledger (CSV or XLSX) into the service that keeps its kind.

The file is checked as a whole first (:func:`eventkit.ledger.plan`): with any bad row, every one
is listed with its line and reason and nothing is sent, unless ``--skip-bad``. The rows are then
sent as the service's own commands over HTTP, with a progress bar; importing the same file again
adds nothing. The service's address is ``--url``, else ``ANJU_<SERVICE>_URL``, else the port of
its manifest on this machine; the token is ``--token``, else ``ANJU_TOKEN``, else one minted with
the dev secret for a director of the area.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import time
import tomllib
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO
from uuid import UUID

import httpx

from eventkit.auth import Role, issue_token
from eventkit.errors import DomainError
from eventkit.ledger import DEFAULT_ZONE, Options, installed, plan, read, run, zone
from eventkit.ledger_http import http_send


class Bar:
    """A progress bar on a terminal (a line per tenth on anything else)."""

    def __init__(self, total: int, out: TextIO = sys.stderr) -> None:
        self.total, self.done, self.out = total, 0, out
        self.tty = out.isatty()
        self.started = time.monotonic()
        self._shown = -1

    def __call__(self, n: int) -> None:
        self.done += n
        share = self.done / self.total if self.total else 1.0
        if self.tty:
            filled = int(share * 30)
            rate = self.done / max(time.monotonic() - self.started, 1e-3)
            self.out.write(
                f"\r[{'#' * filled}{'.' * (30 - filled)}] {self.done}/{self.total} rows"
                f"  {rate:.0f}/s"
            )
            if self.done == self.total:
                self.out.write("\n")
        elif int(share * 10) > self._shown:
            self._shown = int(share * 10)
            self.out.write(f"{self.done}/{self.total} rows\n")
        self.out.flush()


def service_url(root: Path, service: str, given: str | None) -> str:
    if given:
        return given.rstrip("/")
    env = os.environ.get(f"ANJU_{service.upper()}_URL")
    if env:
        return env.rstrip("/")
    manifest = root / "services" / service / "service.toml"
    if manifest.is_file():
        port = tomllib.loads(manifest.read_text())["service"]["port"]
        return f"http://127.0.0.1:{port}"
    raise SystemExit(f"where does {service} listen? give --url or ANJU_{service.upper()}_URL")


def cmd_import(args: argparse.Namespace, root: Path, secret: Callable[[], str]) -> int:
    if args.kind == "list":
        return list_ledgers()
    if args.file is None or args.area is None:
        print("anju import KIND FILE --area ID", file=sys.stderr)
        return 2
    kinds = installed()
    ledgers = kinds.get(args.kind)
    if ledgers is None:
        print(f"no ledger {args.kind!r}; the ledgers: {', '.join(sorted(kinds))}", file=sys.stderr)
        return 2
    ledger = ledgers.get(args.kind)
    try:
        options = Options(area_id=args.area, zone=zone(args.time_zone))
        the_plan = plan(ledger, read(Path(args.file).read_bytes()), options)
    except DomainError as error:
        print(f"{args.file}: {error.message} {json.dumps(error.details, ensure_ascii=False)}")
        return 1
    for bad in the_plan.bad:
        column = f" [{bad.column}]" if bad.column else ""
        print(f"{args.file}:{bad.line}{column}: {bad.reason}", file=sys.stderr)
    if the_plan.bad and not args.skip_bad:
        print(
            f"{len({b.line for b in the_plan.bad})} bad rows: nothing imported"
            " (fix them, or --skip-bad to import the others)",
            file=sys.stderr,
        )
        return 1
    url = service_url(root, ledgers.service, args.url)
    token = (
        args.token
        or os.environ.get("ANJU_TOKEN")
        or issue_token(secret(), "ledger-import", [Role.DIRECTOR], [str(args.area)])
    )
    report = asyncio.run(_send(the_plan, url, token, args))
    skipped = len({bad["line"] for bad in report.invalid})
    print(
        f"{args.kind}: {report.imported} rows imported, {report.already_imported} imported before"
        + (f", {skipped} bad rows skipped" if skipped else "")
        + (f", {len(report.refused)} refused" if report.refused else "")
    )
    for refused in report.refused:
        print(
            f"{args.file}:{refused['line']}: {refused['step']}: {refused['code']}:"
            f" {refused['reason']}",
            file=sys.stderr,
        )
    if report.stopped:
        print("stopped at a refused row: fix it and import again (nothing is doubled)")
    return 1 if report.refused else 0


async def _send(the_plan: Any, url: str, token: str, args: argparse.Namespace) -> Any:
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
    ) as client:
        try:
            return await run(
                the_plan,
                http_send(client),
                skip_bad=args.skip_bad,
                concurrency=args.concurrency,
                progress=Bar(len(the_plan.rows)),
            )
        except httpx.TransportError as error:
            raise SystemExit(f"{url} does not answer ({type(error).__name__})") from error


def list_ledgers() -> int:
    """Every ledger kind, the service that takes it, and its columns."""
    for kind, ledgers in sorted(installed().items()):
        ledger = ledgers.get(kind)
        print(f"{kind} ({ledgers.service}): {ledger.description}")
        for name, info in ledger.row.model_fields.items():
            need = "required" if info.is_required() else "optional"
            print(f"    {name:<18} {need:<9} {info.description or ''}".rstrip())
    return 0


def add_commands(sub: Any, root: Path, secret: Callable[[], str]) -> None:
    command = sub.add_parser(
        "import",
        help="import a paper ledger (CSV or XLSX) through the services' commands",
        description="Import a paper ledger. `anju import list` lists the kinds and columns.",
    )
    command.add_argument("kind", help="what the ledger holds (`list`: the kinds and columns)")
    command.add_argument(
        "file", nargs="?", help="a CSV (UTF-8 or GB18030) or XLSX file, a header row first"
    )
    command.add_argument("--area", type=UUID, help="the community (or grid) id")
    command.add_argument("--skip-bad", action="store_true", help="import the good rows only")
    command.add_argument("--time-zone", default=DEFAULT_ZONE, help="the ledger's time zone")
    command.add_argument("--url", help="the service's address (default: from the manifest)")
    command.add_argument("--token", help="a bearer token (default: ANJU_TOKEN, else a dev one)")
    command.add_argument("--concurrency", type=int, default=4, help="rows sent at once")
    command.set_defaults(func=lambda a: cmd_import(a, root, secret))
