"""``anju report`` against the real query service (in process): the command line parsed as
``anju`` parses it, a director's token minted for the community, the report fetched and
written; and what it says when the service refuses."""

from __future__ import annotations

import argparse
import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from anju_contracts import Actor
from anju_contracts.registry import CATALOG as REGISTRY_CATALOG
from anju_devtools import report
from anju_query.entrypoints.app import create_app
from anju_query.settings import QuerySettings
from anju_query.testing import area_tree, caught_up, write_side
from eventkit.auth import Role, issue_token
from eventkit.settings import KafkaSettings
from eventkit.testing.infra import databases

SECRET = "report-command-secret-0123456789abcdef"
ROOT = Path(__file__).resolve().parents[3]

pytestmark = pytest.mark.asyncio(loop_scope="session")


@dataclass
class Query:
    client: httpx.AsyncClient
    community: uuid.UUID

    def bridge(self, loop: asyncio.AbstractEventLoop) -> httpx.MockTransport:
        """A transport for the command's (blocking) client that sends each request to the app
        over ASGI, on the test's event loop."""

        def handle(request: httpx.Request) -> httpx.Response:
            forwarded = self.client.build_request(
                request.method, request.url.path, params=request.url.params, headers=request.headers
            )
            sent = asyncio.run_coroutine_threadsafe(self.client.send(forwarded), loop).result()
            return httpx.Response(sent.status_code, headers=sent.headers, content=sent.content)

        return httpx.MockTransport(handle)


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def query(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[Query]:
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"r{uuid.uuid4().hex[:10]}.")
    actor = Actor(id="staff-1", roles=("admin",))
    async with (
        databases(pg_server_url, "registry", "read") as (registry_url, read_url),
        write_side(
            "registry", registry_url, kafka, REGISTRY_CATALOG, secret=SECRET, actor=actor
        ) as registry,
    ):
        ids, _ = await area_tree(registry)
        await registry.publish()
        app = create_app(
            QuerySettings(database_url=read_url, jwt_secret=SecretStr(SECRET), kafka=kafka)
        )
        async with app.router.lifespan_context(app):
            await caught_up(app.state.runtime.pool, registry, "residents")
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://query") as client:
                yield Query(client, ids["c"])


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="anju")
    sub = parser.add_subparsers(dest="command", required=True)
    report.add_parser(sub, ROOT, _sign)
    return parser.parse_args(["report", *argv])


def _sign(sub: str, roles: list[Role], areas: list[str]) -> str:
    return issue_token(SECRET, sub, roles, areas)


async def _run(query: Query, args: argparse.Namespace) -> int:
    transport = query.bridge(asyncio.get_running_loop())
    return await asyncio.to_thread(report.run, ROOT, args, _sign, transport=transport)


async def test_the_report_is_written_where_asked(
    query: Query,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ANJU_TOKEN", raising=False)
    out = tmp_path / "march.html"
    args = _args(
        "--community", str(query.community), "--from", "2025-03-01", "--to", "2025-03-31",
        "--format", "html", "--out", str(out),
    )  # fmt: skip
    assert await _run(query, args) == 0
    page = out.read_text(encoding="utf-8")
    assert "<h1>安居社区工作数据报告</h1>" in page
    assert "统计期间：2025年3月1日至2025年3月31日" in page
    assert f"wrote {out}" in capsys.readouterr().out


async def test_the_default_file_is_a_pdf_named_after_the_period(
    query: Query,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("ANJU_TOKEN", raising=False)
    args = _args("--community", str(query.community), "--from", "2025-01-01", "--to", "2025-12-31")
    assert args.url is None  # the dev stack's query, from the manifest
    assert report.query_url(ROOT).startswith("http://127.0.0.1:")
    assert await _run(query, args) == 0
    written = tmp_path / f"report-{query.community}-2025-01-01-2025-12-31.pdf"
    assert written.read_bytes().startswith(b"%PDF")
    assert written.name in capsys.readouterr().out


async def test_a_refusal_is_said_with_its_code(
    query: Query,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("ANJU_TOKEN", raising=False)
    out = tmp_path / "none.pdf"
    unknown = _args(
        "--community", str(uuid.uuid4()), "--from", "2025-01-01", "--to", "2025-01-31",
        "--out", str(out),
    )  # fmt: skip
    assert await _run(query, unknown) == 1
    assert "404 (community_not_found" in capsys.readouterr().out
    assert not out.exists()
    monkeypatch.setenv("ANJU_TOKEN", _sign("grid-1", [Role.GRID_WORKER], [str(query.community)]))
    grid_worker = _args(
        "--community", str(query.community), "--from", "2025-01-01", "--to", "2025-01-31",
        "--out", str(out),
    )  # fmt: skip
    assert await _run(query, grid_worker) == 1
    assert "403 (forbidden" in capsys.readouterr().out
