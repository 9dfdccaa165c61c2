"""Scaling out: replicas of a projection split its partitions, and a standby relay takes over.

Both tests run real processes on the real broker and PostgreSQL:

- two projector processes (``replica_projector.py``) in one consumer group consume a topic of a
  few thousand events on four partitions while events keep arriving; one is killed (-9) and
  started again, then the other is stopped (SIGTERM) and started again. The read model they
  build together equals, row by row, the one a single runner builds alone from the same topic.
- two processes of one service (``crash_service.py``) share its database: one relay publishes,
  the other waits on the advisory lock. The publisher is stopped (SIGTERM), later the other one
  killed (-9); each time the standby takes over. The time from the publisher's exit to the next
  event on the topic is printed (not asserted: machines are noisy); nothing is lost, nothing is
  applied twice, and the graceful hand-over publishes nothing twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib.util
import json
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, defaultdict
from pathlib import Path
from types import ModuleType
from typing import IO, Any

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from pydantic import SecretStr

from anju_contracts import Actor
from eventkit.auth import issue_token
from eventkit.projection import ProjectionRunner
from eventkit.relay import Relay
from eventkit.schema import migrate
from eventkit.settings import ServiceSettings
from eventkit.store import Context, EventStore
from eventkit.testing.infra import databases, free_port
from eventkit.testing.relay import envelope_json

HERE = Path(__file__).parent
TIMEOUT_S = 60.0


def _load(name: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"anju_test_{name}", HERE / f"{name}.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


projector = _load("replica_projector")


class Process:
    """A test's child process that can be stopped, killed and started again."""

    def __init__(self, script: str, env: dict[str, str], log_path: Path) -> None:
        self.script = HERE / script
        self.env = env
        self.log_path = log_path
        self.process: asyncio.subprocess.Process | None = None
        self._log: IO[bytes] | None = None

    async def start(self, **env: str) -> None:
        self._log = self.log_path.open("ab")
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(self.script),
            env={**self.env, "PYTHONUNBUFFERED": "1", **env},  # its log, as it goes
            stdin=subprocess.DEVNULL,
            stdout=self._log,
            stderr=subprocess.STDOUT,
        )

    async def stop(self, sig: signal.Signals) -> float:
        """Send ``sig`` and wait for the process to exit; return the time it exited."""
        process, self.process = self.process, None
        if process is not None and process.returncode is None:
            process.send_signal(sig)
            await asyncio.wait_for(process.wait(), 20)
        exited = time.monotonic()
        if self._log is not None:
            self._log.close()
            self._log = None
        return exited

    def logged(self, event: str) -> list[dict[str, Any]]:
        lines = []
        for line in self.log_path.read_text(errors="replace").splitlines():
            with contextlib.suppress(ValueError):
                record = json.loads(line)
                if isinstance(record, dict) and record.get("event") == event:
                    lines.append(record)
        return lines

    def tail(self) -> str:
        return f"--- {self.log_path.name}\n" + self.log_path.read_text(errors="replace")[-3000:]


async def _eventually(check: Any, what: str, timeout_s: float = TIMEOUT_S) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        await asyncio.sleep(0.1)


# -- projection replicas --------------------------------------------------------------------

STREAMS = 120
APPENDS = 800
EVENTS_PER_APPEND = 5  # 4,000 events


async def _read_model(conn: asyncpg.Connection) -> dict[str, list[tuple[Any, ...]]]:
    return {
        "tallies": [
            tuple(r) for r in await conn.fetch("SELECT * FROM replica_tally.tallies ORDER BY 1")
        ],
        "applied": [
            tuple(r)
            for r in await conn.fetch("SELECT * FROM replica_tally.applied ORDER BY 2, 3, 1")
        ],
        "stream_versions": [
            tuple(r)
            for r in await conn.fetch("SELECT * FROM replica_tally.stream_versions ORDER BY 1, 2")
        ],
    }


async def _applied(conn: asyncpg.Connection) -> int:
    with contextlib.suppress(asyncpg.UndefinedTableError):
        return int(await conn.fetchval("SELECT count(*) FROM replica_tally.applied"))
    return 0


@pytest.mark.slow
async def test_two_projector_processes_build_the_read_model_one_runner_builds(
    database_url: str, pg_server_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    prefix = f"replicas{uuid.uuid4().hex[:8]}."
    kafka = projector.kafka_settings(kafka_bootstrap, prefix)
    env = dict(
        os.environ,
        REPLICA_DATABASE_URL=database_url,
        REPLICA_KAFKA_BOOTSTRAP=kafka_bootstrap,
        REPLICA_PREFIX=prefix,
        REPLICA_DELAY_S="0.02",
    )
    one = Process("replica_projector.py", env, tmp_path / "p1.log")
    two = Process("replica_projector.py", env, tmp_path / "p2.log")
    settings = ServiceSettings(
        service="replicademo",
        database_url=database_url,
        jwt_secret=SecretStr("x" * 32),
        kafka=kafka,
    )
    pool = await asyncpg.create_pool(database_url, min_size=2, max_size=10)
    stop_relay = asyncio.Event()
    try:
        await migrate(pool)
        store = EventStore(pool, projector.CATALOG)
        relay = Relay(store, settings)
        relay_task = asyncio.create_task(relay.run(stop_relay))

        await one.start(REPLICA_NAME="p1#1")
        await _eventually(lambda: _async(bool(one.logged("partitions_assigned"))), "p1 to join")
        await two.start(REPLICA_NAME="p2#1")
        await _eventually(lambda: _async(bool(two.logged("partitions_assigned"))), "p2 to join")

        rng = random.Random(17)
        versions: dict[str, int] = defaultdict(int)
        context = Context(actor=Actor(id="replica-test"))
        for i in range(APPENDS):
            stream = f"tally-{rng.randrange(STREAMS)}"
            events = [projector.Tallied(n=rng.randrange(1000)) for _ in range(EVENTS_PER_APPEND)]
            result = await store.append(stream, versions[stream], events, context=context)
            versions[stream] = result.version
            if i == APPENDS // 4:
                await two.stop(signal.SIGKILL)  # mid-batch, without leaving the group
            elif i == APPENDS // 2:
                await two.start(REPLICA_NAME="p2#2")
            elif i == APPENDS * 7 // 10:
                await one.stop(signal.SIGTERM)  # leaves the group cleanly
            elif i == APPENDS * 17 // 20:
                await one.start(REPLICA_NAME="p1#2")
            await asyncio.sleep(0.005)
        total = APPENDS * EVENTS_PER_APPEND

        async with pool.acquire() as conn:
            await _eventually(
                lambda: _applied_at_least(conn, total), f"the replicas to apply {total} events"
            )
            await asyncio.sleep(1.0)  # anything applied twice would show now
            together = await _read_model(conn)
            work = await conn.fetch(
                "SELECT replica, partition, sum(events) AS events FROM replica_tally.work"
                " GROUP BY 1, 2 ORDER BY 1, 2"
            )
            letters = await conn.fetchval(
                "SELECT count(*) FROM dead_letters WHERE consumer = 'replica_tally'"
            )
            stored = await conn.fetch("SELECT id, stream_id, sequence FROM events")
        await one.stop(signal.SIGTERM)
        await two.stop(signal.SIGTERM)

        # One runner alone, from the same topic, in a database of its own and a group of its own.
        async with databases(pg_server_url, "solo") as (solo_url,):
            solo_pool = await asyncpg.create_pool(solo_url, min_size=1, max_size=4)
            try:
                await migrate(solo_pool, store=False)
                runner = ProjectionRunner(solo_pool, projector.ReplicaTally("solo"), kafka)
                runner.group_id = f"{prefix}solo"
                stop_solo = asyncio.Event()
                solo = asyncio.create_task(runner.run(stop_solo))
                async with solo_pool.acquire() as conn:
                    await _eventually(lambda: _applied_at_least(conn, total), "the single runner")
                    stop_solo.set()
                    await solo
                    alone = await _read_model(conn)
            finally:
                await solo_pool.close()
    except BaseException:
        print(one.tail(), two.tail(), sep="\n")
        raise
    finally:
        stop_relay.set()
        await one.stop(signal.SIGKILL)
        await two.stop(signal.SIGKILL)
        with contextlib.suppress(Exception):
            await asyncio.wait_for(relay_task, 10)
        await pool.close()

    print("\nevents applied per replica start and partition:")
    for row in work:
        print(f"  {row['replica']:6} partition {row['partition']}: {row['events']}")
    by_replica: dict[str, set[int]] = defaultdict(set)
    for row in work:
        by_replica[row["replica"]].add(row["partition"])

    assert letters == 0
    # Each event exactly once, in both read models, and they are equal row by row.
    expected = sorted((str(r["id"]), r["stream_id"], r["sequence"]) for r in stored)
    assert len(expected) == total
    assert sorted((str(r[0]), r[1], r[2]) for r in together["applied"]) == expected
    for table in ("tallies", "applied", "stream_versions"):
        assert together[table] == alone[table], table
    # Both processes applied events; while both were up they split the partitions.
    assert {"p1#1", "p2#1", "p2#2"} <= set(by_replica)
    assert 0 < len(by_replica["p2#1"]) < 4, by_replica


async def _async(value: bool) -> bool:
    return value


async def _applied_at_least(conn: asyncpg.Connection, total: int) -> bool:
    return await _applied(conn) >= total


# -- relay fail-over ------------------------------------------------------------------------


class Arrivals:
    """Reads a topic from the start as it grows, noting when each message arrives."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.bootstrap = bootstrap
        self.topic = topic
        self.seen: list[tuple[float, dict[str, Any]]] = []

    async def run(self, stop: asyncio.Event) -> None:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self.bootstrap,
            group_id=None,
            enable_auto_commit=False,
            fetch_max_wait_ms=10,
        )
        await consumer.start()
        try:
            partitions: set[int] = set()
            while not partitions:
                await consumer._client.force_metadata_update()
                partitions = consumer.partitions_for_topic(self.topic) or set()
                await asyncio.sleep(0.05)
            tps = [TopicPartition(self.topic, p) for p in sorted(partitions)]
            consumer.assign(tps)
            await consumer.seek_to_beginning(*tps)
            while not stop.is_set():
                for batch in (await consumer.getmany(timeout_ms=50)).values():
                    now = time.monotonic()
                    self.seen.extend((now, envelope_json(r)) for r in batch)
        finally:
            await consumer.stop()

    def first_after(self, moment: float) -> float | None:
        return next((t for t, _ in self.seen if t > moment), None)


@pytest.mark.slow
async def test_a_standby_relay_takes_over_when_the_publisher_stops_or_dies(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    prefix = f"failover{uuid.uuid4().hex[:8]}."
    topic = f"{prefix}crashdemo.events"
    ports = [free_port("127.0.0.1"), free_port("127.0.0.1")]
    env = dict(
        os.environ,
        CRASH_DATABASE_URL=database_url,
        CRASH_KAFKA_BOOTSTRAP=kafka_bootstrap,
        CRASH_TOPIC_PREFIX=prefix,
    )
    services = [
        Process("crash_service.py", env, tmp_path / "a.log"),
        Process("crash_service.py", env, tmp_path / "b.log"),
    ]
    urls = [f"http://127.0.0.1:{port}" for port in ports]
    token = issue_token("x" * 32, "failover", ["admin"])
    acked: dict[str, str] = {}
    firing = True

    async def start(i: int) -> None:
        await services[i].start(CRASH_PORT=str(ports[i]))
        async with httpx.AsyncClient(timeout=1.0) as http:

            async def up() -> bool:
                with contextlib.suppress(httpx.HTTPError):
                    return (await http.get(f"{urls[i]}/healthz")).status_code == 200
                return False

            await _eventually(up, f"service {i} to come up")

    async def client() -> None:
        rng = random.Random(3)
        async with httpx.AsyncClient(
            timeout=5.0, headers={"Authorization": f"Bearer {token}"}
        ) as http:
            while firing:
                command_id = uuid.uuid4().hex[:12]
                for url in rng.sample(urls, 2):  # whichever process is up
                    try:
                        response = await http.post(
                            f"{url}/streams/counter-{rng.randrange(8)}/count",
                            json={"command_id": command_id},
                        )
                    except httpx.HTTPError:
                        continue
                    if response.status_code == 200:
                        acked[command_id] = url
                    break
                await asyncio.sleep(0.01)

    arrivals = Arrivals(kafka_bootstrap, topic)
    stop_reading = asyncio.Event()
    reader: asyncio.Task[None] | None = None
    firing_task: asyncio.Task[None] | None = None
    try:
        await start(0)
        firing_task = asyncio.create_task(client())
        reader = asyncio.create_task(arrivals.run(stop_reading))
        await _eventually(lambda: _async(len(arrivals.seen) > 20), "a's relay to publish")
        await start(1)  # a holds the lock: b's relay waits on standby
        await asyncio.sleep(1.5)

        published_before = len(arrivals.seen)
        exited = await services[0].stop(signal.SIGTERM)  # the publisher stops cleanly
        await _eventually(lambda: _async(arrivals.first_after(exited) is not None), "b's relay")
        graceful_s = arrivals.first_after(exited) - exited  # type: ignore[operator]
        assert len(arrivals.seen) > published_before
        await asyncio.sleep(0.5)
        await start(0)  # now a waits on standby
        await asyncio.sleep(1.5)

        killed = await services[1].stop(signal.SIGKILL)  # the publisher dies
        await _eventually(lambda: _async(arrivals.first_after(killed) is not None), "a's relay")
        killed_s = arrivals.first_after(killed) - killed  # type: ignore[operator]
        await asyncio.sleep(1.0)
        firing = False
        await firing_task

        conn = await asyncpg.connect(database_url)
        try:
            stored = await conn.fetch("SELECT id::text AS id, data->>'command_id' AS c FROM events")

            async def all_published() -> bool:
                return {str(e["id"]) for _, e in arrivals.seen} >= {r["id"] for r in stored}

            await _eventually(all_published, "every stored event on the topic")

            async def applied() -> list[str]:
                with contextlib.suppress(asyncpg.UndefinedTableError):
                    return sorted(
                        str(r[0])
                        for r in await conn.fetch("SELECT event_id FROM crash_tally.applied")
                    )
                return []

            expected = sorted(r["id"] for r in stored)
            await _eventually(lambda: _equal(applied(), expected), "the read model")
        finally:
            await conn.close()
    except BaseException:
        print(*(s.tail() for s in services), sep="\n")
        raise
    finally:
        firing = False
        stop_reading.set()
        for service in services:
            await service.stop(signal.SIGKILL)
        if firing_task is not None:
            with contextlib.suppress(Exception):
                await firing_task
        if reader is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(reader, 10)

    copies = Counter(str(e["id"]) for _, e in arrivals.seen)
    before_kill = Counter(str(e["id"]) for t, e in arrivals.seen if t <= killed)
    doubled_by_kill = sum(1 for n in copies.values() if n > 1)
    print(
        f"\nrelay fail-over: {graceful_s * 1000:.0f} ms after the publisher stopped (SIGTERM), "
        f"{killed_s * 1000:.0f} ms after it was killed (-9); "
        f"{len(stored)} events, {len(acked)} commands acknowledged, "
        f"{doubled_by_kill} published twice after the kill"
    )
    assert set(acked) <= {r["c"] for r in stored}  # nothing acknowledged is lost
    assert all(n == 1 for n in before_kill.values())  # the clean hand-over publishes nothing twice


async def _equal(got: Any, expected: list[str]) -> bool:
    return bool(await got == expected)
