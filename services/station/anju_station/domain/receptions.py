"""A visit to the desk: logged once, in one request, with nothing for the clerk to wait on."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from anju_contracts import Event
from anju_contracts.registry import AreaPath
from anju_contracts.station import Outcome, Purpose, ReceptionLogged, Referral
from anju_station.domain.privacy import check_no_payment_details


@dataclass(frozen=True)
class Reception:
    id: UUID
    resident_id: UUID | None
    purposes: tuple[Purpose, ...]
    referred_by: Referral
    outcome: Outcome
    path: AreaPath
    logged_at: datetime


def fold(events: Iterable[Event]) -> Reception | None:
    for e in events:
        if isinstance(e, ReceptionLogged):
            return Reception(
                e.reception_id,
                e.resident_id,
                tuple(e.purposes),
                e.referred_by,
                e.outcome,
                e.path,
                e.logged_at,
            )
    return None


def log(
    reception_id: UUID,
    *,
    resident_id: UUID | None,
    purposes: list[Purpose],
    referred_by: Referral,
    outcome: Outcome,
    path: AreaPath,
    staff_id: str,
    note: str | None,
    now: datetime,
) -> list[Event]:
    check_no_payment_details(note, field="note")
    return [
        ReceptionLogged(
            reception_id=reception_id,
            resident_id=resident_id,
            purposes=list(dict.fromkeys(purposes)),
            referred_by=referred_by,
            outcome=outcome,
            path=path,
            staff_id=staff_id,
            logged_at=now,
            note=note,
        )
    ]
