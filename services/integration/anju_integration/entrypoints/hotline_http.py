"""The desk's routes for the 12345 work orders that wait for a place: the parked list, one
order, and its placement.

The parked list has a path of its own (``/parked-orders``): under ``/orders/`` it would shadow
the order whose number is ``parked``, a number the 12345 platform may send."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path, Query

from anju_contracts.hotline12345 import ORDER_ID
from anju_integration.application import hotline_desk
from anju_integration.application.config import IntegrationConfig
from anju_integration.application.hotline_desk import OrderView, PlaceOrder
from eventkit.app import CONFIG, CallerDep, CommandRouter, StoreDep

ConfigDep = Annotated[IntegrationConfig, CONFIG]
OrderId = Annotated[str, Path(pattern=ORDER_ID, description="The 12345 platform's order number")]

router = APIRouter(tags=["12345 work orders"])
"""The reads."""

commands = CommandRouter(tags=["12345 work orders"])
"""The commands."""


@router.get("/parked-orders")
async def parked(
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[OrderView]:
    """The 12345 work orders that wait for a place in the caller's areas, the nearest deadline
    first (an order parked without any place: for the communities the stack serves for the
    12345 platform). The caller's contact is shown to desk staff and directors only."""
    return await hotline_desk.parked(store, config, caller, limit=limit)


@router.get("/orders/{order_id}")
async def order(order_id: OrderId, store: StoreDep, caller: CallerDep) -> OrderView:
    """One work order as it stands (parked, placed, forwarded or answered)."""
    return await hotline_desk.view(store, order_id, caller)


@commands.post("/orders/{order_id}/placement", status_code=201)
async def place(
    order_id: OrderId, cmd: PlaceOrder, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> OrderView:
    """Place a parked order in an area of the caller's: mediation opens its dispute or signal
    as for an order placed on arrival, and the answer names it (``record_id``; null while
    mediation is away: it is opened when it answers). 409 ``work_order_not_parked`` when the
    order has its place already. Sent again with its ``Idempotency-Key``, the placement's kept
    answer comes back (the order as placed; ``GET /orders/{order_id}`` for what it became)."""
    return await hotline_desk.place(store, config, order_id, cmd, caller)
