"""Deadlines as data: time-triggered facts, each appended exactly once.

A command registers a deadline (``Session.schedule``) in the same transaction as its events:
"visit resident R by Tuesday", "dispute D's SLA ends on the 14th". The scheduler claims due
deadlines with ``FOR UPDATE SKIP LOCKED`` and runs the service's handler for each in the same
transaction that marks it fired, so two replicas never fire one deadline twice, and a crash
mid-way fires it again later rather than never. The handler decides from the stream whether the
deadline still matters (the visit may have happened) and appends the fact if it does.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog

from eventkit.metrics import DEADLINES_FIRED
from eventkit.store import EventStore, Session

log = structlog.get_logger("eventkit.scheduler")


@dataclass(frozen=True)
class Deadline:
    kind: str
    key: str
    due_at: datetime
    payload: Mapping[str, Any]


DeadlineHandler = Callable[[Session, Deadline], Awaitable[None]]


class Scheduler:
    """Fires the due deadlines of one service through the handlers registered by kind."""

    def __init__(
        self,
        store: EventStore,
        handlers: Mapping[str, DeadlineHandler],
        *,
        poll_s: float = 1.0,
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.store = store
        self.handlers = dict(handlers)
        self.poll_s = poll_s
        self.clock = clock

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
                SELECT id, kind, key, due_at, payload::text FROM deadlines
                WHERE fired_at IS NULL AND due_at <= coalesce($1, now())
                  AND kind = ANY($2::text[])
                ORDER BY due_at LIMIT 1
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
                    log.exception("deadline_failed")
                    await session.conn.execute(
                        """
                        UPDATE deadlines SET due_at = now() + interval '1 minute',
                            attempts = attempts + 1, last_error = $2
                        WHERE id = $1
                        """,
                        row["id"],
                        repr(error)[:2000],
                    )
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
