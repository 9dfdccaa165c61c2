"""The meeting register: joint party-building meetings (党建联席会), Fengqiao-hut meetings
(枫桥小屋) and the others, with the organisations that attended, what they decided and the work
items each decision became.

A meeting belongs to the community (or grid) it was held for; a caller sees it when their areas
reach it. Its day is the day it was held, or (while only scheduled) the UTC day it was called
for. The work items under a decision are those the caller may see (``work_items``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from uuid import UUID

import asyncpg

from anju_query.application.models import Page, ReadModel
from anju_query.application.paging import page_total
from anju_query.application.scope import Params, Scope
from anju_query.application.work_items import (
    ItemFilter,
    OrganisationRef,
    WorkItemSummary,
    matching_items,
)

MeetingStatus = Literal["scheduled", "held"]
MinutesStatus = Literal["none", "draft", "confirmed"]


class Decision(ReadModel):
    id: UUID
    text: str
    recorded_by: str
    recorded_at: datetime
    items: list[WorkItemSummary]
    """The work items it became (those the caller may see)."""


class MeetingItem(ReadModel):
    id: UUID
    kind: str
    title: str
    community_id: UUID
    grid_id: UUID | None
    status: MeetingStatus
    on: date
    """The day it was held (or, while scheduled, the UTC day it is called for)."""
    scheduled_for: datetime | None
    held_on: date | None
    place: str | None
    convener: str
    organisations: list[OrganisationRef]
    """The partner organisations that attended (or, while scheduled, were invited)."""
    attendees: int
    """How many people attended (their names stay in governance)."""
    agenda: list[str]
    minutes: MinutesStatus
    """Whether minutes were written, and whether the convener confirmed them (immutable)."""
    minutes_confirmed_at: datetime | None
    corrections: int
    """Corrections of the confirmed minutes (new facts beside them)."""
    decisions: list[Decision]
    """In the order the meeting took them."""


@dataclass(frozen=True)
class MeetingFilter:
    community_id: UUID | None = None
    kind: str | None = None
    from_date: date | None = None
    to_date: date | None = None


async def meeting_register(
    conn: asyncpg.Connection,
    scope: Scope,
    search: MeetingFilter,
    *,
    limit: int,
    offset: int,
    now: datetime,
) -> Page[MeetingItem]:
    """Meetings, the latest first, each with its decisions and their work items."""
    p = Params()
    where = [scope.where(p, "m.community_id", "m.grid_id")]
    if search.community_id is not None:
        where.append(f"m.community_id = {p(search.community_id)}")
    if search.kind is not None:
        where.append(f"m.kind = {p(search.kind)}")
    if search.from_date is not None:
        where.append(f"m.on_date >= {p(search.from_date)}")
    if search.to_date is not None:
        where.append(f"m.on_date <= {p(search.to_date)}")
    condition = " AND ".join(where)
    counting = [*p.values]
    meetings = await conn.fetch(
        f"""
        SELECT m.* FROM governance.meetings m WHERE {condition}
        ORDER BY m.on_date DESC, m.meeting_id LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    total = await page_total(
        conn,
        len(meetings),
        limit,
        offset,
        f"SELECT count(*) FROM governance.meetings m WHERE {condition}",
        counting,
    )
    meeting_ids = [m["meeting_id"] for m in meetings]
    decisions = await conn.fetch(
        """
        SELECT * FROM governance.decisions WHERE meeting_id = ANY($1::uuid[])
        ORDER BY sequence
        """,
        meeting_ids,
    )
    organisation_ids = sorted({o for m in meetings for o in m["organisation_ids"]})
    names = {
        r["organisation_id"]: r["name"]
        for r in await conn.fetch(
            """
            SELECT organisation_id, name FROM residents.organisations
            WHERE organisation_id = ANY($1::uuid[])
            """,
            organisation_ids,
        )
    }
    items: dict[UUID, list[WorkItemSummary]] = {}
    if decisions:
        search_items = ItemFilter(decision_ids=tuple(d["decision_id"] for d in decisions))
        for item in await matching_items(conn, scope, search_items, now=now):
            items.setdefault(item.source.id, []).append(item)
    by_meeting: dict[UUID, list[Decision]] = {}
    for d in decisions:
        by_meeting.setdefault(d["meeting_id"], []).append(
            Decision(
                id=d["decision_id"],
                text=d["text"],
                recorded_by=d["recorded_by"],
                recorded_at=d["recorded_at"],
                items=items.get(d["decision_id"], []),
            )
        )
    return Page[MeetingItem](
        items=[
            MeetingItem(
                id=m["meeting_id"],
                kind=m["kind"],
                title=m["title"],
                community_id=m["community_id"],
                grid_id=m["grid_id"],
                status=m["status"],
                on=m["on_date"],
                scheduled_for=m["scheduled_for"],
                held_on=m["held_on"],
                place=m["place"],
                convener=m["convener"],
                organisations=[
                    OrganisationRef(id=o, name=names.get(o)) for o in m["organisation_ids"]
                ],
                attendees=m["attendees"],
                agenda=json.loads(m["agenda"]),
                minutes=m["minutes"],
                minutes_confirmed_at=m["minutes_confirmed_at"],
                corrections=m["corrections"],
                decisions=by_meeting.get(m["meeting_id"], []),
            )
            for m in meetings
        ],
        total=total,
        limit=limit,
        offset=offset,
    )
