"""The dev-stack supervisor: secrets, service environment, embedded PostgreSQL, process control."""

from __future__ import annotations

import asyncio
import os
import signal
import stat
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import asyncpg

from anju_cli.state import dev_secret
from anju_devtools.devstack import Backoff, ServiceSpec, service_env
from eventkit.testing.infra import embedded_postgres, free_port


def test_dev_secret_is_created_private_and_stable(tmp_path: Path) -> None:
    first = dev_secret(tmp_path)
    path = tmp_path / ".data" / "dev-secret"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(first) >= 32
    assert dev_secret(tmp_path) == first


def test_service_env_defaults_and_placeholders() -> None:
    spec = ServiceSpec(
        name="registry",
        module="anju_registry",
        port=8101,
        database="anju_registry",
        env={"ANJU_REGISTRY_EXTRA": "{kafka_bootstrap}|{port}|{name}"},
    )
    env = service_env(
        spec,
        postgres_url="postgresql://pg/postgres",
        database_url="postgresql://pg/anju_registry",
        kafka_bootstrap="127.0.0.1:9092",
        jwt_secret="s3cret",
    )
    assert env["ANJU_REGISTRY_DATABASE_URL"] == "postgresql://pg/anju_registry"
    assert env["ANJU_REGISTRY_KAFKA__BOOTSTRAP"] == "127.0.0.1:9092"
    assert env["ANJU_REGISTRY_PORT"] == "8101"
    assert env["ANJU_REGISTRY_JWT_SECRET"] == "s3cret"
    assert env["ANJU_REGISTRY_EXTRA"] == "127.0.0.1:9092|8101|registry"


async def _roundtrip(url: str, sql: str) -> object:
    conn = await asyncpg.connect(url)
    try:
        if ";" in sql:
            return await conn.execute(sql)
        return await conn.fetchval(sql)
    finally:
        await conn.close()


def test_embedded_postgres_keeps_data_across_restarts(tmp_path: Path) -> None:
    pgdata = tmp_path / ".data" / "postgres"
    with embedded_postgres(pgdata, keep_data=True) as url:
        asyncio.run(_roundtrip(url, "CREATE TABLE kept (id int); INSERT INTO kept VALUES (7)"))
    assert (pgdata / "PG_VERSION").exists()
    assert not (pgdata / "postmaster.pid").exists(), "server was not stopped"
    # A handle left behind by a killed process must not keep the server alive forever.
    (pgdata / ".handle_pids.json").write_text("[999999999]")
    with embedded_postgres(pgdata, keep_data=True) as url:
        assert asyncio.run(_roundtrip(url, "SELECT id FROM kept")) == 7
    assert not (pgdata / "postmaster.pid").exists(), "server was not stopped"


FAKE_SERVICE = textwrap.dedent(
    """
    import os, signal, sys
    from http.server import BaseHTTPRequestHandler, HTTPServer

    prefix = os.environ["FAKE_PREFIX"]
    assert os.environ[prefix + "DATABASE_URL"]
    assert os.environ[prefix + "KAFKA__BOOTSTRAP"]
    if os.environ.get("FAKE_CRASH"):
        print("crashing on purpose", flush=True)
        sys.exit(3)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200 if self.path == "/healthz" else 404)
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", int(os.environ[prefix + "PORT"])), Handler)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("serving", flush=True)
    server.serve_forever()
    """
)

RUNNER = textwrap.dedent(
    """
    import sys
    from pathlib import Path
    from anju_devtools.devstack import ServiceSpec, run_stack

    root, kafka_port, port, crash = Path(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    env = {"PYTHONPATH": str(root), "FAKE_PREFIX": "ANJU_FAKE_"}
    if crash == "1":
        env["FAKE_CRASH"] = "1"
    spec = ServiceSpec(name="fake", module="fake_service", port=port, database="anju_fake", env=env)
    sys.exit(run_stack(root, [spec], kafka_port=kafka_port, health_timeout=20, stop_timeout=5))
    """
)


def _start_runner(tmp_path: Path, server_url: str, *, crash: bool) -> subprocess.Popen[str]:
    (tmp_path / "fake_service.py").write_text(FAKE_SERVICE)
    return subprocess.Popen(
        [
            sys.executable,
            "-c",
            RUNNER,
            str(tmp_path),
            str(free_port()),
            str(free_port()),
            "1" if crash else "0",
        ],
        env={**os.environ, "DATABASE_URL": server_url, "NO_COLOR": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


class Lines:
    """The runner's output, read line by line up to the lines a test waits for."""

    def __init__(self, runner: subprocess.Popen[str]) -> None:
        assert runner.stdout is not None
        self.runner = runner
        self.stream = runner.stdout
        self.seen: list[str] = []

    def until(self, text: str, timeout: float = 60) -> str:
        deadline = time.monotonic() + timeout
        for line in self.stream:
            self.seen.append(line)
            if text in line:
                return line
            assert time.monotonic() < deadline, f"no {text!r} in:\n{self.text}"
        raise AssertionError(f"the runner ended without {text!r}:\n{self.text}")

    def finish(self, timeout: float = 30) -> int:
        rest, _ = self.runner.communicate(timeout=timeout)
        self.seen.append(rest)
        return self.runner.returncode

    @property
    def text(self) -> str:
        return "".join(self.seen)


def _pid(line: str) -> int:
    return int(line.rsplit("(pid ", 1)[1].split(")")[0])


def test_run_stack_starts_services_and_stops_on_sigint(tmp_path: Path, pg_server_url: str) -> None:
    runner = _start_runner(tmp_path, pg_server_url, crash=False)
    lines = Lines(runner)
    try:
        lines.until("Ctrl-C stops the stack")
        runner.send_signal(signal.SIGINT)
        assert lines.finish() == 0, lines.text
    finally:
        if runner.poll() is None:
            runner.kill()
    assert "[fake] serving" in lines.text
    assert "ready:" in lines.text
    assert "SIGINT: stopping" in lines.text


def test_a_killed_service_is_restarted_and_answers_again(
    tmp_path: Path, pg_server_url: str
) -> None:
    runner = _start_runner(tmp_path, pg_server_url, crash=False)
    lines = Lines(runner)
    try:
        first = _pid(lines.until("fake: started (pid"))
        lines.until("Ctrl-C stops the stack")
        os.kill(first, signal.SIGKILL)
        lines.until("fake exited (code -9); restarting in 0.5 s")
        second = _pid(lines.until("fake: restarted (pid"))
        lines.until("fake: healthy again")
        assert second != first
        os.kill(second, 0)  # alive
        runner.send_signal(signal.SIGTERM)
        assert lines.finish() == 0, lines.text
    finally:
        if runner.poll() is None:
            runner.kill()


def test_a_service_that_keeps_crashing_is_retried_with_growing_delays(
    tmp_path: Path, pg_server_url: str
) -> None:
    runner = _start_runner(tmp_path, pg_server_url, crash=True)
    lines = Lines(runner)
    try:
        for delay in ("0.5", "1.0", "2.0"):
            lines.until(f"fake exited (code 3); restarting in {delay} s")
        runner.send_signal(signal.SIGTERM)
        assert lines.finish() == 0, lines.text
    finally:
        if runner.poll() is None:
            runner.kill()
    assert lines.text.count("crashing on purpose") >= 3
    assert "ready:" not in lines.text


def test_backoff_doubles_to_the_cap_and_resets_after_a_stable_run() -> None:
    backoff = Backoff(first=0.5, cap=4.0, stable=30.0)
    assert [backoff.delay(uptime=1.0) for _ in range(6)] == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert backoff.delay(uptime=31.0) == 0.5
    assert backoff.delay(uptime=1.0) == 1.0
