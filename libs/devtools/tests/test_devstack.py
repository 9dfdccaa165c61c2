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
from anju_devtools.devstack import ServiceSpec, service_env
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


def test_run_stack_starts_services_and_stops_on_sigint(tmp_path: Path, pg_server_url: str) -> None:
    runner = _start_runner(tmp_path, pg_server_url, crash=False)
    assert runner.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + 60
    try:
        for line in runner.stdout:
            lines.append(line)
            if "Ctrl-C stops the stack" in line:
                break
            assert time.monotonic() < deadline, "".join(lines)
        runner.send_signal(signal.SIGINT)
        rest, _ = runner.communicate(timeout=30)
    finally:
        if runner.poll() is None:
            runner.kill()
    output = "".join(lines) + rest
    assert runner.returncode == 0, output
    assert "[fake] serving" in output
    assert "ready:" in output
    assert "SIGINT: stopping" in output


def test_run_stack_exits_non_zero_when_a_service_dies(tmp_path: Path, pg_server_url: str) -> None:
    runner = _start_runner(tmp_path, pg_server_url, crash=True)
    output, _ = runner.communicate(timeout=60)
    assert runner.returncode == 3, output
    assert "crashing on purpose" in output
    assert "fake exited with code 3" in output
