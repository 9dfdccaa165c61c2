"""Operating on dead letters: list, inspect, replay after a fix, discard with a reason.

Replaying decodes the stored message again with today's code. If it still cannot be decoded it
stays pending with the new reason. Otherwise it is applied to the consumer it was set aside
from — a projection directly (its later events were applied meanwhile, so the per-stream guard
does not apply), a policy through its inbox — and marked ``replayed`` in the same transaction,
so replaying twice applies once. Discarding keeps the row, with who and why, as the audit log.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from eventkit.messages import Decoder, Poison, stored_message
from eventkit.policy import Policy, apply_once
from eventkit.projection import Projection, active_schema
from eventkit.store import EventStore


@dataclass(frozen=True)
class DeadLetter:
    id: int
    consumer: str
    topic: str
    partition: int
    offset: int
    reason: str
    detail: str
    received_at: datetime
    status: str
    key: bytes | None
    value: bytes | None
    resolution: str | None


_COLUMNS = """id, consumer, topic, partition, "offset", reason, detail, received_at, status,
              key, value, resolution"""


def _letter(row: asyncpg.Record) -> DeadLetter:
    return DeadLetter(
        row["id"],
        row["consumer"],
        row["topic"],
        row["partition"],
        row["offset"],
        row["reason"],
        row["detail"],
        row["received_at"],
        row["status"],
        row["key"],
        row["value"],
        row["resolution"],
    )


async def list_dead_letters(
    conn: asyncpg.Connection, *, status: str | None = "pending", limit: int = 100
) -> list[DeadLetter]:
    rows = await conn.fetch(
        f"""SELECT {_COLUMNS} FROM dead_letters
            WHERE $1::text IS NULL OR status = $1 ORDER BY id LIMIT $2""",
        status,
        limit,
    )
    return [_letter(r) for r in rows]


async def get_dead_letter(conn: asyncpg.Connection, letter_id: int) -> DeadLetter | None:
    row = await conn.fetchrow(f"SELECT {_COLUMNS} FROM dead_letters WHERE id = $1", letter_id)
    return None if row is None else _letter(row)


async def discard(conn: asyncpg.Connection, letter_id: int, *, reason: str, who: str) -> bool:
    """Mark a pending dead letter discarded; the row stays as the audit trail."""
    result = await conn.execute(
        """UPDATE dead_letters SET status = 'discarded', resolved_at = now(), resolution = $2
           WHERE id = $1 AND status = 'pending'""",
        letter_id,
        f"discarded by {who}: {reason}",
    )
    return bool(result == "UPDATE 1")


@dataclass(frozen=True)
class ReplayOutcome:
    id: int
    replayed: bool
    reason: str


async def replay(
    pool: asyncpg.Pool,
    letter_id: int,
    *,
    projections: Mapping[str, Projection] | None = None,
    policies: Mapping[str, tuple[EventStore, Policy]] | None = None,
) -> ReplayOutcome:
    """Try one pending dead letter again with the code as it is now."""
    projections = projections or {}
    policies = policies or {}
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"SELECT {_COLUMNS}, headers::text FROM dead_letters WHERE id = $1 FOR UPDATE",
            letter_id,
        )
        if row is None or row["status"] != "pending":
            return ReplayOutcome(letter_id, False, "no pending dead letter with this id")
        consumer = row["consumer"]
        if consumer in projections:
            catalogs = projections[consumer].catalogs
        elif consumer in policies:
            catalogs = policies[consumer][1].catalogs
        else:
            return ReplayOutcome(letter_id, False, f"consumer {consumer} is not known here")
        decoded = Decoder(catalogs).decode(stored_message(row))
        if isinstance(decoded, Poison):
            await conn.execute(
                "UPDATE dead_letters SET reason = $2, detail = $3 WHERE id = $1",
                letter_id,
                decoded.reason,
                decoded.detail,
            )
            return ReplayOutcome(letter_id, False, f"still {decoded.reason}: {decoded.detail}")
        if consumer in projections:
            projection = projections[consumer]
            schema = await active_schema(conn, consumer, lock="FOR SHARE")
            if schema is None:
                return ReplayOutcome(letter_id, False, "projection has no active generation")
            await conn.execute(f"SET LOCAL search_path TO {schema}, public")
            await projection.apply(conn, [decoded])
        else:
            store, policy = policies[consumer]
            await apply_once(conn, store, policy, decoded)
        await conn.execute(
            """UPDATE dead_letters SET status = 'replayed', resolved_at = now(),
                   resolution = 'replayed' WHERE id = $1""",
            letter_id,
        )
    return ReplayOutcome(letter_id, True, "replayed")
