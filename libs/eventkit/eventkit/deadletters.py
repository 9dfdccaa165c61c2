"""Operating on dead letters: list, inspect, replay after a fix, discard with a reason.

Replaying decodes the stored message again with today's code. If it still cannot be decoded it
stays pending with the new reason. Otherwise it is applied to the consumer it was set aside
from and marked ``replayed`` in the same transaction, so replaying twice applies once; if it
still fails, it stays pending with the new error.

- A letter that did not decode at first holds no stream (:mod:`eventkit.messages`): the later
  events of its stream were applied meanwhile, so a projection applies it directly.
- A letter of a decoded event that failed holds its stream: a projection applies it through the
  per-stream guard (advancing the stream's version), a policy through its inbox, and then the
  letters blocked behind it, in stream order, stopping at the first that fails again (it becomes
  the one the rest wait behind). A letter blocked behind another pending one is refused: replay
  or discard that first.
- A letter of an inbound consumer (another system's topic, read by a service's own handler,
  not the kernel's decoder) is handed back to that handler as the message it was: replayed
  once the handler returns, still pending with the new reason when it raises
  :class:`~eventkit.messages.Unusable` or fails. The handler commits its effect on its own
  connections, so a crash between its effect and the letter's mark leaves the letter pending;
  replaying it again must change nothing, which an inbound handler that takes each message
  once (by its id) already guarantees.
- A deadline the scheduler gave up on (consumer ``deadline:<kind>``) is armed again, due now,
  for the service's scheduler to fire with its handlers.

Discarding keeps the row, with who and why, as the audit log.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from anju_contracts import EventCatalog
from eventkit.messages import (
    Decoder,
    Delivered,
    PassedOver,
    Poison,
    RawMessage,
    Unusable,
    is_transient,
    stored_message,
)
from eventkit.personal import FieldCipher
from eventkit.policy import Policy, apply_once
from eventkit.projection import Projection, active_schema, apply_events, reads_of
from eventkit.scheduler import DEADLINE_CONSUMER_PREFIX, rearm_failed
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
    # The stream a decoded event that failed belongs to (None for what did not decode).
    source: str | None = None
    stream_id: str | None = None
    sequence: int | None = None
    # The message's headers as text (the event's ce_ attributes); read by get_dead_letter.
    headers: tuple[tuple[str, str], ...] = ()


_COLUMNS = """id, consumer, topic, partition, "offset", reason, detail, received_at, status,
              key, value, resolution, source, stream_id, sequence"""


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
        row["source"],
        row["stream_id"],
        row["sequence"],
        tuple((k, v) for k, v in json.loads(row["headers"])) if "headers" in row else (),
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
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS}, headers::text FROM dead_letters WHERE id = $1", letter_id
    )
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
    # Letters that waited behind this one and were replayed after it, in stream order.
    followers: tuple[int, ...] = ()


Apply = Callable[[asyncpg.Connection, Delivered | PassedOver], Awaitable[None]]

Redeliver = Callable[[RawMessage], Awaitable[None]]
"""An inbound consumer's handler: takes one message as it came off the topic, returns once its
effect is durable; raises :class:`~eventkit.messages.Unusable` for a message it cannot take."""


async def replay(
    pool: asyncpg.Pool,
    letter_id: int,
    *,
    projections: Mapping[str, Projection] | None = None,
    policies: Mapping[str, tuple[EventStore, Policy]] | None = None,
    inbound: Mapping[str, Redeliver] | None = None,
    cipher: FieldCipher | None = None,
) -> ReplayOutcome:
    """Try one pending dead letter again with the code as it is now (see the module docstring).

    ``projections``, ``policies`` and ``inbound`` handlers are the consumers this process can
    apply letters to, by name; deadline letters need none.
    """
    projections = projections or {}
    policies = policies or {}
    inbound = inbound or {}
    async with pool.acquire() as conn, conn.transaction():
        row = await conn.fetchrow(
            f"SELECT {_COLUMNS}, headers::text FROM dead_letters WHERE id = $1 FOR UPDATE",
            letter_id,
        )
        if row is None or row["status"] != "pending":
            return ReplayOutcome(letter_id, False, "no pending dead letter with this id")
        consumer = row["consumer"]
        if consumer.startswith(DEADLINE_CONSUMER_PREFIX):
            if not await rearm_failed(conn, row["offset"]):
                return ReplayOutcome(letter_id, False, "the deadline is no longer stopped")
            await _resolve(conn, letter_id, "replayed: deadline armed again, due now")
            return ReplayOutcome(letter_id, True, "deadline armed again")
        if consumer in inbound:
            return await _redeliver(conn, row, inbound[consumer])
        if consumer in projections:
            catalogs: Sequence[EventCatalog] = projections[consumer].catalogs
            reads = reads_of(projections[consumer])
            apply, failure = _projection_applier(projections[consumer], row), "apply_failed"
        elif consumer in policies:
            catalogs, reads = policies[consumer][1].catalogs, None
            apply, failure = _policy_applier(*policies[consumer]), "handler_failed"
        else:
            return ReplayOutcome(letter_id, False, f"consumer {consumer} is not known here")
        if row["stream_id"] is not None:
            earlier = await conn.fetchval(
                """SELECT min(id) FROM dead_letters WHERE consumer = $1 AND status = 'pending'
                   AND source = $2 AND stream_id = $3 AND sequence < $4""",
                consumer,
                row["source"],
                row["stream_id"],
                row["sequence"],
            )
            if earlier is not None:
                return ReplayOutcome(
                    letter_id,
                    False,
                    f"blocked behind dead letter {earlier}: replay or discard that one first",
                )
        decoder = Decoder(catalogs, cipher=cipher, reads=reads)
        problem = await _try(conn, decoder, row, apply, failure, "replayed")
        if problem is not None:
            return ReplayOutcome(letter_id, False, problem)
        if row["stream_id"] is None:
            return ReplayOutcome(letter_id, True, "replayed")
        followers = await conn.fetch(
            f"""SELECT {_COLUMNS}, headers::text FROM dead_letters
                WHERE consumer = $1 AND status = 'pending' AND source = $2 AND stream_id = $3
                ORDER BY sequence FOR UPDATE""",
            consumer,
            row["source"],
            row["stream_id"],
        )
        done: list[int] = []
        for n, follower in enumerate(followers):
            resolution = f"replayed after dead letter {letter_id}"
            if await _try(conn, decoder, follower, apply, failure, resolution) is not None:
                await conn.execute(
                    "UPDATE dead_letters SET detail = $2 WHERE id = ANY($1::bigint[])",
                    [f["id"] for f in followers[n + 1 :]],
                    f"blocked behind dead letter {follower['id']}",
                )
                break
            done.append(follower["id"])
    return ReplayOutcome(letter_id, True, "replayed", tuple(done))


async def _try(
    conn: asyncpg.Connection,
    decoder: Decoder,
    row: asyncpg.Record,
    apply: Apply,
    failure: str,
    resolution: str,
) -> str | None:
    """Apply one letter and mark it resolved, in a savepoint; None, or why it stays pending (the
    letter then records the new reason)."""
    decoded = await decoder.read(stored_message(row))
    if isinstance(decoded, Poison):
        reason, detail = decoded.reason, decoded.detail
    else:
        try:
            async with conn.transaction():
                # Resolved first: the letter no longer holds its stream while it is applied.
                await _resolve(conn, row["id"], resolution)
                await apply(conn, decoded)
            return None
        except Exception as error:
            if is_transient(error):
                raise
            reason, detail = failure, repr(error)[:2000]
    await conn.execute(
        "UPDATE dead_letters SET reason = $2, detail = $3 WHERE id = $1", row["id"], reason, detail
    )
    return f"still {reason}: {detail}"


async def _redeliver(
    conn: asyncpg.Connection, row: asyncpg.Record, handle: Redeliver
) -> ReplayOutcome:
    """Hand an inbound consumer's letter back to its handler (see the module docstring)."""
    try:
        await handle(stored_message(row))
    except Unusable as unusable:
        reason, detail = unusable.reason, unusable.detail
    except Exception as error:
        if is_transient(error):
            raise
        reason, detail = "handler_failed", repr(error)[:2000]
    else:
        await _resolve(conn, row["id"], "replayed")
        return ReplayOutcome(row["id"], True, "replayed")
    await conn.execute(
        "UPDATE dead_letters SET reason = $2, detail = $3 WHERE id = $1", row["id"], reason, detail
    )
    return ReplayOutcome(row["id"], False, f"still {reason}: {detail}")


async def _resolve(conn: asyncpg.Connection, letter_id: int, resolution: str) -> None:
    await conn.execute(
        """UPDATE dead_letters SET status = 'replayed', resolved_at = now(), resolution = $2
           WHERE id = $1""",
        letter_id,
        resolution,
    )


def _projection_applier(projection: Projection, letter: asyncpg.Record) -> Apply:
    guarded = letter["stream_id"] is not None

    async def apply(conn: asyncpg.Connection, delivered: Delivered | PassedOver) -> None:
        schema = await active_schema(conn, projection.name, lock="FOR SHARE")
        if schema is None:
            raise LookupError(f"projection {projection.name} has no active generation")
        await conn.execute(f"SET LOCAL search_path TO {schema}, public")
        if guarded:
            await apply_events(conn, projection, [delivered])
        elif isinstance(delivered, Delivered):  # what it passes over, it has nothing to do with
            await projection.apply(conn, [delivered])

    return apply


def _policy_applier(store: EventStore, policy: Policy) -> Apply:
    async def apply(conn: asyncpg.Connection, delivered: Delivered | PassedOver) -> None:
        if isinstance(delivered, Delivered):  # always: a policy's decoder reads every type
            await apply_once(conn, store, policy, delivered)

    return apply
