"""The work list (工作清单) as the query answers it: the board, one item with its history, the
items overdue now.

A work item belongs to the community (or grid) it was opened in and is tied to its owner and
co-organisations: a caller sees it when their areas reach it, a partner's liaison only when it
is also one of their organisations' (the one access policy, ``Scope.where_tied``), and an item
from a sensitive dispute only directors see.

Its supervision colour is the most pressing one the scheduler raised for the deadline in force,
while the work is still the owner's to do (unassigned, assigned, received, in progress): red
(overdue) before yellow (deadline near); blue (receipt late) while it waits for the owner to
sign for it. A deadline extension leaves the colours of the old deadline behind; a reported
completion stops the clock until it is verified or sent back. An item is *overdue now* when the
work is still the owner's to do and its deadline (as extended) has passed. A *withdrawn* item
(the escalation that opened it was withdrawn: the dispute never reached the community) is no
one's work: no colour, never overdue, listed after the closed ones.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from anju_contracts.governance import (
    Priority,
    SourceLink,
    SupervisionColour,
    WorkItemSource,
    WorkItemStatus,
)
from anju_query.application.models import Page, ReadModel
from anju_query.application.scope import Params, Scope

ACTIVE = (
    WorkItemStatus.UNASSIGNED,
    WorkItemStatus.ASSIGNED,
    WorkItemStatus.RECEIVED,
    WorkItemStatus.IN_PROGRESS,
)
"""The work is still the owner's to do: the deadline's clock runs."""

_ACTIVE_SQL = "(" + ", ".join(f"'{s.value}'" for s in ACTIVE) + ")"

COLOUR_SQL = f"""
    CASE WHEN i.status IN {_ACTIVE_SQL} THEN (
        SELECT CASE
            WHEN bool_or(s.colour = 'red' AND s.due_by = i.deadline) THEN 'red'
            WHEN bool_or(s.colour = 'yellow' AND s.due_by = i.deadline) THEN 'yellow'
            WHEN i.status = 'assigned'
                 AND bool_or(s.colour = 'blue' AND s.due_by = i.receipt_due_by) THEN 'blue'
        END
        FROM governance.item_supervisions s WHERE s.item_id = i.item_id)
    END"""
"""An item's (alias ``i``) supervision colour now, or NULL."""


class OrganisationRef(ReadModel):
    id: UUID
    name: str | None
    """As the registry names it (null until its organisation is known here)."""


class WorkItemSummary(ReadModel):
    """One row of the work-list board."""

    id: UUID
    title: str
    community_id: UUID
    grid_id: UUID | None
    source: SourceLink
    """Where the item came from: a meeting's decision, an escalated dispute, an opinion."""
    meeting_id: UUID | None
    sensitive: bool
    owner: OrganisationRef | None
    """Null while nobody owns it (an escalated dispute waiting for an assignment)."""
    co_organisations: list[OrganisationRef]
    responsible: str | None
    """The person at the owner who answers for the item."""
    deadline: datetime
    """As extended (and as set again by a reopening)."""
    priority: Priority
    status: WorkItemStatus
    colour: SupervisionColour | None
    """The supervision in force (督办): blue receipt late, yellow deadline near, red overdue."""
    overdue: bool
    """Now: still the owner's to do, and the deadline has passed."""
    receipt_due_by: datetime | None
    received_at: datetime | None
    received_late: bool | None
    percent: int | None
    """The last progress reported, in percent."""
    opened_at: datetime
    closed_at: datetime | None
    closed_on_time: bool | None
    """Its completion was reported by the deadline then in force."""
    withdrawn_at: datetime | None
    """When it came off the list without being done (status ``withdrawn``)."""
    reopens: int
    extensions: int


class HistoryEntry(ReadModel):
    """One fact of the item's stream."""

    sequence: int
    what: str
    """The event's type (``WorkItemReceived``, ``DeadlineExtended``, ``SupervisionRaised``...)."""
    who: str
    """The staff id (or liaison) who did it; the scheduler's id for a supervision."""
    when: datetime
    """When it happened (business time)."""
    reason: str | None
    """A deadline extension's, a failed verification's, a reopening's."""
    details: dict[str, Any]
    """The facts it set: deadlines, owner and co-organisations, a colour, on time or late."""


class WorkItemDetail(WorkItemSummary):
    """An item with its source, its state in full and every event of its history, in order."""

    decision: str | None
    """The text of the decision it came from, when its meeting is known here."""
    completion_reported_at: datetime | None
    completed_on_time: bool | None
    verified_at: datetime | None
    verification_failures: int
    opened_by: str
    convener: str | None
    """Who may extend the deadline (null: any director of the place)."""
    history: list[HistoryEntry]


class WorkItemBoard(Page[WorkItemSummary]):
    """The items the filter matches, the most urgent first (open ones by deadline, then the
    closed ones, then the withdrawn ones), and their counts (over all of them, not only the
    page)."""

    by_status: dict[WorkItemStatus, int]
    by_colour: dict[SupervisionColour, int]
    overdue: int


@dataclass(frozen=True)
class ItemFilter:
    community_id: UUID | None = None
    owner_id: UUID | None = None
    status: WorkItemStatus | None = None
    colour: SupervisionColour | None = None
    source: WorkItemSource | None = None
    due_before: datetime | None = None
    overdue: bool | None = None
    decision_ids: tuple[UUID, ...] | None = None


def visible_items(p: Params, scope: Scope, now: datetime) -> str:
    """A subquery of the items the caller may see, with their owner's name, their
    co-organisations (``jsonb``), their colour and whether they are overdue ``now``."""
    seen = scope.where_tied(
        p,
        "i.community_id",
        "i.grid_id",
        organisations="i.organisation_ids",
        sensitive="i.sensitive",
    )
    return f"""
        SELECT i.*, o.name AS owner_name,
            coalesce((
                SELECT jsonb_agg(jsonb_build_object('id', c.id, 'name', co.name) ORDER BY c.n)
                FROM unnest(i.co_organisation_ids) WITH ORDINALITY AS c(id, n)
                LEFT JOIN residents.organisations co ON co.organisation_id = c.id
            ), '[]'::jsonb) AS co_organisations,
            {COLOUR_SQL} AS colour,
            (i.status IN {_ACTIVE_SQL} AND i.deadline < {p(now)}) AS overdue
        FROM governance.work_items i
        LEFT JOIN residents.organisations o ON o.organisation_id = i.owner_organisation_id
        WHERE {seen}
    """


def _conditions(p: Params, search: ItemFilter) -> str:
    where = ["true"]
    if search.community_id is not None:
        where.append(f"x.community_id = {p(search.community_id)}")
    if search.owner_id is not None:
        where.append(f"x.owner_organisation_id = {p(search.owner_id)}")
    if search.status is not None:
        where.append(f"x.status = {p(search.status.value)}")
    if search.colour is not None:
        where.append(f"x.colour = {p(search.colour.value)}")
    if search.source is not None:
        where.append(f"x.source = {p(search.source.value)}")
    if search.due_before is not None:
        where.append(f"x.deadline < {p(search.due_before)}")
    if search.overdue is not None:
        where.append("x.overdue" if search.overdue else "NOT x.overdue")
    if search.decision_ids is not None:
        decisions = p(list(search.decision_ids))
        where.append(f"x.source_record = 'decision' AND x.source_id = ANY({decisions}::uuid[])")
    return " AND ".join(where)


ORDER = "(x.status IN ('closed', 'withdrawn')), (x.status = 'withdrawn'), x.deadline, x.item_id"


async def matching_items(
    conn: asyncpg.Connection,
    scope: Scope,
    search: ItemFilter,
    *,
    now: datetime,
    limit: int | None = None,
    offset: int = 0,
) -> list[WorkItemSummary]:
    p = Params()
    items = visible_items(p, scope, now)
    condition = _conditions(p, search)
    page = "" if limit is None else f"LIMIT {p(limit)} OFFSET {p(offset)}"
    rows = await conn.fetch(
        f"SELECT x.* FROM ({items}) x WHERE {condition} ORDER BY {ORDER} {page}", *p.values
    )
    return [WorkItemSummary.model_validate(_summary(r)) for r in rows]


async def work_item_board(
    conn: asyncpg.Connection,
    scope: Scope,
    search: ItemFilter,
    *,
    limit: int,
    offset: int,
    now: datetime,
) -> WorkItemBoard:
    p = Params()
    items = visible_items(p, scope, now)
    condition = _conditions(p, search)
    counts = await conn.fetch(
        f"""
        SELECT x.status, x.colour, x.overdue, count(*) AS n FROM ({items}) x
        WHERE {condition} GROUP BY 1, 2, 3
        """,
        *p.values,
    )
    by_status = dict.fromkeys(WorkItemStatus, 0)
    by_colour = dict.fromkeys(SupervisionColour, 0)
    for c in counts:
        by_status[WorkItemStatus(c["status"])] += c["n"]
        if c["colour"] is not None:
            by_colour[SupervisionColour(c["colour"])] += c["n"]
    page = await matching_items(conn, scope, search, now=now, limit=limit, offset=offset)
    return WorkItemBoard(
        items=page,
        total=sum(by_status.values()),
        limit=limit,
        offset=offset,
        by_status=by_status,
        by_colour=by_colour,
        overdue=sum(c["n"] for c in counts if c["overdue"]),
    )


async def work_item(
    conn: asyncpg.Connection, scope: Scope, item_id: UUID, *, now: datetime
) -> WorkItemDetail | None:
    """The item with its history, if the caller may see it."""
    p = Params()
    items = visible_items(p, scope, now)
    row = await conn.fetchrow(
        f"""
        SELECT x.*, d.text AS decision FROM ({items}) x
        LEFT JOIN governance.decisions d
               ON x.source_record = 'decision' AND d.decision_id = x.source_id
        WHERE x.item_id = {p(item_id)}
        """,
        *p.values,
    )
    if row is None:
        return None
    history = await conn.fetch(
        """
        SELECT sequence, type, by, occurred_at, reason, details FROM governance.item_history
        WHERE item_id = $1 ORDER BY sequence
        """,
        item_id,
    )
    return WorkItemDetail.model_validate(
        {
            **_summary(row),
            "decision": row["decision"],
            "completion_reported_at": row["completion_reported_at"],
            "completed_on_time": row["completed_on_time"],
            "verified_at": row["verified_at"],
            "verification_failures": row["verification_failures"],
            "opened_by": row["opened_by"],
            "convener": row["convener"],
            "history": [
                HistoryEntry(
                    sequence=h["sequence"],
                    what=h["type"],
                    who=h["by"],
                    when=h["occurred_at"],
                    reason=h["reason"],
                    details=json.loads(h["details"]),
                )
                for h in history
            ],
        }
    )


def _summary(r: Mapping[str, Any]) -> dict[str, Any]:
    owner = r["owner_organisation_id"]
    return {
        "id": r["item_id"],
        "title": r["title"],
        "community_id": r["community_id"],
        "grid_id": r["grid_id"],
        "source": SourceLink(source=r["source"], record=r["source_record"], id=r["source_id"]),
        "meeting_id": r["meeting_id"],
        "sensitive": r["sensitive"],
        "owner": None if owner is None else OrganisationRef(id=owner, name=r["owner_name"]),
        "co_organisations": json.loads(r["co_organisations"]),
        "responsible": r["responsible"],
        "deadline": r["deadline"],
        "priority": r["priority"],
        "status": r["status"],
        "colour": r["colour"],
        "overdue": r["overdue"],
        "receipt_due_by": r["receipt_due_by"],
        "received_at": r["received_at"],
        "received_late": r["received_late"],
        "percent": r["percent"],
        "opened_at": r["opened_at"],
        "closed_at": r["closed_at"],
        "closed_on_time": r["closed_on_time"],
        "withdrawn_at": r["withdrawn_at"],
        "reopens": r["reopens"],
        "extensions": r["extensions"],
    }
