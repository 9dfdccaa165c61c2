"""A projection that reads only some types of its catalogues: what it passes over is not handed
to it, yet counts as applied (its stream versions move, so a consistency token is reached)."""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from anju_contracts import EventCatalog
from eventkit.messages import Delivered
from eventkit.projection import apply_batch, ensure_projection, reads_of, wait_for_stream
from eventkit.testing.delivery import delivered, passed_over
from eventkit.testing.demo import CATALOG, Counted, Noted


class CountsOnly:
    name = "counts_only"
    catalogs: Sequence[EventCatalog] = (CATALOG,)
    reads = frozenset({Counted.event_type})
    ddl = "CREATE TABLE counted (n integer NOT NULL);"

    def __init__(self) -> None:
        self.handed: list[Delivered] = []

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        self.handed.extend(batch)


async def test_what_is_passed_over_is_not_handed_over_but_counts_as_applied(
    read_model_pool: asyncpg.Pool,
) -> None:
    projection = CountsOnly()
    assert reads_of(projection) == {"demo.Counted"}
    schema = await ensure_projection(read_model_pool, projection)
    counted = delivered(Counted(n=1), source="demo", subject="tally-1")
    passed = passed_over(Noted(text="x"), source="demo", subject="notes-1")
    async with read_model_pool.acquire() as conn, conn.transaction():
        applied = await apply_batch(conn, projection, schema, [counted, passed])
    assert applied == 2
    assert projection.handed == [counted]
    for stream in ("tally-1", "notes-1"):
        assert await wait_for_stream(
            read_model_pool, projection.name, "demo", stream, 1, timeout_s=1
        )

    # Delivered again (a redelivery), the passed-over event is seen, not handed over either.
    async with read_model_pool.acquire() as conn, conn.transaction():
        again = await apply_batch(conn, projection, schema, [passed])
    assert again == 0
    assert projection.handed == [counted]


def test_a_projection_that_names_no_types_reads_them_all() -> None:
    class Everything:
        name = "everything"
        catalogs = (CATALOG,)

    assert reads_of(Everything()) is None  # type: ignore[arg-type]
