"""Handlers for conflict signals: report, dismiss, convert into a dispute."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from pydantic import BaseModel

from anju_contracts.mediation import Category, Location, Party, ReporterRole
from anju_mediation.application.aggregates import DISPUTES, SIGNALS
from anju_mediation.application.commands import ConvertSignal, DismissSignal, ReportSignal
from anju_mediation.domain import disputes, signals
from anju_mediation.domain.disputes import Slas
from anju_mediation.domain.signals import SignalStatus
from eventkit.commands import Accepted, Caller
from eventkit.known import (
    Known,
    require_known,
    visible_location,
    visible_residents,
)
from eventkit.store import Store


async def report_signal(
    store: Store, cmd: ReportSignal, caller: Caller, *, known: Known, now: datetime
) -> Accepted:
    async with SIGNALS.create(store, caller, "report_signal") as w:
        location = await visible_location(known, w.session, cmd.area_id, caller)
        involved = cmd.involved_resident_ids
        require_known(involved, await visible_residents(known, w.session, involved, caller))
        w.emit(
            signals.report(
                w.id,
                reporter_id=caller.principal.sub,
                reporter_role=cmd.reporter_role,
                location=location,
                category=cmd.category,
                description=cmd.description,
                involved_resident_ids=involved,
                now=now,
            )
        )
    return w.accepted


async def dismiss_signal(
    store: Store, signal_id: UUID, cmd: DismissSignal, caller: Caller
) -> Accepted:
    async with SIGNALS.update(
        store, signal_id, caller, "dismiss_signal", cmd.expected_version
    ) as w:
        w.emit(signals.dismiss(w.state, reason=cmd.reason))
    return w.accepted


async def convert_signal(
    store: Store,
    signal_id: UUID,
    cmd: ConvertSignal,
    caller: Caller,
    *,
    known: Known,
    now: datetime,
    slas: Slas,
) -> Accepted:
    """The signal becomes a dispute; both facts commit together (the answer names the dispute)."""
    dispute_id = uuid4()
    async with SIGNALS.update(
        store, signal_id, caller, "convert_signal", cmd.expected_version
    ) as w:
        signal = w.state
        w.emit(signals.convert(signal, dispute_id=dispute_id))
        parties = [Party.model_validate(p.model_dump()) for p in cmd.parties]
        named = [p.resident_id for p in parties if p.resident_id is not None]
        registered = disputes.register(
            dispute_id,
            signal_id=signal_id,
            channel=cmd.channel,
            category=cmd.category or signal.category,
            description=cmd.description or signal.description,
            location=signal.location,
            parties=parties,
            sensitivity=cmd.sensitivity,
            tier=cmd.tier,
            known_residents=await visible_residents(known, w.session, named, caller),
            now=now,
            slas=slas,
        )
        dispute = disputes.fold(registered)
        assert dispute is not None
        result = await w.append_to(
            DISPUTES, dispute_id, 0, registered, guard=DISPUTES.guard(dispute)
        )
        w.answer_with(result, dispute_id)
    return w.accepted


# -- the service's own view of a signal ----------------------------------------------------------


class SignalView(BaseModel):
    """A conflict signal as mediation knows it now."""

    id: UUID
    status: SignalStatus
    category: Category
    description: str
    location: Location
    involved_resident_ids: list[UUID]
    reporter_id: str
    reporter_role: ReporterRole | None
    reported_at: datetime | None
    dispute_id: UUID | None
    version: int


async def view_signal(store: Store, signal_id: UUID, caller: Caller) -> SignalView:
    signal, stream = await SIGNALS.read(store, signal_id, caller, "read_signal")
    return SignalView(
        id=signal.id,
        status=signal.status,
        category=signal.category,
        description=signal.description,
        location=signal.location,
        involved_resident_ids=list(signal.involved_resident_ids),
        reporter_id=signal.reporter_id,
        reporter_role=signal.reporter_role,
        reported_at=signal.reported_at,
        dispute_id=signal.dispute_id,
        version=stream.version,
    )
