"""The kernel's tables. Every service database gets them; :func:`migrate` is idempotent.

Why ``xid``: a ``position`` comes from a sequence, and sequences hand out numbers at insert time,
not at commit time, so a reader that trusts ``position`` alone skips an event whose transaction
commits after a later one. Each event records the id of the transaction that wrote it; the relay
reads in ``(xid, position)`` order and never past the oldest transaction still running
(``pg_snapshot_xmin``), so no committed event can appear behind its cursor.
"""

from __future__ import annotations

import asyncpg

STORE_DDL = """
CREATE TABLE IF NOT EXISTS events (
    position       bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    xid            xid8 NOT NULL DEFAULT pg_current_xact_id(),
    id             uuid NOT NULL,
    stream_id      text NOT NULL,
    sequence       integer NOT NULL CHECK (sequence >= 1),
    type           text NOT NULL,
    type_version   integer NOT NULL,
    data           jsonb NOT NULL,
    occurred_at    timestamptz NOT NULL DEFAULT now(),
    correlation_id text NOT NULL,
    causation_id   text,
    actor          jsonb NOT NULL,
    area           text,
    UNIQUE (stream_id, sequence)
);
CREATE INDEX IF NOT EXISTS events_commit_order ON events (xid, position);

-- Business time apart from record time: ``occurred_at`` is when the fact happened (what the
-- command said, else the moment it was recorded), ``recorded_at`` when the store wrote it. A
-- store from before the split gets the column once, every existing row recorded when it occurred.
DO $$
BEGIN
    IF NOT EXISTS (SELECT 1 FROM pg_attribute
                   WHERE attrelid = 'events'::regclass AND attname = 'recorded_at'
                         AND NOT attisdropped) THEN
        ALTER TABLE events ADD COLUMN recorded_at timestamptz;
        UPDATE events SET recorded_at = occurred_at;
        ALTER TABLE events ALTER COLUMN recorded_at SET DEFAULT now(),
                           ALTER COLUMN recorded_at SET NOT NULL;
    END IF;
END $$;

-- Every command recorded with a business time in the past (beyond the clock skew): who, what,
-- when it says it happened and when it was recorded. Written in the command's transaction.
CREATE TABLE IF NOT EXISTS backdate_audit (
    id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    sub            text NOT NULL,
    roles          text[] NOT NULL,
    stream_id      text NOT NULL,
    types          text[] NOT NULL,
    correlation_id text NOT NULL,
    occurred_at    timestamptz NOT NULL,
    recorded_at    timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS backdate_audit_stream ON backdate_audit (stream_id, id);

-- The answers of commands sent with an idempotency key (eventkit.idempotency), written in the
-- command's transaction: sent again, the answer comes back and nothing is appended.
CREATE TABLE IF NOT EXISTS command_keys (
    sub         text NOT NULL,
    key         text NOT NULL,
    fingerprint text NOT NULL,
    answer      jsonb NOT NULL,
    recorded_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (sub, key)
);

CREATE TABLE IF NOT EXISTS relay_cursor (
    topic      text PRIMARY KEY,
    xid        xid8 NOT NULL,
    position   bigint NOT NULL,
    published  bigint NOT NULL DEFAULT 0,
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS deadlines (
    id        bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    kind      text NOT NULL,
    key       text NOT NULL,
    due_at    timestamptz NOT NULL,
    payload   jsonb NOT NULL DEFAULT '{}',
    fired_at  timestamptz,
    attempts  integer NOT NULL DEFAULT 0,
    last_error text,
    UNIQUE (kind, key)
);
CREATE INDEX IF NOT EXISTS deadlines_pending ON deadlines (due_at) WHERE fired_at IS NULL;

-- A failing deadline is tried again at next_try_at (backing off), and after the scheduler's
-- last attempt it stops at failed_at, with a dead letter for operators.
ALTER TABLE deadlines ADD COLUMN IF NOT EXISTS next_try_at timestamptz;
ALTER TABLE deadlines ADD COLUMN IF NOT EXISTS failed_at timestamptz;

-- Arming a deadline again for a new time (a command's schedule, a handler escalating) starts
-- its tries afresh, whoever writes the row.
CREATE OR REPLACE FUNCTION deadlines_rearmed() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF NEW.due_at IS DISTINCT FROM OLD.due_at THEN
        NEW.attempts := 0;
        NEW.next_try_at := NULL;
        NEW.failed_at := NULL;
    END IF;
    RETURN NEW;
END $$;
CREATE OR REPLACE TRIGGER deadlines_rearmed BEFORE UPDATE OF due_at ON deadlines
    FOR EACH ROW EXECUTE FUNCTION deadlines_rearmed();
"""

CONSUMER_DDL = """
CREATE TABLE IF NOT EXISTS dead_letters (
    id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    consumer    text NOT NULL,
    topic       text NOT NULL,
    partition   integer NOT NULL,
    "offset"    bigint NOT NULL,
    key         bytea,
    value       bytea,
    headers     jsonb NOT NULL DEFAULT '[]',
    reason      text NOT NULL,
    detail      text NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    status      text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'replayed', 'discarded')),
    resolved_at timestamptz,
    resolution  text,
    UNIQUE (consumer, topic, partition, "offset")
);
-- The stream a decoded event that failed in its consumer belongs to: the letter holds it.
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS source text;
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS stream_id text;
ALTER TABLE dead_letters ADD COLUMN IF NOT EXISTS sequence integer;
CREATE UNIQUE INDEX IF NOT EXISTS dead_letters_stream_event
    ON dead_letters (consumer, source, stream_id, sequence);
CREATE INDEX IF NOT EXISTS dead_letters_pending_streams
    ON dead_letters (consumer, source, stream_id) WHERE status = 'pending';

CREATE TABLE IF NOT EXISTS inbox (
    consumer     text NOT NULL,
    event_id     uuid NOT NULL,
    processed_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (consumer, event_id)
);

-- How far each policy has applied each stream, advanced with its inbox rows: a command that is
-- given another service's consistency token waits on it (eventkit.consistency).
CREATE TABLE IF NOT EXISTS policy_stream_versions (
    consumer  text NOT NULL,
    source    text NOT NULL,
    stream_id text NOT NULL,
    version   integer NOT NULL,
    PRIMARY KEY (consumer, source, stream_id)
);

CREATE TABLE IF NOT EXISTS projections (
    name       text PRIMARY KEY,
    generation integer NOT NULL,
    schema     text NOT NULL,
    swapped_at timestamptz NOT NULL DEFAULT now()
);
-- how long the generation in use took to rebuild (null: built as it went, never rebuilt)
ALTER TABLE projections ADD COLUMN IF NOT EXISTS rebuilt_in_s double precision;
"""


async def migrate(
    pool_or_conn: asyncpg.Pool | asyncpg.Connection, *extra_ddl: str, store: bool = True
) -> None:
    """Create the kernel's tables (and a service's own ``extra_ddl``) if they do not exist.

    A database with an event store gets the store's tables and the consumers'; the read-model
    database (``store=False``) gets the consumers' only.

    Runs under an advisory lock so that replicas starting together do not race.
    """
    async with _acquire(pool_or_conn) as conn, conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext('anju.migrate'))")
        if store:
            await conn.execute(STORE_DDL)
        await conn.execute(CONSUMER_DDL)
        for ddl in extra_ddl:
            await conn.execute(ddl)


class _acquire:
    """``async with`` over either a pool (acquire a connection) or a connection (use it)."""

    def __init__(self, source: asyncpg.Pool | asyncpg.Connection) -> None:
        self._source = source
        self._conn: asyncpg.Connection | None = None

    async def __aenter__(self) -> asyncpg.Connection:
        if isinstance(self._source, asyncpg.Pool):
            self._conn = await self._source.acquire()
            return self._conn
        return self._source

    async def __aexit__(self, *exc: object) -> None:
        if self._conn is not None and isinstance(self._source, asyncpg.Pool):
            await self._source.release(self._conn)
