"""Lectures, policy explanations, civilisation-practice activities and opinion gathering.

A gathering is recorded once it was held: its topic, speaker, date and how many came. At an
opinion-gathering session (意见征求) each opinion a resident raises is its own record; the desk
answers it, or refers it to mediation (a tension between residents: a conflict signal) or to
governance (a problem no single service solves: a work item). The other service links what it
opens to the opinion, so the opinion log can say what became of each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import date, datetime
from enum import StrEnum
from uuid import UUID

from anju_contracts import Event
from anju_contracts.registry import AreaPath
from anju_contracts.station import (
    GatheringHeld,
    GatheringKind,
    OpinionAnswered,
    OpinionDestination,
    OpinionRaised,
    OpinionReferred,
)
from anju_station.domain.errors import HeldInFuture, NotAnOpinionGathering, OpinionSettled
from anju_station.domain.privacy import check_no_payment_details


@dataclass(frozen=True)
class Gathering:
    id: UUID
    kind: GatheringKind
    topic: str
    speaker: str | None
    held_on: date
    attendance: int
    partner_id: UUID | None
    path: AreaPath


def fold_gathering(events: Iterable[Event]) -> Gathering | None:
    for e in events:
        if isinstance(e, GatheringHeld):
            return Gathering(
                e.gathering_id,
                e.kind,
                e.topic,
                e.speaker,
                e.held_on,
                e.attendance,
                e.partner_id,
                e.path,
            )
    return None


def hold(
    gathering_id: UUID,
    *,
    kind: GatheringKind,
    topic: str,
    speaker: str | None,
    held_on: date,
    attendance: int,
    partner_id: UUID | None,
    path: AreaPath,
    staff_id: str,
    now: datetime,
) -> list[Event]:
    """Record a gathering that took place (today, or on an earlier day from the ledger)."""
    if held_on > now.date():
        raise HeldInFuture("a gathering is recorded once it was held", held_on=held_on.isoformat())
    return [
        GatheringHeld(
            gathering_id=gathering_id,
            kind=kind,
            topic=topic,
            speaker=speaker,
            held_on=held_on,
            attendance=attendance,
            partner_id=partner_id,
            path=path,
            recorded_by=staff_id,
            recorded_at=now,
        )
    ]


class OpinionStatus(StrEnum):
    OPEN = "open"
    ANSWERED = "answered"
    REFERRED = "referred"


@dataclass(frozen=True)
class Opinion:
    id: UUID
    gathering_id: UUID
    text: str
    resident_id: UUID | None
    path: AreaPath
    raised_at: datetime
    status: OpinionStatus = OpinionStatus.OPEN
    referred_to: OpinionDestination | None = None


def fold_opinion(events: Iterable[Event]) -> Opinion | None:
    state: Opinion | None = None
    for e in events:
        if isinstance(e, OpinionRaised):
            state = Opinion(
                e.opinion_id, e.gathering_id, e.text, e.resident_id, e.path, e.raised_at
            )
        elif state is None:
            continue
        elif isinstance(e, OpinionAnswered):
            state = replace(state, status=OpinionStatus.ANSWERED)
        elif isinstance(e, OpinionReferred):
            state = replace(state, status=OpinionStatus.REFERRED, referred_to=e.to)
    return state


def raise_opinion(
    opinion_id: UUID,
    *,
    gathering: Gathering,
    text: str,
    resident_id: UUID | None,
    staff_id: str,
    now: datetime,
) -> list[Event]:
    if gathering.kind != GatheringKind.OPINION_GATHERING:
        raise NotAnOpinionGathering(
            "opinions are recorded at opinion-gathering sessions",
            gathering_id=str(gathering.id),
            kind=gathering.kind,
        )
    check_no_payment_details(text, field="text")
    return [
        OpinionRaised(
            opinion_id=opinion_id,
            gathering_id=gathering.id,
            text=text,
            resident_id=resident_id,
            path=gathering.path,
            recorded_by=staff_id,
            raised_at=now,
        )
    ]


def _open(state: Opinion) -> Opinion:
    if state.status != OpinionStatus.OPEN:
        raise OpinionSettled(
            f"the opinion was already {state.status}",
            opinion_id=str(state.id),
            status=state.status,
        )
    return state


def answer(state: Opinion, *, reply: str, staff_id: str, now: datetime) -> list[Event]:
    o = _open(state)
    return [OpinionAnswered(opinion_id=o.id, reply=reply, answered_by=staff_id, answered_at=now)]


def refer(
    state: Opinion,
    *,
    to: OpinionDestination,
    note: str | None,
    staff_id: str,
    now: datetime,
) -> list[Event]:
    o = _open(state)
    check_no_payment_details(note, field="note")
    return [
        OpinionReferred(
            opinion_id=o.id,
            gathering_id=o.gathering_id,
            to=to,
            text=o.text,
            resident_id=o.resident_id,
            path=o.path,
            referred_by=staff_id,
            referred_at=now,
            note=note,
        )
    ]
