"""The integration service's reactions to other services' events: it learns the registry's areas,
residents and organisations (``eventkit.known``) and keeps a keyed hash of each resident's
identity number for the tenancy flow (never the number); and it answers a 12345 work order
when the mediation record it became closes.
"""

from __future__ import annotations

from anju_contracts.integration import AnjuRecord, ReplyOutcome
from anju_contracts.mediation import (
    CATALOG as MEDIATION,
    ConflictSignalConverted,
    ConflictSignalDismissed,
    DisputeResolved,
)
from anju_integration.application import hotline
from anju_integration.application.tenancy_tables import IdHasher, learner
from eventkit.known import registry_policy
from eventkit.messages import Delivered
from eventkit.policy import Policy
from eventkit.store import Context, Session

REGISTRY_POLICY_NAME = "integration_registry"
"""Keys the policy's inbox rows, dead letters and consumer group offsets: never rename it."""


def registry(hasher: IdHasher) -> Policy:
    """The policy on ``registry.events``: the kernel's mirror, then the identity-number hashes."""
    return registry_policy(REGISTRY_POLICY_NAME, then=learner(hasher))


async def answer_closed_records(session: Session, delivered: Delivered) -> None:
    """A dispute resolved or a signal dismissed that a 12345 order became: the order's reply.
    A signal turned into a dispute hands the order on to the dispute."""
    event, conn = delivered.event, session.conn
    envelope = delivered.envelope
    context = Context(
        actor=hotline.SERVICE,
        correlation_id=envelope.correlation_id,
        causation_id=str(envelope.id),
    )
    if isinstance(event, ConflictSignalConverted):
        order_id = await hotline.order_of(conn, event.signal_id)
        if order_id is not None:
            await hotline.note_record(conn, event.dispute_id, order_id, AnjuRecord.DISPUTE)
    elif isinstance(event, DisputeResolved):
        order_id = await hotline.order_of(conn, event.dispute_id)
        if order_id is not None:
            await hotline.answer_order(
                session,
                order_id,
                outcome=ReplyOutcome.RESOLVED,
                text=event.outcome,
                handled_at=event.resolved_at,
                record=AnjuRecord.DISPUTE,
                record_id=event.dispute_id,
                context=context,
            )
    elif isinstance(event, ConflictSignalDismissed):
        order_id = await hotline.order_of(conn, event.signal_id)
        if order_id is not None:
            await hotline.answer_order(
                session,
                order_id,
                outcome=ReplyOutcome.DISMISSED,
                text=event.reason,
                handled_at=envelope.occurred_at,
                record=AnjuRecord.SIGNAL,
                record_id=event.signal_id,
                context=context,
            )


MEDIATION_POLICY = Policy(
    name="integration_mediation", catalogs=[MEDIATION], handle=answer_closed_records
)
"""Keys the policy's inbox rows, dead letters and consumer group offsets: never rename it."""
