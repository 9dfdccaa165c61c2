"""Handlers for conflict signals: report, dismiss, convert into a dispute."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from pydantic import BaseModel

from anju_contracts.mediation import SOURCE, Category, Location, Party, ReporterRole
from anju_mediation.application import known
from anju_mediation.application.commands import ConvertSignal, DismissSignal, ReportSignal
from anju_mediation.application.common import (
    Caller,
    append_dispute,
    counted,
    expect,
    load_location,
    load_signal,
    scope_of,
    signal_stream,
)
from anju_mediation.domain import disputes, signals
from anju_mediation.domain.disputes import Slas
from anju_mediation.domain.errors import SignalNotFound, UnknownResident
from anju_mediation.domain.signals import SignalStatus
from eventkit.commands import Accepted, accepted
from eventkit.store import EventStore


async def report_signal(
    store: EventStore, cmd: ReportSignal, caller: Caller, *, now: datetime
) -> Accepted:
    with counted("report_signal"):
        signal_id = uuid4()
        async with store.session() as session:
            location = await load_location(session, cmd.area_id)
            caller.check_write(location.path)
            found = await known.known_residents(session.conn, cmd.involved_resident_ids)
            for resident_id in cmd.involved_resident_ids:
                if resident_id not in found:
                    raise UnknownResident("no such resident", resident_id=str(resident_id))
            events = signals.report(
                signal_id,
                reporter_id=caller.principal.sub,
                reporter_role=cmd.reporter_role,
                location=location,
                category=cmd.category,
                description=cmd.description,
                involved_resident_ids=cmd.involved_resident_ids,
                now=now,
            )
            result = await session.append(
                signal_stream(signal_id),
                0,
                events,
                context=caller.context,
                area=scope_of(location.path),
            )
        return accepted(SOURCE, str(signal_id), result)


async def dismiss_signal(
    store: EventStore, signal_id: UUID, cmd: DismissSignal, caller: Caller
) -> Accepted:
    with counted("dismiss_signal"):
        async with store.session() as session:
            signal, stream = await load_signal(session, signal_id)
            caller.check_write(signal.location.path)
            version = expect(stream, cmd.expected_version)
            events = signals.dismiss(signal, reason=cmd.reason)
            result = await session.append(
                stream.id,
                version,
                events,
                context=caller.context,
                area=scope_of(signal.location.path),
            )
        return accepted(SOURCE, str(signal_id), result)


async def convert_signal(
    store: EventStore,
    signal_id: UUID,
    cmd: ConvertSignal,
    caller: Caller,
    *,
    now: datetime,
    slas: Slas,
) -> Accepted:
    """The signal becomes a dispute; both facts commit together."""
    with counted("convert_signal"):
        dispute_id = uuid4()
        async with store.session() as session:
            signal, stream = await load_signal(session, signal_id)
            caller.check_write(signal.location.path)
            version = expect(stream, cmd.expected_version)
            converted = signals.convert(signal, dispute_id=dispute_id)
            parties = [Party.model_validate(p.model_dump()) for p in cmd.parties]
            residents = [p.resident_id for p in parties if p.resident_id is not None]
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
                known_residents=await known.known_residents(session.conn, residents),
                now=now,
                slas=slas,
            )
            await session.append(
                stream.id,
                version,
                converted,
                context=caller.context,
                area=scope_of(signal.location.path),
            )
            result = await append_dispute(
                session,
                dispute_id,
                0,
                registered,
                context=caller.context,
                path=signal.location.path,
            )
        return accepted(SOURCE, str(dispute_id), result)


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


async def view_signal(store: EventStore, signal_id: UUID, caller: Caller) -> SignalView:
    async with store.session() as session:
        signal, stream = await load_signal(session, signal_id)
    if not caller.may_act_on(signal.location.path):
        # Outside the caller's areas it does not exist for them.
        raise SignalNotFound("no such signal", signal_id=str(signal_id))
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
