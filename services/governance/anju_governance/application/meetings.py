"""Meetings: scheduled or recorded held, minutes, their confirmation and corrections, decisions
and the work items a decision opens."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time
from uuid import UUID, uuid4

from pydantic import AwareDatetime, BaseModel, Field, model_validator

from anju_contracts import Event
from anju_contracts.governance import (
    MEETING_KIND_PATTERN,
    DecisionRecorded,
    Priority,
    SourceLink,
    SourceRecord,
    WorkItemSource,
)
from anju_governance.application.aggregates import MEETINGS
from anju_governance.application.config import GovernanceConfig
from anju_governance.domain import items, meetings
from anju_governance.domain.errors import WrongMeetingState
from eventkit.aggregate import not_before
from eventkit.commands import Accepted, Caller, Command, StreamCommand
from eventkit.dates import DateInFuture, DateTooEarly, check_schedule
from eventkit.store import Store

Text = Field(min_length=1, max_length=200)


class MeetingFacts(Command):
    organisation_ids: list[UUID] = Field(default_factory=list, max_length=50)
    attendees: list[str] = Field(default_factory=list, max_length=200)
    agenda: list[str] = Field(default_factory=list, max_length=50)


class CallMeeting(MeetingFacts):
    """Schedule a meeting (``scheduled_for``), or record one already held (``held_on``)."""

    kind: str = Field(pattern=MEETING_KIND_PATTERN)
    title: str = Text
    area_id: UUID = Field(description="The community (or grid) the meeting is of")
    place: str | None = Field(default=None, max_length=200)
    scheduled_for: AwareDatetime | None = None
    held_on: date | None = None

    @model_validator(mode="after")
    def _one_time(self) -> CallMeeting:
        if (self.scheduled_for is None) == (self.held_on is None):
            raise ValueError("give scheduled_for (to schedule) or held_on (held already)")
        return self


class HoldMeeting(StreamCommand):
    """The meeting took place; what is given replaces what was planned."""

    held_on: date | None = Field(default=None, description="Default: today")
    organisation_ids: list[UUID] | None = Field(default=None, max_length=50)
    attendees: list[str] | None = Field(default=None, max_length=200)
    agenda: list[str] | None = Field(default=None, max_length=50)


class RecordMinutes(StreamCommand):
    minutes: str = Field(min_length=1, max_length=20000)


class ConfirmMinutes(StreamCommand):
    pass


class CorrectMinutes(StreamCommand):
    correction: str = Field(min_length=1, max_length=5000)
    reason: str = Field(min_length=1, max_length=500)


class RecordDecision(StreamCommand):
    text: str = Field(min_length=1, max_length=2000)


class OpenItem(Command):
    """A decision onto the work list: owner, co-organisations, the person responsible."""

    title: str = Text
    description: str | None = Field(default=None, max_length=4000)
    owner_organisation_id: UUID | None = None
    co_organisation_ids: list[UUID] = Field(default_factory=list, max_length=20)
    responsible: str | None = Field(default=None, max_length=100)
    deadline: AwareDatetime
    priority: Priority = Priority.NORMAL


def _held_on(day: date, now: datetime) -> None:
    if day > now.date():
        raise DateInFuture("held_on is in the future", field="held_on", value=day.isoformat())
    if day < date(now.year - 10, 1, 1):
        raise DateTooEarly("held_on is too long ago", field="held_on", value=day.isoformat())


async def call_meeting(
    store: Store, cmd: CallMeeting, caller: Caller, cfg: GovernanceConfig
) -> Accepted:
    cfg.check_kind(cmd.kind)
    now = caller.now(cfg.clock)
    async with MEETINGS.create(store, caller, "schedule_meeting") as w:
        plan = meetings.Plan(
            kind=cmd.kind,
            title=cmd.title,
            path=await cfg.place(w.session, cmd.area_id, caller),
            convener=caller.principal.sub,
            place=cmd.place,
            organisation_ids=tuple(
                await cfg.organisations(w.session, cmd.organisation_ids, caller)
            ),
            attendees=tuple(cmd.attendees),
            agenda=tuple(cmd.agenda),
        )
        if cmd.held_on is not None:
            _held_on(cmd.held_on, now)
            w.emit(
                meetings.hold(
                    None, w.id, plan, held_on=cmd.held_on, recorded_by=plan.convener, now=now
                )
            )
        else:
            assert cmd.scheduled_for is not None
            check_schedule(cmd.scheduled_for, now=now, field="scheduled_for")
            w.emit(meetings.schedule(None, w.id, plan, scheduled_for=cmd.scheduled_for, now=now))
    return w.accepted


async def hold_meeting(
    store: Store, meeting_id: UUID, cmd: HoldMeeting, caller: Caller, cfg: GovernanceConfig
) -> Accepted:
    now = caller.now(cfg.clock)
    async with MEETINGS.update(
        store, meeting_id, caller, "record_meeting", cmd.expected_version
    ) as w:
        plan = w.state.plan
        if cmd.organisation_ids is not None:
            ids = await cfg.organisations(w.session, cmd.organisation_ids, caller)
            plan = replace(plan, organisation_ids=tuple(ids))
        if cmd.attendees is not None:
            plan = replace(plan, attendees=tuple(cmd.attendees))
        if cmd.agenda is not None:
            plan = replace(plan, agenda=tuple(cmd.agenda))
        held_on = cmd.held_on or now.date()
        _held_on(held_on, now)
        w.emit(
            meetings.hold(
                w.state,
                meeting_id,
                plan,
                held_on=held_on,
                recorded_by=caller.principal.sub,
                now=now,
            )
        )
    return w.accepted


async def record_minutes(
    store: Store, meeting_id: UUID, cmd: RecordMinutes, caller: Caller, cfg: GovernanceConfig
) -> Accepted:
    return await MEETINGS.act(
        store,
        meeting_id,
        caller,
        "record_meeting",
        cmd.expected_version,
        lambda m: meetings.record_minutes(
            m, minutes=cmd.minutes, by=caller.principal.sub, now=caller.now(cfg.clock)
        ),
    )


async def confirm_minutes(
    store: Store, meeting_id: UUID, cmd: ConfirmMinutes, caller: Caller, cfg: GovernanceConfig
) -> Accepted:
    return await MEETINGS.act(
        store,
        meeting_id,
        caller,
        "confirm_minutes",
        cmd.expected_version,
        lambda m: meetings.confirm_minutes(m, by=caller.principal.sub, now=caller.now(cfg.clock)),
    )


async def correct_minutes(
    store: Store, meeting_id: UUID, cmd: CorrectMinutes, caller: Caller, cfg: GovernanceConfig
) -> Accepted:
    return await MEETINGS.act(
        store,
        meeting_id,
        caller,
        "correct_minutes",
        cmd.expected_version,
        lambda m: meetings.correct_minutes(
            m,
            correction=cmd.correction,
            reason=cmd.reason,
            by=caller.principal.sub,
            now=caller.now(cfg.clock),
        ),
    )


async def record_decision(
    store: Store, meeting_id: UUID, cmd: RecordDecision, caller: Caller, cfg: GovernanceConfig
) -> Accepted:
    decision_id = uuid4()
    async with MEETINGS.update(
        store, meeting_id, caller, "record_meeting", cmd.expected_version
    ) as w:
        w.emit(
            meetings.record_decision(
                w.state,
                decision_id,
                text=cmd.text,
                by=caller.principal.sub,
                now=caller.now(cfg.clock),
            )
        )
        w.sub_id = decision_id
    return w.accepted


def _decides(event: Event, decision_id: UUID) -> bool:
    return isinstance(event, DecisionRecorded) and event.decision_id == decision_id


async def open_decision_item(
    store: Store,
    meeting_id: UUID,
    decision_id: UUID,
    cmd: OpenItem,
    caller: Caller,
    cfg: GovernanceConfig,
) -> Accepted:
    """A decision becomes a work item of the meeting's place, its deadline extended only by
    the meeting's convener."""
    now = caller.now(cfg.clock)
    async with cfg.items.create(store, caller, "open_work_item") as w:
        meeting, stream = await MEETINGS.load(w.session, meeting_id, caller)
        meeting.decision(decision_id)
        # never dated before the decision it comes from was taken
        not_before(next((r for r in stream.events if _decides(r.event, decision_id)), None), caller)
        if meeting.held_on is None:
            raise WrongMeetingState("the meeting has not been held", meeting_id=str(meeting_id))
        owners = [o for o in (cmd.owner_organisation_id,) if o is not None]
        await cfg.organisations(w.session, [*owners, *cmd.co_organisation_ids], caller)
        opening = items.Opening(
            title=cmd.title,
            description=cmd.description,
            source=SourceLink(
                source=WorkItemSource.GOVERNANCE, record=SourceRecord.DECISION, id=decision_id
            ),
            meeting_id=meeting_id,
            path=meeting.path,
            owner=cmd.owner_organisation_id,
            co_organisations=tuple(cmd.co_organisation_ids),
            responsible=cmd.responsible,
            deadline=cmd.deadline,
            priority=cmd.priority,
            convener=meeting.convener,
        )
        since = datetime.combine(meeting.held_on, time.min, tzinfo=UTC)
        w.emit(
            items.open_item(
                w.id,
                opening,
                by=caller.principal.sub,
                since=since,
                now=now,
                receipt=cfg.rules.receipt,
            )
        )
    return w.accepted


class DecisionView(BaseModel):
    id: UUID
    text: str


class MeetingView(BaseModel):
    id: UUID
    kind: str
    title: str
    community_id: UUID
    grid_id: UUID | None
    convener: str
    place: str | None
    scheduled_for: datetime | None
    held_on: date | None
    organisation_ids: list[UUID]
    attendees: list[str]
    agenda: list[str]
    minutes: str | None
    minutes_confirmed: bool
    corrections: list[str]
    decisions: list[DecisionView]
    version: int


async def view_meeting(store: Store, meeting_id: UUID, caller: Caller) -> MeetingView:
    m, stream = await MEETINGS.read(store, meeting_id, caller, "read_meeting")
    return MeetingView(
        id=m.id,
        kind=m.plan.kind,
        title=m.plan.title,
        community_id=m.path.community_id,
        grid_id=m.path.grid_id,
        convener=m.convener,
        place=m.plan.place,
        scheduled_for=m.scheduled_for,
        held_on=m.held_on,
        organisation_ids=list(m.plan.organisation_ids),
        attendees=list(m.plan.attendees),
        agenda=list(m.plan.agenda),
        minutes=m.minutes,
        minutes_confirmed=m.confirmed,
        corrections=list(m.corrections),
        decisions=[DecisionView(id=i, text=t) for i, t in m.decisions],
        version=stream.version,
    )
