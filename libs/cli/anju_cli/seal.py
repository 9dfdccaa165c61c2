"""``anju seal --service NAME``: a service's stored history sealed in place, once
(docs/personal-data.md, "Rollout", step 4).

Events recorded before personal fields were sealed hold those fields in clear, at the version
before the one that seals them (v1; a restricted type, never published, kept its version). This
command rewrites each such row as the newest version with its personal fields sealed: the same
row, the same event id (the sealed values' associated data binds it), ``type_version`` raised,
``data`` the decoded newest model dumped and sealed as the store seals an append. It is the only
rewrite of events ever made.

It goes through the store in batches of rows, each batch in a transaction of its own, and can
run while the service runs (rows are never changed by anything else; new appends are sealed
already). Running it again finds nothing left to seal. ``--dry-run`` seals each row with
throwaway keys to count what would change, and writes nothing.

A person erased since the clear rows were written (their key was destroyed, so their current
key is not their first) gets their clear values sealed under a key that exists nowhere: they
read as erased, as the erasure meant.

The topics still carry the clear v1 messages afterwards: recreate the service's topic and
re-seed it (``anju reseed --service NAME``), as docs/operations.md says.
"""

from __future__ import annotations

import argparse
import json
import os
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from anju_cli.operate import OperatorError, _runner, database_url, key_cipher
from anju_contracts import Event
from anju_contracts.base import EventCatalog, InvalidEvent, UnknownEvent
from anju_contracts.catalogs import CATALOGS
from eventkit.keys import KEY_BYTES, DataKey, KeyStore, MemoryKeyStore, new_key_id
from eventkit.personal import FieldCipher, carries_personal
from eventkit.store import EventStore

BATCH = 500

SEALED_VALUE = r'"pd1:[tv]:[A-Za-z0-9_-]{1,64}:[A-Za-z0-9_-]{16}:[A-Za-z0-9_-]{22,}"'
"""A sealed value in a row's JSON text (``eventkit.personal``). Sealing refuses clear text that
spells one, so a row that holds one was sealed by the store, every personal field at once."""

_CLEAR_ROWS = f"""
SELECT position, id, stream_id, type, type_version, data::text
FROM events
WHERE position > $1 AND type = ANY($2::text[]) AND data::text !~ '{SEALED_VALUE}'
ORDER BY position
LIMIT $3
"""

_REWRITE = """
UPDATE events SET type_version = $2, data = $3::jsonb
WHERE position = $1 AND type_version = $4 AND data = $5::jsonb
"""


@dataclass
class SealReport:
    """What sealing a store did (or, dry, would do)."""

    sealed: Counter[tuple[str, int, int]] = field(default_factory=Counter)
    """Rows rewritten, by type and (stored version, newest version)."""
    untouched: int = 0
    """Rows of a sealed type, at the newest version, with no personal value to seal (nulls)."""
    erased_subjects: set[str] = field(default_factory=set)
    """Subjects erased since their clear rows were written: sealed as erased."""

    @property
    def total(self) -> int:
        return sum(self.sealed.values())


class _SealingKeys:
    """The key store as sealing the history uses it.

    Clear rows were written before any key existed, so before any erasure: a subject whose
    current key is not its first (an earlier one was destroyed) was erased after those rows. Its
    values are sealed under a key made here and kept nowhere, which opens as erased."""

    def __init__(self, inner: KeyStore, report: SealReport) -> None:
        self.inner = inner
        self.report = report
        self._lost: dict[str, DataKey] = {}

    async def obtain(self, subject: str) -> DataKey:
        key = await self.inner.obtain(subject)
        if key.version == 1:
            return key
        if subject not in self._lost:
            self._lost[subject] = DataKey(new_key_id(), subject, 0, os.urandom(KEY_BYTES))
            self.report.erased_subjects.add(subject)
        return self._lost[subject]

    async def get(self, key_id: str) -> DataKey | None:
        return await self.inner.get(key_id)

    async def destroy(self, subject: str) -> int:
        return await self.inner.destroy(subject)


def store_catalog(service: str) -> EventCatalog:
    """The catalogue of the events ``service`` keeps in its store."""
    for catalog in CATALOGS:
        if catalog.source == service and not catalog.inbound:
            return catalog
    known = ", ".join(c.source for c in CATALOGS if not c.inbound)
    raise OperatorError(f"{service} keeps no event store; the services that do: {known}")


def sealed_types(catalog: EventCatalog) -> dict[str, type[Event]]:
    """The types whose newest model has personal fields, published or restricted."""
    models = (*catalog.models, *catalog.restricted_models)
    return {m.event_type: m for m in models if carries_personal(m)}


async def seal_store(
    pool: asyncpg.Pool,
    catalog: EventCatalog,
    cipher: FieldCipher | None,
    *,
    dry_run: bool = False,
    batch: int = BATCH,
    progress: Any = None,
) -> SealReport:
    """Seal the clear rows of ``catalog``'s store in ``pool`` (see the module); with
    ``dry_run``, count them sealed under throwaway keys and write nothing."""
    if cipher is None and not dry_run:
        raise OperatorError(
            "no key store: set ANJU_KEYS__DATABASE_URL and ANJU_KEYS__MASTER_KEY"
            " (the service's KEYS__ settings), or start `make run`"
        )
    report = SealReport()
    keys: KeyStore = MemoryKeyStore() if dry_run or cipher is None else cipher.keys
    # the store's own sealing, so a rewritten row is what an append of the event would write
    store = EventStore(pool, catalog, cipher=FieldCipher(_SealingKeys(keys, report)))
    types = sealed_types(catalog)
    after = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(_CLEAR_ROWS, after, list(types), batch)
            for row in rows:
                await _seal_row(conn, store, row, report, dry_run=dry_run)
        if not rows:
            return report
        after = rows[-1]["position"]
        if progress is not None:
            progress(report, after)


async def _seal_row(
    conn: asyncpg.Connection,
    store: EventStore,
    row: asyncpg.Record,
    report: SealReport,
    *,
    dry_run: bool,
) -> None:
    stored = json.loads(row["data"])
    try:
        event = store.catalog.decode(row["type"], row["type_version"], stored)
    except (UnknownEvent, InvalidEvent) as error:
        raise OperatorError(
            f"the event at position {row['position']} does not read: {error}"
            " (the batches before it are sealed; fix it and run again)"
        ) from error
    sealed = await store.sealed(event, row["id"], row["stream_id"])
    newest = event.event_version
    if newest == row["type_version"] and json.loads(sealed) == stored:
        report.untouched += 1
        return
    if not dry_run:
        status = await conn.execute(
            _REWRITE, row["position"], newest, sealed, row["type_version"], row["data"]
        )
        if status != "UPDATE 1":  # changed under us: another run sealed it first
            return
    report.sealed[(row["type"], row["type_version"], newest)] += 1


async def seal(root: Path, service: str, *, dry_run: bool, batch: int = BATCH) -> SealReport:
    """``anju seal``: seal ``service``'s store, printing counts."""
    catalog = store_catalog(service)

    def show(report: SealReport, position: int) -> None:
        print(f"{service}: {report.total} sealed so far (position {position})", flush=True)

    url = database_url(root, service)
    try:
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2, timeout=5)
    except (OSError, asyncpg.PostgresError) as error:
        raise OperatorError(f"cannot reach the {service} database: {error}") from error
    try:
        async with key_cipher(root) as cipher:
            report = await seal_store(
                pool, catalog, cipher, dry_run=dry_run, batch=batch, progress=show
            )
    finally:
        await pool.close()
    verb = "would seal" if dry_run else "sealed"
    for (event_type, version, newest), count in sorted(report.sealed.items()):
        print(f"  {event_type} v{version} -> v{newest}: {count}")
    print(
        f"{service}: {verb} {report.total} events in place;"
        f" {report.untouched} had no personal value to seal"
    )
    if report.erased_subjects:
        print(
            f"{service}: {len(report.erased_subjects)} erased person(s) or record(s):"
            " their clear values were sealed as erased"
        )
    if report.total and not dry_run:
        print(
            f"next: the topic still carries the clear messages: recreate it and re-seed it"
            f" (`anju reseed --service {service}`; docs/operations.md, 'Sealing the history')"
        )
    elif not report.total:
        print(f"{service}: nothing left in clear")
    return report


def _batch(value: str) -> int:
    number = int(value)
    if number < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return number


def add_commands(sub: Any, root: Path) -> None:
    command = sub.add_parser(
        "seal",
        help="seal a service's stored events still in clear, in place (once, then re-seed)",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    command.add_argument("--service", required=True, help="whose event store")
    command.add_argument("--dry-run", action="store_true", help="count, write nothing")
    command.add_argument("--batch", type=_batch, default=BATCH, help="rows per transaction")

    async def run(args: argparse.Namespace) -> None:
        await seal(root, args.service, dry_run=args.dry_run, batch=args.batch)

    command.set_defaults(func=_runner(run))
