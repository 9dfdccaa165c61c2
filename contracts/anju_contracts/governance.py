"""Events of governance: joint meetings, their decisions, and the work list supervised until done.

Topic ``governance.events``, key = stream id. Streams:

- ``meeting-<uuid>``: one meeting of the community with its partners — a joint party-building
  meeting (党建联席会), a micro-governance meeting in the Fengqiao hut (枫桥小屋), a property
  coordination meeting, or another kind the service is configured with: scheduled, held (who
  convened it, which organisations and people attended, the agenda), minutes recorded and
  confirmed by the convener (then immutable: a correction is a new fact), decisions;
- ``item-<uuid>``: one work item (工作清单) with its source link — a meeting's decision, a
  dispute escalated to the community tier (learned from ``mediation.events``), an opinion
  referred by the station — an owner organisation and co-organisations, a responsible person,
  a deadline and a priority: assigned, received (签收) within a time limit, progress, a
  completion report, verification by someone other than the owner (验收), closed (销号),
  reopened within a window, or withdrawn when what opened it no longer stands (an escalation
  mediation withdrew); deadline extensions by the convener with a reason; and the
  supervision (督办) the scheduler derives, once per colour and deadline: blue when receipt is
  late, yellow when the deadline is near, red when it has passed.

Every envelope's ``area`` is the community (or grid) the meeting or item belongs to. A partner
organisation's liaison sees only the items their organisation owns or co-owns.
"""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Annotated, ClassVar
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from anju_contracts.base import Event, EventCatalog, Personal, sealed_upcasters
from anju_contracts.registry import AreaPath

SOURCE = "governance"


class MeetingKind(StrEnum):
    """The kinds of meeting every community holds; a service may be configured with more
    (``MeetingScheduled.kind`` is then another lower-case code)."""

    JOINT_PARTY_BUILDING = "joint_party_building"
    """党建联席会: the community, the paired unit, the housing security centre, the police, the
    property company."""
    FENGQIAO_HUT = "fengqiao_hut"
    """枫桥小屋: micro-governance on hot, hard and focal problems."""
    PROPERTY_COORDINATION = "property_coordination"
    """物业协调会"""


MEETING_KIND_PATTERN = r"^[a-z][a-z0-9_]{1,49}$"


class WorkItemSource(StrEnum):
    """The service whose record a work item came from."""

    GOVERNANCE = "governance"
    MEDIATION = "mediation"
    STATION = "station"


class SourceRecord(StrEnum):
    """The kind of record a work item came from."""

    DECISION = "decision"
    DISPUTE = "dispute"
    OPINION = "opinion"


class SourceLink(BaseModel):
    """Where a work item came from: ``governance/decision/<decision id>``,
    ``mediation/dispute/<dispute id>``, ``station/opinion/<opinion id>``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source: WorkItemSource
    record: SourceRecord
    id: UUID


class Priority(StrEnum):
    LOW = "low"
    NORMAL = "normal"
    HIGH = "high"
    URGENT = "urgent"


class WorkItemStatus(StrEnum):
    """Where a work item stands (derived from its events; no event carries it)."""

    UNASSIGNED = "unassigned"
    """No owner yet (an escalated dispute, a referred opinion): waiting for an assignment."""
    ASSIGNED = "assigned"
    """The owner must sign for receipt by ``receipt_due_by``."""
    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    """Progress reported, or back to work after a failed verification or a reopen."""
    COMPLETION_REPORTED = "completion_reported"
    VERIFIED = "verified"
    CLOSED = "closed"
    WITHDRAWN = "withdrawn"
    """Off the work list without being done: what opened it no longer stands (an escalation to
    the community tier that mediation withdrew). Terminal, like ``closed``, but neither on time
    nor late: no supervision, no completion figure."""


class SupervisionColour(StrEnum):
    """督办: blue — receipt late; yellow — deadline near; red — overdue."""

    BLUE = "blue"
    YELLOW = "yellow"
    RED = "red"


class NoticeRecipientRole(StrEnum):
    DIRECTOR = "director"
    LIAISON = "liaison"


class NoticeRecipient(BaseModel):
    """Who a red supervision notice goes to: the community's director, and the owner
    organisation's liaison (by name and role as the registry knows them)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: NoticeRecipientRole
    community_id: UUID | None = None
    """For the director: the community whose director is meant."""
    organisation_id: UUID | None = None
    """For a liaison: the organisation they speak for."""
    name: Annotated[str | None, Personal] = Field(default=None, max_length=50)
    title: str | None = Field(default=None, max_length=50)
    """The liaison's role at their organisation."""


# -- meetings ----------------------------------------------------------------------------------


class MeetingScheduled(Event):
    """A meeting was called: its kind, when, who convenes it, which partner organisations and
    people are invited, and the agenda."""

    event_type: ClassVar[str] = "governance.MeetingScheduled"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    meeting_id: UUID
    kind: str = Field(pattern=MEETING_KIND_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    path: AreaPath
    scheduled_for: datetime
    place: str | None = Field(default=None, max_length=200)
    convener: str = Field(min_length=1, max_length=100)
    """The staff id of the convener: only they confirm the minutes and extend the deadlines of
    the meeting's work items."""
    organisation_ids: list[UUID] = Field(default_factory=list, max_length=50)
    attendees: list[Annotated[str, Personal]] = Field(default_factory=list, max_length=200)
    agenda: list[str] = Field(default_factory=list, max_length=50)
    scheduled_at: datetime


class MeetingHeld(Event):
    """The meeting took place: who actually attended, what was on the agenda. A meeting may be
    recorded as held without being scheduled first (a ledger brought in from paper); the fields
    then say everything ``MeetingScheduled`` would have."""

    event_type: ClassVar[str] = "governance.MeetingHeld"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    meeting_id: UUID
    kind: str = Field(pattern=MEETING_KIND_PATTERN)
    title: str = Field(min_length=1, max_length=200)
    path: AreaPath
    held_on: date
    place: str | None = Field(default=None, max_length=200)
    convener: str = Field(min_length=1, max_length=100)
    organisation_ids: list[UUID] = Field(default_factory=list, max_length=50)
    attendees: list[Annotated[str, Personal]] = Field(default_factory=list, max_length=200)
    agenda: list[str] = Field(default_factory=list, max_length=50)
    recorded_by: str
    recorded_at: datetime


class MinutesRecorded(Event):
    """The minutes were written down (again, replacing the draft, until they are confirmed)."""

    event_type: ClassVar[str] = "governance.MinutesRecorded"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    meeting_id: UUID
    minutes: Annotated[str, Personal] = Field(min_length=1, max_length=20000)
    recorded_by: str
    recorded_at: datetime


class MinutesConfirmed(Event):
    """The convener confirmed the minutes: from now on they never change; a correction is a
    new fact (``MinutesCorrected``)."""

    event_type: ClassVar[str] = "governance.MinutesConfirmed"

    meeting_id: UUID
    confirmed_by: str
    confirmed_at: datetime


class MinutesCorrected(Event):
    """A correction to confirmed minutes, with its reason; the minutes as confirmed stand."""

    event_type: ClassVar[str] = "governance.MinutesCorrected"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    meeting_id: UUID
    correction: Annotated[str, Personal] = Field(min_length=1, max_length=5000)
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=500)
    corrected_by: str
    corrected_at: datetime


class DecisionRecorded(Event):
    """The meeting decided something; work items name the decision as their source."""

    event_type: ClassVar[str] = "governance.DecisionRecorded"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    meeting_id: UUID
    decision_id: UUID
    text: Annotated[str, Personal] = Field(min_length=1, max_length=2000)
    recorded_by: str
    recorded_at: datetime


# -- work items --------------------------------------------------------------------------------


class WorkItemOpened(Event):
    """A problem got onto the work list, with its source, its place, a deadline and a
    priority; with an owner organisation (then it must sign for receipt by
    ``receipt_due_by``) or without (then it waits for ``WorkItemAssigned``)."""

    event_type: ClassVar[str] = "governance.WorkItemOpened"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    item_id: UUID
    title: str = Field(min_length=1, max_length=200)
    description: Annotated[str | None, Personal] = Field(default=None, max_length=4000)
    source: SourceLink
    meeting_id: UUID | None = None
    """The meeting whose decision this is (for ``governance/decision`` items)."""
    path: AreaPath
    sensitive: bool = False
    """Seen only by directors (an item from a sensitive dispute)."""
    owner_organisation_id: UUID | None = None
    co_organisation_ids: list[UUID] = Field(default_factory=list, max_length=20)
    responsible: Annotated[str | None, Personal] = Field(default=None, max_length=100)
    """The person at the owner who answers for the item."""
    deadline: datetime
    priority: Priority = Priority.NORMAL
    receipt_due_by: datetime | None = None
    """When the owner must have signed for receipt; null while there is no owner."""
    convener: str | None = None
    """Who may extend the deadline: the meeting's convener; null: any director of the place."""
    opened_by: str
    opened_at: datetime


class WorkItemAssigned(Event):
    """An item got (or changed) its owner organisation, co-organisations and responsible
    person; the owner must sign for receipt by ``receipt_due_by``."""

    event_type: ClassVar[str] = "governance.WorkItemAssigned"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    item_id: UUID
    owner_organisation_id: UUID
    co_organisation_ids: list[UUID] = Field(default_factory=list, max_length=20)
    responsible: Annotated[str | None, Personal] = Field(default=None, max_length=100)
    receipt_due_by: datetime
    assigned_by: str
    assigned_at: datetime


class WorkItemReceived(Event):
    """签收: the owner signed for the item (``late`` when after ``receipt_due_by``)."""

    event_type: ClassVar[str] = "governance.WorkItemReceived"

    item_id: UUID
    owner_organisation_id: UUID
    received_by: str
    received_at: datetime
    late: bool


class ProgressReported(Event):
    """The owner reported how far the work has come."""

    event_type: ClassVar[str] = "governance.ProgressReported"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    item_id: UUID
    note: Annotated[str, Personal] = Field(min_length=1, max_length=2000)
    percent: int | None = Field(default=None, ge=0, le=100)
    reported_by: str
    reported_at: datetime


class CompletionReported(Event):
    """The owner reports the work done; it waits for verification by someone else."""

    event_type: ClassVar[str] = "governance.CompletionReported"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    item_id: UUID
    summary: Annotated[str, Personal] = Field(min_length=1, max_length=2000)
    reported_by: str
    reported_at: datetime
    on_time: bool
    """Reported by the deadline then in force."""


class WorkItemVerified(Event):
    """验收: someone other than the owner checked the work and accepts it."""

    event_type: ClassVar[str] = "governance.WorkItemVerified"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    item_id: UUID
    verified_by: str
    note: Annotated[str | None, Personal] = Field(default=None, max_length=2000)
    verified_at: datetime


class VerificationFailed(Event):
    """The work was checked and is not done: back to the owner, with the reason."""

    event_type: ClassVar[str] = "governance.VerificationFailed"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    item_id: UUID
    verified_by: str
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=2000)
    failed_at: datetime


class WorkItemClosed(Event):
    """销号: the verified item is struck off the list (``on_time``: its completion was
    reported by the deadline in force)."""

    event_type: ClassVar[str] = "governance.WorkItemClosed"

    item_id: UUID
    closed_by: str
    closed_at: datetime
    on_time: bool


class WorkItemReopened(Event):
    """A closed item came back within the reopen window (the problem returned), with a new
    deadline."""

    event_type: ClassVar[str] = "governance.WorkItemReopened"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    item_id: UUID
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=2000)
    deadline: datetime
    reopened_by: str
    reopened_at: datetime


class WorkItemWithdrawn(Event):
    """The item came off the work list without being done, because what opened it no longer
    stands: the escalation of dispute ``dispute_id`` to the community tier was withdrawn
    (``mediation.DisputeEscalationsWithdrawn``: a fact from a paper ledger, dated before that
    automatic escalation, shows the dispute was still being worked below the community then).
    Terminal: no supervision is raised for it, it counts as neither closed on time nor late, and
    nothing more happens to it; its history stays. An item closed (销号) before the withdrawal
    came in stays closed."""

    event_type: ClassVar[str] = "governance.WorkItemWithdrawn"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    item_id: UUID
    dispute_id: UUID
    """The dispute whose escalation to the community tier opened the item."""
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=500)
    withdrawn_by: str
    withdrawn_at: datetime


class DeadlineExtended(Event):
    """The convener moved the deadline, with a reason kept in the item's history."""

    event_type: ClassVar[str] = "governance.DeadlineExtended"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    item_id: UUID
    from_deadline: datetime
    to_deadline: datetime
    reason: Annotated[str, Personal] = Field(min_length=1, max_length=1000)
    extended_by: str
    extended_at: datetime


class SupervisionRaised(Event):
    """督办, derived by the scheduler once per colour and deadline: ``blue`` receipt is late
    (``due_by`` is the receipt deadline), ``yellow`` the deadline is near, ``red`` it has passed
    (``due_by`` is the item's deadline); a red notice names the community's director and the
    owner organisation's liaisons."""

    event_type: ClassVar[str] = "governance.SupervisionRaised"
    event_version: ClassVar[int] = 2  # personal fields sealed on the wire

    item_id: UUID
    colour: SupervisionColour
    due_by: datetime
    owner_organisation_id: UUID | None = None
    notify: list[NoticeRecipient] = Field(default_factory=list, max_length=30)
    raised_at: datetime


EVENTS: tuple[type[Event], ...] = (
    MeetingScheduled,
    MeetingHeld,
    MinutesRecorded,
    MinutesConfirmed,
    MinutesCorrected,
    DecisionRecorded,
    WorkItemOpened,
    WorkItemAssigned,
    WorkItemReceived,
    ProgressReported,
    CompletionReported,
    WorkItemVerified,
    VerificationFailed,
    WorkItemClosed,
    WorkItemReopened,
    WorkItemWithdrawn,
    DeadlineExtended,
    SupervisionRaised,
)

SEALED: tuple[type[Event], ...] = (
    MeetingScheduled,
    MeetingHeld,
    MinutesRecorded,
    MinutesCorrected,
    DecisionRecorded,
    WorkItemOpened,
    WorkItemAssigned,
    ProgressReported,
    CompletionReported,
    WorkItemVerified,
    VerificationFailed,
    WorkItemReopened,
    WorkItemWithdrawn,
    DeadlineExtended,
    SupervisionRaised,
)
"""The events whose personal fields are sealed since version 2 (docs/personal-data.md): v1
held them in clear, and reads as v2 unchanged."""

CATALOG = EventCatalog(SOURCE, EVENTS, upcasters=sealed_upcasters(SEALED))
