"""The ``hotline`` read model: the 12345 work orders the integration service forwarded to
mediation, their deadlines and whether they were answered (``integration.events``); and the
orders that wait for a place (``parked``: seen where they were placed, or, without a place, from
the communities in ``parked_communities``), which have no dispute yet.

One row per order (stream ``order-<order id>``); the record it became is the signal or dispute
``record_id``. The dispute board joins it when read (a dispute by its own id, or by the signal it
came from), so whichever of ``mediation.events`` and ``integration.events`` arrives first does
not matter.
"""

from __future__ import annotations

from collections.abc import Sequence

import asyncpg

from anju_contracts import Envelope, EventCatalog
from anju_contracts.integration import (
    CATALOG,
    WorkOrderAnswered,
    WorkOrderForwarded,
    WorkOrderParked,
    WorkOrderPlaced,
    WorkOrderReceived,
)
from eventkit.messages import Delivered
from eventkit.rows import Row, Writers

DDL = """
CREATE TABLE orders (
    order_id     text PRIMARY KEY,
    category     text NOT NULL,
    community_id uuid,
    grid_id      uuid,
    received_at  timestamptz NOT NULL,
    deadline     timestamptz NOT NULL,
    record       text,
    record_id    uuid,
    answered_at  timestamptz,
    answer_record_id uuid,
    on_time      boolean,
    parked       boolean NOT NULL DEFAULT false,
    parked_communities uuid[] NOT NULL DEFAULT '{}'
);
CREATE INDEX orders_parked ON orders (deadline) WHERE parked;
CREATE INDEX orders_record ON orders (record_id);
CREATE INDEX orders_answer_record ON orders (answer_record_id);
"""

WRITERS = Writers()


@WRITERS.row(
    WorkOrderReceived,
    """
    INSERT INTO orders (order_id, category, community_id, grid_id, received_at, deadline)
    SELECT * FROM unnest($1::text[], $2::text[], $3::uuid[], $4::uuid[], $5::timestamptz[],
                         $6::timestamptz[])
    ON CONFLICT (order_id) DO UPDATE SET category = EXCLUDED.category,
        community_id = EXCLUDED.community_id, grid_id = EXCLUDED.grid_id,
        received_at = EXCLUDED.received_at, deadline = EXCLUDED.deadline
    """,
)
def _received(_: Envelope, e: WorkOrderReceived) -> Row:
    path = e.path
    return (
        e.order_id,
        e.category.value,
        None if path is None else path.community_id,
        None if path is None else path.grid_id,
        e.received_at,
        e.deadline,
    )


@WRITERS.row(
    WorkOrderForwarded,
    """
    UPDATE orders o SET record = x.r, record_id = x.id, community_id = x.c, grid_id = x.g,
        parked = false
    FROM unnest($1::text[], $2::text[], $3::uuid[], $4::uuid[], $5::uuid[]) AS x(o, r, id, c, g)
    WHERE o.order_id = x.o
    """,
)
def _forwarded(_: Envelope, e: WorkOrderForwarded) -> Row:
    return (e.order_id, e.record.value, e.record_id, e.path.community_id, e.path.grid_id)


@WRITERS.row(
    WorkOrderParked,
    """
    UPDATE orders o SET parked = true, parked_communities = x.cs::uuid[]
    FROM unnest($1::text[], $2::text[]) AS x(o, cs) WHERE o.order_id = x.o
    """,
)
def _parked(_: Envelope, e: WorkOrderParked) -> Row:
    return (e.order_id, "{" + ",".join(str(c) for c in e.community_ids) + "}")


@WRITERS.row(
    WorkOrderPlaced,
    """
    UPDATE orders o SET parked = false, parked_communities = '{}', community_id = x.c,
        grid_id = x.g
    FROM unnest($1::text[], $2::uuid[], $3::uuid[]) AS x(o, c, g) WHERE o.order_id = x.o
    """,
)
def _placed(_: Envelope, e: WorkOrderPlaced) -> Row:
    return (e.order_id, e.path.community_id, e.path.grid_id)


@WRITERS.row(
    WorkOrderAnswered,
    """
    UPDATE orders o SET answered_at = x.at, answer_record_id = x.id, on_time = x.ok
    FROM unnest($1::text[], $2::timestamptz[], $3::uuid[], $4::boolean[]) AS x(o, at, id, ok)
    WHERE o.order_id = x.o
    """,
)
def _answered(_: Envelope, e: WorkOrderAnswered) -> Row:
    return (e.order_id, e.handled_at, e.record_id, e.on_time)


class HotlineProjection:
    """Integration events → the 12345 orders behind the dispute board's reply deadlines."""

    name = "hotline"
    catalogs: Sequence[EventCatalog] = (CATALOG,)
    ddl = DDL

    async def apply(self, conn: asyncpg.Connection, batch: Sequence[Delivered]) -> None:
        await WRITERS.apply(conn, batch)
