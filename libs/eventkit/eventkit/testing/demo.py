"""A tiny catalogue of events of a source named ``demo``, for the kernel's own tests: what they
append, relay, project and decode when no service's events are needed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import asyncpg

from anju_contracts import Event, EventCatalog
from eventkit.messages import Delivered


class Counted(Event):
    """A number was counted."""

    event_type = "demo.Counted"
    n: int


class Noted(Event):
    """A note was taken."""

    event_type = "demo.Noted"
    text: str


CATALOG = EventCatalog("demo", [Counted, Noted])


@dataclass
class TotalsProjection:
    """The demo's counts summed per stream into ``<name>.totals``: a projection any process
    can rebuild (it pickles: a name, and what its tables are)."""

    name: str
    ddl: str = "CREATE TABLE totals (stream_id text PRIMARY KEY, total bigint NOT NULL);"
    catalogs: Sequence[EventCatalog] = (CATALOG,)
    reads: frozenset[str] | None = None  # None: every type (see eventkit.projection.reads_of)

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        await conn.executemany(
            """
            INSERT INTO totals VALUES ($1, $2)
            ON CONFLICT (stream_id) DO UPDATE SET total = totals.total + EXCLUDED.total
            """,
            [(d.envelope.subject, d.event.n if isinstance(d.event, Counted) else 0) for d in batch],
        )
