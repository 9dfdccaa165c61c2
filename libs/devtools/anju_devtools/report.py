"""``anju report``: the community's printable report (PDF or HTML) from the query service,
written to a file.

The query service is ``--url``, else the dev stack's query port from the service manifest
(``services/query/service.toml``). The bearer token is ``--token``, else ``ANJU_TOKEN``, else a
director's token for that community signed with the dev secret (as ``anju token`` signs them).
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from anju_devtools import manifest
from eventkit.auth import Role

Sign = Callable[[str, list[Role], list[str]], str]
"""Signs a token: ``(sub, roles, areas)``."""


class ReportFailed(Exception):
    """The query service refused the report; the message says why, with its error code."""


def query_url(root: Path) -> str:
    """The query service of the dev stack, at the port its manifest declares."""
    query = next(s for s in manifest.load(root) if s.name == "query")
    return f"http://127.0.0.1:{query.port}"


def fetch_report(
    url: str,
    token: str,
    community: UUID,
    first: date,
    last: date,
    fmt: str,
    *,
    transport: httpx.BaseTransport | None = None,
) -> bytes:
    """The report's bytes, as ``GET /reports/community`` answers them."""
    params = {
        "community_id": str(community),
        "from": first.isoformat(),
        "to": last.isoformat(),
        "format": fmt,
    }
    try:
        with httpx.Client(base_url=url, transport=transport, timeout=120) as client:
            response = client.get(
                "/reports/community",
                params=params,
                headers={"Authorization": f"Bearer {token}"},
            )
    except httpx.HTTPError as error:
        raise ReportFailed(f"the query service at {url} does not answer: {error}") from error
    if response.status_code != 200:
        try:
            detail = response.json()["error"]
            reason = f"{detail['code']}: {detail['message']}"
        except (ValueError, KeyError, TypeError):
            reason = response.text[:200]
        raise ReportFailed(f"the query service answered {response.status_code} ({reason})")
    return response.content


def run(
    root: Path,
    args: argparse.Namespace,
    sign: Sign,
    *,
    transport: httpx.BaseTransport | None = None,
) -> int:
    """``anju report``: fetch the report and write it; where it went, or why not."""
    token = (
        args.token
        or os.environ.get("ANJU_TOKEN")
        or sign("report-cli", [Role.DIRECTOR], [str(args.community)])
    )
    url = args.url or query_url(root)
    out = args.out or Path(
        f"report-{args.community}-{args.first.isoformat()}-{args.last.isoformat()}.{args.format}"
    )
    try:
        body = fetch_report(
            url, token, args.community, args.first, args.last, args.format, transport=transport
        )
    except ReportFailed as error:
        print(f"anju report: {error}")
        return 1
    out.write_bytes(body)
    print(f"wrote {out} ({len(body):,} bytes)")
    return 0


def add_parser(sub: Any, root: Path, sign: Sign) -> None:
    """Register ``anju report`` on ``anju``'s subparsers."""
    report = sub.add_parser(
        "report", help="write a community's printable report (PDF or HTML) for a period"
    )
    report.add_argument("--community", type=UUID, required=True, help="the community's id")
    report.add_argument(
        "--from",
        dest="first",
        metavar="DATE",
        type=date.fromisoformat,
        required=True,
        help="the period's first day (YYYY-MM-DD)",
    )
    report.add_argument(
        "--to",
        dest="last",
        metavar="DATE",
        type=date.fromisoformat,
        required=True,
        help="the period's last day, included",
    )
    report.add_argument("--format", choices=["pdf", "html"], default="pdf")
    report.add_argument("--out", type=Path, help="the file to write (default: report-….pdf)")
    report.add_argument("--url", help="the query service (default: the dev stack's)")
    report.add_argument(
        "--token", help="a bearer token (default: $ANJU_TOKEN, else a dev director token)"
    )
    report.set_defaults(func=lambda a: run(root, a, sign))
