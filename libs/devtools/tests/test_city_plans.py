"""The hot queries of the city bench use indexes: no sequential scan of a big read-model table.

A small city from the bench's own generator (many small communities, so that one community is
a small share of the rows, as in a city) is applied to every query projection on a real
PostgreSQL and analysed; then the query service's own functions run the hot reads (directory by
name and by ID suffix, the follow-up board by flag and for a grid worker, a resident's profile
with its sections, the dispute board, the dashboard) on a connection that records every
statement, and each statement is planned again with ``EXPLAIN (FORMAT JSON)`` and the same
arguments. The planner decides as it would (no ``enable_seqscan = off``); a plan that reads a
whole big table fails the test, naming the statement.

A big table that is still small in the test city (flags, disputes and their parties: a few
hundred rows) may rightly be read whole by the planner here, so for those the statement is
planned once more with ``enable_seqscan = off``: the planner then reads such a table whole only
when no index serves the statement's condition on it, which is what fails (a sequential scan,
or an index scan with no index condition). Nothing here is timed (the bench times them:
``make bench BENCH_ARGS="--scale city"``).
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Iterator
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from typing import Any, cast

import asyncpg
import pytest_asyncio

from anju_contracts.registry import FlagType
from anju_devtools.bench_city import CATALOGS, Shape, community_events
from anju_query.application.dashboard import Period, dashboard
from anju_query.application.disputes import Audience, DisputeFilter, dispute_board
from anju_query.application.follow_ups import BoardFilter, follow_up_board
from anju_query.application.health import health_section
from anju_query.application.residents import DirectoryFilter, resident_profile, search_residents
from anju_query.application.scope import Scope
from anju_query.application.service_requests import services_section
from anju_query.application.station import station_section
from anju_query.projections import projections
from eventkit import audit
from eventkit.auth import Principal, Role
from eventkit.messages import Delivered
from eventkit.projection import active_schema, apply_batch, ensure_projection
from eventkit.schema import migrate
from eventkit.testing.delivery import delivered as delivered_as
from eventkit.testing.infra import create_database, database_url_for

AS_OF = date(2026, 6, 30)
NOW = datetime(2026, 6, 30, 9, tzinfo=UTC)
SHAPE = Shape(communities=40, residents=150, seed=5, as_of=AS_OF)
MIN_ROWS = 2000
"""A big table smaller than this in the test city (disputes, flags: a few hundred rows) may
rightly be read whole by the planner; for those the test asks only that an index serves the
statement (planned with ``enable_seqscan = off``), and the city bench times them at scale."""

BIG = {
    "residents",
    "households",
    "household_members",
    "flags",
    "visits",
    "follow_ups",
    "disputes",
    "dispute_parties",
    "dispute_mediators",
    "receptions",
    "records",
    "programme_visits",
    "volunteers",
    "hours",
}
"""Tables that grow with the residents (a city has millions of rows in each); the area tree and
the handful of per-community tables may be read whole."""


def delivered(source: str, loaded: Any, position: int) -> Delivered:
    event, context = loaded.event, loaded.context
    return delivered_as(
        event,
        source=source,
        subject=loaded.stream_id,
        sequence=loaded.sequence,
        position=position,
        occurred_at=context.occurred_at,
        correlation_id=context.correlation_id,
        actor=context.actor,
        area=loaded.area,
    )


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def city(pg_server_url: str) -> AsyncIterator[asyncpg.Pool]:
    """A small city's read models, analysed."""
    name = f"test_plans_{uuid.uuid4().hex[:8]}"
    url = await create_database(pg_server_url, name)
    pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
    try:
        await fill(pool)
        yield pool
    finally:
        await pool.close()
        conn = await asyncpg.connect(database_url_for(pg_server_url, "postgres"))
        try:
            await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        finally:
            await conn.close()


async def fill(pool: asyncpg.Pool) -> None:
    """Apply the small city to every query projection, then analyse."""
    await migrate(pool, audit.DDL, store=False)
    chosen = projections()
    schemas = {p.name: await ensure_projection(pool, p) for p in chosen}
    by_source: dict[str, list[Delivered]] = {s: [] for s in CATALOGS}
    for index in range(SHAPE.communities):
        for source, events in community_events(SHAPE, index).items():
            restricted = CATALOGS[source].restricted
            for loaded in events:
                if loaded.event.event_type not in restricted:
                    by_source[source].append(delivered(source, loaded, len(by_source[source]) + 1))
    for projection in chosen:
        sources = [c.source for c in projection.catalogs]
        batch = [d for s in sources for d in by_source.get(s, [])]
        async with pool.acquire() as conn, conn.transaction():
            await apply_batch(conn, projection, schemas[projection.name], batch)
    await pool.execute("ANALYZE")


class Recording:
    """A connection that keeps every statement it runs, with its arguments."""

    def __init__(self, conn: asyncpg.Connection) -> None:
        self.conn = conn
        self.statements: list[tuple[str, tuple[Any, ...]]] = []

    async def fetch(self, sql: str, *args: Any) -> Any:
        self.statements.append((sql, args))
        return await self.conn.fetch(sql, *args)

    async def fetchrow(self, sql: str, *args: Any) -> Any:
        self.statements.append((sql, args))
        return await self.conn.fetchrow(sql, *args)

    async def fetchval(self, sql: str, *args: Any) -> Any:
        self.statements.append((sql, args))
        return await self.conn.fetchval(sql, *args)

    async def execute(self, sql: str, *args: Any) -> Any:  # settings: nothing to explain
        return await self.conn.execute(sql, *args)

    def transaction(self) -> Any:
        return self.conn.transaction()


def seq_scans(plan: dict[str, Any], big: set[str]) -> Iterator[str]:
    if plan.get("Node Type") == "Seq Scan" and plan.get("Relation Name") in big:
        yield str(plan["Relation Name"])
    for child in plan.get("Plans", ()):
        yield from seq_scans(child, big)


def whole_reads(plan: dict[str, Any], tables: set[str]) -> Iterator[str]:
    """The ``tables`` that ``plan`` reads whole: by a sequential scan, or by an index scan with
    no index condition (the planner's way round a sequential scan it may not use)."""
    node, relation = plan.get("Node Type"), plan.get("Relation Name")
    if relation in tables and (
        node == "Seq Scan"
        or (node in ("Index Scan", "Index Only Scan") and "Index Cond" not in plan)
    ):
        yield str(relation)
    for child in plan.get("Plans", ()):
        yield from whole_reads(child, tables)


async def table_sizes(conn: asyncpg.Connection) -> dict[str, float]:
    """The rows of each table of :data:`BIG` here (as analysed)."""
    rows = await conn.fetch(
        """
        SELECT c.relname, c.reltuples FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE c.relkind = 'r' AND n.nspname ~ '_g[0-9]+$'
        """
    )
    return {r["relname"]: float(r["reltuples"]) for r in rows if r["relname"] in BIG}


async def big_tables(conn: asyncpg.Connection) -> set[str]:
    """The tables of :data:`BIG` with at least :data:`MIN_ROWS` rows here (as analysed)."""
    return {t for t, n in (await table_sizes(conn)).items() if n >= MIN_ROWS}


async def plan_of(conn: asyncpg.Connection, sql: str, args: tuple[Any, ...]) -> dict[str, Any]:
    explained = await conn.fetchval(f"EXPLAIN (FORMAT JSON) {sql}", *args)
    return cast(dict[str, Any], json.loads(explained)[0]["Plan"])


async def assert_indexed(conn: asyncpg.Connection, recorded: Recording) -> None:
    assert recorded.statements, "the query ran no statement"
    sizes = await table_sizes(conn)
    big = {t for t, n in sizes.items() if n >= MIN_ROWS}
    small = {t for t, n in sizes.items() if 0 < n < MIN_ROWS}
    assert {"residents", "visits", "receptions"} <= big, big
    for sql, args in recorded.statements:
        scanned = sorted(set(seq_scans(await plan_of(conn, sql, args), big)))
        assert not scanned, f"sequential scan of {scanned} in:\n{sql}\nargs {args}"
        async with conn.transaction():
            await conn.execute("SET LOCAL enable_seqscan = off")
            read = sorted(set(whole_reads(await plan_of(conn, sql, args), small)))
        assert not read, f"no index serves {read} in:\n{sql}\nargs {args}"


async def sample(conn: asyncpg.Connection) -> asyncpg.Record:
    row = await conn.fetchrow(
        """
        SELECT r.resident_id, r.community_id, r.grid_id, r.name, r.id_number
        FROM residents.residents r
        WHERE EXISTS (SELECT 1 FROM residents.flags f WHERE f.resident_id = r.resident_id)
        ORDER BY r.resident_id LIMIT 1
        """
    )
    assert row is not None
    return row


def director(community: uuid.UUID) -> Scope:
    return Scope(Principal(sub="d", roles=(Role.DIRECTOR,), areas=(str(community),)))


async def test_the_city_has_the_shape_of_a_city(city: asyncpg.Pool) -> None:
    counts = await city.fetchrow(
        """
        SELECT (SELECT count(*) FROM residents.residents) AS residents,
               (SELECT count(DISTINCT community_id) FROM residents.residents) AS communities,
               (SELECT count(*) FROM residents.follow_ups) AS follow_ups,
               (SELECT count(*) FROM disputes.disputes) AS disputes,
               (SELECT count(*) FROM station.receptions) AS receptions
        """
    )
    assert counts is not None
    assert counts["residents"] == SHAPE.communities * SHAPE.residents
    assert counts["communities"] == SHAPE.communities
    assert counts["follow_ups"] > 0
    assert counts["disputes"] > 0
    assert counts["receptions"] > 0


async def test_directory_by_name_and_by_id_suffix(city: asyncpg.Pool) -> None:
    async with city.acquire() as conn:
        one = await sample(conn)
        scope = director(one["community_id"])
        for search in (
            DirectoryFilter(q=one["name"][:2]),
            DirectoryFilter(id_suffix=one["id_number"][-4:]),
        ):
            recorded = Recording(conn)
            page = await search_residents(
                cast(asyncpg.Connection, recorded),
                scope,
                search,
                limit=50,
                offset=0,
                today=AS_OF,
            )
            assert page.total >= 1
            await assert_indexed(conn, recorded)


async def test_the_directory_is_planned_with_its_values_every_time(city: asyncpg.Pool) -> None:
    """Not with a plan made without them after the fifth search (which reads every resident
    of the city when it cannot tell a community of 150 from the whole city)."""
    async with city.acquire() as conn:
        one = await sample(conn)
        names = await conn.fetch(
            "SELECT name FROM residents.residents WHERE community_id = $1 LIMIT 12",
            one["community_id"],
        )
        for row in names:
            await search_residents(
                conn,
                director(one["community_id"]),
                DirectoryFilter(q=row["name"][:1]),
                limit=50,
                offset=0,
                today=AS_OF,
            )
        plans = await conn.fetchrow(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements"
            " WHERE statement LIKE '%WITH page AS%'"
            " AND statement NOT LIKE '%pg_prepared_statements%'"
        )
    assert plans is not None
    assert len(names) > 5
    assert plans["generic_plans"] == 0  # without the setting: 7 of the 12


async def test_follow_up_boards(city: asyncpg.Pool) -> None:
    async with city.acquire() as conn:
        one = await sample(conn)
        grid_worker = Scope(
            Principal(sub="g", roles=(Role.GRID_WORKER,), areas=(str(one["grid_id"]),))
        )
        for scope, board in (
            (director(one["community_id"]), BoardFilter(flag=FlagType.ELDERLY_ALONE)),
            (grid_worker, BoardFilter()),
        ):
            recorded = Recording(conn)
            await follow_up_board(
                cast(asyncpg.Connection, recorded), scope, board, limit=50, offset=0, now=NOW
            )
            await assert_indexed(conn, recorded)


async def test_resident_profile(city: asyncpg.Pool) -> None:
    async with city.acquire() as conn:
        one = await sample(conn)
        scope = director(one["community_id"])
        recorded = Recording(conn)
        as_conn = cast(asyncpg.Connection, recorded)
        profile = await resident_profile(as_conn, scope, one["resident_id"], now=NOW)
        assert profile is not None
        await dispute_board(
            as_conn,
            Audience(scope),
            DisputeFilter(resident_id=one["resident_id"]),
            limit=200,
            offset=0,
            now=NOW,
        )
        await health_section(as_conn, scope, one["resident_id"])
        await services_section(as_conn, one["resident_id"])
        await station_section(as_conn, scope, one["resident_id"])
        await assert_indexed(conn, recorded)


async def test_dispute_board_and_dashboard(city: asyncpg.Pool) -> None:
    async with city.acquire() as conn:
        one = await sample(conn)
        scope = director(one["community_id"])
        recorded = Recording(conn)
        as_conn = cast(asyncpg.Connection, recorded)
        await dispute_board(as_conn, Audience(scope), DisputeFilter(), limit=50, offset=0, now=NOW)
        period = Period(one["community_id"], AS_OF - timedelta(days=91), AS_OF)
        await dashboard(as_conn, scope, period, threshold=0)
        await assert_indexed(conn, recorded)


async def nested_plans(conn: asyncpg.Connection, sql: str) -> list[dict[str, Any]]:
    """Run ``sql`` in a transaction rolled back, and return the plans of the statements its
    triggers ran (``auto_explain``, sent to this client as notices)."""
    notices: list[str] = []

    def keep(_conn: object, message: Any) -> None:
        notices.append(message.message)

    conn.add_log_listener(keep)
    transaction = conn.transaction()
    await transaction.start()
    try:
        await conn.execute("LOAD 'auto_explain'")
        for setting in (
            "auto_explain.log_min_duration = 0",
            "auto_explain.log_nested_statements = on",
            "auto_explain.log_format = json",
            "auto_explain.log_level = notice",
            "client_min_messages = notice",
        ):
            await conn.execute(f"SET LOCAL {setting}")
        await conn.execute(sql)
        await asyncio.sleep(0.1)  # the notices are handed over by the event loop
    finally:
        await transaction.rollback()
        conn.remove_log_listener(keep)
    return [json.loads(n[n.index("{") :]) for n in notices if "plan:" in n]


PLACED = {"flags", "visits", "follow_ups"}


async def test_a_resident_written_reaches_their_records_by_index(city: asyncpg.Pool) -> None:
    """Moving residents places their flags, visits and follow-ups again (the database's own
    triggers, :func:`anju_query.projections.rollups.placed_by`): by probing each resident's
    records through the index on the resident, never by reading a big table whole, which on
    the district bench was most of the cost of every batch of registrations."""
    async with city.acquire() as conn:
        big = await big_tables(conn)
        assert "visits" in big, big
        schema = await active_schema(conn, "residents")
        plans = await nested_plans(
            conn,
            f"""
            UPDATE {schema}.residents SET grid_id = gen_random_uuid()
            WHERE resident_id IN (SELECT resident_id FROM {schema}.visits
                                  GROUP BY resident_id ORDER BY resident_id LIMIT 300)
            """,
        )
    placing = [p for p in plans if "FROM placed" in p["Query Text"]]
    placed = {t for p in placing for t in PLACED if f"UPDATE {t} " in p["Query Text"]}
    assert placed == PLACED
    for plan in placing:
        read = sorted(set(seq_scans(plan["Plan"], big)))
        assert not read, f"read whole: {read} in\n{plan['Query Text']}"


def test_a_community_s_events_come_in_the_order_a_store_records_them() -> None:
    """Over the year, not stream by stream; each stream's own events in their order."""
    for source, events in community_events(SHAPE, 0).items():
        seen: dict[str, int] = {}
        since: dict[str, datetime] = {}
        latest = datetime.min.replace(tzinfo=UTC)
        for event in events:
            assert event.sequence == seen.get(event.stream_id, 0) + 1, source  # gapless, in order
            seen[event.stream_id] = event.sequence
            at = event.context.occurred_at
            assert at is not None
            # placed by when it happened, or just after its stream's event before it
            placed = since[event.stream_id] = max(at, since.get(event.stream_id, at))
            assert placed >= latest, source
            latest = placed
        if source == "registry":  # a resident's visits are spread over the year
            first, last = events[0].context.occurred_at, events[-1].context.occurred_at
            assert first is not None
            assert last is not None
            assert last - first > timedelta(days=300)
            longest = run = 1
            for before, after in pairwise(events):
                run = run + 1 if before.stream_id == after.stream_id else 1
                longest = max(longest, run)
            # what happens at one moment (a visit and the next one planned) comes together;
            # stream by stream, a flagged resident's year was 30 events in a row
            assert longest <= 6
