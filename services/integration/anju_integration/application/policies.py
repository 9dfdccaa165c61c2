"""The integration service's reactions to other services' events: it learns the registry's areas,
residents and organisations (``eventkit.known``) and keeps a keyed hash of each resident's
identity number for the tenancy flow (never the number), and places the parked 12345 orders
that named an area the registry just announced; and it answers a 12345 work order
when the mediation record it became closes.
"""

from __future__ import annotations

from anju_contracts.integration import AnjuRecord, ReplyOutcome
from anju_contracts.mediation import (
    CATALOG as MEDIATION,
    ConflictSignalConverted,
    ConflictSignalDismissed,
    ConflictSignalReported,
    DisputeRegistered,
    DisputeResolved,
)
from anju_integration.application import hotline, hotline_desk
from anju_integration.application.config import IntegrationConfig
from anju_integration.application.hotline_records import Closing, PostgresRecords, Records
from anju_integration.application.tenancy_tables import learner
from eventkit.known import registry_policy
from eventkit.messages import Delivered
from eventkit.policy import Policy
from eventkit.store import Context, Session

REGISTRY_POLICY_NAME = "integration_registry"
"""Keys the policy's inbox rows, dead letters and consumer group offsets: never rename it."""

RECORDS: Records = PostgresRecords()


def registry(config: IntegrationConfig) -> Policy:
    """The policy on ``registry.events``: the kernel's mirror, then the identity-number hashes,
    then the parked 12345 orders that named an area just announced are placed."""
    learn = learner(config.tenancies.hasher)
    place = hotline_desk.placer(config)

    async def then(session: Session, delivered: Delivered) -> None:
        await learn(session, delivered)
        await place(session, delivered)

    return registry_policy(REGISTRY_POLICY_NAME, then=then)


async def answer_closed_records(session: Session, delivered: Delivered) -> None:
    """Records the integration service opened are kept (a dispute a signal of theirs became
    too); when one is resolved or dismissed, the order it answers gets its reply — or, while
    that order is not known yet, the closing waits for it (:mod:`.hotline_records`)."""
    event, envelope = delivered.event, delivered.envelope
    ours = envelope.actor.id == hotline.SERVICE.id
    closing: Closing | None = None
    if isinstance(event, ConflictSignalReported) and ours:
        await RECORDS.opened(session, event.signal_id, AnjuRecord.SIGNAL)
    elif isinstance(event, DisputeRegistered):
        if ours:
            await RECORDS.opened(session, event.dispute_id, AnjuRecord.DISPUTE)
        elif event.signal_id is not None:
            await RECORDS.opened(
                session, event.dispute_id, AnjuRecord.DISPUTE, from_signal=event.signal_id
            )
    elif isinstance(event, ConflictSignalConverted):
        await RECORDS.opened(
            session, event.dispute_id, AnjuRecord.DISPUTE, from_signal=event.signal_id
        )
    elif isinstance(event, DisputeResolved):
        closing = Closing(
            record=AnjuRecord.DISPUTE,
            record_id=event.dispute_id,
            outcome=ReplyOutcome.RESOLVED,
            text=event.outcome,
            handled_at=event.resolved_at,
        )
    elif isinstance(event, ConflictSignalDismissed):
        closing = Closing(
            record=AnjuRecord.SIGNAL,
            record_id=event.signal_id,
            outcome=ReplyOutcome.DISMISSED,
            text=event.reason,
            handled_at=envelope.occurred_at,
        )
    if closing is None:
        return
    order_id = await RECORDS.closed(session, closing)
    if order_id is not None:
        context = Context(
            actor=hotline.SERVICE,
            correlation_id=envelope.correlation_id,
            causation_id=str(envelope.id),
        )
        await hotline.answer_order(session, order_id, closing, context=context)


MEDIATION_POLICY = Policy(
    name="integration_mediation", catalogs=[MEDIATION], handle=answer_closed_records
)
"""Keys the policy's inbox rows, dead letters and consumer group offsets: never rename it."""
