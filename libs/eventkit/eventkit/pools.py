"""The services' PostgreSQL connection pools.

asyncpg resets every connection given back to a pool: it rolls back what was left open, then
sends ``SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *; RESET ALL;`` — one more round
trip per request and per batch, about a twentieth of the registry's and the query service's CPU
in the end-to-end bench. Anju's statements keep no state in the session beyond their
transaction (``SET LOCAL``, transaction-level locks), except in the few places that take a
session-level advisory lock or ``LISTEN`` on a pooled connection; those say so
(:func:`holds_session_state`), and only such a connection gets the full reset when it is
released. What was left open is still rolled back for every connection (asyncpg does that
before the pool's ``reset``).
"""

from __future__ import annotations

from typing import Any

import asyncpg

_HOLDING: set[int] = set()
"""Server process ids of the pooled connections holding session state until released. A stale
id (a connection closed meanwhile, its id used again) costs only one reset more."""


def holds_session_state(conn: asyncpg.Connection | asyncpg.pool.PoolConnectionProxy) -> None:
    """Say that ``conn`` takes session state (a session-level advisory lock, a ``LISTEN``): the
    pool resets it when it is released."""
    _HOLDING.add(conn.get_server_pid())


async def reset_session_state(conn: asyncpg.Connection) -> None:
    """The pools' ``reset``: the session's state reset on a connection that holds some."""
    pid = conn.get_server_pid()
    if pid in _HOLDING:
        _HOLDING.discard(pid)
        await conn.execute(conn.get_reset_query())


async def create_pool(dsn: str, **options: Any) -> asyncpg.Pool:
    """``asyncpg.create_pool`` resetting only connections that hold session state."""
    pool: asyncpg.Pool = await asyncpg.create_pool(dsn, reset=reset_session_state, **options)
    return pool
