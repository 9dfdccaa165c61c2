"""The composition root's moving parts: a service's pool, store and background workers.

``Runtime`` is entered in a service's lifespan. It creates the connection pool, migrates the
schema, and runs the relay, the scheduler, policies and projections as supervised tasks that
restart with backoff when they fail (a broker away, a database restarting). Nothing connects at
import time.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import datetime
from types import TracebackType
from typing import Any

import asyncpg
import structlog

from anju_contracts import EventCatalog
from eventkit.commands import ConsistencyToken
from eventkit.consistency import StreamVersions, wait_for_version
from eventkit.erasure import Reach, erasure_policy
from eventkit.http import Readiness
from eventkit.keys import CachedKeyStore, PostgresKeyStore
from eventkit.listen import CommitAnnouncer
from eventkit.personal import FieldCipher
from eventkit.policy import Policy, PolicyRunner
from eventkit.pools import create_pool
from eventkit.projection import Projection, ProjectionRunner, ensure_projection
from eventkit.relay import Relay
from eventkit.scheduler import DeadlineHandler, Scheduler
from eventkit.schema import migrate
from eventkit.settings import ServiceSettings
from eventkit.store import EventStore

log = structlog.get_logger("eventkit.runtime")

Worker = Callable[[asyncio.Event], Awaitable[None]]

_CANCEL_WAIT_S = 1.0  # per cancellation of workers that did not stop in time


class Runtime:
    """Everything a service process runs besides its HTTP routes."""

    stop_timeout_s: float = 3.0
    """How long shutdown waits for the workers, and then for the pool, before cutting them off.

    A broker that is gone or hung must not hold a service's shutdown (and ``anju run``'s Ctrl-C)
    for long; whatever a worker had not finished is published or applied after the restart.
    """

    def __init__(
        self,
        settings: ServiceSettings,
        *,
        catalog: EventCatalog | None = None,
        ddl: Sequence[str] = (),
        policies: Sequence[Policy] = (),
        projections: Sequence[Projection] = (),
        deadlines: Mapping[str, DeadlineHandler] | None = None,
        workers: Mapping[str, Worker] | None = None,
        relay: bool = True,
        relay_also: Mapping[str, str] | None = None,
        erasure_reach: Reach | None = None,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.catalog = catalog
        self.ddl = ddl
        self.policies = policies
        self.projections = projections
        self.deadlines = dict(deadlines or {})
        self.workers = dict(workers or {})
        """The service's own background workers (e.g. its FastStream subscribers), supervised
        like the kernel's: started once the pool and store are up, restarted with backoff when
        they fail, stopped when ``stop`` is set."""
        self.run_relay = relay and catalog is not None
        self.relay_also = dict(relay_also or {})
        """Event types the relay also publishes on another topic (:attr:`Relay.also`)."""
        self.erasure_reach = erasure_reach
        """The service's records of a person beyond those naming them (:data:`Reach`)."""
        self.clock = clock
        self._pool: asyncpg.Pool | None = None
        self._keys_pool: asyncpg.Pool | None = None
        self.keys: CachedKeyStore | None = None
        """The key store of personal fields, when the settings name one."""
        self.cipher: FieldCipher | None = None
        self._store: EventStore | None = None
        self.relay: Relay | None = None
        self.projection_runners: list[ProjectionRunner] = []
        self.policy_runners: list[PolicyRunner] = []
        self._stop = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise RuntimeError("runtime not started")
        return self._pool

    @property
    def store(self) -> EventStore:
        if self._store is None:
            raise RuntimeError("this service has no event store")
        return self._store

    async def __aenter__(self) -> Runtime:
        self._pool = await create_pool(
            self.settings.database_url,
            min_size=2,
            max_size=self.settings.db_pool_max,
            command_timeout=60,
        )
        await migrate(self._pool, *self.ddl, store=self.catalog is not None)
        await self._open_keys()
        if self.catalog is not None:
            self._store = EventStore(self._pool, self.catalog, cipher=self.cipher)
            self._store.announcer = CommitAnnouncer(self._pool)
        kafka = self.settings.kafka
        if self.run_relay:
            self.relay = Relay(self.store, self.settings, also=self.relay_also)
            self._spawn("relay", self.relay.run)
        if self.deadlines:
            scheduler = Scheduler(
                self.store,
                self.deadlines,
                poll_s=self.settings.scheduler_poll_s,
                clock=self.clock,
                max_attempts=self.settings.deadline_max_attempts,
                retry_base_s=self.settings.deadline_retry_base_s,
                retry_cap_s=self.settings.deadline_retry_cap_s,
            )
            self._spawn("scheduler", scheduler.run)
        policies = list(self.policies)
        if self.keys is not None and self._store is not None:
            policies.append(erasure_policy(self._store.source, self.keys, reach=self.erasure_reach))
        for policy in policies:
            policy_runner = PolicyRunner(self.store, policy, kafka)
            self.policy_runners.append(policy_runner)
            self._spawn(f"policy:{policy.name}", policy_runner.run)
        for projection in self.projections:
            # The views exist before the first request, even while the broker is away.
            await ensure_projection(self._pool, projection)
            runner = ProjectionRunner(self._pool, projection, kafka, cipher=self.cipher)
            self.projection_runners.append(runner)
            self._spawn(f"projection:{projection.name}", runner.run)
        for name, worker in self.workers.items():
            self._spawn(name, worker)
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        await self._stop_workers()
        if self._keys_pool is not None:
            try:
                await asyncio.wait_for(self._keys_pool.close(), self.stop_timeout_s)
            except TimeoutError:
                self._keys_pool.terminate()
        if self._pool is not None:
            try:
                await asyncio.wait_for(self._pool.close(), self.stop_timeout_s)
            except TimeoutError:
                # A connection is still held by a worker that would not finish: drop them all.
                log.warning("shutdown_pool_terminated", waited_s=self.stop_timeout_s)
                self._pool.terminate()

    async def _stop_workers(self) -> None:
        """Let the workers finish, then cancel those that do not, each step bounded in time.

        A worker stops cleanly within moments while the broker answers. With the broker hung
        or gone, a producer's flush or a consumer leaving its group can wait far longer, so
        after ``stop_timeout_s`` the stragglers are cancelled; a worker whose cleanup still does
        not finish after being cancelled twice is left behind (logged), not waited for.
        """
        if not self._tasks:
            return
        _, pending = await asyncio.wait(self._tasks, timeout=self.stop_timeout_s)
        for attempt in (1, 2):
            if not pending:
                break
            waiting = {task.get_name(): _awaiting(task) for task in pending}
            log.warning("shutdown_cancelling", workers=waiting, attempt=attempt)
            for task in pending:
                task.cancel()
            _, pending = await asyncio.wait(pending, timeout=_CANCEL_WAIT_S)
        if pending:
            log.error("shutdown_abandoned", workers={t.get_name(): _awaiting(t) for t in pending})
        for task in self._tasks:
            if task.done() and not task.cancelled():
                task.exception()  # retrieved: a failure here was already logged by _supervise

    async def _open_keys(self) -> None:
        """Reach the key store the settings name (its table made if missing)."""
        settings = self.settings.keys
        if settings is None:
            if self.catalog is not None or self.projections or self.policies:
                log.warning("personal_fields_in_clear", reason="no key store configured")
            return
        self._keys_pool = await create_pool(
            settings.database_url,
            min_size=1,
            # one more for the connection that follows the destroyed keys' notices
            max_size=max(2, self.settings.db_pool_max // 4) + 1,
            command_timeout=10,
        )
        store = PostgresKeyStore(self._keys_pool, settings.master_key_bytes())
        await store.migrate()
        cache = self.keys = CachedKeyStore(store)
        self.cipher = FieldCipher(cache)
        self._spawn("keys:destroyed", lambda stop: store.follow_destroyed(cache, stop))

    def _spawn(self, name: str, worker: Worker) -> None:
        self._tasks.append(asyncio.create_task(self._supervise(name, worker), name=name))

    async def _supervise(self, name: str, worker: Worker) -> None:
        backoff = 0.5
        while not self._stop.is_set():
            try:
                await worker(self._stop)
                return
            except Exception as error:
                log.warning("worker_failed", worker=name, error=repr(error), retry_in_s=backoff)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stop.wait(), backoff)
            backoff = min(backoff * 2, 10.0)

    def runner(self, projection: str) -> ProjectionRunner | None:
        """The runner of ``projection`` in this process, if it runs here."""
        return next((r for r in self.projection_runners if r.projection.name == projection), None)

    def policy_runner(self, policy: str) -> PolicyRunner | None:
        """The runner of ``policy`` in this process, if it runs here."""
        return next((r for r in self.policy_runners if r.policy.name == policy), None)

    async def learnt(self, policy: str, token: ConsistencyToken, *, timeout_s: float) -> bool:
        """Wait until ``policy`` has applied the write ``token`` names; False on timeout. It
        looks again after each batch the policy commits here, else it polls."""
        runner = self.policy_runner(policy)
        return await wait_for_version(
            self.pool,
            StreamVersions.of_policy(policy),
            token.source,
            token.stream_id,
            token.version,
            timeout_s=timeout_s,
            wake=None if runner is None else runner.commits.next,
        )

    # -- readiness --------------------------------------------------------------------------

    async def readiness(self) -> Readiness:
        """What this pod can serve now, for ``/readyz``: only the database is required.

        Commands go into the event store and the relay publishes them once the broker is back
        (the store is the outbox), and queries answer from the read models in the database. So
        a broker outage leaves the pod ready, and the report says what it costs: events wait
        in the store, read models and policies fed from the broker fall behind. Without its
        database the pod can serve nothing: not ready.
        """
        database, broker = await asyncio.gather(
            _failure(self.check_database), _failure(self.check_broker)
        )
        report: dict[str, Any] = {
            "database": "ok" if database is None else "down",
            "broker": "ok" if broker is None else "down",
            "serving": [],
        }
        errors = {
            name: failure
            for name, failure in (("database", database), ("broker", broker))
            if failure is not None
        }
        if errors:
            report["errors"] = errors
        if database is not None:
            return Readiness(False, report, "the database is not reachable")
        if self.catalog is not None:
            report["serving"].append("commands")
            report["events"] = "published" if broker is None else "held_in_store"
        if self.projections:
            report["serving"].append("queries")
            report["read_models"] = "live" if broker is None else "may_be_stale"
        if self.policies:
            report["policies"] = "running" if broker is None else "paused"
        return Readiness(True, report)

    async def check_database(self) -> None:
        async with self.pool.acquire() as conn:
            await conn.fetchval("SELECT 1")

    async def check_broker(self) -> None:
        """One of the bootstrap servers accepts a connection."""
        failure: OSError | None = None
        for server in self.settings.kafka.bootstrap.split(","):
            host, _, port = server.strip().rpartition(":")
            try:
                _, writer = await asyncio.open_connection(host, int(port))
            except OSError as error:
                failure = error
                continue
            writer.close()
            await writer.wait_closed()
            return
        raise failure or ConnectionError("no bootstrap servers")


READY_TIMEOUT_S = 2.0
"""How long a readiness check may take: the probes give ``/readyz`` 3 seconds."""


async def _failure(check: Callable[[], Awaitable[None]]) -> str | None:
    """None when ``check`` passes within ``READY_TIMEOUT_S``, else what went wrong."""
    try:
        await asyncio.wait_for(check(), READY_TIMEOUT_S)
    except Exception as error:
        return repr(error)
    return None


def _awaiting(task: asyncio.Task[None]) -> str:
    """Where a task is suspended: its innermost frames, for the log of a stuck shutdown."""
    frames: list[str] = []
    awaited: object = task.get_coro()
    while awaited is not None:
        frame = getattr(awaited, "cr_frame", None) or getattr(awaited, "gi_frame", None)
        if frame is not None:
            frames.append(f"{frame.f_code.co_qualname}:{frame.f_lineno}")
        awaited = getattr(awaited, "cr_await", None) or getattr(awaited, "gi_yieldfrom", None)
    return " < ".join(reversed(frames[-3:]))
