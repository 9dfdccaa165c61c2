"""A service's pool gives a connection back clean: what a request left open is rolled back, and
a connection that took session state (an advisory lock, a LISTEN) is reset; the others are not
sent the reset, which would be one more round trip per request."""

from __future__ import annotations

from collections.abc import AsyncIterator

import asyncpg
import pytest_asyncio

from eventkit.pools import create_pool, holds_session_state


@pytest_asyncio.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    """One connection, so that each acquire gets the one released before."""
    pool = await create_pool(database_url, min_size=1, max_size=1)
    try:
        yield pool
    finally:
        await pool.close()


async def test_what_was_left_open_is_rolled_back(pool: asyncpg.Pool) -> None:
    await pool.execute("CREATE TABLE left_open (n int)")
    async with pool.acquire() as conn:
        await conn.execute("BEGIN")
        await conn.execute("INSERT INTO left_open VALUES (1)")
    async with pool.acquire() as conn:
        assert not conn.is_in_transaction()
        assert await conn.fetchval("SELECT count(*) FROM left_open") == 0


async def test_a_connection_that_took_session_state_is_reset(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        holds_session_state(conn)
        await conn.execute("SELECT pg_advisory_lock(4242)")
        await conn.execute("LISTEN somewhere")
        pid = conn.get_server_pid()
    async with pool.acquire() as conn:
        assert conn.get_server_pid() == pid  # the same session, reset
        assert await conn.fetchval("SELECT count(*) FROM pg_listening_channels()") == 0
        locks = await conn.fetchval(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = $1", pid
        )
        assert locks == 0


async def test_the_others_are_not_sent_the_reset(pool: asyncpg.Pool) -> None:
    async with pool.acquire() as conn:
        await conn.execute("SET application_name = 'not reset'")
    async with pool.acquire() as conn:
        assert await conn.fetchval("SHOW application_name") == "not reset"
