"""A 12345 work order in Anju: received once, parked or forwarded once, answered once.

Each decision returns no events when it has been taken already, so a redelivered or repeated
order, or a second closing of its record, changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from uuid import UUID

from anju_contracts import Event
from anju_contracts.hotline12345 import OrderCategory, WorkOrderDispatched
from anju_contracts.integration import (
    AnjuRecord,
    ReplyOutcome,
    WorkOrderAnswered,
    WorkOrderForwarded,
    WorkOrderParked,
    WorkOrderReceived,
)
from anju_contracts.mediation import Category
from anju_contracts.registry import AreaPath

DISPUTES: dict[OrderCategory, Category] = {
    OrderCategory.NOISE: Category.NOISE,
    OrderCategory.WATER_LEAK: Category.WATER_LEAK,
    OrderCategory.PARKING: Category.PARKING,
    OrderCategory.SHARED_SPACE: Category.SHARED_SPACE,
    OrderCategory.PETS: Category.PETS,
    OrderCategory.PROPERTY_FEES: Category.PROPERTY_FEES,
    OrderCategory.NEIGHBOUR_CONFLICT: Category.NEIGHBOUR_CONFLICT,
    OrderCategory.FAMILY_ELDER_CARE: Category.FAMILY_ELDER_CARE,
    OrderCategory.TENANCY: Category.TENANCY,
}
"""Orders that are a complaint against someone: a dispute, the caller its applicant."""


def record_for(category: OrderCategory) -> AnjuRecord:
    """A complaint against someone becomes a dispute; anything else (the environment, the
    estate's facilities, other) a conflict signal for the grid worker to look into."""
    return AnjuRecord.DISPUTE if category in DISPUTES else AnjuRecord.SIGNAL


def mediation_category(category: OrderCategory) -> Category:
    return DISPUTES.get(category, Category.OTHER)


@dataclass(frozen=True)
class Order:
    received: WorkOrderReceived
    parked: bool = False
    forwarded: WorkOrderForwarded | None = None
    answered: bool = False

    @property
    def order_id(self) -> str:
        return self.received.order_id


def evolve(state: Order | None, event: Event) -> Order | None:
    if isinstance(event, WorkOrderReceived):
        return Order(event)
    if state is None:
        return None
    if isinstance(event, WorkOrderParked):
        return replace(state, parked=True)
    if isinstance(event, WorkOrderForwarded):
        return replace(state, parked=False, forwarded=event)
    if isinstance(event, WorkOrderAnswered):
        return replace(state, answered=True)
    return state


def fold(events: Iterable[Event]) -> Order | None:
    state: Order | None = None
    for event in events:
        state = evolve(state, event)
    return state


def receive(
    state: Order | None,
    order: WorkOrderDispatched,
    *,
    message_id: str,
    path: AreaPath | None,
    now: datetime,
) -> list[Event]:
    """The order is recorded the first time; parked at once when ``path`` is unknown."""
    if state is not None:
        return []
    received = WorkOrderReceived(
        order_id=order.order_id,
        message_id=message_id,
        category=order.category,
        path=path,
        area_id=order.area_id,
        address=order.address,
        caller=order.caller,
        text=order.text,
        dispatched_at=order.dispatched_at,
        deadline=order.deadline,
        received_at=now,
    )
    if path is not None:
        return [received]
    return [
        received,
        WorkOrderParked(order_id=order.order_id, reason="unknown_area", parked_at=now),
    ]


def forward(
    state: Order, *, record: AnjuRecord, record_id: UUID, path: AreaPath, now: datetime
) -> list[Event]:
    if state.forwarded is not None:
        return []
    return [
        WorkOrderForwarded(
            order_id=state.order_id, record=record, record_id=record_id, path=path, forwarded_at=now
        )
    ]


def answer(
    state: Order,
    *,
    outcome: ReplyOutcome,
    text: str,
    handled_at: datetime,
    record: AnjuRecord,
    record_id: UUID,
) -> list[Event]:
    if state.answered or state.forwarded is None:
        return []
    deadline = state.received.deadline
    return [
        WorkOrderAnswered(
            order_id=state.order_id,
            outcome=outcome,
            text=text,
            handled_at=handled_at,
            deadline=deadline,
            on_time=handled_at <= deadline,
            record=record,
            record_id=record_id,
        )
    ]
