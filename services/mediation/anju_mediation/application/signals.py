"""Handlers for conflict signals: report, dismiss, convert into a dispute; and the signal the
service reports by itself for an opinion the station's desk referred to mediation."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

from pydantic import BaseModel

from anju_contracts.mediation import (
    SOURCE,
    Category,
    Location,
    Party,
    ReporterRole,
    SignalOrigin,
)
from anju_contracts.registry import AreaPath
from anju_contracts.station import OpinionDestination, OpinionReferred
from anju_mediation.application.aggregates import DISPUTES, SERVICE_ACTOR, SIGNALS
from anju_mediation.application.commands import ConvertSignal, DismissSignal, ReportSignal
from anju_mediation.domain import disputes, signals
from anju_mediation.domain.disputes import Slas
from anju_mediation.domain.signals import SignalStatus
from eventkit.commands import Accepted, Caller, area_of, counted
from eventkit.errors import AreaNotFound
from eventkit.known import (
    Known,
    require_known,
    visible_location,
    visible_residents,
)
from eventkit.messages import Delivered
from eventkit.store import Context, Store, StoreSession


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


# -- an opinion the station's desk referred to mediation ------------------------------------------


async def opinion_location(known: Known, session: StoreSession, path: AreaPath) -> Location:
    """Where the opinion was raised: the most specific area of ``path`` mediation knows.

    The station's topic and the registry's are not ordered with each other, so a referral may
    name an area (a new building) before mediation has learnt it: the signal is then placed at
    the nearest area above it that mediation knows, up to the community. Only when not even the
    community is known is the referral refused (:class:`AreaNotFound`): the policy tries it a
    few times, then sets it aside as a dead letter, to be replayed once the registry's news has
    arrived.
    """
    for area_id in (path.unit_id, path.building_id, path.grid_id, path.community_id):
        if area_id is None:
            continue
        location = await known.location(session, area_id)
        if location is not None:
            return location
    raise AreaNotFound(
        "the opinion's community is not known (as the registry has announced)",
        area_id=str(path.community_id),
    )


async def report_referred_opinion(
    session: StoreSession, delivered: Delivered, *, known: Known
) -> None:
    """Policy handler on ``station.events``: an opinion referred to mediation becomes a signal
    reported by the desk, linked back to the opinion; any other station event changes nothing.

    Exactly once: the signal's id is made of the opinion's, and a signal that already exists is
    left as it is, so a referral delivered again — even after the policy's inbox was reset —
    reports nothing more. The mediator gives the category when converting the signal.
    """
    event = delivered.event
    if not isinstance(event, OpinionReferred) or event.to != OpinionDestination.MEDIATION:
        return
    signal_id = signals.signal_id_of_opinion(event.opinion_id)
    stream = await session.load(SIGNALS.stream(signal_id))
    if stream.exists:
        return
    with counted(SOURCE, "report_referred_opinion"):
        location = await opinion_location(known, session, event.path)
        involved: list[UUID] = []
        if event.resident_id is not None:
            involved = list(await known.residents(session, [event.resident_id]))
        events = signals.report(
            signal_id,
            reporter_id=event.referred_by,
            reporter_role=ReporterRole.DESK_STAFF,
            location=location,
            category=Category.OTHER,
            description=signals.opinion_description(event.text, event.note),
            involved_resident_ids=involved,
            now=event.referred_at,
            origin=signals.opinion_origin(event.opinion_id),
        )
        context = Context(
            actor=SERVICE_ACTOR,
            correlation_id=delivered.envelope.correlation_id,
            causation_id=str(delivered.envelope.id),
        )
        await session.append(stream.id, 0, events, context=context, area=area_of(location.path))


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
    origin: SignalOrigin | None
    """The record of another service the signal came from (an opinion raised at the station)."""
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
        origin=signal.origin,
        dispute_id=signal.dispute_id,
        version=stream.version,
    )
