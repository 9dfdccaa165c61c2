"""The desk's side of the 12345 work orders: the parked list, one order, and its placement; and
the placement the service makes itself once the registry announces the area an order named.

An order is parked when it names no area the service knows (no ``area_id``, an address naming
no area, or an area not learnt yet). Placed, by a desk clerk or by the registry policy, it is
recorded as ``WorkOrderPlaced`` and the ``FORWARD`` deadline is armed in the same transaction;
then mediation opens its record as for an order placed on arrival
(:func:`~anju_integration.application.hotline.forward_placed`: the same idempotency key, so
however often it runs there is one record). A clerk's placement tries at once and answers with
the record; the deadline finishes what mediation could not take then. A placement sent with an
``Idempotency-Key`` keeps its answer with the placement (the order as placed, before mediation
answers), and that answer comes back when it is sent again with the key.

Who sees an order: the one access policy on its place, or, while it has none, on the
communities the stack served for the 12345 platform when it was parked
(:func:`~anju_integration.application.hotline_parked.guard`); an order the caller may not see
does not exist for them. The caller's contact is shown to the roles that may call back.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from anju_contracts import Event
from anju_contracts.hotline12345 import CallerContact, OrderCategory
from anju_contracts.integration import SOURCE, AnjuRecord, WorkOrderPlaced
from anju_contracts.registry import AreaCreated
from anju_integration.application import hotline
from anju_integration.application.config import IntegrationConfig
from anju_integration.application.hotline_parked import guard
from anju_integration.application.permissions import PERMISSIONS
from anju_integration.domain import orders
from anju_integration.domain.errors import OrderNotFound
from eventkit.commands import Caller, StreamCommand, counted, expect_version
from eventkit.known import visible_location
from eventkit.messages import Delivered
from eventkit.scheduler import Deadline, DeadlineHandler
from eventkit.service_calls import Unavailable
from eventkit.store import AppendResult, Context, Session, Store, StoreSession, Stream

READ = "read_work_orders"
READ_CALLER = "read_work_order_callers"
PLACE = "place_work_order"


class PlaceOrder(StreamCommand):
    """Where a parked order belongs: an area of the caller's (a community, grid, building or
    unit the registry has announced)."""

    area_id: UUID


class OrderView(BaseModel):
    """A 12345 work order as the integration service holds it."""

    order_id: str
    status: orders.Status
    category: OrderCategory
    text: str
    address: str | None
    named_area_id: UUID | None = Field(description="The area the 12345 platform named")
    caller: CallerContact | None = Field(
        description="Shown to desk staff and directors only; null for everyone else"
    )
    dispatched_at: datetime
    deadline: datetime
    park_reason: str | None = Field(
        description="Why it waits (`unknown_area`, or mediation's refusal of a placement)"
    )
    parked_at: datetime | None
    area_id: UUID | None = Field(description="The area it was placed in, if it was parked")
    community_id: UUID | None
    grid_id: UUID | None
    record: AnjuRecord | None = Field(description="What it became in mediation")
    record_id: UUID | None
    version: int


def view_of(order: orders.Order, version: int, caller: Caller) -> OrderView:
    received = order.received
    contact = PERMISSIONS.allows(caller.principal, READ_CALLER)
    forwarded = order.forwarded
    return OrderView(
        order_id=order.order_id,
        status=order.status,
        category=received.category,
        text=received.text,
        address=received.address,
        named_area_id=received.area_id,
        caller=received.caller if contact else None,
        dispatched_at=received.dispatched_at,
        deadline=received.deadline,
        park_reason=order.park_reason if order.parked else None,
        parked_at=order.parked_at if order.parked else None,
        area_id=None if order.placed is None else order.placed.area_id,
        community_id=None if order.path is None else order.path.community_id,
        grid_id=None if order.path is None else order.path.grid_id,
        record=None if forwarded is None else forwarded.record,
        record_id=None if forwarded is None else forwarded.record_id,
        version=version,
    )


async def _load(
    session: StoreSession, order_id: str, caller: Caller | None
) -> tuple[orders.Order, Stream]:
    """The order and its stream; not found when there is none or the caller may not see it
    (``None``: the service itself)."""
    stream = await session.load(hotline.stream_of(order_id))
    order = orders.fold(stream.payloads)
    if order is None or (caller is not None and not caller.sees(guard(order))):
        raise OrderNotFound("no such work order", order_id=order_id)
    return order, stream


async def parked(
    store: Store, cfg: IntegrationConfig, caller: Caller, *, limit: int
) -> list[OrderView]:
    """The parked orders in the caller's areas, the nearest deadline first."""
    PERMISSIONS.check(caller.principal, READ)
    views = []
    async with store.session() as session:
        for order_id in await cfg.parked.listed(session, caller.principal, limit):
            order, stream = await _load(session, order_id, caller)
            views.append(view_of(order, stream.version, caller))
    return views


async def view(store: Store, order_id: str, caller: Caller) -> OrderView:
    """One order as it stands (parked, placed, forwarded or answered)."""
    PERMISSIONS.check(caller.principal, READ)
    async with store.session() as session:
        order, stream = await _load(session, order_id, caller)
    return view_of(order, stream.version, caller)


async def place(
    store: Store, cfg: IntegrationConfig, order_id: str, cmd: PlaceOrder, caller: Caller
) -> OrderView:
    """A clerk places a parked order in an area of theirs; mediation opens its record at once
    (or, away, when the ``FORWARD`` deadline finds it back)."""
    with counted(SOURCE, PLACE):
        PERMISSIONS.check(caller.principal, PLACE)
        async with store.session() as session:
            await session.lock(hotline.stream_of(order_id))
            order, stream = await _load(session, order_id, caller)
            version = expect_version(stream, cmd.expected_version)
            orders.require_parked(order)
            location = await visible_location(cfg.known, session, cmd.area_id, caller)
            events = orders.place(
                order, area_id=location.area_id, path=location.path, now=caller.now(cfg.clock)
            )
            # The clerk's request forwards it at once; the deadline only if that fails.
            forward_at = cfg.clock() + hotline.RETRY_AFTER
            result = await _placed(
                session, cfg, order_id, version, events, caller.context, forward_at=forward_at
            )
            key = caller.context.idempotency
            if key is not None:
                # Kept with the placement: sent again with its key, the placement is answered
                # as it was decided (the order placed), never refused as placed already.
                decided = orders.fold([*stream.payloads, *events])
                assert decided is not None
                answer = view_of(decided, result.version, caller)
                await session.remember(key, answer.model_dump(mode="json"))
    with contextlib.suppress(Unavailable):
        await hotline.forward_placed(store, cfg, order_id)
    return await view(store, order_id, caller)


async def _placed(
    session: StoreSession,
    cfg: IntegrationConfig,
    order_id: str,
    version: int,
    events: list[Event],
    context: Context,
    *,
    forward_at: datetime,
) -> AppendResult:
    placement = events[0]
    assert isinstance(placement, WorkOrderPlaced)
    result = await session.append(
        hotline.stream_of(order_id),
        version,
        events,
        context=context,
        area=hotline.area_of(placement.path),
    )
    await cfg.parked.unpark(session, order_id)
    await session.schedule(hotline.FORWARD, order_id, forward_at)
    return result


def placer(cfg: IntegrationConfig) -> Callable[[Session, Delivered], Awaitable[None]]:
    """The registry policy's reaction: an area announced places every parked order that named
    it, in the policy's transaction; the ``FORWARD`` deadline, armed now, forwards each."""

    async def place_named(session: Session, delivered: Delivered) -> None:
        event = delivered.event
        if not isinstance(event, AreaCreated):
            return
        for order_id in await cfg.parked.naming(session, event.area_id):
            await session.lock(hotline.stream_of(order_id))
            order, stream = await _load(session, order_id, None)
            location = await cfg.known.location(session, event.area_id)
            if not order.parked or order.path is not None or location is None:
                continue
            events = orders.place(
                order, area_id=location.area_id, path=location.path, now=cfg.clock()
            )
            context = Context(
                actor=hotline.SERVICE,
                correlation_id=delivered.envelope.correlation_id,
                causation_id=str(delivered.envelope.id),
            )
            with counted(SOURCE, "place_work_order_learnt"):
                await _placed(
                    session, cfg, order_id, stream.version, events, context, forward_at=cfg.clock()
                )

    return place_named


def deadline_handlers(
    store: Callable[[], Store], cfg: IntegrationConfig
) -> dict[str, DeadlineHandler]:
    """``FORWARD``, on the service's store (``store()``: it exists once the runtime runs)."""

    async def forward(session: Session, deadline: Deadline) -> None:
        # Raises while mediation is away or does not know the area yet: the scheduler tries
        # again, backing off; a placement forwarded already is left as it is.
        await hotline.forward_placed(store(), cfg, deadline.key)

    return {hotline.FORWARD: forward}
