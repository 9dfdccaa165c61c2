"""Conflict signals (未诉先办): a tension spotted on patrol, or an opinion the station's desk
passed on, dismissed or turned into a dispute."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from uuid import UUID, uuid5

from anju_contracts import Event
from anju_contracts.mediation import (
    Category,
    ConflictSignalConverted,
    ConflictSignalDismissed,
    ConflictSignalReported,
    Location,
    ReporterRole,
    SignalOrigin,
)
from anju_contracts.station import SOURCE as STATION
from anju_mediation.domain import errors


class SignalStatus(StrEnum):
    REPORTED = "reported"
    DISMISSED = "dismissed"
    CONVERTED = "converted"


@dataclass(frozen=True)
class Signal:
    id: UUID
    location: Location
    category: Category
    description: str
    involved_resident_ids: tuple[UUID, ...]
    status: SignalStatus = SignalStatus.REPORTED
    dispute_id: UUID | None = None
    reporter_id: str = ""
    reporter_role: ReporterRole | None = None
    reported_at: datetime | None = None
    origin: SignalOrigin | None = None


def evolve(state: Signal | None, event: Event) -> Signal | None:
    if isinstance(event, ConflictSignalReported):
        return Signal(
            event.signal_id,
            event.location,
            event.category,
            event.description,
            tuple(event.involved_resident_ids),
            reporter_id=event.reporter_id,
            reporter_role=event.reporter_role,
            reported_at=event.reported_at,
            origin=event.origin,
        )
    if state is None:
        return None
    if isinstance(event, ConflictSignalDismissed):
        return replace(state, status=SignalStatus.DISMISSED)
    if isinstance(event, ConflictSignalConverted):
        return replace(state, status=SignalStatus.CONVERTED, dispute_id=event.dispute_id)
    return state


def fold(events: Iterable[Event]) -> Signal | None:
    state: Signal | None = None
    for event in events:
        state = evolve(state, event)
    return state


def report(
    signal_id: UUID,
    *,
    reporter_id: str,
    reporter_role: ReporterRole,
    location: Location,
    category: Category,
    description: str,
    involved_resident_ids: Sequence[UUID],
    now: datetime,
    origin: SignalOrigin | None = None,
) -> list[Event]:
    return [
        ConflictSignalReported(
            signal_id=signal_id,
            reporter_id=reporter_id,
            reporter_role=reporter_role,
            location=location,
            category=category,
            description=description,
            involved_resident_ids=list(involved_resident_ids),
            reported_at=now,
            origin=origin,
        )
    ]


# -- an opinion the station's desk passed on --------------------------------------------------

_OPINIONS = UUID("5b0f2c61-8a4e-4d3b-9e57-3c1f0a9d6e21")
"""The namespace of the ids of signals reported for the station's opinions: never change it."""


def opinion_origin(opinion_id: UUID) -> SignalOrigin:
    return SignalOrigin(source=STATION, record="opinion", id=opinion_id)


def signal_id_of_opinion(opinion_id: UUID) -> UUID:
    """The id of the signal an opinion becomes: the same however often the referral arrives,
    so the opinion is reported once even after mediation's inbox was reset and replayed."""
    return uuid5(_OPINIONS, str(opinion_id))


def opinion_description(text: str, note: str | None) -> str:
    """What the resident said, then the desk's note if it added one."""
    if not note:
        return text
    return f"{text}\n\n窗口备注：{note}"


def _pending(signal: Signal) -> None:
    if signal.status != SignalStatus.REPORTED:
        raise errors.SignalAlreadyHandled(
            f"the signal was already {signal.status}", status=signal.status
        )


def dismiss(signal: Signal, *, reason: str) -> list[Event]:
    _pending(signal)
    return [ConflictSignalDismissed(signal_id=signal.id, reason=reason)]


def convert(signal: Signal, *, dispute_id: UUID) -> list[Event]:
    _pending(signal)
    return [ConflictSignalConverted(signal_id=signal.id, dispute_id=dispute_id)]
