"""``anju erase`` as an operator runs it: a process of its own, over real HTTP to the registry
served by uvicorn on real PostgreSQL with the session's key store. The registry destroys the
person's key, records who erased them and why, and announces ``registry.PersonErased``; a refusal
is printed with the registry's error code and fails the command."""

from __future__ import annotations

import asyncio
import os
import sys
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
import pytest

from anju_registry.entrypoints.app import create_app
from anju_registry.settings import RegistrySettings
from anju_registry.testing import SECRET, Clock, RegistryClient
from eventkit.auth import Role, issue_token
from eventkit.personal import ERASED_TEXT
from eventkit.testing.service import listening, settings_for_test

pytestmark = pytest.mark.timeout(120)


@asynccontextmanager
async def registry_on_a_port(
    database_url: str, kafka_bootstrap: str
) -> AsyncIterator[tuple[RegistryClient, str]]:
    settings = settings_for_test(RegistrySettings, database_url, kafka_bootstrap, SECRET)
    app = create_app(settings, clock=Clock())
    async with listening(app) as url, httpx.AsyncClient(base_url=url) as client:
        registry = RegistryClient(app, client, Clock(), settings)
        await registry.build_tree()
        yield registry, url


async def anju(*args: str, env: dict[str, str]) -> tuple[int, str, str]:
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "anju_cli.main",
        "erase",
        *args,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env={**os.environ, **env},
    )
    out, err = await process.communicate()
    assert process.returncode is not None
    return process.returncode, out.decode(), err.decode()


async def test_a_director_erases_a_resident_from_the_command_line(
    database_url: str, kafka_bootstrap: str
) -> None:
    async with registry_on_a_port(database_url, kafka_bootstrap) as (registry, url):
        resident = await registry.register(name="王秀英")
        token = issue_token(SECRET, "director-1", [Role.DIRECTOR], [registry.community_id])
        env = {"ANJU_REGISTRY_URL": url, "ANJU_TOKEN": token}
        code, out, err = await anju(
            "--resident",
            resident,
            "--reason",
            "本人书面申请 2026-017",
            "--basis",
            "subject_request",
            env=env,
        )
        assert code == 0, err
        assert resident in out  # the registry's answer: the record and its new version
        assert "erased resident" in err

        stream = await registry.runtime.store.load(f"resident-{resident}")
        assert [e.event_type for e in stream.payloads][-1] == "registry.PersonErased"
        person = stream.payloads[0]
        assert getattr(person, "name") == ERASED_TEXT  # noqa: B009 - any registered event
        audited = await registry.runtime.pool.fetch(
            "SELECT basis, reason, sub FROM registry_erasures WHERE resident_id = $1",
            uuid.UUID(resident),
        )
        assert [tuple(r) for r in audited] == [
            ("subject_request", "本人书面申请 2026-017", "director-1")
        ]


async def test_a_refusal_is_printed_with_its_code_and_fails(
    database_url: str, kafka_bootstrap: str
) -> None:
    async with registry_on_a_port(database_url, kafka_bootstrap) as (registry, url):
        resident = await registry.register()
        # a grid worker may not erase anyone
        worker = issue_token(SECRET, "worker-1", [Role.GRID_WORKER], [registry.community_id])
        code, _, err = await anju(
            "--resident",
            resident,
            "--reason",
            "试一试",
            env={"ANJU_REGISTRY_URL": url, "ANJU_TOKEN": worker},
        )
        assert code == 1
        assert "403" in err
        stream = await registry.runtime.store.load(f"resident-{resident}")
        assert "registry.PersonErased" not in [e.event_type for e in stream.payloads]

        director = issue_token(SECRET, "director-1", [Role.DIRECTOR], [registry.community_id])
        code, _, err = await anju(
            "--resident",
            str(uuid.uuid4()),
            "--reason",
            "本人申请",
            env={"ANJU_REGISTRY_URL": url, "ANJU_TOKEN": director},
        )
        assert code == 1
        assert "404" in err
