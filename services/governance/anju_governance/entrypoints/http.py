"""Governance's HTTP routes: thin — parse, pick the caller's context, call a handler."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter

from anju_governance.application import items, meetings
from anju_governance.application.config import GovernanceConfig
from anju_governance.application.items import (
    AssignItem,
    CloseItem,
    ExtendDeadline,
    FailVerification,
    ItemView,
    ReceiveItem,
    ReopenItem,
    ReportCompletion,
    ReportProgress,
    Verify,
)
from anju_governance.application.meetings import (
    CallMeeting,
    ConfirmMinutes,
    CorrectMinutes,
    HoldMeeting,
    MeetingView,
    OpenItem,
    RecordDecision,
    RecordMinutes,
)
from eventkit.app import CONFIG, CallerDep, CommandRouter, StoreDep
from eventkit.commands import Accepted

ConfigDep = Annotated[GovernanceConfig, CONFIG]

router = APIRouter()
"""The reads: a record as it stands in the service's own store."""

commands = CommandRouter()
"""The commands. They decide on what the service has learnt of the registry, so each may name
the registry's writes it follows by their consistency tokens (``eventkit.app.caught_up``)."""


# -- meetings -------------------------------------------------------------------------------------


@commands.post("/meetings", tags=["meetings"], status_code=201)
async def call_meeting(
    cmd: CallMeeting, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Schedule a meeting (``scheduled_for``) or record one held (``held_on``); the caller
    convenes it."""
    return await meetings.call_meeting(store, cmd, caller, config)


@router.get("/meetings/{meeting_id}", tags=["meetings"])
async def get_meeting(meeting_id: UUID, store: StoreDep, caller: CallerDep) -> MeetingView:
    """The meeting, its minutes (and corrections) and decisions (404 outside the caller's
    areas)."""
    return await meetings.view_meeting(store, meeting_id, caller)


@commands.post("/meetings/{meeting_id}/held", tags=["meetings"], status_code=201)
async def hold_meeting(
    meeting_id: UUID, cmd: HoldMeeting, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """The scheduled meeting took place: who attended, what was on the agenda."""
    return await meetings.hold_meeting(store, meeting_id, cmd, caller, config)


@commands.post("/meetings/{meeting_id}/minutes", tags=["meetings"], status_code=201)
async def record_minutes(
    meeting_id: UUID, cmd: RecordMinutes, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """The minutes, replacing the draft until the convener confirms them."""
    return await meetings.record_minutes(store, meeting_id, cmd, caller, config)


@commands.post("/meetings/{meeting_id}/minutes/confirmation", tags=["meetings"], status_code=201)
async def confirm_minutes(
    meeting_id: UUID, cmd: ConfirmMinutes, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """The convener confirms the minutes: from now on they never change."""
    return await meetings.confirm_minutes(store, meeting_id, cmd, caller, config)


@commands.post("/meetings/{meeting_id}/minutes/corrections", tags=["meetings"], status_code=201)
async def correct_minutes(
    meeting_id: UUID, cmd: CorrectMinutes, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """A correction of confirmed minutes, with its reason: a new fact beside them."""
    return await meetings.correct_minutes(store, meeting_id, cmd, caller, config)


@commands.post("/meetings/{meeting_id}/decisions", tags=["meetings"], status_code=201)
async def record_decision(
    meeting_id: UUID, cmd: RecordDecision, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """A decision of the meeting (its id is the answer's ``sub_id``)."""
    return await meetings.record_decision(store, meeting_id, cmd, caller, config)


@commands.post(
    "/meetings/{meeting_id}/decisions/{decision_id}/items", tags=["items"], status_code=201
)
async def open_item(
    meeting_id: UUID,
    decision_id: UUID,
    cmd: OpenItem,
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
) -> Accepted:
    """The decision onto the work list: owner, co-organisations, responsible person, deadline
    and priority."""
    return await meetings.open_decision_item(store, meeting_id, decision_id, cmd, caller, config)


# -- work items -----------------------------------------------------------------------------------


@router.get("/items/{item_id}", tags=["items"])
async def get_item(
    item_id: UUID, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> ItemView:
    """The item as it stands, its supervision colour and its whole history (for a liaison, only
    the items their organisation owns or co-owns)."""
    return await items.view_item(store, item_id, caller, config)


@commands.post("/items/{item_id}/assignment", tags=["items"], status_code=201)
async def assign(
    item_id: UUID, cmd: AssignItem, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Give an item its owner (who must then sign for it in time), co-organisations and the
    person responsible."""
    return await items.assign(store, item_id, cmd, caller, config)


@commands.post("/items/{item_id}/receipt", tags=["items"], status_code=201)
async def receive(
    item_id: UUID, cmd: ReceiveItem, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """签收: the owner signs for the item."""
    return await items.receive(store, item_id, cmd, caller, config)


@commands.post("/items/{item_id}/progress", tags=["items"], status_code=201)
async def report_progress(
    item_id: UUID, cmd: ReportProgress, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await items.report_progress(store, item_id, cmd, caller, config)


@commands.post("/items/{item_id}/completion", tags=["items"], status_code=201)
async def report_completion(
    item_id: UUID, cmd: ReportCompletion, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """The owner reports the work done; it waits for verification."""
    return await items.report_completion(store, item_id, cmd, caller, config)


@commands.post("/items/{item_id}/verification", tags=["items"], status_code=201)
async def verify(
    item_id: UUID, cmd: Verify, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """验收 by someone other than the owner."""
    return await items.verify(store, item_id, cmd, caller, config)


@commands.post("/items/{item_id}/verification-failure", tags=["items"], status_code=201)
async def fail_verification(
    item_id: UUID, cmd: FailVerification, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """The work is not done: back to the owner, with the reason."""
    return await items.fail_verification(store, item_id, cmd, caller, config)


@commands.post("/items/{item_id}/closing", tags=["items"], status_code=201)
async def close(
    item_id: UUID, cmd: CloseItem, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """销号: strike the verified item off the list."""
    return await items.close(store, item_id, cmd, caller, config)


@commands.post("/items/{item_id}/reopening", tags=["items"], status_code=201)
async def reopen(
    item_id: UUID, cmd: ReopenItem, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """The problem returned: reopen a closed item within the window, with a new deadline."""
    return await items.reopen(store, item_id, cmd, caller, config)


@commands.post("/items/{item_id}/deadline", tags=["items"], status_code=201)
async def extend_deadline(
    item_id: UUID, cmd: ExtendDeadline, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """The convener extends the deadline, with a reason kept in the history."""
    return await items.extend_deadline(store, item_id, cmd, caller, config)
