"""A rebuilt generation is settled before it is swapped in: tables whose DDL names an index to
order them by are rewritten in that order, tables filled unlogged are made logged, and every
table is vacuumed and analysed."""

from __future__ import annotations

import random

import asyncpg

from eventkit.projection import settle

DDL = """
CREATE SCHEMA places_g1;
SET search_path TO places_g1;
CREATE TABLE people (person int PRIMARY KEY, place int NOT NULL, name text NOT NULL);
CREATE INDEX people_place ON people (place, person);
ALTER TABLE people CLUSTER ON people_place;
CREATE TABLE notes (note int PRIMARY KEY, place int NOT NULL);
ALTER TABLE people SET UNLOGGED;
ALTER TABLE notes SET UNLOGGED;
"""


async def physical_order(conn: asyncpg.Connection, table: str, column: str) -> list[int]:
    rows = await conn.fetch(f"SELECT {column} FROM places_g1.{table} ORDER BY ctid")
    return [r[0] for r in rows]


async def test_settle_orders_the_marked_tables_logs_and_vacuums_and_analyses_every_table(
    database_url: str,
) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await pool.execute(DDL)
        people = list(range(2000))
        random.Random(3).shuffle(people)
        # written as a rebuild writes them: scattered, and each updated once (a dead version)
        await pool.executemany(
            "INSERT INTO places_g1.people VALUES ($1, $2, 'x')", [(p, p % 50) for p in people]
        )
        await pool.execute("UPDATE places_g1.people SET name = 'y' WHERE person % 2 = 0")
        await pool.executemany(
            "INSERT INTO places_g1.notes VALUES ($1, $2)", [(p, p % 50) for p in people]
        )
        async with pool.acquire() as conn:
            places = await physical_order(conn, "people", "place")
            assert places != sorted(places)
            notes = await physical_order(conn, "notes", "note")

            await settle(pool, "places_g1")

            places = await physical_order(conn, "people", "place")
            assert places == sorted(places)
            assert len(places) == 2000
            assert await physical_order(conn, "notes", "note") == notes  # unmarked: as written
            stats = await conn.fetch(
                """SELECT relname, last_vacuum IS NOT NULL AND last_analyze IS NOT NULL
                   AS settled FROM pg_stat_user_tables WHERE schemaname = 'places_g1'"""
            )
            assert {r["relname"] for r in stats} == {"people", "notes"}
            persistence = await conn.fetch(
                """SELECT c.relname, c.relpersistence::text FROM pg_class c
                   JOIN pg_namespace n ON n.oid = c.relnamespace
                   WHERE n.nspname = 'places_g1' AND c.relkind IN ('r', 'i')"""
            )
            assert len(persistence) == 5
            assert {r["relpersistence"] for r in persistence} == {"p"}, persistence
            assert all(r["settled"] for r in stats), stats
            assert (
                await conn.fetchval("SELECT count(*) FROM places_g1.people WHERE name = 'y'")
                == 1000
            )
    finally:
        await pool.close()
