"""Fuzzing every service's HTTP API against its own OpenAPI document, with Schemathesis.

The services run as real processes (``python -m``, so uvicorn's own request parsing is
exercised too) against the session's PostgreSQL and broker; the stack is seeded with an area
tree, residents, a household, a flag, a signal, a dispute and a petition, and those ids are
written into each document as examples (path parameters, query parameters and body fields of
the same name), so that operations are exercised on records that exist, not only as 404s.

Schemathesis then runs its phases (the documented examples, boundary and malformed values,
random fuzzing, stateful sequences) on each service, as an admin and, in ``make fuzz``, as a grid
worker scoped to the seeded grid, and the test fails on any 5xx or any answer its document does not
allow: an undocumented status, a body or content type that does not match.

The budget is small by default, for CI: as an admin only, without the examples phase (the coverage
phase starts from the same examples), a few examples per operation. ``make fuzz`` raises it with
``FUZZ_ROLES`` (``admin,grid_worker``), ``FUZZ_PHASES``, ``FUZZ_MAX_EXAMPLES`` and
``FUZZ_MAX_TIME`` (seconds for each service's run, shared by its phases; the fuzzing and stateful
phases repeat until it is spent).
"""

from __future__ import annotations

import asyncio
import json
import os
import secrets
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio

from anju_devtools.bench import Service, service_process
from anju_registry.domain import id_numbers
from eventkit.auth import Role, issue_token
from eventkit.testing.infra import databases

SERVICES = ("registry", "mediation", "health", "volunteering", "station", "governance", "query")
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "3"))
MAX_TIME = os.environ.get("FUZZ_MAX_TIME")
# CI's short run leaves out the examples phase: the coverage phase starts from the same examples.
PHASES = os.environ.get("FUZZ_PHASES", "coverage,fuzzing,stateful")
# The short run (CI: no FUZZ_MAX_TIME) sends each path one unexpected method (FastAPI's 405),
# not all eight, and no duplicated query parameters.
CONFIG = (
    ""
    if MAX_TIME
    else '[phases.coverage]\nunexpected-methods = ["patch"]\ngenerate-duplicate-query-parameters = false\n'
)
# How long one role's runs may take before they are stopped and the test fails.
RUN_TIMEOUT = 480 + 3 * int(MAX_TIME or 0)
CHECKS = ",".join(
    [
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
    ]
)
SCHEMATHESIS = str(Path(sys.executable).with_name("st"))


@dataclass
class Stack:
    services: dict[str, Service]
    secret: str
    seeds: dict[str, str] = field(default_factory=dict)

    def token(
        self, *roles: Role, areas: tuple[str, ...] = (), organisations: tuple[str, ...] = ()
    ) -> str:
        return issue_token(self.secret, "fuzz", roles, areas, organisations=organisations)

    def headers(self, *roles: Role, areas: tuple[str, ...] = ()) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(*roles, areas=areas)}"}


def id_number(dob: date, seq: int) -> str:
    first17 = f"110105{dob:%Y%m%d}{seq:03d}"
    return first17 + id_numbers.check_char(first17)


async def created(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> str:
    """POST a command that must be accepted; its id."""
    response = await client.post(path, json=body)
    assert response.status_code == 201, f"POST {path}: {response.status_code} {response.text}"
    accepted_id: str = response.json()["id"]
    return accepted_id


async def eventually(client: httpx.AsyncClient, path: str, body: dict[str, Any]) -> str:
    """POST a command that is accepted once the service has learned what it names."""
    deadline = time.monotonic() + 60
    while True:
        response = await client.post(path, json=body)
        if response.status_code == 201:
            accepted_id: str = response.json()["id"]
            return accepted_id
        assert response.status_code in (404, 422), f"POST {path}: {response.text}"
        assert time.monotonic() < deadline, f"POST {path}: {response.text}"
        await asyncio.sleep(0.2)


async def seed(stack: Stack) -> None:
    """An area tree, residents and one record of each kind, their ids kept in ``stack.seeds``."""
    admin = stack.headers(Role.ADMIN)
    seeds = stack.seeds
    urls = {name: service.url for name, service in stack.services.items()}
    async with (
        httpx.AsyncClient(base_url=urls["registry"], headers=admin, timeout=10) as registry,
        httpx.AsyncClient(base_url=urls["mediation"], headers=admin, timeout=10) as mediation,
        httpx.AsyncClient(base_url=urls["health"], headers=admin, timeout=10) as health,
        httpx.AsyncClient(base_url=urls["volunteering"], headers=admin, timeout=10) as volunteering,
        httpx.AsyncClient(base_url=urls["station"], headers=admin, timeout=10) as station,
        httpx.AsyncClient(base_url=urls["governance"], headers=admin, timeout=10) as governance,
    ):
        parent: str | None = None
        for kind in ("community", "grid", "building", "unit"):
            body = {"kind": kind, "name": f"fuzz {kind}", "parent_id": parent}
            parent = seeds[f"{kind}_id"] = await created(registry, "/areas", body)
        dob = date(1956, 5, 17)
        residents = []
        for seq in range(1, 4):
            body = {
                "name": f"住户{seq}",
                "sex": "female" if seq % 2 else "male",
                "date_of_birth": dob.isoformat(),
                "id_number": id_number(dob, seq),
                "unit_id": seeds["unit_id"],
            }
            residents.append(await created(registry, "/residents", body))
        seeds["resident_id"] = residents[0]
        seeds["head_resident_id"] = residents[0]
        seeds["household_id"] = await created(
            registry,
            "/households",
            {"unit_id": seeds["unit_id"], "head_resident_id": residents[0]},
        )
        await created(
            registry, f"/residents/{residents[0]}/flags", {"flag": "elderly_alone", "tier": "red"}
        )
        seeds["flag"] = "elderly_alone"

        seeds["signal_id"] = await eventually(
            mediation,
            "/signals",
            {
                "reporter_role": "grid_worker",
                "area_id": seeds["building_id"],
                "category": "noise",
                "description": "楼上夜间噪音",
                "involved_resident_ids": residents[:2],
            },
        )
        seeds["dispute_id"] = await eventually(
            mediation,
            "/disputes",
            {
                "channel": "walk_in",
                "category": "noise",
                "description": "楼上夜间噪音",
                "area_id": seeds["building_id"],
                "parties": [
                    {"role": "applicant", "resident_id": residents[0]},
                    {"role": "respondent", "resident_id": residents[1]},
                ],
            },
        )
        seeds["mediator_id"] = "mediator-1"
        await created(
            mediation,
            f"/disputes/{seeds['dispute_id']}/mediators",
            {"mediator_id": seeds["mediator_id"], "role": "peoples_mediator"},
        )
        when = (datetime.now(UTC) + timedelta(days=2)).isoformat()
        response = await mediation.post(
            f"/disputes/{seeds['dispute_id']}/sessions",
            json={"scheduled_for": when, "place": "fengqiao_hut"},
        )
        assert response.status_code == 201, response.text
        seeds["session_id"] = response.json()["sub_id"]
        seeds["petition_id"] = await eventually(
            mediation,
            "/petitions",
            {"resident_id": residents[2], "subject": "路灯不亮", "department": "街道办"},
        )
        seeds["area_id"] = seeds["building_id"]

        # health: the residents are 65+, so health enrols them once it has learnt them
        await eventually(health, f"/records/{residents[0]}/conditions", {"icd10": "I10"})
        seeds["icd10"] = "I10"
        await created(health, f"/records/{residents[0]}/programmes", {"programme": "hypertension"})
        seeds["programme"] = "hypertension"
        record = (await health.get(f"/records/{residents[0]}")).json()
        seeds["visit_id"] = record["visits"][0]["visit_id"]
        await created(health, f"/protected/{residents[1]}", {"icd10": "F20", "risk_grade": 1})
        seeds["activity_id"] = await created(
            health,
            "/activities",
            {
                "kind": "prevention_talk",
                "held_on": date.today().isoformat(),
                "area_id": seeds["community_id"],
                "place": "服务站",
                "served": 12,
            },
        )

        # volunteering: a volunteer, a team, a request taken up, an activity with a shift
        seeds["volunteer_id"] = await created(
            volunteering,
            "/volunteers",
            {"kind": "resident_volunteer", "name": "志愿者", "area_id": seeds["grid_id"]},
        )
        seeds["leader_id"] = seeds["volunteer_id"]
        seeds["team_id"] = await created(
            volunteering,
            "/teams",
            {
                "name": "清扫服务队",
                "purpose": "cleaning",
                "area_id": seeds["grid_id"],
                "leader_id": seeds["volunteer_id"],
            },
        )
        seeds["request_id"] = await eventually(
            volunteering,
            "/requests",
            {"resident_id": residents[2], "kind": "errand", "description": "代买药品"},
        )
        await created(
            volunteering,
            f"/requests/{seeds['request_id']}/assignment",
            {"volunteer_id": seeds["volunteer_id"]},
        )
        shift_id = str(uuid.uuid4())
        shift = {
            "shift_id": shift_id,
            "starts_at": (datetime.now(UTC) + timedelta(days=3)).isoformat(),
            "ends_at": (datetime.now(UTC) + timedelta(days=3, hours=2)).isoformat(),
            "capacity": 5,
        }
        seeds["shift_id"] = shift_id
        seeds["activity_id"] = await created(
            volunteering,
            "/activities",
            {"kind": "patrol", "title": "夜间巡逻", "area_id": seeds["grid_id"], "shifts": [shift]},
        )

        # station: a reception, a service, a certificate and an opinion at the desk
        seeds["reception_id"] = await eventually(
            station,
            "/receptions",
            {"area_id": seeds["community_id"], "resident_id": residents[0], "purposes": ["other"]},
        )
        seeds["service_id"] = await created(
            station,
            "/services",
            {"service_type": "employment_information", "area_id": seeds["community_id"]},
        )
        seeds["certificate_id"] = await created(
            station, "/certificates", {"resident_id": residents[0], "purpose": "fuzz"}
        )
        number = (await station.get(f"/certificates/{seeds['certificate_id']}")).json()["number"]
        seeds["number"] = number
        gathering = {
            "area_id": seeds["community_id"],
            "kind": "opinion_gathering",
            "topic": "fuzz",
            "held_on": datetime.now(UTC).date().isoformat(),
            "attendance": 3,
        }
        seeds["gathering_id"] = await created(station, "/gatherings", gathering)
        seeds["opinion_id"] = await created(
            station, f"/gatherings/{seeds['gathering_id']}/opinions", {"text": "fuzz"}
        )

        # governance: a partner, a meeting held with a decision, and its work item
        seeds["organisation_id"] = await created(
            registry,
            "/organisations",
            {
                "kind": "property_company",
                "name": "安居物业",
                "community_ids": [seeds["community_id"]],
            },
        )
        seeds["meeting_id"] = await eventually(
            governance,
            "/meetings",
            {
                "kind": "joint_party_building",
                "title": "党建联席会",
                "area_id": seeds["community_id"],
                "held_on": date.today().isoformat(),
                "organisation_ids": [seeds["organisation_id"]],
            },
        )
        decided = await governance.post(
            f"/meetings/{seeds['meeting_id']}/decisions", json={"text": "修好屋顶"}
        )
        assert decided.status_code == 201, decided.text
        seeds["decision_id"] = decided.json()["sub_id"]
        deadline = datetime.now(UTC) + timedelta(days=30)
        seeds["item_id"] = await created(
            governance,
            f"/meetings/{seeds['meeting_id']}/decisions/{seeds['decision_id']}/items",
            {
                "title": "修好屋顶",
                "owner_organisation_id": seeds["organisation_id"],
                "deadline": deadline.isoformat(),
            },
        )


def with_examples(document: dict[str, Any], seeds: dict[str, str]) -> dict[str, Any]:
    """``document`` with the seeded ids as examples of every parameter and field of that name."""
    for item in document.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("name") in seeds:
                    parameter["example"] = seeds[parameter["name"]]
    for schema in document.get("components", {}).get("schemas", {}).values():
        for name, prop in schema.get("properties", {}).items():
            if name in seeds:
                prop["examples"] = [seeds[name]]
    return document


@pytest_asyncio.fixture(scope="module")
async def stack(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[Stack]:
    secret = secrets.token_urlsafe(32)
    common = {
        "JWT_SECRET": secret,
        "KAFKA__BOOTSTRAP": kafka_bootstrap,
        "KAFKA__TOPIC_PREFIX": f"fuzz{uuid.uuid4().hex[:10]}.",
        "LOG_LEVEL": "warning",
        "LOG_FORMAT": "json",
    }
    with tempfile.TemporaryDirectory(prefix="anju-fuzz-") as logs:
        async with databases(pg_server_url, *SERVICES) as urls, AsyncExitStack() as running:
            services = {}
            for name, url in zip(SERVICES, urls, strict=True):
                env = {**common, "DATABASE_URL": url}
                process = service_process(f"anju_{name}", f"ANJU_{name.upper()}_", env, Path(logs))
                services[name] = await running.enter_async_context(process)
            stack = Stack(services, secret)
            await seed(stack)
            yield stack


def schemathesis(stack: Stack, service: str, token: str, workdir: Path) -> subprocess.Popen[str]:
    """Start Schemathesis against one service (its output goes to ``workdir/<service>.log``)."""
    target = stack.services[service]
    document = httpx.get(f"{target.url}/openapi.json", timeout=10).json()
    spec = workdir / f"{service}.json"
    spec.write_text(json.dumps(with_examples(document, stack.seeds)))
    config = workdir / "schemathesis.toml"
    config.write_text(CONFIG)
    command = [
        SCHEMATHESIS,
        "--config-file",
        str(config),
        "run",
        str(spec),
        "--url",
        target.url,
        "--header",
        f"Authorization: Bearer {token}",
        "--checks",
        CHECKS,
        "--phases",
        PHASES,
        "--max-examples",
        str(MAX_EXAMPLES),
        "--workers",
        "1",
        "--generation-database",
        "none",
        "--suppress-health-check",
        "all",
        "--request-timeout",
        "10",
        "--no-color",
    ]
    if MAX_TIME:
        command += ["--max-time", MAX_TIME]
    with (workdir / f"{service}.log").open("w") as log:
        return subprocess.Popen(
            command,
            cwd=workdir,  # Schemathesis keeps its state (.schemathesis/) in the working directory
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
        )


ROLES = {
    "admin": lambda stack: stack.token(Role.ADMIN),
    "grid_worker": lambda stack: stack.token(Role.GRID_WORKER, areas=(stack.seeds["grid_id"],)),
    "doctor": lambda stack: stack.token(Role.DOCTOR, areas=(stack.seeds["community_id"],)),
    "volunteer_coordinator": lambda stack: stack.token(
        Role.VOLUNTEER_COORDINATOR, areas=(stack.seeds["community_id"],)
    ),
    "liaison": lambda stack: stack.token(
        Role.LIAISON,
        areas=(stack.seeds["community_id"],),
        organisations=(stack.seeds["organisation_id"],),
    ),
}
# CI fuzzes as an admin; `make fuzz` also as a grid worker scoped to the seeded grid and a
# doctor of the seeded community.
FUZZ_ROLES = os.environ.get("FUZZ_ROLES", "admin").split(",")


@pytest.mark.timeout(RUN_TIMEOUT + 120)
@pytest.mark.parametrize("role", FUZZ_ROLES)
def test_every_answer_is_documented_and_none_is_a_server_error(
    stack: Stack, role: str, tmp_path: Path
) -> None:
    token = ROLES[role](stack)
    # The services are fuzzed side by side: much of the time is spent waiting on answers.
    runs = {name: schemathesis(stack, name, token, tmp_path) for name in SERVICES}
    deadline = time.monotonic() + RUN_TIMEOUT
    problems = []
    try:
        for name, run in runs.items():
            code = run.wait(timeout=max(1.0, deadline - time.monotonic()))
            if code != 0:
                output = (tmp_path / f"{name}.log").read_text(errors="replace")
                problems.append(f"Schemathesis found problems in {name} as {role}:\n{output}")
    finally:
        for run in runs.values():
            if run.poll() is None:
                run.kill()
                run.wait()
    assert not problems, "\n\n".join(problems)
