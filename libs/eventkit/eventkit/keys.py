"""Per-person data keys: the key store behind crypto-shredding (docs/personal-data.md).

Every personal field is encrypted (:mod:`eventkit.personal`) with the data key of the person it
describes: a *subject* such as ``resident:<registry id>``, or ``record:<source>:<stream>`` for a
person known only by the record that names them. Destroying a subject's keys erases every copy
of those fields at once: the stores, the topics, the replays.

:class:`KeyStore` is what the kernel needs; :class:`PostgresKeyStore` keeps the keys in one
table, each wrapped (AES-256-GCM) with a master key from the settings, so a dump of the table
alone reveals nothing; :class:`MemoryKeyStore` is the one unit tests use. A KMS or Vault store
implements the same protocol. One contract suite (:mod:`eventkit.testing.keystore_contract`)
holds them all to the same behaviour.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hashlib
import os
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

import asyncpg
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from pydantic import BaseModel, SecretStr

from eventkit.pools import holds_session_state

KEY_BYTES = 32
"""AES-256."""
NONCE_BYTES = 12


@dataclass(frozen=True)
class DataKey:
    """One version of a subject's key: ``id`` is what a ciphertext names, never reused."""

    id: str
    subject: str
    version: int
    material: bytes

    def __repr__(self) -> str:  # the material never reaches a log
        return f"DataKey(id={self.id!r}, subject={self.subject!r}, version={self.version})"


class KeyStore(Protocol):
    """Where the data keys live, whatever keeps them."""

    async def obtain(self, subject: str) -> DataKey:
        """The subject's current key, made on first use (and made anew after :meth:`destroy`,
        under the next version: facts recorded after an erasure are new facts)."""
        ...

    async def get(self, key_id: str) -> DataKey | None:
        """The key a ciphertext names; ``None`` once destroyed (or never made): erased."""
        ...

    async def destroy(self, subject: str) -> int:
        """Destroy every version of the subject's key; how many live versions were destroyed.

        Destroying twice, or a subject that never had a key, destroys nothing and is no error.
        """
        ...


def new_key_id() -> str:
    """A key id: 22 characters of URL-safe base64, random, never a subject's name."""
    return secrets.token_urlsafe(16)


class MemoryKeyStore:
    """Keys in a dict, for unit tests."""

    def __init__(self) -> None:
        self._keys: dict[str, DataKey] = {}
        self._current: dict[str, str] = {}
        self._versions: dict[str, int] = {}

    async def obtain(self, subject: str) -> DataKey:
        current = self._current.get(subject)
        if current is not None:
            return self._keys[current]
        version = self._versions.get(subject, 0) + 1
        key = DataKey(new_key_id(), subject, version, os.urandom(KEY_BYTES))
        self._keys[key.id] = key
        self._current[subject] = key.id
        self._versions[subject] = version
        return key

    async def get(self, key_id: str) -> DataKey | None:
        return self._keys.get(key_id)

    async def destroy(self, subject: str) -> int:
        doomed = [k for k, key in self._keys.items() if key.subject == subject]
        for key_id in doomed:
            del self._keys[key_id]
        self._current.pop(subject, None)
        return len(doomed)


class CachedKeyStore:
    """A key store with the keys in use kept in memory for ``ttl_s`` seconds (60 by default).

    Sealing an append and opening a batch of messages ask for the same few keys again and
    again; the cache answers them without a round trip. A key destroyed elsewhere is out of use
    here once its entry expires, and at once when this process follows the erasure
    (:meth:`forget`). A key that is not found (destroyed) is not cached: it is asked again.
    Following the key store's notices (:meth:`PostgresKeyStore.follow_destroyed`, which the
    runtime runs), a key destroyed by any process is dropped here within moments, not at expiry.
    """

    def __init__(
        self,
        inner: KeyStore,
        *,
        ttl_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.inner = inner
        self.ttl_s = ttl_s
        self._clock = clock
        self._by_id: dict[str, tuple[float, DataKey]] = {}
        self._current: dict[str, tuple[float, DataKey]] = {}

    async def obtain(self, subject: str) -> DataKey:
        cached = self._fresh(self._current, subject)
        if cached is not None:
            return cached
        key = await self.inner.obtain(subject)
        self._keep(key)
        return key

    async def get(self, key_id: str) -> DataKey | None:
        cached = self._fresh(self._by_id, key_id)
        if cached is not None:
            return cached
        key = await self.inner.get(key_id)
        if key is not None:
            self._keep(key)
        return key

    async def destroy(self, subject: str) -> int:
        self.forget(subject)
        return await self.inner.destroy(subject)

    def forget(self, subject: str) -> None:
        """Drop every cached key of ``subject`` (its keys were destroyed elsewhere)."""
        self._current.pop(subject, None)
        for key_id in [k for k, (_, key) in self._by_id.items() if key.subject == subject]:
            del self._by_id[key_id]

    def clear(self) -> None:
        """Drop every cached key (notices may have been missed)."""
        self._current.clear()
        self._by_id.clear()

    def _keep(self, key: DataKey) -> None:
        entry = (self._clock() + self.ttl_s, key)
        self._by_id[key.id] = entry
        self._current[key.subject] = entry

    def _fresh(self, entries: dict[str, tuple[float, DataKey]], name: str) -> DataKey | None:
        entry = entries.get(name)
        if entry is None:
            return None
        if entry[0] <= self._clock():
            del entries[name]
            return None
        return entry[1]


KEYS_DDL = """
CREATE TABLE IF NOT EXISTS data_keys (
    id           text PRIMARY KEY,
    subject      text NOT NULL,
    version      integer NOT NULL CHECK (version >= 1),
    master_id    text NOT NULL,
    wrapped      bytea,
    created_at   timestamptz NOT NULL DEFAULT now(),
    destroyed_at timestamptz,
    UNIQUE (subject, version),
    CHECK ((wrapped IS NULL) = (destroyed_at IS NOT NULL))
);
-- One live key per subject: two services obtaining it at once get the same one.
CREATE UNIQUE INDEX IF NOT EXISTS data_keys_live ON data_keys (subject)
    WHERE destroyed_at IS NULL;
"""
"""The key store's table, in the ``anju_keys`` database every service reaches. A destroyed key
keeps its row without its material: the erasure stays on record, and versions never repeat."""

_LIVE = """
SELECT id, version, master_id, wrapped FROM data_keys WHERE subject = $1 AND destroyed_at IS NULL
"""

# Another writer may make the subject's key (or take the version) first: nothing is inserted,
# and the caller reads theirs.
_CREATE = """
INSERT INTO data_keys (id, subject, version, master_id, wrapped) VALUES ($1, $2, $3, $4, $5)
ON CONFLICT DO NOTHING
RETURNING version
"""


DESTROYED_CHANNEL = "anju_keys_destroyed"
"""The notice channel of the key store's database: its payload, a subject whose keys were just
destroyed."""


class KeyUnwrapError(RuntimeError):
    """A stored key does not open under this master key (another master, or altered)."""


class PostgresKeyStore:
    """Data keys in PostgreSQL, wrapped with a master key (32 bytes, from the settings).

    The wrapping binds each key to its id, subject and version, so a row copied onto another
    does not open; ``master_id`` (a digest of the master key, not the key) tells which master
    wrapped it, for rotation.
    """

    def __init__(self, pool: asyncpg.Pool, master_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise ValueError(f"the master key must be {KEY_BYTES} bytes")
        self.pool = pool
        self._master = AESGCM(master_key)
        self.master_id = hashlib.sha256(b"anju.keys.master:" + master_key).hexdigest()[:16]

    async def migrate(self) -> None:
        async with self.pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock(hashtext('anju.keys.migrate'))")
            await conn.execute(KEYS_DDL)

    async def obtain(self, subject: str) -> DataKey:
        async with self.pool.acquire() as conn:
            for _ in range(5):
                row = await conn.fetchrow(_LIVE, subject)
                if row is not None:
                    return self._unwrap(row["id"], subject, row)
                key_id, material = new_key_id(), os.urandom(KEY_BYTES)
                # the version is only known once inserted, and the wrapping binds it: wrap for
                # the version the insert will take, and try again if another writer took it
                version = await conn.fetchval(
                    "SELECT coalesce(max(version), 0) + 1 FROM data_keys WHERE subject = $1",
                    subject,
                )
                wrapped = self._wrap(key_id, subject, version, material)
                created = await conn.fetchval(
                    _CREATE, key_id, subject, version, self.master_id, wrapped
                )
                if created is not None:
                    return DataKey(key_id, subject, version, material)
        raise RuntimeError(f"could not obtain a key for {subject}")  # pragma: no cover

    async def get(self, key_id: str) -> DataKey | None:
        async with self.pool.acquire() as conn:
            row = await conn.fetchrow(
                "SELECT id, subject, version, master_id, wrapped FROM data_keys"
                " WHERE id = $1 AND destroyed_at IS NULL",
                key_id,
            )
        return None if row is None else self._unwrap(key_id, row["subject"], row)

    async def destroy(self, subject: str) -> int:
        async with self.pool.acquire() as conn:
            status: str = await conn.execute(
                "UPDATE data_keys SET wrapped = NULL, destroyed_at = now()"
                " WHERE subject = $1 AND destroyed_at IS NULL",
                subject,
            )
            destroyed = int(status.rsplit(" ", 1)[-1])
            if destroyed:
                # every process caching the key drops it (follow_destroyed)
                await conn.execute("SELECT pg_notify($1, $2)", DESTROYED_CHANNEL, subject)
                # the old row versions still hold the wrapped key until vacuumed
                await conn.execute("VACUUM data_keys")
        return destroyed

    async def follow_destroyed(self, cache: CachedKeyStore, stop: asyncio.Event) -> None:
        """Keep ``cache`` free of destroyed keys until ``stop``: it forgets each subject the
        store's notices name, whichever process destroys its keys. The cache is cleared when
        the notices start (a key destroyed before may be in it), so after a lost connection the
        caller runs this again. Raises ``ConnectionError`` when the connection is lost."""
        lost = asyncio.Event()

        def notified(_: object, __: int, ___: str, subject: str) -> None:
            cache.forget(subject)

        def terminated(_: object) -> None:
            lost.set()

        async with self.pool.acquire() as conn:
            conn.add_termination_listener(terminated)
            holds_session_state(conn)
            await conn.add_listener(DESTROYED_CHANNEL, notified)
            cache.clear()
            stopping = asyncio.ensure_future(stop.wait())
            losing = asyncio.ensure_future(lost.wait())
            try:
                await asyncio.wait({stopping, losing}, return_when=asyncio.FIRST_COMPLETED)
            finally:
                stopping.cancel()
                losing.cancel()
                conn.remove_termination_listener(terminated)
                if not conn.is_closed():
                    await conn.remove_listener(DESTROYED_CHANNEL, notified)
        if lost.is_set() and not stop.is_set():
            raise ConnectionError("the key store's notice connection was lost")

    def _wrap(self, key_id: str, subject: str, version: int, material: bytes) -> bytes:
        nonce = os.urandom(NONCE_BYTES)
        return nonce + self._master.encrypt(nonce, material, _binding(key_id, subject, version))

    def _unwrap(self, key_id: str, subject: str, row: asyncpg.Record) -> DataKey:
        version: int = row["version"]
        if row["master_id"] != self.master_id:
            raise KeyUnwrapError(f"key {key_id} is wrapped by master {row['master_id']}")
        wrapped: bytes = row["wrapped"]
        try:
            material = self._master.decrypt(
                wrapped[:NONCE_BYTES], wrapped[NONCE_BYTES:], _binding(key_id, subject, version)
            )
        except InvalidTag as error:
            raise KeyUnwrapError(f"key {key_id} does not open under this master key") from error
        return DataKey(key_id, subject, version, material)


def _binding(key_id: str, subject: str, version: int) -> bytes:
    return f"anju.keys:{key_id}:{subject}:{version}".encode()


class KeySettings(BaseModel):
    """Where a service reaches the key store (``KEYS__DATABASE_URL``, ``KEYS__MASTER_KEY`` once
    the services nest it in their settings): the ``anju_keys`` database and the master key,
    32 bytes in base64. The master key comes from the deployment's secrets, never the database."""

    database_url: str
    master_key: SecretStr

    def master_key_bytes(self) -> bytes:
        return master_key_from(self.master_key.get_secret_value())


def master_key_from(text: str) -> bytes:
    """The master key written in base64 (standard or URL-safe, padded or not): 32 bytes."""
    cleaned = text.strip().replace("-", "+").replace("_", "/")
    try:
        key = base64.b64decode(cleaned + "=" * (-len(cleaned) % 4), validate=True)
    except binascii.Error as error:
        raise ValueError("the master key is not base64") from error
    if len(key) != KEY_BYTES:
        raise ValueError(f"the master key must be {KEY_BYTES} bytes, base64 encoded")
    return key
