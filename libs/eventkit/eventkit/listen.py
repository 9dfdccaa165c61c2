"""Waking the relay when events commit in another process: PostgreSQL ``LISTEN``/``NOTIFY``.

A relay in the process that appended is woken at once (:meth:`eventkit.store.EventStore.notify`
sets an ``asyncio.Event``). Appends made elsewhere — another replica of the service, whose relay
waits on standby — are announced on :data:`CHANNEL` by that process's :class:`CommitAnnouncer`,
and the publishing relay's :class:`CommitListener` wakes it. PostgreSQL delivers a notification
to listeners on the same database only: one service's store.

The announcement is a ``NOTIFY`` of its own, sent after the append commits, one at a time per
process (commits meanwhile are folded into the next one), and never from the process whose relay
publishes. A ``NOTIFY`` inside the append's transaction would be simpler, but PostgreSQL holds
one lock for the whole server from a notifying transaction's commit until it is flushed: eight
writers that each notify commit one after the other (about a third of the appends per second on
the development machine), where eight that do not share their flushes.

The listener connects again when its connection drops (the database restarted, an operator ended
the session) and wakes its owner once on every (re)connection, since whatever committed while
nobody listened was not announced. The relay keeps polling slowly as well: an announcement is a
hint, not the only way events are found (a bulk load or an operator's ``INSERT`` announces
nothing).
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable

import asyncpg
import structlog

log = structlog.get_logger("eventkit.listen")

CHANNEL = "anju_events"
"""The channel appends are announced on (with an empty payload)."""


class CommitAnnouncer:
    """Announces this process's commits on :data:`CHANNEL`: :meth:`announce` after each one.

    At most one ``NOTIFY`` is in flight; commits announced meanwhile are covered by one more
    sent when it returns. While :attr:`muted` (the relay of this process publishes: it is woken
    directly) nothing is sent.
    """

    def __init__(self, pool: asyncpg.Pool, *, channel: str = CHANNEL) -> None:
        self.pool = pool
        self.channel = channel
        self.muted = False
        self.sent = 0
        self._again = False
        self._sending: asyncio.Task[None] | None = None

    def announce(self) -> None:
        if self.muted:
            return
        if self._sending is not None and not self._sending.done():
            self._again = True
            return
        self._sending = asyncio.get_running_loop().create_task(self._send())

    async def _send(self) -> None:
        again = True
        while again:
            self._again = False
            try:
                await self.pool.execute("SELECT pg_notify($1, '')", self.channel)
            except Exception as error:  # the relay still polls: a lost hint only delays it
                log.debug("commit_announce_failed", error=repr(error))
                return
            self.sent += 1
            again = self._again


class CommitListener:
    """Calls ``on_commit`` whenever events commit in the database at ``dsn``; run it with
    :meth:`run`. It reconnects after ``retry_s`` (doubling up to ``retry_cap_s``) when its
    connection drops, and checks the connection every ``ping_s`` while nothing arrives."""

    def __init__(
        self,
        dsn: str,
        on_commit: Callable[[], None],
        *,
        channel: str = CHANNEL,
        retry_s: float = 0.2,
        retry_cap_s: float = 5.0,
        ping_s: float = 10.0,
    ) -> None:
        self.dsn = dsn
        self.on_commit = on_commit
        self.channel = channel
        self.retry_s = retry_s
        self.retry_cap_s = retry_cap_s
        self.ping_s = ping_s
        self.listening = asyncio.Event()
        """Set while a connection listens (tests wait on it)."""
        self.connections = 0
        """How many times it has connected and listened."""
        self.backend_pid: int | None = None
        """The PostgreSQL backend of the listening connection, while there is one."""

    async def run(self, stop: asyncio.Event) -> None:
        """Listen until ``stop`` is set, connecting again whenever the connection is lost."""
        backoff = self.retry_s
        while not stop.is_set():
            try:
                await self._listen(stop)
                backoff = self.retry_s
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError, TimeoutError) as error:
                log.warning("commit_listener_retry", error=repr(error), backoff_s=backoff)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(stop.wait(), backoff)
                backoff = min(backoff * 2, self.retry_cap_s)

    async def _listen(self, stop: asyncio.Event) -> None:
        conn: asyncpg.Connection = await asyncpg.connect(self.dsn, timeout=10)
        lost = asyncio.Event()
        conn.add_termination_listener(lambda _conn: lost.set())

        def notified(*_: object) -> None:
            self.on_commit()

        try:
            await conn.add_listener(self.channel, notified)
            self.backend_pid = conn.get_server_pid()
            self.connections += 1
            self.listening.set()
            if self.connections > 1:
                log.info("commit_listener_reconnected", connections=self.connections)
            self.on_commit()  # what committed while nobody listened was not announced
            stopping = asyncio.ensure_future(stop.wait())
            dropped = asyncio.ensure_future(lost.wait())
            try:
                while not stop.is_set():
                    await asyncio.wait(
                        (stopping, dropped),
                        timeout=self.ping_s,
                        return_when=asyncio.FIRST_COMPLETED,
                    )
                    if stop.is_set():
                        return
                    if lost.is_set() or conn.is_closed():
                        raise ConnectionResetError("the listening connection was closed")
                    await conn.fetchval("SELECT 1", timeout=self.ping_s)  # half-open?
            finally:
                stopping.cancel()
                dropped.cancel()
        finally:
            self.listening.clear()
            self.backend_pid = None
            if not conn.is_closed():
                conn.terminate()
