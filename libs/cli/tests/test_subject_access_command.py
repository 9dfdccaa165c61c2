"""``anju subject-access`` as an operator runs it: a process of its own, over real HTTP to health
served by uvicorn on real PostgreSQL. The services asked are those whose manifests say they keep
an event store; the report has a section per service with what it withheld; a service that does
not answer fails the command instead of leaving a quiet gap."""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import date
from pathlib import Path

import uvicorn
from fastapi import FastAPI

from anju_health.testing import SECRET, HealthClient, running_health
from eventkit import audit
from eventkit.auth import Role, issue_token
from eventkit.testing.infra import free_port

REPO = Path(__file__).resolve().parents[3]
EVENT_SERVICES = (
    "governance",
    "health",
    "integration",
    "mediation",
    "registry",
    "station",
    "volunteering",
)


@asynccontextmanager
async def listening(app: FastAPI) -> AsyncIterator[str]:
    """``app``, already running, served on a real port as well (its lifespan is not run again)."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="off")
    server = uvicorn.Server(config)
    serving = asyncio.create_task(server.serve())
    while not server.started:  # noqa: ASYNC110 - uvicorn offers no event to wait on
        await asyncio.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await serving


async def anju(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "anju_cli.main",
        "subject-access",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env},
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def _resident(health: HealthClient) -> str:
    resident_id = await health.feed.resident(None, born=date(1950, 1, 1))
    await health.ok(f"/protected/{resident_id}", {"icd10": "F20", "risk_grade": 1})
    return resident_id


async def test_the_report_has_a_section_per_service_and_what_each_withheld(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    for service in ("health", "query"):  # query keeps no event store: it is not asked
        (home / "services" / service).mkdir(parents=True)
        shutil.copy(REPO / "services" / service / "service.toml", home / "services" / service)
    async with running_health(database_url, kafka_bootstrap) as health:
        resident_id = await _resident(health)
        token = issue_token(SECRET, "director-1", [Role.DIRECTOR], [health.feed.community_id])
        async with listening(health.app) as url:
            env = {"ANJU_HOME": str(home), "ANJU_HEALTH_URL": url, "ANJU_TOKEN": token}
            out, page = tmp_path / "report.json", tmp_path / "report.html"
            code, _, err = await anju(
                "--resident",
                resident_id,
                "--reason",
                "本人申请 <2026-01>",
                "--out",
                str(out),
                "--html",
                str(page),
                env=env,
            )
        assert code == 0, err
        report = json.loads(out.read_text())
        assert list(report["services"]) == ["health"]
        section = report["services"]["health"]
        assert section["status"] == "answered"
        assert {e["type"] for e in section["events"]} >= {"health.HealthRecordOpened"}
        assert [(w["type"], w["count"]) for w in section["withheld"]] == [
            ("health.ProtectedCareEnrolled", 1)
        ]
        assert "F20" not in out.read_text()
        html = page.read_text()
        assert "health.ProtectedCareEnrolled: 1" in html
        assert "&lt;2026-01&gt;" in html
        assert "health: " in err
        reads = await audit.reads_of(health.runtime.pool, "subject_access", resident_id)
        assert [(r["sub"], r["reason"]) for r in reads] == [("director-1", "本人申请 <2026-01>")]


async def test_a_service_that_does_not_answer_fails_the_command(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    nowhere = f"http://127.0.0.1:{free_port()}"
    async with running_health(database_url, kafka_bootstrap) as health:
        resident_id = await health.feed.resident(None, born=date(1980, 1, 1))
        token = issue_token(SECRET, "director-1", [Role.DIRECTOR], [health.feed.community_id])
        async with listening(health.app) as url:
            env = {f"ANJU_{s.upper()}_URL": nowhere for s in EVENT_SERVICES}
            env |= {"ANJU_HOME": str(REPO), "ANJU_HEALTH_URL": url, "ANJU_TOKEN": token}
            code, out, err = await anju("--resident", resident_id, "--reason", "本人申请", env=env)
    assert code == 1
    report = json.loads(out)
    assert report["services"]["health"]["status"] == "answered"
    assert report["services"]["registry"]["status"] == "unreachable"
    assert set(report["services"]) == set(EVENT_SERVICES)
    assert "registry: unreachable" in err
