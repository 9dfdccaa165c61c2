"""The dev stack with the real registry and query services recovering from kills.

``run_stack`` runs in a child process, as ``anju run`` does, with the real services on ports and
databases of their own. The broker is SIGKILLed: the stack starts it again on the same port,
empty, and the registry's relay re-seeds it, so an event committed before the kill is on the
topic again and the query's read model still holds each area exactly once. Then the broker hangs
(SIGSTOP: a killed broker refuses connections and unblocks its clients at once, a hung one does
not) and the stack is SIGTERMed: everything exits within seconds all the same.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from pathlib import Path

import httpx
import pytest
from aiokafka import AIOKafkaConsumer

from anju_contracts.cloudevents import from_kafka
from eventkit.auth import Role, issue_token
from eventkit.testing.infra import free_port

from .test_devstack import Lines, _pid

SECRET = "devstack-recovery-secret-0123456789"

RUNNER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from anju_devtools.devstack import ServiceSpec, run_stack

    root, kafka_port, registry_port, query_port, suffix, secret = sys.argv[1:]
    fast = {"ANJU_REGISTRY_RELAY_IDLE_POLL_S": "0.02"}
    specs = [
        ServiceSpec("registry", "anju_registry", int(registry_port), f"devsup_reg_{suffix}", fast),
        ServiceSpec("query", "anju_query", int(query_port), f"devsup_query_{suffix}"),
    ]
    sys.exit(
        run_stack(Path(root), specs, kafka_port=int(kafka_port), jwt_secret=secret, stop_timeout=10)
    )
    """
)


async def _topic_subjects(bootstrap: str, topic: str, seconds: float = 2.0) -> set[str]:
    """The subjects of the events a reader from the start of ``topic`` sees within ``seconds``."""
    consumer = AIOKafkaConsumer(
        topic,
        bootstrap_servers=bootstrap,
        group_id=None,
        auto_offset_reset="earliest",
        fetch_max_wait_ms=50,
    )
    await consumer.start()
    try:
        subjects: set[str] = set()
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                subjects.update(from_kafka(r.value, r.headers).subject for r in batch)
        return subjects
    finally:
        await consumer.stop()


async def _eventually_on_topic(bootstrap: str, topic: str, area_id: str) -> None:
    deadline = time.monotonic() + 60
    while not any(area_id in subject for subject in await _topic_subjects(bootstrap, topic)):
        assert time.monotonic() < deadline, f"no event of area {area_id} on {topic}"


async def _area_names(query: httpx.AsyncClient) -> list[str]:
    response = await query.get("/areas")
    assert response.status_code == 200, response.text
    return sorted(str(node["name"]) for node in response.json())


async def _eventually_areas(query: httpx.AsyncClient, expected: list[str]) -> None:
    deadline = time.monotonic() + 60
    while (names := await _area_names(query)) != expected:
        assert time.monotonic() < deadline, f"query shows {names}, not {expected}"
        await asyncio.sleep(0.2)


class Stack:
    """HTTP clients for the registry and the query service of the stack under test."""

    def __init__(self, registry_port: int, query_port: int) -> None:
        token = issue_token(SECRET, "admin", [Role.ADMIN])
        self.headers = {"Authorization": f"Bearer {token}"}
        self.registry = f"http://127.0.0.1:{registry_port}"
        self.query = f"http://127.0.0.1:{query_port}"

    def client(self, base_url: str) -> httpx.AsyncClient:
        return httpx.AsyncClient(base_url=base_url, headers=self.headers, timeout=10)

    async def create_area(self, name: str) -> str:
        async with self.client(self.registry) as registry:
            response = await registry.post("/areas", json={"kind": "community", "name": name})
        assert response.status_code == 201, response.text
        return str(response.json()["id"])

    async def areas_become(self, expected: list[str]) -> None:
        async with self.client(self.query) as query:
            await _eventually_areas(query, expected)


@pytest.mark.slow
@pytest.mark.skipif(
    os.environ.get("CI") == "true",
    reason=(
        "known flake, not yet understood: in 3 of its last 9 runs, all under heavy load, the"
        " query service never showed the area written after the broker restart (its consumer"
        " re-joins its group before the relay re-seeds the topic); it passes when run alone:"
        " pytest libs/devtools/tests/test_devstack_recovery.py"
    ),
)
def test_killed_services_and_broker_recover_and_shutdown_is_prompt(
    tmp_path: Path, pg_server_url: str
) -> None:
    kafka_port, registry_port, query_port = free_port(), free_port(), free_port()
    bootstrap = f"127.0.0.1:{kafka_port}"
    topic = "registry.events"
    stack = Stack(registry_port, query_port)
    runner = subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUNNER,
            str(tmp_path),
            str(kafka_port),
            str(registry_port),
            str(query_port),
            uuid.uuid4().hex[:10],
            SECRET,
        ],
        env={**os.environ, "DATABASE_URL": pg_server_url, "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    lines = Lines(runner)
    try:
        broker = _pid(lines.until("kafka: Tansu listening (pid"))
        registry = _pid(lines.until("registry: started (pid"))
        lines.until("Ctrl-C stops the stack", timeout=120)
        before = asyncio.run(stack.create_area("Before"))
        asyncio.run(stack.areas_become(["Before"]))
        asyncio.run(_eventually_on_topic(bootstrap, topic, before))

        # A service killed: restarted, and it answers again.
        os.kill(registry, signal.SIGKILL)
        lines.until("registry exited (code -9); restarting in 0.5 s")
        lines.until("registry: healthy again")
        assert httpx.get(f"{stack.registry}/healthz").status_code == 200

        # The broker killed: restarted empty on the same port, and re-seeded by the relay.
        os.kill(broker, signal.SIGKILL)
        lines.until(f"kafka: Tansu (pid {broker}) exited; restarting on {bootstrap}")
        broker = _pid(lines.until("kafka: Tansu restarted (pid"))
        asyncio.run(_eventually_on_topic(bootstrap, topic, before))
        asyncio.run(stack.create_area("After"))
        asyncio.run(stack.areas_become(["After", "Before"]))

        # The broker hung (it accepts connections, answers nothing) and the stack stopped: the
        # relay waits inside a request to it, yet every service exits within seconds.
        os.kill(broker, signal.SIGSTOP)
        time.sleep(2)
        started = time.monotonic()
        runner.send_signal(signal.SIGTERM)
        code = lines.finish(timeout=30)
        took = time.monotonic() - started
    except BaseException:
        if runner.poll() is None:
            runner.kill()
        lines.finish()
        print(lines.text)  # the stack's own account of what went wrong, in pytest's report
        raise
    assert code == 0, lines.text
    assert took < 7, f"the stack took {took:.1f} s to stop:\n{lines.text}"
    assert "did not stop within" not in lines.text, lines.text
