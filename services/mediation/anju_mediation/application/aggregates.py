"""Mediation's aggregates as the kernel's command path sees them, and their deadlines."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from anju_contracts import Actor, Event
from anju_contracts.mediation import (
    SOURCE,
    DisputeEscalated,
    DisputeEscalationsWithdrawn,
    DisputeRegistered,
    DisputeReopened,
    DisputeResolved,
    PetitionAccepted,
    PetitionAnswered,
    PetitionClosed,
    PetitionForwarded,
    PetitionStage,
    Tier,
)
from anju_mediation.application.permissions import PERMISSIONS
from anju_mediation.domain import disputes, petitions, signals
from anju_mediation.domain.errors import DisputeNotFound, PetitionNotFound, SignalNotFound
from eventkit.access import Guarded
from eventkit.aggregate import Aggregate
from eventkit.store import StoreSession

SLA_AT_RISK = "mediation.sla_at_risk"
"""Deadline kind: a quarter of the SLA time of the dispute named by the key is left."""
SLA_DUE = "mediation.sla_due"
"""Deadline kind: the SLA of the dispute named by the key ends."""
PETITION_DUE = "mediation.petition_due"
"""Deadline kind: the department must have accepted (or answered) the petition by now."""

DISPUTE_RETENTION_DUE = "mediation.dispute_retention_due"
"""Deadline kind: the retention period of the closed dispute named by the key ends, and its
personal data is erased (``mediation.DisputeErased``)."""

SERVICE_ACTOR = Actor(id=SOURCE, roles=("service",))


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


async def _cancel_sla(session: StoreSession, dispute_id: UUID, tier: Tier) -> None:
    await session.cancel(SLA_AT_RISK, sla_key(dispute_id, tier))
    await session.cancel(SLA_DUE, sla_key(dispute_id, tier))


async def follow_sla(session: StoreSession, dispute_id: UUID, events: Sequence[Event]) -> None:
    """Keep the dispute's SLA deadlines in step with the tier its events leave it in."""
    for event in events:
        if isinstance(event, DisputeEscalationsWithdrawn):
            for tier in event.withdrawn:
                await _cancel_sla(session, dispute_id, tier)
        if isinstance(event, DisputeEscalated):
            await _cancel_sla(session, dispute_id, event.from_tier)
        if isinstance(event, DisputeResolved):
            await _cancel_sla(session, dispute_id, event.tier)
        if isinstance(event, DisputeReopened):
            # open again: kept while worked on; the next closing counts the period afresh
            await session.cancel(DISPUTE_RETENTION_DUE, str(dispute_id))
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


async def follow_petition(
    session: StoreSession, petition_id: UUID, events: Sequence[Event]
) -> None:
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


def _signal_guard(signal: signals.Signal) -> Guarded:
    return Guarded.at(signal.location.path)


def _dispute_guard(dispute: disputes.Dispute) -> Guarded:
    return Guarded.at(
        dispute.location.path, sensitive=dispute.sensitive, assigned=dispute.mediators
    )


SIGNALS: Aggregate[signals.Signal] = Aggregate(
    name="signal",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: signals.fold(events),
    guard=_signal_guard,
    not_found=SignalNotFound,
)

DISPUTES: Aggregate[disputes.Dispute] = Aggregate(
    name="dispute",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: disputes.fold(events),
    guard=_dispute_guard,
    not_found=DisputeNotFound,
    follow=follow_sla,
)

PETITIONS: Aggregate[petitions.Petition] = Aggregate(
    name="petition",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: petitions.fold(events),
    guard=lambda petition: Guarded.at(petition.path),
    not_found=PetitionNotFound,
    follow=follow_petition,
)
