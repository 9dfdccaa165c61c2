"""``anju subject-access``: everything Anju holds about a resident, from every service, in one report.

Every service that keeps an event store (its manifest names the topic it ``publishes``) is asked
``POST /subject-access`` with the caller's token and the reason; each answers for its own store
and lists what it withheld under its own rules. The report is JSON (``--out``), with a section
per service, and optionally a readable HTML page (``--html``). A service that does not know the
resident, or whose answer is refused, says so in its section; one that does not answer makes
the command fail, so that an incomplete report is never taken for a complete one.

Addresses: ``ANJU_<SERVICE>_URL``, else the manifest's port on this machine. The token:
``--token``, else ``ANJU_TOKEN``, else (dev stack) one minted with the dev secret for a director
of ``--area``.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import os
import sys
import tomllib
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from anju_cli.ledger import service_url
from eventkit.auth import Role, issue_token


def event_services(root: Path) -> list[str]:
    """The services whose manifests say they keep an event store (they publish a topic)."""
    names = []
    for manifest in sorted((root / "services").glob("*/service.toml")):
        service = tomllib.loads(manifest.read_text())["service"]
        if service.get("publishes"):
            names.append(service["name"])
    return names


async def ask(service: str, url: str, token: str, resident_id: UUID, reason: str) -> dict[str, Any]:
    """One service's section of the report."""
    body = {"resident_id": str(resident_id), "reason": reason}
    try:
        async with httpx.AsyncClient(base_url=url, timeout=120) as client:
            response = await client.post(
                "/subject-access", json=body, headers={"Authorization": f"Bearer {token}"}
            )
    except httpx.TransportError as error:
        return {"status": "unreachable", "url": url, "error": type(error).__name__}
    if response.status_code == 200:
        answer: dict[str, Any] = response.json()
        return {
            "status": "answered",
            "events": answer["events"],
            "withheld": answer["withheld"],
            "made_at": answer["made_at"],
        }
    try:
        error_body = response.json()
    except ValueError:
        error_body = {"message": response.text[:200]}
    status = "not_known" if response.status_code == 404 else "refused"
    return {
        "status": status,
        "http_status": response.status_code,
        "error": error_body.get("code"),
        "message": error_body.get("message"),
    }


async def collect(
    root: Path, token: str, resident_id: UUID, reason: str, services: list[str]
) -> dict[str, Any]:
    urls = {service: service_url(root, service, None) for service in services}
    answers = await asyncio.gather(*(ask(s, urls[s], token, resident_id, reason) for s in services))
    return {
        "resident_id": str(resident_id),
        "reason": reason,
        "made_at": datetime.now(UTC).isoformat(),
        "services": dict(zip(services, answers, strict=True)),
    }


def render_html(report: dict[str, Any]) -> str:
    """The report as a page a person can read (every value escaped)."""
    e = html.escape
    parts = [
        "<!doctype html><html lang='zh'><head><meta charset='utf-8'>",
        f"<title>Subject access report {e(report['resident_id'])}</title>",
        "<style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "td,th{border:1px solid #ccc;padding:4px;vertical-align:top;text-align:left}"
        "pre{margin:0;white-space:pre-wrap}</style></head><body>",
        "<h1>What Anju holds about a resident</h1>",
        f"<p>Resident <code>{e(report['resident_id'])}</code>; made "
        f"{e(report['made_at'])}; reason: {e(report['reason'])}</p>",
    ]
    for service, section in report["services"].items():
        parts.append(f"<h2>{e(service)}</h2>")
        if section["status"] != "answered":
            detail = section.get("message") or section.get("error") or ""
            parts.append(f"<p><strong>{e(section['status'])}</strong> {e(str(detail))}</p>")
            continue
        events = section["events"]
        parts.append(f"<p>{len(events)} events.</p>")
        if events:
            parts.append("<table><tr><th>when</th><th>what</th><th>data</th></tr>")
            for event in events:
                data = json.dumps(event["data"], ensure_ascii=False, indent=1)
                parts.append(
                    f"<tr><td>{e(event['occurred_at'])}</td><td>{e(event['type'])}</td>"
                    f"<td><pre>{e(data)}</pre></td></tr>"
                )
            parts.append("</table>")
        if section["withheld"]:
            parts.append("<p>Withheld under this service's rules:</p><ul>")
            for withheld in section["withheld"]:
                parts.append(
                    f"<li>{e(withheld['type'])}: {withheld['count']} ({e(withheld['why'])})</li>"
                )
            parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts)


def cmd_subject_access(args: argparse.Namespace, root: Path, secret: Callable[[], str]) -> int:
    token = args.token or os.environ.get("ANJU_TOKEN")
    if token is None:
        if args.area is None:
            print("give --token (or ANJU_TOKEN), or --area for a dev token", file=sys.stderr)
            return 2
        token = issue_token(secret(), "subject-access", [Role.DIRECTOR], [str(args.area)])
    services = event_services(root)
    report = asyncio.run(collect(root, token, args.resident, args.reason, services))
    text = json.dumps(report, ensure_ascii=False, indent=2) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    if args.html:
        Path(args.html).write_text(render_html(report), encoding="utf-8")
    failed = False
    for service, section in report["services"].items():
        status = section["status"]
        if status == "answered":
            withheld = sum(w["count"] for w in section["withheld"])
            line = f"{service}: {len(section['events'])} events, {withheld} withheld"
        else:
            failed = failed or status in ("unreachable", "refused")
            line = f"{service}: {status} {section.get('message') or section.get('error') or ''}"
        print(line.rstrip(), file=sys.stderr)
    return 1 if failed else 0


def _reason(value: str) -> str:
    if len(value.strip()) < 3:
        raise argparse.ArgumentTypeError("say why the report is made (3 characters or more)")
    return value.strip()


def add_commands(sub: Any, root: Path, secret: Callable[[], str]) -> None:
    command = sub.add_parser(
        "subject-access",
        help="export everything Anju holds about a resident (data-subject access; audited)",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    command.add_argument("--resident", type=UUID, required=True, help="the resident's id")
    command.add_argument("--reason", type=_reason, required=True, help="why (audited)")
    command.add_argument("--token", help="a bearer token (default: ANJU_TOKEN)")
    command.add_argument("--area", type=UUID, help="dev stack: mint a director token for it")
    command.add_argument("--out", help="write the JSON report here (default: standard output)")
    command.add_argument("--html", help="also write a readable HTML report here")
    command.set_defaults(func=lambda a: cmd_subject_access(a, root, secret))
