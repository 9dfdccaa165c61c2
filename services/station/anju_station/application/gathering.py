"""Handlers for lectures and activities, and the opinions raised at opinion-gathering sessions."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import BaseModel, Field

from anju_contracts.station import GatheringKind, OpinionDestination
from anju_station.application.aggregates import GATHERINGS, OPINIONS
from anju_station.application.desk import StationConfig, place
from anju_station.domain import gatherings
from anju_station.domain.gatherings import OpinionStatus
from eventkit.commands import Accepted, Caller, Command, StreamCommand
from eventkit.known import require_known, visible_organisation, visible_residents
from eventkit.store import Store


class RecordGathering(Command):
    area_id: UUID = Field(description="The community (or grid) it was held for")
    kind: GatheringKind
    topic: str = Field(min_length=1, max_length=200)
    speaker: str | None = Field(default=None, max_length=100)
    held_on: date = Field(description="The day it was held: today or earlier")
    attendance: int = Field(ge=0, le=100_000)
    partner_id: UUID | None = Field(
        default=None, description="A partner organisation of the registry that co-hosted it"
    )


class RaiseOpinion(Command):
    text: str = Field(min_length=1, max_length=2000)
    resident_id: UUID | None = Field(default=None, description="None when given anonymously")


class AnswerOpinion(StreamCommand):
    reply: str = Field(min_length=1, max_length=2000)


class ReferOpinion(StreamCommand):
    to: OpinionDestination
    note: str | None = Field(default=None, max_length=500)


async def record_gathering(
    store: Store, cmd: RecordGathering, caller: Caller, cfg: StationConfig
) -> Accepted:
    async with GATHERINGS.create(store, caller, "record_gathering") as w:
        path = await place(cfg, w.session, cmd.area_id, caller)
        if cmd.partner_id is not None:
            await visible_organisation(cfg.known, w.session, cmd.partner_id, caller)
        w.emit(
            gatherings.hold(
                w.id,
                kind=cmd.kind,
                topic=cmd.topic,
                speaker=cmd.speaker,
                held_on=cmd.held_on,
                attendance=cmd.attendance,
                partner_id=cmd.partner_id,
                path=path,
                staff_id=caller.principal.sub,
                now=caller.now(cfg.clock),
            )
        )
    return w.accepted


class GatheringView(BaseModel):
    id: UUID
    kind: GatheringKind
    topic: str
    speaker: str | None
    held_on: date
    attendance: int
    partner_id: UUID | None
    community_id: UUID
    grid_id: UUID | None


async def view_gathering(store: Store, gathering_id: UUID, caller: Caller) -> GatheringView:
    g, _ = await GATHERINGS.read(store, gathering_id, caller, "read_gathering")
    return GatheringView(
        id=g.id,
        kind=g.kind,
        topic=g.topic,
        speaker=g.speaker,
        held_on=g.held_on,
        attendance=g.attendance,
        partner_id=g.partner_id,
        community_id=g.path.community_id,
        grid_id=g.path.grid_id,
    )


async def raise_opinion(
    store: Store, gathering_id: UUID, cmd: RaiseOpinion, caller: Caller, cfg: StationConfig
) -> Accepted:
    """An opinion raised at the session; the answer's ``id`` names the opinion."""
    async with OPINIONS.create(store, caller, "raise_opinion") as w:
        gathering, _ = await GATHERINGS.load(w.session, gathering_id, caller)
        if cmd.resident_id is not None:
            found = await visible_residents(cfg.known, w.session, [cmd.resident_id], caller)
            require_known([cmd.resident_id], found)
        w.emit(
            gatherings.raise_opinion(
                w.id,
                gathering=gathering,
                text=cmd.text,
                resident_id=cmd.resident_id,
                staff_id=caller.principal.sub,
                now=caller.now(cfg.clock),
            )
        )
    return w.accepted


async def answer_opinion(
    store: Store, opinion_id: UUID, cmd: AnswerOpinion, caller: Caller, cfg: StationConfig
) -> Accepted:
    return await OPINIONS.act(
        store,
        opinion_id,
        caller,
        "settle_opinion",
        cmd.expected_version,
        lambda o: gatherings.answer(
            o, reply=cmd.reply, staff_id=caller.principal.sub, now=caller.now(cfg.clock)
        ),
    )


async def refer_opinion(
    store: Store, opinion_id: UUID, cmd: ReferOpinion, caller: Caller, cfg: StationConfig
) -> Accepted:
    """Mediation or governance picks the referral up from ``station.events`` and links what it
    opens to the opinion."""
    return await OPINIONS.act(
        store,
        opinion_id,
        caller,
        "settle_opinion",
        cmd.expected_version,
        lambda o: gatherings.refer(
            o, to=cmd.to, note=cmd.note, staff_id=caller.principal.sub, now=caller.now(cfg.clock)
        ),
    )


class OpinionView(BaseModel):
    id: UUID
    gathering_id: UUID
    text: str
    resident_id: UUID | None
    status: OpinionStatus
    referred_to: OpinionDestination | None
    raised_at: datetime
    community_id: UUID
    version: int


async def view_opinion(store: Store, opinion_id: UUID, caller: Caller) -> OpinionView:
    o, stream = await OPINIONS.read(store, opinion_id, caller, "read_opinion")
    return OpinionView(
        id=o.id,
        gathering_id=o.gathering_id,
        text=o.text,
        resident_id=o.resident_id,
        status=o.status,
        referred_to=o.referred_to,
        raised_at=o.raised_at,
        community_id=o.path.community_id,
        version=stream.version,
    )
