"""Guarantee 10, crash anywhere: ``kill -9`` of a service mid-stream loses no accepted command
and applies no event twice.

A real service process (``crash_service.py``: HTTP commands, the relay and a projection) takes
commands from several concurrent clients; it is SIGKILLed twice while they keep firing, and
started again each time. Afterwards every acknowledged command is in the event store exactly
once, on Kafka, and in the read model exactly once, and the read model equals the store.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter
from pathlib import Path
from typing import IO

import asyncpg
import httpx
import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from eventkit.auth import issue_token
from eventkit.testing.infra import free_port
from eventkit.testing.relay import envelope_json

SCRIPT = Path(__file__).with_name("crash_service.py")
TIMEOUT_S = 20.0


class Service:
    """The crash service as a child process that can be killed and started again."""

    def __init__(self, env: dict[str, str], port: int, log: IO[bytes]) -> None:
        self.env = env
        self.url = f"http://127.0.0.1:{port}"
        self.log = log
        self.process: asyncio.subprocess.Process | None = None
        self.starts = 0

    async def start(self) -> None:
        self.process = await asyncio.create_subprocess_exec(
            sys.executable,
            str(SCRIPT),
            env=self.env,
            stdin=subprocess.DEVNULL,
            stdout=self.log,
            stderr=subprocess.STDOUT,
        )
        self.starts += 1
        deadline = time.monotonic() + TIMEOUT_S
        async with httpx.AsyncClient(timeout=1.0) as client:
            while True:
                assert self.process.returncode is None, "the service exited at start"
                with contextlib.suppress(httpx.HTTPError):
                    if (await client.get(f"{self.url}/healthz")).status_code == 200:
                        return
                assert time.monotonic() < deadline, "the service did not come up"
                await asyncio.sleep(0.1)

    async def kill(self, sig: signal.Signals = signal.SIGKILL) -> None:
        process, self.process = self.process, None
        if process is not None and process.returncode is None:
            process.send_signal(sig)
            await asyncio.wait_for(process.wait(), 10)


async def read_topic(bootstrap: str, topic: str) -> list[dict[str, object]]:
    consumer = AIOKafkaConsumer(
        bootstrap_servers=bootstrap, group_id=None, enable_auto_commit=False, fetch_max_wait_ms=20
    )
    await consumer.start()
    try:
        await consumer.topics()
        tps = [TopicPartition(topic, p) for p in sorted(consumer.partitions_for_topic(topic) or [])]
        assert tps, f"no topic {topic}"
        consumer.assign(tps)
        await consumer.seek_to_beginning(*tps)
        end = await consumer.end_offsets(tps)
        values: list[dict[str, object]] = []
        deadline = time.monotonic() + TIMEOUT_S
        while not all([await consumer.position(tp) >= end[tp] for tp in tps]):
            assert time.monotonic() < deadline, "could not read the topic to its end"
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                values.extend(envelope_json(r) for r in batch)
        return values
    finally:
        await consumer.stop()


@pytest.mark.slow
async def test_kill_9_mid_stream_loses_no_accepted_command_and_applies_none_twice(
    database_url: str, kafka_bootstrap: str, tmp_path: Path
) -> None:
    port = free_port("127.0.0.1")
    prefix = f"crash{uuid.uuid4().hex[:8]}."
    env = dict(
        os.environ,
        CRASH_DATABASE_URL=database_url,
        CRASH_KAFKA_BOOTSTRAP=kafka_bootstrap,
        CRASH_TOPIC_PREFIX=prefix,
        CRASH_PORT=str(port),
    )
    log_path = tmp_path / "service.log"
    with log_path.open("ab") as log:
        service = Service(env, port, log)
        acked: dict[str, tuple[str, int]] = {}  # command id -> (stream, version)
        refused: list[str] = []
        failed: list[str] = []
        firing = True

        async def client(worker: int) -> None:
            rng = random.Random(worker)
            token = issue_token("x" * 32, f"worker-{worker}", ["admin"])
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(timeout=5.0, headers=headers) as http:
                while firing:
                    stream = f"counter-{rng.randrange(6)}"
                    command_id = f"w{worker}-{uuid.uuid4().hex[:8]}"
                    try:
                        response = await http.post(
                            f"{service.url}/streams/{stream}/count",
                            json={"command_id": command_id},
                        )
                    except httpx.HTTPError:
                        failed.append(command_id)  # unknown outcome: not acknowledged
                        await asyncio.sleep(0.05)
                        continue
                    if response.status_code == 200:
                        acked[command_id] = (stream, response.json()["version"])
                    else:
                        assert response.status_code == 409, response.text
                        refused.append(command_id)

        try:
            await service.start()
            clients = [asyncio.create_task(client(w)) for w in range(4)]
            for _ in range(2):
                before = len(acked)
                await asyncio.sleep(1.0 + random.random())
                assert len(acked) > before, "the service accepted no commands"
                await service.kill()  # kill -9, mid-stream
                await service.start()
            await asyncio.sleep(1.0)
            firing = False
            await asyncio.gather(*clients)
            assert service.starts == 3
            assert failed, "no request was cut off by a kill (the test did not bite)"

            conn = await asyncpg.connect(database_url)
            try:
                stored = await conn.fetch(
                    "SELECT id, stream_id, sequence, data->>'command_id' AS command_id FROM events"
                )
                in_store = Counter(r["command_id"] for r in stored)
                by_command = {r["command_id"]: (r["stream_id"], r["sequence"]) for r in stored}
                # Every acknowledged command is in the store, once, where its answer said.
                for command_id, where in acked.items():
                    assert in_store[command_id] == 1, command_id
                    assert by_command[command_id] == where
                assert all(n == 1 for n in in_store.values())
                assert not set(refused) & set(in_store)

                # The read model equals the store: every event applied exactly once.
                async def read_model() -> list[tuple[str, str, int, str]]:
                    try:
                        rows = await conn.fetch("SELECT * FROM crash_tally.applied")
                    except asyncpg.UndefinedTableError:
                        return []
                    return sorted(
                        (str(r["event_id"]), r["stream_id"], r["sequence"], r["command_id"])
                        for r in rows
                    )

                expected = sorted(
                    (str(r["id"]), r["stream_id"], r["sequence"], r["command_id"]) for r in stored
                )
                deadline = time.monotonic() + TIMEOUT_S
                while (applied := await read_model()) != expected:
                    assert time.monotonic() < deadline, (
                        f"read model has {len(applied)} rows, store {len(expected)}; "
                        f"duplicates: {[k for k, n in Counter(applied).items() if n > 1][:5]}"
                    )
                    await asyncio.sleep(0.1)
            finally:
                await conn.close()

            # Every event is on Kafka (at least once; duplicates there are allowed).
            on_kafka = await read_topic(kafka_bootstrap, f"{prefix}crashdemo.events")
            assert {str(e["id"]) for e in on_kafka} == {e[0] for e in expected}
            assert set(acked) <= {str(e["data"]["command_id"]) for e in on_kafka}  # type: ignore[index]
        except BaseException:
            print(log_path.read_text(errors="replace")[-5000:])
            raise
        finally:
            firing = False
            await service.kill(signal.SIGTERM)
