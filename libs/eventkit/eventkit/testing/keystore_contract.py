"""What every key store must do, as one suite of tests run against each implementation.

Subclass :class:`KeyStoreContract` in a test module (its name starting with ``Test``) and give
it a ``keys`` fixture that yields an empty key store. Every test then runs against that store.
"""

from __future__ import annotations

import asyncio

from eventkit.keys import KEY_BYTES, KeyStore


class KeyStoreContract:
    """The key store contract. Subclasses provide the ``keys`` fixture."""

    async def test_a_subjects_key_is_made_once_and_found_by_its_id(self, keys: KeyStore) -> None:
        first = await keys.obtain("resident:1")
        again = await keys.obtain("resident:1")
        assert again == first
        assert (first.subject, first.version) == ("resident:1", 1)
        assert len(first.material) == KEY_BYTES
        assert await keys.get(first.id) == first

    async def test_every_subject_has_its_own_key(self, keys: KeyStore) -> None:
        a = await keys.obtain("resident:1")
        b = await keys.obtain("record:mediation:dispute-1")
        assert a.id != b.id
        assert a.material != b.material
        assert await keys.get(b.id) == b

    async def test_an_unknown_key_id_reads_as_none(self, keys: KeyStore) -> None:
        assert await keys.get("no-such-key") is None

    async def test_destroying_a_subject_forgets_its_key_and_spares_the_others(
        self, keys: KeyStore
    ) -> None:
        doomed = await keys.obtain("resident:1")
        kept = await keys.obtain("resident:2")
        assert await keys.destroy("resident:1") == 1
        assert await keys.get(doomed.id) is None
        assert await keys.get(kept.id) == kept
        assert await keys.destroy("resident:1") == 0  # twice is no error
        assert await keys.destroy("resident:never") == 0

    async def test_a_subject_destroyed_gets_a_new_key_under_the_next_version(
        self, keys: KeyStore
    ) -> None:
        old = await keys.obtain("resident:1")
        await keys.destroy("resident:1")
        new = await keys.obtain("resident:1")
        assert (new.subject, new.version) == ("resident:1", 2)
        assert new.id != old.id
        assert new.material != old.material
        assert await keys.get(old.id) is None  # what was erased stays erased
        assert await keys.get(new.id) == new

    async def test_subjects_obtained_at_once_get_one_key(self, keys: KeyStore) -> None:
        got = await asyncio.gather(*(keys.obtain("resident:1") for _ in range(8)))
        assert len({key.id for key in got}) == 1
        assert len({key.material for key in got}) == 1

    async def test_a_keys_text_form_never_shows_its_material(self, keys: KeyStore) -> None:
        key = await keys.obtain("resident:1")
        assert key.material.hex() not in repr(key)
        assert str(key.material) not in repr(key)
