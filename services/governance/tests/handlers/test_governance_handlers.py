"""Governance handlers on the in-memory store: a meeting from its schedule to confirmed minutes
and a decision on the work list, the item's lifecycle as its liaison and the director do it, a
red notice from a deadline fired twice, and scoping — no PostgreSQL, no broker."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import pytest

from anju_contracts import Actor
from anju_contracts.governance import CATALOG, MeetingKind, SupervisionRaised
from anju_contracts.registry import (
    AreaKind,
    AreaPath,
    Liaison,
    Location,
    OrganisationKind,
    OrganisationRegistered,
)
from anju_governance.application import items, meetings
from anju_governance.application.aggregates import OVERDUE
from anju_governance.application.config import GovernanceConfig
from anju_governance.application.items import (
    CloseItem,
    ReceiveItem,
    ReportCompletion,
    Verify,
)
from anju_governance.application.meetings import (
    CallMeeting,
    ConfirmMinutes,
    HoldMeeting,
    OpenItem,
    RecordDecision,
    RecordMinutes,
)
from anju_governance.application.mirror import MemoryMirror
from anju_governance.application.reactions import deadline_handlers
from anju_governance.domain.errors import (
    MeetingNotFound,
    UnknownMeetingKind,
    WorkItemNotFound,
)
from eventkit.auth import Principal, Role
from eventkit.commands import Caller
from eventkit.errors import AreaNotFound, Forbidden, OrganisationNotFound
from eventkit.known import MemoryKnown
from eventkit.memory import MemoryEventStore
from eventkit.scheduler import Deadline
from eventkit.store import Context

COMMUNITY, OTHER = uuid4(), uuid4()
NOW = datetime(2026, 5, 6, 9, 0, tzinfo=UTC)


def caller(
    *roles: Role,
    areas: tuple[UUID, ...] = (COMMUNITY,),
    sub: str = "director-1",
    organisations: tuple[UUID, ...] = (),
) -> Caller:
    principal = Principal(
        sub=sub,
        roles=roles,
        areas=tuple(str(a) for a in areas),
        organisations=tuple(str(o) for o in organisations),
    )
    return Caller(principal, Context(actor=Actor(id=sub, roles=tuple(map(str, roles)))))


DIRECTOR = caller(Role.DIRECTOR)
FAR_DIRECTOR = caller(Role.DIRECTOR, areas=(OTHER,), sub="director-9")


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> datetime:
        return self.now


class Board:
    def __init__(self) -> None:
        self.store = MemoryEventStore(CATALOG)
        self.known = MemoryKnown()
        self.mirror = MemoryMirror()
        self.clock = Clock()
        self.cfg = GovernanceConfig(
            clock=self.clock,
            known=self.known,
            meeting_kinds=frozenset(str(k) for k in MeetingKind),
            mirror=self.mirror,
        )
        for community in (COMMUNITY, OTHER):
            path = AreaPath(community_id=community)
            self.known.locations[community] = Location(
                area_id=community, kind=AreaKind.COMMUNITY, path=path
            )
        self.owner = uuid4()
        registered = OrganisationRegistered(
            organisation_id=self.owner,
            kind=OrganisationKind.PROPERTY_COMPANY,
            name="安居物业",
            community_ids=[COMMUNITY],
            liaisons=[Liaison(name="周强", role="项目经理")],
        )
        self.known.learn(registered)
        self.mirror.organisation_liaisons[self.owner] = list(registered.liaisons)
        self.liaison = caller(Role.LIAISON, sub="liaison-1", organisations=(self.owner,))

    async def decision(self) -> tuple[UUID, UUID]:
        cmd = CallMeeting(
            kind="fengqiao_hut",
            title="枫桥小屋议事",
            area_id=COMMUNITY,
            scheduled_for=NOW + timedelta(days=1),
            organisation_ids=[self.owner],
        )
        meeting_id = UUID((await meetings.call_meeting(self.store, cmd, DIRECTOR, self.cfg)).id)
        self.clock.now += timedelta(days=1)
        await meetings.hold_meeting(self.store, meeting_id, HoldMeeting(), DIRECTOR, self.cfg)
        decided = await meetings.record_decision(
            self.store, meeting_id, RecordDecision(text="清理楼道"), DIRECTOR, self.cfg
        )
        assert decided.sub_id is not None
        return meeting_id, UUID(decided.sub_id)

    async def item(self, days: float = 10) -> UUID:
        meeting_id, decision_id = await self.decision()
        cmd = OpenItem(
            title="清理楼道杂物",
            owner_organisation_id=self.owner,
            deadline=self.clock.now + timedelta(days=days),
        )
        answer = await meetings.open_decision_item(
            self.store, meeting_id, decision_id, cmd, DIRECTOR, self.cfg
        )
        return UUID(answer.id)


async def test_a_meeting_is_held_its_minutes_confirmed_and_its_decision_listed() -> None:
    b = Board()
    meeting_id, decision_id = await b.decision()
    await meetings.record_minutes(
        b.store, meeting_id, RecordMinutes(minutes="议定"), DIRECTOR, b.cfg
    )
    await meetings.confirm_minutes(b.store, meeting_id, ConfirmMinutes(), DIRECTOR, b.cfg)
    view = await meetings.view_meeting(b.store, meeting_id, DIRECTOR)
    assert (view.minutes_confirmed, view.decisions[0].id) == (True, decision_id)
    assert view.organisation_ids == [b.owner]
    with pytest.raises(MeetingNotFound):
        await meetings.view_meeting(b.store, meeting_id, FAR_DIRECTOR)
    bad = CallMeeting(kind="tea_party", title="t", area_id=COMMUNITY, held_on=NOW.date())
    with pytest.raises(UnknownMeetingKind):
        await meetings.call_meeting(b.store, bad, DIRECTOR, b.cfg)
    far = CallMeeting(kind="fengqiao_hut", title="t", area_id=OTHER, held_on=NOW.date())
    with pytest.raises(AreaNotFound):
        await meetings.call_meeting(b.store, far, DIRECTOR, b.cfg)
    unknown = CallMeeting(
        kind="fengqiao_hut",
        title="t",
        area_id=COMMUNITY,
        held_on=NOW.date(),
        organisation_ids=[uuid4()],
    )
    with pytest.raises(OrganisationNotFound):
        await meetings.call_meeting(b.store, unknown, DIRECTOR, b.cfg)


async def test_an_item_from_receipt_to_closing() -> None:
    b = Board()
    item_id = await b.item()
    await items.receive(b.store, item_id, ReceiveItem(), b.liaison, b.cfg)
    await items.report_completion(
        b.store, item_id, ReportCompletion(summary="已清理"), b.liaison, b.cfg
    )
    with pytest.raises(Forbidden):
        await items.verify(b.store, item_id, Verify(), b.liaison, b.cfg)
    await items.verify(b.store, item_id, Verify(), DIRECTOR, b.cfg)
    await items.close(b.store, item_id, CloseItem(), DIRECTOR, b.cfg)
    view = await items.view_item(b.store, item_id, b.liaison, b.cfg)
    assert view.status == "closed"
    stranger = caller(Role.LIAISON, sub="liaison-2", organisations=(uuid4(),))
    with pytest.raises(WorkItemNotFound):
        await items.view_item(b.store, item_id, stranger, b.cfg)


async def test_a_red_deadline_fired_twice_raises_one_notice_naming_director_and_liaison() -> None:
    b = Board()
    item_id = await b.item()
    item = await items.view_item(b.store, item_id, DIRECTOR, b.cfg)
    handler = deadline_handlers(b.cfg)[OVERDUE]
    deadline = Deadline(OVERDUE, str(item_id), item.deadline, {"due_by": item.deadline.isoformat()})
    for _ in range(2):
        async with b.store.session() as session:
            await handler(session, deadline)  # type: ignore[arg-type]
    stream = await b.store.load(f"item-{item_id}")
    raised = [e for e in stream.payloads if isinstance(e, SupervisionRaised)]
    assert len(raised) == 1
    assert [(n.role, n.name) for n in raised[0].notify] == [
        ("director", None),
        ("liaison", "周强"),
    ]
