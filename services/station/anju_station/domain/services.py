"""A convenience service from receipt to the resident's callback.

    received ─documents complete→ accepted ─hand off→ handed_off ─┬→ completed ─callback
        │                            └──────────────────────────────┤
        └─documents missing→ notice_issued (一次性告知)            └→ refused
                 └─documents complete→ accepted

A one-time notice lists *everything* missing at once, so the resident comes back once. A
hand-off to the agency of record carries a due date; past it the hand-off is overdue, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from uuid import UUID

from anju_contracts import Event
from anju_contracts.registry import AreaPath
from anju_contracts.station import (
    BillType,
    CallbackRecorded,
    HandOffOverdue,
    OneTimeNoticeIssued,
    ServiceAccepted,
    ServiceCompleted,
    ServiceHandedOff,
    ServiceReceived,
    ServiceRefused,
    ServiceStatus,
)
from anju_station.domain.errors import BillTypeRequired, WrongServiceState
from anju_station.domain.privacy import check_no_payment_details

ELDERLY_BILLS = "elderly_window_bill_help"
"""The elderly window's bill help: it records the kind of bill, nothing else of it."""


@dataclass(frozen=True)
class Notice:
    """The latest one-time notice: what the resident was told to bring, so the desk can print
    it again from any screen."""

    number: str
    missing: tuple[str, ...]
    issued_at: datetime


@dataclass(frozen=True)
class Service:
    id: UUID
    service_type: str
    resident_id: UUID | None
    path: AreaPath
    received_at: datetime
    status: ServiceStatus = ServiceStatus.RECEIVED
    notices: int = 0
    organisation_id: UUID | None = None
    due_by: datetime | None = None
    overdue: bool = False
    satisfaction: int | None = None
    notice: Notice | None = None


def evolve(state: Service | None, event: Event) -> Service | None:
    if isinstance(event, ServiceReceived):
        return Service(
            event.service_id,
            event.service_type,
            event.resident_id,
            event.path,
            event.received_at,
        )
    if state is None:
        return None
    if isinstance(event, OneTimeNoticeIssued):
        return replace(
            state,
            status=ServiceStatus.NOTICE_ISSUED,
            notices=state.notices + 1,
            notice=Notice(event.notice_number, tuple(event.missing), event.issued_at),
        )
    if isinstance(event, ServiceAccepted):
        return replace(state, status=ServiceStatus.ACCEPTED)
    if isinstance(event, ServiceHandedOff):
        return replace(
            state,
            status=ServiceStatus.HANDED_OFF,
            organisation_id=event.organisation_id,
            due_by=event.due_by,
        )
    if isinstance(event, HandOffOverdue):
        return replace(state, overdue=True)
    if isinstance(event, ServiceCompleted):
        return replace(state, status=ServiceStatus.COMPLETED)
    if isinstance(event, ServiceRefused):
        return replace(state, status=ServiceStatus.REFUSED)
    if isinstance(event, CallbackRecorded):
        return replace(state, satisfaction=event.satisfaction)
    return state


def fold(events: Iterable[Event]) -> Service | None:
    state: Service | None = None
    for event in events:
        state = evolve(state, event)
    return state


def _in(state: Service, *allowed: ServiceStatus, step: str) -> Service:
    if state.status not in allowed:
        raise WrongServiceState(
            f"a service that is {state.status} cannot be {step}",
            service_id=str(state.id),
            status=state.status,
        )
    return state


def receive(
    service_id: UUID,
    *,
    service_type: str,
    resident_id: UUID | None,
    reception_id: UUID | None,
    path: AreaPath,
    staff_id: str,
    bill_type: BillType | None,
    now: datetime,
) -> list[Event]:
    if service_type == ELDERLY_BILLS and bill_type is None:
        raise BillTypeRequired("say which kind of bill the elderly window helped with")
    return [
        ServiceReceived(
            service_id=service_id,
            service_type=service_type,
            resident_id=resident_id,
            reception_id=reception_id,
            path=path,
            staff_id=staff_id,
            received_at=now,
            bill_type=bill_type if service_type == ELDERLY_BILLS else None,
        )
    ]


def check_documents(state: Service, *, missing: list[str], now: datetime) -> list[Event]:
    """Documents checked: everything missing goes on one notice, or the service is accepted."""
    s = _in(state, ServiceStatus.RECEIVED, ServiceStatus.NOTICE_ISSUED, step="checked")
    for i, item in enumerate(missing):
        check_no_payment_details(item, field=f"missing.{i}")
    if missing:
        number = f"{now:%Y%m%d}-{s.id.hex[:6].upper()}-{s.notices + 1}"
        return [
            OneTimeNoticeIssued(
                service_id=s.id,
                notice_number=number,
                missing=list(dict.fromkeys(missing)),
                issued_at=now,
            )
        ]
    return [ServiceAccepted(service_id=s.id, accepted_at=now)]


def hand_off(state: Service, *, organisation_id: UUID, days: float, now: datetime) -> list[Event]:
    s = _in(state, ServiceStatus.ACCEPTED, step="handed off")
    return [
        ServiceHandedOff(
            service_id=s.id,
            organisation_id=organisation_id,
            handed_off_at=now,
            due_by=now + timedelta(days=days),
        )
    ]


def mark_overdue(state: Service, *, due_by: datetime) -> list[Event]:
    if state.status != ServiceStatus.HANDED_OFF or state.overdue or state.due_by != due_by:
        return []
    assert state.organisation_id is not None
    return [
        HandOffOverdue(service_id=state.id, organisation_id=state.organisation_id, due_by=due_by)
    ]


def complete(state: Service, *, outcome: str | None, now: datetime) -> list[Event]:
    s = _in(state, ServiceStatus.ACCEPTED, ServiceStatus.HANDED_OFF, step="completed")
    check_no_payment_details(outcome, field="outcome")
    return [ServiceCompleted(service_id=s.id, completed_at=now, outcome=outcome)]


def refuse(state: Service, *, reason: str, now: datetime) -> list[Event]:
    s = _in(
        state,
        ServiceStatus.RECEIVED,
        ServiceStatus.NOTICE_ISSUED,
        ServiceStatus.ACCEPTED,
        ServiceStatus.HANDED_OFF,
        step="refused",
    )
    check_no_payment_details(reason, field="reason")
    return [ServiceRefused(service_id=s.id, refused_at=now, reason=reason)]


def callback(state: Service, *, satisfaction: int, note: str | None, now: datetime) -> list[Event]:
    s = _in(state, ServiceStatus.COMPLETED, ServiceStatus.REFUSED, step="called back")
    check_no_payment_details(note, field="note")
    return [CallbackRecorded(service_id=s.id, satisfaction=satisfaction, called_at=now, note=note)]
