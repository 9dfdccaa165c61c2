"""A 12345 work order in Anju: received once, parked or forwarded once, answered once.

A parked order is placed (by a desk clerk, or by the service once the registry announces the
area it named) and then forwarded like an order placed on arrival; if mediation refuses the
placement, it is parked again where it was placed.

Each decision returns no events when it has been taken already, so a redelivered or repeated
order, or a second closing of its record, changes nothing.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID

from anju_contracts import Event
from anju_contracts.hotline12345 import OrderCategory, WorkOrderDispatched
from anju_contracts.integration import (
    AnjuRecord,
    ReplyOutcome,
    WorkOrderAnswered,
    WorkOrderForwarded,
    WorkOrderParked,
    WorkOrderPlaced,
    WorkOrderReceived,
)
from anju_contracts.mediation import Category
from anju_contracts.registry import AreaPath
from anju_integration.domain.errors import OrderNotParked

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


class Status(StrEnum):
    PARKED = "parked"
    """No area Anju knows: it waits for a desk clerk (or for the registry to announce it)."""
    PLACED = "placed"
    """Placed in an area; mediation is to open its record."""
    FORWARDED = "forwarded"
    """A dispute or a conflict signal in mediation."""
    ANSWERED = "answered"
    """Its record closed and the 12345 platform has its reply."""


@dataclass(frozen=True)
class Order:
    received: WorkOrderReceived
    parked: bool = False
    forwarded: WorkOrderForwarded | None = None
    answered: bool = False
    path: AreaPath | None = None
    """Where the order is: where it arrived, was placed or forwarded (none while unplaced)."""
    placed: WorkOrderPlaced | None = None
    """The placement that has not been forwarded yet (or was, if ``forwarded``)."""
    park_reason: str | None = None
    parked_at: datetime | None = None
    community_ids: tuple[UUID, ...] = ()
    """Whose desks see it while it has no ``path`` (:class:`WorkOrderParked`)."""

    @property
    def order_id(self) -> str:
        return self.received.order_id

    @property
    def status(self) -> Status:
        if self.answered:
            return Status.ANSWERED
        if self.forwarded is not None:
            return Status.FORWARDED
        if self.parked:
            return Status.PARKED
        return Status.PLACED


def evolve(state: Order | None, event: Event) -> Order | None:
    if isinstance(event, WorkOrderReceived):
        return Order(event, path=event.path)
    if state is None:
        return None
    if isinstance(event, WorkOrderParked):
        return replace(
            state,
            parked=True,
            placed=None,
            park_reason=event.reason,
            parked_at=event.parked_at,
            community_ids=tuple(event.community_ids),
        )
    if isinstance(event, WorkOrderPlaced):
        return replace(state, parked=False, placed=event, path=event.path)
    if isinstance(event, WorkOrderForwarded):
        return replace(state, parked=False, forwarded=event, path=event.path)
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
    serving: Iterable[UUID] = (),
) -> list[Event]:
    """The order is recorded the first time; parked at once when ``path`` is unknown, for the
    desks of the ``serving`` communities."""
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
        WorkOrderParked(
            order_id=order.order_id,
            reason=UNKNOWN_AREA,
            parked_at=now,
            community_ids=list(serving),
        ),
    ]


UNKNOWN_AREA = "unknown_area"


def require_parked(state: Order) -> None:
    """Only a parked order may be placed: any other has its place already."""
    if not state.parked:
        raise OrderNotParked(
            "the work order is not parked", order_id=state.order_id, status=str(state.status)
        )


def place(state: Order, *, area_id: UUID, path: AreaPath, now: datetime) -> list[Event]:
    """A parked order is placed in an area."""
    require_parked(state)
    return [WorkOrderPlaced(order_id=state.order_id, area_id=area_id, path=path, placed_at=now)]


def park_again(state: Order, *, reason: str, now: datetime) -> list[Event]:
    """A placement mediation refused: the order waits again, where it was placed."""
    if state.parked or state.forwarded is not None:
        return []
    return [WorkOrderParked(order_id=state.order_id, reason=reason[:200], parked_at=now)]


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
