"""A 12345 work order becomes a dispute or a conflict signal in mediation, exactly once per
order id, and is answered when that record closes.

Taking an order is three steps, each safe to repeat, so a crash between any two is finished
when the message comes again (its offset is committed only after the last):

1. the order is recorded in its stream ``order-<order id>`` (once; parked when its place is no
   area Anju knows, until a desk clerk or the registry places it: :mod:`.hotline_desk`);
2. mediation opens the record through its public command API with the ``Idempotency-Key``
   ``hotline12345:<order id>``: sent again, it answers the record it opened the first time;
3. the record is noted in the stream (``WorkOrderForwarded``) and in ``hotline_records``, which
   the mediation policy reads to answer the order when the record closes. A record mediation
   closed before the note (a crash between 2 and 3, and a quick mediator) is answered at the
   note, from the closing the policy kept (:mod:`.hotline_records`).
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from uuid import UUID

from anju_contracts import Actor, Event
from anju_contracts.hotline12345 import WorkOrderDispatched
from anju_contracts.integration import AnjuRecord
from anju_contracts.registry import AreaKind, AreaPath, Location
from anju_integration.application import hotline_parked, hotline_records
from anju_integration.application.config import IntegrationConfig
from anju_integration.application.hotline_records import Closing
from anju_integration.domain import orders
from eventkit.errors import AreaNotFound
from eventkit.service_calls import Refused, Unavailable
from eventkit.store import Context, Session, Store, StoreSession

DDL = hotline_records.DDL + hotline_parked.DDL

FORWARD = "hotline_forward"
"""The deadline that forwards a placed order if mediation could not be reached at once."""
RETRY_AFTER = timedelta(minutes=1)

SERVICE = Actor(id="integration", roles=("service",))

_DEPTH = {AreaKind.UNIT: 3, AreaKind.BUILDING: 2, AreaKind.GRID: 1, AreaKind.COMMUNITY: 0}


def stream_of(order_id: str) -> str:
    return f"order-{order_id}"


def area_of(path: AreaPath) -> str:
    return str(path.grid_id or path.community_id)


async def serving(cfg: IntegrationConfig, session: StoreSession) -> Sequence[UUID]:
    """The communities whose desks see an order parked without any place."""
    if cfg.hotline_communities is not None:
        return cfg.hotline_communities
    return await cfg.parked.communities(session)


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
    store: Store, cfg: IntegrationConfig, order: WorkOrderDispatched, *, message_id: str
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
                serving=[] if location is not None else await serving(cfg, session),
            )
            area = None if location is None else area_of(location.path)
            await session.append(stream_id, stream.version, events, context=context, area=area)
            state = orders.fold([*stream.payloads, *events])
            assert state is not None
            if state.parked:
                await cfg.parked.park(session, state)
    assert state is not None
    if state.forwarded is not None or state.parked:
        return state
    if state.placed is not None:  # placed after it was parked: its own forwarding
        return await forward_placed(store, cfg, order.order_id)
    if location is None:  # received before, not yet forwarded: finish it
        async with store.session() as session:
            location = await locate(cfg, session, order)
        if location is None:
            return state
    record = orders.record_for(order.category)
    record_id = await cfg.mediation.open(state.received, record, location)
    return await note_forwarded(store, cfg, stream_id, record, record_id, location, context)


async def forward_placed(store: Store, cfg: IntegrationConfig, order_id: str) -> orders.Order:
    """Have mediation open the record of an order placed after it was parked, exactly as for an
    order placed on arrival (the same ``Idempotency-Key``), and note it. Mediation away, or not
    knowing the area yet (it learns areas from the registry, as this service does): raises
    ``Unavailable``, and the order stays placed (the ``FORWARD`` deadline tries again).
    Mediation refusing it otherwise: the order is parked again where it was placed, with the
    refusal as its reason, for a clerk to look at."""
    stream_id = stream_of(order_id)
    async with store.session() as session:
        state = orders.fold((await session.load(stream_id)).payloads)
        if state is None or state.placed is None or state.forwarded is not None:
            return _known(state, order_id)
        location = await cfg.known.location(session, state.placed.area_id)
    assert location is not None, "a placement names an area the service knows"
    context = Context(actor=SERVICE, causation_id=f"placement:{order_id}")
    record = orders.record_for(state.received.category)
    try:
        record_id = await cfg.mediation.open(state.received, record, location)
    except Refused as refused:
        if refused.code == AreaNotFound.code:
            raise Unavailable(f"mediation does not know area {location.area_id} yet") from refused
        return await _park_again(store, cfg, order_id, f"refused: {refused.code}", context)
    return await note_forwarded(store, cfg, stream_id, record, record_id, location, context)


def _known(state: orders.Order | None, order_id: str) -> orders.Order:
    if state is None:
        raise RuntimeError(f"no work order {order_id}")
    return state


async def _park_again(
    store: Store, cfg: IntegrationConfig, order_id: str, reason: str, context: Context
) -> orders.Order:
    stream_id = stream_of(order_id)
    async with store.session() as session:
        stream = await session.load(stream_id)
        state = _known(orders.fold(stream.payloads), order_id)
        events = orders.park_again(state, reason=reason, now=cfg.clock())
        if not events:
            return state
        area = None if state.path is None else area_of(state.path)
        await session.append(stream_id, stream.version, events, context=context, area=area)
        parked = _known(orders.fold([*stream.payloads, *events]), order_id)
        await cfg.parked.park(session, parked)
        return parked


async def note_forwarded(
    store: Store,
    cfg: IntegrationConfig,
    stream_id: str,
    record: AnjuRecord,
    record_id: UUID,
    location: Location,
    context: Context,
) -> orders.Order:
    """Note the record the order became; answer the order at once if mediation closed the
    record before (its closing was kept for this)."""
    async with store.session() as session:
        stream = await session.load(stream_id)
        state = orders.fold(stream.payloads)
        assert state is not None
        events = orders.forward(
            state, record=record, record_id=record_id, path=location.path, now=cfg.clock()
        )
        if not events:
            return state
        closing = await cfg.records.forwarded(session, record_id, state.order_id, record)
        forwarded = orders.fold([*stream.payloads, *events])
        assert forwarded is not None
        if closing is not None:
            events += reply(forwarded, closing)
        await session.append(
            stream_id, stream.version, events, context=context, area=area_of(location.path)
        )
        return orders.fold([*stream.payloads, *events]) or state


def reply(state: orders.Order, closing: Closing) -> list[Event]:
    return orders.answer(
        state,
        outcome=closing.outcome,
        text=closing.text,
        handled_at=closing.handled_at,
        record=closing.record,
        record_id=closing.record_id,
    )


async def answer_order(
    session: StoreSession, order_id: str, closing: Closing, *, context: Context
) -> None:
    """Record the reply to ``order_id`` (once): the relay publishes it on the order's stream
    topic and on ``outbound.hotline12345.replies``."""
    stream_id = stream_of(order_id)
    stream = await session.load(stream_id)
    state = orders.fold(stream.payloads)
    if state is None:
        return
    events = reply(state, closing)
    if events:
        area = None if state.forwarded is None else area_of(state.forwarded.path)
        await session.append(stream_id, stream.version, events, context=context, area=area)
