"""The key store contract (:mod:`eventkit.testing.keystore_contract`) run against every key
store, and what only the PostgreSQL one has to show: a dump of its table reveals no key."""

from __future__ import annotations

import asyncio
import base64
import os
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from eventkit.keys import (
    CachedKeyStore,
    KeySettings,
    KeyStore,
    KeyUnwrapError,
    MemoryKeyStore,
    PostgresKeyStore,
    master_key_from,
)
from eventkit.testing.keystore_contract import KeyStoreContract

MASTER = bytes(range(32))


class TestMemoryKeyStore(KeyStoreContract):
    @pytest.fixture
    def keys(self) -> KeyStore:
        return MemoryKeyStore()


@pytest_asyncio.fixture
async def pool(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=10)
    try:
        yield pool
    finally:
        await pool.close()


@pytest_asyncio.fixture
async def postgres_keys(pool: asyncpg.Pool) -> PostgresKeyStore:
    store = PostgresKeyStore(pool, MASTER)
    await store.migrate()
    await store.migrate()  # idempotent: every service migrates at start
    return store


class TestPostgresKeyStore(KeyStoreContract):
    @pytest.fixture
    def keys(self, postgres_keys: PostgresKeyStore) -> KeyStore:
        return postgres_keys


async def test_a_dump_of_the_key_table_holds_no_key(postgres_keys: PostgresKeyStore) -> None:
    made = [await postgres_keys.obtain(f"resident:{i}") for i in range(5)]
    await postgres_keys.destroy("resident:0")
    async with postgres_keys.pool.acquire() as conn:
        dump = await conn.fetchval("SELECT string_agg(t::text, E'\\n') FROM data_keys AS t")
        raw = await conn.fetch("SELECT wrapped FROM data_keys")
    assert isinstance(dump, str)
    blobs = b"".join(r["wrapped"] or b"" for r in raw)
    for key in made:
        assert key.material.hex() not in dump
        assert key.material not in blobs
    assert MASTER.hex() not in dump


async def test_keys_open_only_under_their_master_key(pool: asyncpg.Pool) -> None:
    store = PostgresKeyStore(pool, MASTER)
    await store.migrate()
    key = await store.obtain("resident:1")
    assert await PostgresKeyStore(pool, MASTER).get(key.id) == key  # a restart, same master
    with pytest.raises(KeyUnwrapError, match="master"):
        await PostgresKeyStore(pool, os.urandom(32)).get(key.id)


async def test_a_wrapped_key_copied_onto_another_row_does_not_open(pool: asyncpg.Pool) -> None:
    store = PostgresKeyStore(pool, MASTER)
    await store.migrate()
    a = await store.obtain("resident:1")
    b = await store.obtain("resident:2")
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE data_keys SET wrapped = (SELECT wrapped FROM data_keys WHERE id = $1)"
            " WHERE id = $2",
            a.id,
            b.id,
        )
    with pytest.raises(KeyUnwrapError):
        await store.get(b.id)


async def test_a_destroyed_key_keeps_its_row_without_material(pool: asyncpg.Pool) -> None:
    store = PostgresKeyStore(pool, MASTER)
    await store.migrate()
    key = await store.obtain("resident:1")
    await store.destroy("resident:1")
    async with pool.acquire() as conn:
        row = await conn.fetchrow("SELECT * FROM data_keys WHERE id = $1", key.id)
    assert row is not None
    assert row["wrapped"] is None
    assert row["destroyed_at"] is not None


def test_the_master_key_is_32_bytes_of_base64() -> None:
    assert master_key_from(base64.b64encode(MASTER).decode()) == MASTER
    assert master_key_from(base64.urlsafe_b64encode(MASTER).decode().rstrip("=")) == MASTER
    settings = KeySettings.model_validate(
        {"database_url": "postgresql://x/anju_keys", "master_key": base64.b64encode(MASTER)}
    )
    assert settings.master_key_bytes() == MASTER
    assert MASTER.hex() not in repr(settings)
    with pytest.raises(ValueError, match="32 bytes"):
        master_key_from(base64.b64encode(b"short").decode())
    with pytest.raises(ValueError, match="base64"):
        master_key_from("not base64!")
    with pytest.raises(ValueError, match="32 bytes"):
        PostgresKeyStore(None, b"short")


async def test_a_key_destroyed_anywhere_leaves_every_cache_at_once(
    database_url: str, postgres_keys: PostgresKeyStore
) -> None:
    # two processes: one caches the key (for a minute), the other destroys it
    other_pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        other = PostgresKeyStore(other_pool, MASTER)
        cache = CachedKeyStore(postgres_keys, ttl_s=3600)
        stop = asyncio.Event()
        following = asyncio.create_task(postgres_keys.follow_destroyed(cache, stop))
        key = await cache.obtain("resident:1")
        kept = await cache.obtain("resident:2")
        await asyncio.sleep(0.2)  # the notices are followed from here on
        assert await cache.get(key.id) == key

        assert await other.destroy("resident:1") == 1
        async with asyncio.timeout(5):
            while await cache.get(key.id) is not None:  # noqa: ASYNC110 (notices come unannounced)
                await asyncio.sleep(0.02)
        assert await cache.get(kept.id) == kept  # another person's key stays cached
        stop.set()
        await asyncio.wait_for(following, 5)
    finally:
        await other_pool.close()


async def test_following_starts_with_an_empty_cache(postgres_keys: PostgresKeyStore) -> None:
    # a key destroyed while no one followed (a lost connection) is not served afterwards
    cache = CachedKeyStore(postgres_keys, ttl_s=3600)
    key = await cache.obtain("resident:3")
    await postgres_keys.destroy("resident:3")
    assert await cache.get(key.id) == key  # the cache, unfollowed, does not know
    stop = asyncio.Event()
    following = asyncio.create_task(postgres_keys.follow_destroyed(cache, stop))
    async with asyncio.timeout(5):
        while await cache.get(key.id) is not None:  # noqa: ASYNC110 (notices come unannounced)
            await asyncio.sleep(0.02)
    stop.set()
    await asyncio.wait_for(following, 5)
