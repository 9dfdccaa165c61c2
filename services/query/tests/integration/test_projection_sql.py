"""Every statement of the query projections is valid SQL over its own tables.

Integration tests drive most event types end to end; this catches a broken statement for the
rest (a typo, a reserved word, a wrong type) before an event of that type stops a projection.
"""

from __future__ import annotations

import asyncpg
import pytest

from anju_query.projections import disputes, health, residents, station, volunteering
from eventkit.rows import Writers

CASES = [
    pytest.param(residents.DDL, residents.WRITERS, id="residents"),
    pytest.param(disputes.DDL, disputes.WRITERS, id="disputes"),
    pytest.param(health.DDL, health.WRITERS, id="health"),
    pytest.param(volunteering.DDL, volunteering.WRITERS, id="volunteering"),
    pytest.param(station.DDL, station.WRITERS, id="station"),
]


@pytest.mark.parametrize(("ddl", "writers"), CASES)
async def test_every_statement_prepares_and_takes_arrays(
    database_url: str, ddl: str, writers: Writers
) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute(ddl)
        for event_type in sorted(writers.event_types):
            for writer in writers[event_type]:
                statement = await conn.prepare(writer.sql)
                kinds = [p.kind for p in statement.get_parameters()]
                assert kinds, event_type
                assert set(kinds) == {"array"}, event_type
    finally:
        await conn.close()
