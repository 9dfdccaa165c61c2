"""``anju import`` as a user runs it: a process of its own, over real HTTP to the station served
by uvicorn on real PostgreSQL — the rows recorded, nothing doubled the second time, every bad
row named and nothing written, and a service that does not answer said plainly."""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import pytest_asyncio
import uvicorn

from anju_station.entrypoints.app import create_app
from anju_station.settings import StationSettings
from anju_station.testing import SECRET
from eventkit.auth import issue_token
from eventkit.runtime import Runtime
from eventkit.testing.clocks import ManualClock
from eventkit.testing.infra import free_port
from eventkit.testing.registry import RegistryFeed
from eventkit.testing.service import settings_for_test

LEDGER = """\
day,time,purposes,referred_by
2024-03-04,09:15,consultation,self
2024-03-04,09:40,"convenience_service,elderly_window",grid_worker
"""


@dataclass
class Desk:
    url: str
    runtime: Runtime
    community: str

    async def visits(self) -> int:
        async with self.runtime.pool.acquire() as conn:
            n: int = await conn.fetchval(
                "SELECT count(DISTINCT stream_id) FROM events WHERE stream_id LIKE 'reception-%'"
            )
        return n


@pytest_asyncio.fixture
async def desk(database_url: str, kafka_bootstrap: str) -> AsyncIterator[Desk]:
    settings = settings_for_test(StationSettings, database_url, kafka_bootstrap, SECRET)
    app = create_app(settings, clock=ManualClock())  # 2024-05-01: March is in the past
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None))
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    try:
        runtime: Runtime = app.state.runtime
        feed = RegistryFeed(runtime.store, runtime.policies[0])
        await feed.build_tree(residents=0)
        yield Desk(f"http://127.0.0.1:{port}", runtime, feed.community_id)
    finally:
        server.should_exit = True
        await serving


async def anju(*args: str, token: str) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "anju_cli.main",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, "ANJU_TOKEN": token},
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_ledger_imported_from_the_command_line(desk: Desk, tmp_path: Path) -> None:
    ledger = tmp_path / "receptions.csv"
    ledger.write_text(LEDGER, encoding="utf-8")
    clerk = issue_token(SECRET, "desk-1", ["desk_staff"], [desk.community])
    command = ("import", "receptions", str(ledger), "--area", desk.community, "--url", desk.url)

    code, out, err = await anju(*command, token=clerk)
    assert code == 0, err
    assert "receptions: 2 rows imported, 0 imported before" in out
    assert "2/2 rows" in err  # the progress, on a terminal a bar
    assert await desk.visits() == 2

    code, out, _ = await anju(*command, token=clerk)
    assert code == 0
    assert "receptions: 0 rows imported, 2 imported before" in out
    assert await desk.visits() == 2

    bad = tmp_path / "bad.csv"
    bad.write_text("day,purposes\n2024-02-30,consultation\n2024-03-01,karaoke\n2024-03-02,other\n")
    code, _, err = await anju(
        "import", "receptions", str(bad), "--area", desk.community, "--url", desk.url, token=clerk
    )
    assert code == 1
    assert f"{bad}:2 [day]:" in err
    assert f"{bad}:3 [purposes.0]:" in err
    assert "2 bad rows: nothing imported" in err
    assert await desk.visits() == 2

    code, out, err = await anju(*command[:-1], "http://127.0.0.1:9", token=clerk)
    assert code == 1
    assert "does not answer" in err
