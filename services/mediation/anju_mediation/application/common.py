"""What every mediation handler shares: the caller, stream names, loaders, deadlines."""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from uuid import UUID

from anju_contracts import Actor, Event
from anju_contracts.mediation import (
    SOURCE,
    DisputeEscalated,
    DisputeRegistered,
    DisputeReopened,
    DisputeResolved,
    Location,
    PetitionAccepted,
    PetitionAnswered,
    PetitionClosed,
    PetitionForwarded,
    PetitionStage,
    Tier,
)
from anju_contracts.registry import AreaPath
from anju_mediation.application import known
from anju_mediation.domain import disputes, petitions, signals
from anju_mediation.domain.errors import (
    AreaNotFound,
    DisputeNotFound,
    NotYourDispute,
    PetitionNotFound,
    SignalNotFound,
)
from eventkit import commands
from eventkit.auth import Role
from eventkit.http import Forbidden
from eventkit.store import AppendResult, Context, Session, Stream

SLA_AT_RISK = "mediation.sla_at_risk"
"""Deadline kind: a quarter of the SLA time of the dispute named by the key is left."""
SLA_DUE = "mediation.sla_due"
"""Deadline kind: the SLA of the dispute named by the key ends."""
PETITION_DUE = "mediation.petition_due"
"""Deadline kind: the department must have accepted (or answered) the petition by now."""

SERVICE_ACTOR = Actor(id=SOURCE, roles=("service",))


def signal_stream(signal_id: UUID) -> str:
    return f"signal-{signal_id}"


def dispute_stream(dispute_id: UUID) -> str:
    return f"dispute-{dispute_id}"


def petition_stream(petition_id: UUID) -> str:
    return f"petition-{petition_id}"


scope_of = commands.area_of


@dataclass(frozen=True)
class Caller(commands.Caller):
    """The kernel's caller, and which sensitive disputes they may touch."""

    def may_see(self, dispute: disputes.Dispute) -> bool:
        """Sensitive: the assigned mediators and the director (and admins) only."""
        if self.principal.sub in dispute.mediators:
            return True
        if dispute.sensitive:
            return self.principal.has(Role.ADMIN, Role.DIRECTOR)
        return self.may_act_on(dispute.location.path)

    def check_dispute(self, dispute: disputes.Dispute) -> None:
        if dispute.sensitive and not self.may_see(dispute):
            raise NotYourDispute(
                "only the assigned mediators and the director may act on a sensitive dispute"
            )
        if not self.may_see(dispute):
            raise Forbidden("this is outside your areas", area=scope_of(dispute.location.path))


def counted(command: str) -> AbstractContextManager[None]:
    """Count the command in ``anju_commands_total`` by outcome (the kernel's counter)."""
    return commands.counted(SOURCE, command)


expect = commands.expect_version


def payloads(stream: Stream) -> list[Event]:
    return stream.payloads


async def load_location(session: Session, area_id: UUID) -> Location:
    location = await known.location_of(session.conn, area_id)
    if location is None:
        raise AreaNotFound("no such area (as the registry has announced)", area_id=str(area_id))
    return location


async def load_signal(session: Session, signal_id: UUID) -> tuple[signals.Signal, Stream]:
    stream = await session.load(signal_stream(signal_id))
    signal = signals.fold(payloads(stream))
    if signal is None:
        raise SignalNotFound("no such signal", signal_id=str(signal_id))
    return signal, stream


async def load_dispute(session: Session, dispute_id: UUID) -> tuple[disputes.Dispute, Stream]:
    stream = await session.load(dispute_stream(dispute_id))
    dispute = disputes.fold(payloads(stream))
    if dispute is None:
        raise DisputeNotFound("no such dispute", dispute_id=str(dispute_id))
    return dispute, stream


async def load_petition(session: Session, petition_id: UUID) -> tuple[petitions.Petition, Stream]:
    stream = await session.load(petition_stream(petition_id))
    petition = petitions.fold(payloads(stream))
    if petition is None:
        raise PetitionNotFound("no such petition", petition_id=str(petition_id))
    return petition, stream


# -- deadlines: kept in step with the facts, in the same transaction ---------------------------


def sla_key(dispute_id: UUID, tier: Tier) -> str:
    """A deadline key per dispute *and tier*.

    The kernel's scheduler marks the deadline row it fired as fired after the handler returns,
    so a handler that re-armed the same kind and key (a breach that escalates, arming the next
    tier's SLA) would lose the new deadline. One key per tier keeps them apart.
    """
    return f"{dispute_id}:{tier}"


def dispute_of_key(key: str) -> UUID:
    return UUID(key.partition(":")[0])


async def _cancel_sla(session: Session, dispute_id: UUID, tier: Tier) -> None:
    await session.cancel(SLA_AT_RISK, sla_key(dispute_id, tier))
    await session.cancel(SLA_DUE, sla_key(dispute_id, tier))


async def follow_sla(session: Session, dispute_id: UUID, events: Sequence[Event]) -> None:
    """Keep the dispute's SLA deadlines in step with the tier its events leave it in."""
    for event in events:
        if isinstance(event, DisputeEscalated):
            await _cancel_sla(session, dispute_id, event.from_tier)
        if isinstance(event, DisputeResolved):
            await _cancel_sla(session, dispute_id, event.tier)
        if isinstance(event, DisputeRegistered | DisputeEscalated | DisputeReopened):
            if isinstance(event, DisputeRegistered):
                tier, entered = event.tier, event.registered_at
            elif isinstance(event, DisputeEscalated):
                tier, entered = event.to_tier, event.escalated_at
            else:
                tier, entered = event.tier, event.reopened_at
            if event.sla_due_by is None:
                continue
            key = sla_key(dispute_id, tier)
            payload = {"due_by": event.sla_due_by.isoformat()}
            at_risk = disputes.at_risk_time(entered, event.sla_due_by)
            await session.schedule(SLA_AT_RISK, key, at_risk, payload)
            await session.schedule(SLA_DUE, key, event.sla_due_by, payload)


async def append_dispute(
    session: Session,
    dispute_id: UUID,
    version: int,
    events: Sequence[Event],
    *,
    context: Context,
    path: AreaPath,
) -> AppendResult:
    result = await session.append(
        dispute_stream(dispute_id), version, events, context=context, area=scope_of(path)
    )
    await follow_sla(session, dispute_id, events)
    return result


async def follow_petition(session: Session, petition_id: UUID, events: Sequence[Event]) -> None:
    key = str(petition_id)
    for event in reversed(events):
        if isinstance(event, PetitionForwarded):
            payload = {"stage": PetitionStage.ACCEPTANCE.value}
            await session.schedule(PETITION_DUE, key, event.acceptance_due_by, payload)
            return
        if isinstance(event, PetitionAccepted):
            payload = {"stage": PetitionStage.ANSWER.value}
            await session.schedule(PETITION_DUE, key, event.answer_due_by, payload)
            return
        if isinstance(event, PetitionAnswered | PetitionClosed):
            await session.cancel(PETITION_DUE, key)
            return


async def append_petition(
    session: Session,
    petition_id: UUID,
    version: int,
    events: Sequence[Event],
    *,
    context: Context,
    path: AreaPath,
) -> AppendResult:
    result = await session.append(
        petition_stream(petition_id), version, events, context=context, area=scope_of(path)
    )
    await follow_petition(session, petition_id, events)
    return result
