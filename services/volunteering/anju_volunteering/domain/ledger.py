"""A volunteer's hours: recorded from what they did, counted once a coordinator approves them.

A certificate of service sums the approved hours of a period and the services (requests and
shifts) they came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from uuid import UUID, uuid4

from anju_contracts import Event
from anju_contracts.registry import AreaPath
from anju_contracts.volunteering import (
    CertificateIssued,
    HoursApproved,
    HoursRecorded,
    HoursRejected,
    HoursSource,
)
from anju_volunteering.domain.errors import BadPeriod, EntryDecided, EntryNotFound, NoApprovedHours
from eventkit.certificates import CertificateNumbers


class EntryStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class Entry:
    id: UUID
    source: HoursSource
    source_id: UUID
    hours: float
    served_on: date
    status: EntryStatus = EntryStatus.PENDING


@dataclass(frozen=True)
class Ledger:
    volunteer_id: UUID
    entries: dict[UUID, Entry] = field(default_factory=dict)

    def entry(self, entry_id: UUID) -> Entry:
        found = self.entries.get(entry_id)
        if found is None:
            raise EntryNotFound("no such hours entry", entry_id=str(entry_id))
        return found

    def approved(self, start: date, end: date) -> list[Entry]:
        return [
            e
            for e in self.entries.values()
            if e.status == EntryStatus.APPROVED and start <= e.served_on <= end
        ]


def evolve(state: Ledger, event: Event) -> Ledger:
    if isinstance(event, HoursRecorded):
        entry = Entry(event.entry_id, event.source, event.source_id, event.hours, event.served_on)
        return replace(state, entries={**state.entries, entry.id: entry})
    if isinstance(event, HoursApproved | HoursRejected):
        status = EntryStatus.APPROVED if isinstance(event, HoursApproved) else EntryStatus.REJECTED
        entry = replace(state.entries[event.entry_id], status=status)
        return replace(state, entries={**state.entries, entry.id: entry})
    return state


def fold(volunteer_id: UUID, events: Iterable[Event]) -> Ledger:
    state = Ledger(volunteer_id)
    for event in events:
        state = evolve(state, event)
    return state


def record(
    volunteer_id: UUID,
    *,
    source: HoursSource,
    source_id: UUID,
    hours: float,
    served_on: date,
    organisation_id: UUID | None,
) -> list[Event]:
    if hours <= 0:
        return []
    return [
        HoursRecorded(
            entry_id=uuid4(),
            volunteer_id=volunteer_id,
            source=source,
            source_id=source_id,
            hours=hours,
            served_on=served_on,
            organisation_id=organisation_id,
        )
    ]


def _pending(state: Ledger, entry_id: UUID) -> Entry:
    entry = state.entry(entry_id)
    if entry.status != EntryStatus.PENDING:
        raise EntryDecided(
            f"the hours were {entry.status} already", entry_id=str(entry_id), status=entry.status
        )
    return entry


def approve(state: Ledger, entry_id: UUID, *, by: str, today: date) -> list[Event]:
    entry = _pending(state, entry_id)
    return [
        HoursApproved(
            entry_id=entry.id, volunteer_id=state.volunteer_id, approved_by=by, approved_on=today
        )
    ]


def reject(state: Ledger, entry_id: UUID, *, by: str, reason: str) -> list[Event]:
    entry = _pending(state, entry_id)
    return [
        HoursRejected(
            entry_id=entry.id, volunteer_id=state.volunteer_id, rejected_by=by, reason=reason
        )
    ]


NUMBERS = CertificateNumbers("V", UUID("8f3a6c52-2b7e-4c0e-9d15-3e7f0a9b6d21"))
"""Certificates of service: ``ANJU-V-2026-0A1B2C3D``."""


def certify(
    state: Ledger,
    *,
    path: AreaPath,
    period_from: date,
    period_to: date,
    content: str,
    issuer: str,
    today: date,
) -> tuple[UUID, list[Event]]:
    """A certificate of the approved hours between the two dates (both included)."""
    if period_from > period_to or period_to > today:
        raise BadPeriod(
            "the period runs forwards and ends by today",
            period_from=period_from.isoformat(),
            period_to=period_to.isoformat(),
        )
    approved = state.approved(period_from, period_to)
    if not approved:
        raise NoApprovedHours("no approved hours in the period")
    number = NUMBERS.new(today)
    certificate_id = NUMBERS.id_of(number)
    return certificate_id, [
        CertificateIssued(
            certificate_id=certificate_id,
            number=number,
            volunteer_id=state.volunteer_id,
            path=path,
            period_from=period_from,
            period_to=period_to,
            hours=round(sum(e.hours for e in approved), 2),
            services=len({e.source_id for e in approved}),
            content=content,
            issuer=issuer,
            issued_on=today,
        )
    ]
