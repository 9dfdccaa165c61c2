"""Deadlines as data: time-triggered facts, each appended exactly once.

A command registers a deadline (``Session.schedule``) in the same transaction as its events:
"visit resident R by Tuesday", "dispute D's SLA ends on the 14th". The scheduler claims due
deadlines with ``FOR UPDATE SKIP LOCKED`` and runs the service's handler for each in the same
transaction that marks it fired, so two replicas never fire one deadline twice, and a crash
mid-way fires it again later rather than never. The handler decides from the stream whether the
deadline still matters (the visit may have happened) and appends the fact if it does.

A handler that fails leaves the deadline armed, with ``attempts``, ``last_error`` and a
``next_try_at`` that backs off exponentially (``retry_base_s`` doubling up to ``retry_cap_s``).
After ``max_attempts`` failures the deadline stops (``failed_at``) and a dead letter with the
error shows it to operators (consumer ``deadline:<kind>``, the deadline's id as its offset).
Replaying that letter arms the deadline again, now, for the running scheduler to fire
(:func:`rearm_failed`); discarding it leaves the deadline stopped. Arming a deadline for a new
time (``Session.schedule``) starts its tries afresh.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import asyncpg
import structlog

from eventkit.metrics import DEAD_LETTERS, DEADLINES_FIRED
from eventkit.store import EventStore, Session

log = structlog.get_logger("eventkit.scheduler")


@dataclass(frozen=True)
class Deadline:
    kind: str
    key: str
    due_at: datetime
    payload: Mapping[str, Any]


DeadlineHandler = Callable[[Session, Deadline], Awaitable[None]]

#: Dead letters of deadlines: ``deadline:<kind>`` as consumer, this topic, the id as offset.
DEADLINE_CONSUMER_PREFIX = "deadline:"
DEADLINE_TOPIC = "deadlines"


class Scheduler:
    """Fires the due deadlines of one service through the handlers registered by kind."""

    def __init__(
        self,
        store: EventStore,
        handlers: Mapping[str, DeadlineHandler],
        *,
        poll_s: float = 1.0,
        clock: Callable[[], datetime] | None = None,
        max_attempts: int = 8,
        retry_base_s: float = 30.0,
        retry_cap_s: float = 3600.0,
    ) -> None:
        self.store = store
        self.handlers = dict(handlers)
        self.poll_s = poll_s
        self.clock = clock
        self.max_attempts = max_attempts
        self.retry_base_s = retry_base_s
        self.retry_cap_s = retry_cap_s

    def retry_delay(self, attempts: int) -> timedelta:
        """How long a deadline waits after its ``attempts``-th failure: doubling, capped."""
        return timedelta(seconds=min(self.retry_cap_s, self.retry_base_s * 2 ** (attempts - 1)))

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                fired = await self.fire_due()
            except Exception:
                log.exception("scheduler_failed")
                fired = 0
            if fired == 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), self.poll_s)

    async def fire_due(self, limit: int = 100) -> int:
        """Fire up to ``limit`` due deadlines, each in its own transaction; return how many."""
        fired = 0
        for _ in range(limit):
            if not await self._fire_one():
                break
            fired += 1
        return fired

    async def _fire_one(self) -> bool:
        async with self.store.session() as session:
            now = self.clock() if self.clock else None
            row = await session.conn.fetchrow(
                """
                SELECT id, kind, key, due_at, payload::text, attempts FROM deadlines
                WHERE fired_at IS NULL AND failed_at IS NULL
                  AND coalesce(next_try_at, due_at) <= coalesce($1, now())
                  AND kind = ANY($2::text[])
                ORDER BY coalesce(next_try_at, due_at) LIMIT 1
                FOR UPDATE SKIP LOCKED
                """,
                now,
                list(self.handlers),
            )
            if row is None:
                return False
            deadline = Deadline(row["kind"], row["key"], row["due_at"], json.loads(row["payload"]))
            with structlog.contextvars.bound_contextvars(deadline=deadline.kind, key=deadline.key):
                try:
                    async with session.conn.transaction():
                        await self.handlers[deadline.kind](session, deadline)
                except Exception as error:
                    # One bad deadline must not hold up the others: try it again later.
                    await self._failed(session.conn, row, now, repr(error)[:2000])
                    return True
                # Unless the handler re-armed this very deadline (kind and key) for a new time.
                await session.conn.execute(
                    "UPDATE deadlines SET fired_at = now() WHERE id = $1 AND due_at = $2",
                    row["id"],
                    row["due_at"],
                )
                log.info("deadline_fired")
        DEADLINES_FIRED.labels(self.store.source, deadline.kind).inc()
        return True

    async def _failed(
        self, conn: asyncpg.Connection, row: asyncpg.Record, now: datetime | None, error: str
    ) -> None:
        attempts = row["attempts"] + 1
        if attempts < self.max_attempts:
            delay = self.retry_delay(attempts)
            log.exception("deadline_failed", attempts=attempts, retry_in_s=delay.total_seconds())
            await conn.execute(
                """
                UPDATE deadlines SET attempts = $2, last_error = $3,
                    next_try_at = coalesce($4, now()) + $5::interval
                WHERE id = $1
                """,
                row["id"],
                attempts,
                error,
                now,
                delay,
            )
            return
        log.exception("deadline_gave_up", attempts=attempts)
        await conn.execute(
            """
            UPDATE deadlines SET attempts = $2, last_error = $3, next_try_at = NULL,
                failed_at = now()
            WHERE id = $1
            """,
            row["id"],
            attempts,
            error,
        )
        consumer = DEADLINE_CONSUMER_PREFIX + row["kind"]
        # A deadline armed again after an earlier letter was resolved opens that letter anew.
        await conn.execute(
            """
            INSERT INTO dead_letters (consumer, topic, partition, "offset", key, value,
                                      reason, detail)
            VALUES ($1, $2, 0, $3, $4, $5, 'deadline_failed', $6)
            ON CONFLICT (consumer, topic, partition, "offset") DO UPDATE
                SET status = 'pending', value = EXCLUDED.value, detail = EXCLUDED.detail,
                    received_at = now(), resolved_at = NULL, resolution = NULL
            """,
            consumer,
            DEADLINE_TOPIC,
            row["id"],
            row["key"].encode(),
            row["payload"].encode(),
            f"gave up after {attempts} attempts: {error}",
        )
        DEAD_LETTERS.labels(consumer, "deadline_failed").inc()


async def rearm_failed(conn: asyncpg.Connection, deadline_id: int) -> bool:
    """Arm a deadline the scheduler gave up on again, due now, with its tries afresh; return
    False if no such stopped deadline exists. Its handler runs in the service's scheduler."""
    result = await conn.execute(
        """
        UPDATE deadlines SET failed_at = NULL, attempts = 0, next_try_at = now()
        WHERE id = $1 AND failed_at IS NOT NULL AND fired_at IS NULL
        """,
        deadline_id,
    )
    return bool(result == "UPDATE 1")
