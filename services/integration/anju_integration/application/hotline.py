"""A 12345 work order becomes a dispute or a conflict signal in mediation, exactly once per
order id, and is answered when that record closes.

Taking an order is three steps, each safe to repeat, so a crash between any two is finished
when the message comes again (its offset is committed only after the last):

1. the order is recorded in its stream ``order-<order id>`` (once; parked when its place is no
   area Anju knows);
2. mediation opens the record through its public command API with the ``Idempotency-Key``
   ``hotline12345:<order id>``: sent again, it answers the record it opened the first time;
3. the record is noted in the stream (``WorkOrderForwarded``) and in ``hotline_records``, which
   the mediation policy reads to answer the order when the record closes.
"""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from anju_contracts import Actor
from anju_contracts.hotline12345 import WorkOrderDispatched
from anju_contracts.integration import AnjuRecord, ReplyOutcome
from anju_contracts.registry import AreaKind, AreaPath, Location
from anju_integration.application.config import IntegrationConfig
from anju_integration.domain import orders
from eventkit.store import Context, EventStore, Session, StoreSession

DDL = """
CREATE TABLE IF NOT EXISTS hotline_records (
    record_id uuid PRIMARY KEY,
    order_id  text NOT NULL,
    record    text NOT NULL
);
"""
"""Which order each mediation record (and a dispute a signal became) answers."""

SERVICE = Actor(id="integration", roles=("service",))

_DEPTH = {AreaKind.UNIT: 3, AreaKind.BUILDING: 2, AreaKind.GRID: 1, AreaKind.COMMUNITY: 0}


def stream_of(order_id: str) -> str:
    return f"order-{order_id}"


def area_of(path: AreaPath) -> str:
    return str(path.grid_id or path.community_id)


async def locate(
    cfg: IntegrationConfig, session: StoreSession, order: WorkOrderDispatched
) -> Location | None:
    """The area the order names, else the one its address names: the most specific area whose
    registry name the address holds, if no other area as specific is named too."""
    if order.area_id is not None:
        return await cfg.known.location(session, order.area_id)
    if not order.address or not isinstance(session, Session):
        return None
    rows = await session.conn.fetch(
        """
        SELECT area_id, kind, community_id, grid_id, building_id, unit_id FROM known_areas
        WHERE name IS NOT NULL AND length(name) >= 2 AND strpos($1, name) > 0
        """,
        order.address,
    )
    found = [
        Location(
            area_id=r["area_id"],
            kind=AreaKind(r["kind"]),
            path=AreaPath(
                community_id=r["community_id"],
                grid_id=r["grid_id"],
                building_id=r["building_id"],
                unit_id=r["unit_id"],
            ),
        )
        for r in rows
    ]
    if not found:
        return None
    deepest = max(_DEPTH[f.kind] for f in found)
    candidates = [f for f in found if _DEPTH[f.kind] == deepest]
    return candidates[0] if len(candidates) == 1 else None


async def take_order(
    store: EventStore, cfg: IntegrationConfig, order: WorkOrderDispatched, *, message_id: str
) -> orders.Order:
    """Record, forward and note ``order`` (see the module docstring); the order as it stands."""
    stream_id = stream_of(order.order_id)
    context = Context(actor=SERVICE, correlation_id=message_id, causation_id=message_id)
    async with store.session() as session:
        stream = await session.load(stream_id)
        state = orders.fold(stream.payloads)
        location = None
        if state is None:
            location = await locate(cfg, session, order)
            events = orders.receive(
                state,
                order,
                message_id=message_id,
                path=None if location is None else location.path,
                now=cfg.clock(),
            )
            area = None if location is None else area_of(location.path)
            await session.append(stream_id, stream.version, events, context=context, area=area)
            state = orders.fold([*stream.payloads, *events])
    assert state is not None
    if state.forwarded is not None or state.parked:
        return state
    if location is None:  # received before, not yet forwarded: finish it
        async with store.session() as session:
            location = await locate(cfg, session, order)
        if location is None:
            return state
    record = orders.record_for(order.category)
    record_id = await cfg.mediation.open(state.received, record, location)
    return await note_forwarded(store, cfg, stream_id, record, record_id, location, context)


async def note_forwarded(
    store: EventStore,
    cfg: IntegrationConfig,
    stream_id: str,
    record: AnjuRecord,
    record_id: UUID,
    location: Location,
    context: Context,
) -> orders.Order:
    async with store.session() as session:
        stream = await session.load(stream_id)
        state = orders.fold(stream.payloads)
        assert state is not None
        events = orders.forward(
            state, record=record, record_id=record_id, path=location.path, now=cfg.clock()
        )
        if events:
            await session.append(
                stream_id, stream.version, events, context=context, area=area_of(location.path)
            )
            await note_record(session.conn, record_id, state.order_id, record)
        return orders.fold([*stream.payloads, *events]) or state


async def note_record(
    conn: asyncpg.Connection, record_id: UUID, order_id: str, record: AnjuRecord
) -> None:
    await conn.execute(
        "INSERT INTO hotline_records (record_id, order_id, record) VALUES ($1, $2, $3)"
        " ON CONFLICT DO NOTHING",
        record_id,
        order_id,
        record.value,
    )


async def order_of(conn: asyncpg.Connection, record_id: UUID) -> str | None:
    found: str | None = await conn.fetchval(
        "SELECT order_id FROM hotline_records WHERE record_id = $1", record_id
    )
    return found


async def answer_order(
    session: Session,
    order_id: str,
    *,
    outcome: ReplyOutcome,
    text: str,
    handled_at: datetime,
    record: AnjuRecord,
    record_id: UUID,
    context: Context,
) -> None:
    """Record the reply to ``order_id`` (once): the relay publishes it on the order's stream
    topic and on ``outbound.hotline12345.replies``."""
    stream_id = stream_of(order_id)
    stream = await session.load(stream_id)
    state = orders.fold(stream.payloads)
    if state is None:
        return
    events = orders.answer(
        state,
        outcome=outcome,
        text=text,
        handled_at=handled_at,
        record=record,
        record_id=record_id,
    )
    if events:
        area = None if state.forwarded is None else area_of(state.forwarded.path)
        await session.append(stream_id, stream.version, events, context=context, area=area)
