"""The station's lectures and activities (gatherings) with their attendance, and the opinion log:
each opinion raised at an opinion-gathering session and what became of it.

A gathering or an opinion belongs to the community (or grid) of the desk that recorded it; the
caller sees it when their areas reach that place. Dates are the day a gathering was held, and
the UTC day an opinion was raised.

What became of an opinion: still *open*; *answered* at the desk (the reply); *referred to
mediation* — then the conflict signal mediation reported for it (the signal whose ``origin`` is
the opinion), and whether that signal was converted into a dispute (its id) or dismissed; or
*referred to governance*. The signal is shown to callers who may read signals and whose areas
reach it, as on ``GET /signals``. It is found when read, so a signal that reached the query
service before the station's referral (two topics, no order between them) is shown as soon as
both are there.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from uuid import UUID

import asyncpg

from anju_contracts.station import GatheringKind, OpinionDestination
from anju_query.application.models import Page, ReadModel
from anju_query.application.permissions import PERMISSIONS, READ_SIGNALS
from anju_query.application.scope import Params, Scope
from anju_query.application.signals import SignalStatus

# -- gatherings -------------------------------------------------------------------------------


class GatheringItem(ReadModel):
    id: UUID
    kind: GatheringKind
    topic: str
    speaker: str | None
    held_on: date
    attendance: int
    partner_id: UUID | None
    """The partner organisation that co-hosted it."""
    partner_name: str | None
    """From the registry's organisations (``None`` until it is known here)."""
    community_id: UUID
    grid_id: UUID | None
    opinions: int
    """Opinions raised at it (an opinion-gathering session), as far as the caller sees them."""


class KindTotal(ReadModel):
    count: int
    attendance: int


class StationGatherings(Page[GatheringItem]):
    """Gatherings, latest held first; totals over all the filter matches (not only the page)."""

    attendance: int
    by_kind: dict[GatheringKind, KindTotal]
    """Every kind, with zeros for those not held."""


@dataclass(frozen=True)
class GatheringFilter:
    community_id: UUID | None = None
    kind: GatheringKind | None = None
    from_date: date | None = None
    to_date: date | None = None


async def station_gatherings(
    conn: asyncpg.Connection, scope: Scope, search: GatheringFilter, *, limit: int, offset: int
) -> StationGatherings:
    p = Params()
    where = [scope.where(p, "g.community_id", "g.grid_id")]
    if search.community_id is not None:
        where.append(f"g.community_id = {p(search.community_id)}")
    if search.kind is not None:
        where.append(f"g.kind = {p(search.kind.value)}")
    if search.from_date is not None:
        where.append(f"g.held_on >= {p(search.from_date)}")
    if search.to_date is not None:
        where.append(f"g.held_on <= {p(search.to_date)}")
    condition = " AND ".join(where)
    totals = await conn.fetch(
        f"""
        SELECT g.kind, count(*) AS n, coalesce(sum(g.attendance), 0) AS attendance
        FROM station.gatherings g WHERE {condition} GROUP BY g.kind
        """,
        *p.values,
    )
    opinions_seen = scope.where(p, "o.community_id", "o.grid_id")
    rows = await conn.fetch(
        f"""
        SELECT g.*, org.name AS partner_name,
               (SELECT count(*) FROM station.opinions o
                WHERE o.gathering_id = g.gathering_id AND {opinions_seen}) AS opinions
        FROM station.gatherings g
        LEFT JOIN residents.organisations org ON org.organisation_id = g.partner_id
        WHERE {condition}
        ORDER BY g.held_on DESC, g.recorded_at DESC, g.gathering_id
        LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    by_kind = dict.fromkeys(GatheringKind, KindTotal(count=0, attendance=0))
    for t in totals:
        by_kind[GatheringKind(t["kind"])] = KindTotal(count=t["n"], attendance=t["attendance"])
    return StationGatherings(
        items=[_gathering(r) for r in rows],
        total=sum(k.count for k in by_kind.values()),
        limit=limit,
        offset=offset,
        attendance=sum(k.attendance for k in by_kind.values()),
        by_kind=by_kind,
    )


def _gathering(r: Mapping[str, Any]) -> GatheringItem:
    return GatheringItem(
        id=r["gathering_id"],
        kind=r["kind"],
        topic=r["topic"],
        speaker=r["speaker"],
        held_on=r["held_on"],
        attendance=r["attendance"],
        partner_id=r["partner_id"],
        partner_name=r["partner_name"],
        community_id=r["community_id"],
        grid_id=r["grid_id"],
        opinions=r["opinions"],
    )


# -- the opinion log ----------------------------------------------------------------------------

OpinionStatus = Literal["open", "answered", "referred_to_mediation", "referred_to_governance"]


class OpinionGathering(ReadModel):
    """The session the opinion was raised at."""

    id: UUID
    kind: GatheringKind | None
    topic: str | None
    held_on: date | None
    """``None`` until the station's record of the session is here (or beyond the caller's
    areas)."""


class OpinionSignal(ReadModel):
    """The conflict signal mediation reported for an opinion referred to it."""

    id: UUID
    status: SignalStatus
    """``reported`` (not decided yet), ``converted`` into a dispute, or ``dismissed``."""
    dispute_id: UUID | None


class OpinionItem(ReadModel):
    id: UUID
    gathering: OpinionGathering
    text: str
    resident_id: UUID | None
    """The resident who raised it, when known."""
    community_id: UUID
    grid_id: UUID | None
    recorded_by: str
    raised_at: datetime
    status: OpinionStatus
    reply: str | None
    answered_by: str | None
    answered_at: datetime | None
    referred_to: OpinionDestination | None
    referred_by: str | None
    referred_at: datetime | None
    signal: OpinionSignal | None
    """For one referred to mediation: its signal, once mediation reported it."""


class StationOpinions(Page[OpinionItem]):
    """Opinions, latest raised first; counted per status over all the filter matches."""

    by_status: dict[OpinionStatus, int]


@dataclass(frozen=True)
class OpinionFilter:
    community_id: UUID | None = None
    status: OpinionStatus | None = None
    from_date: date | None = None
    to_date: date | None = None


_STATUS = """
    CASE o.status WHEN 'referred' THEN 'referred_to_' || o.referred_to ELSE o.status END
"""
STATUSES: tuple[OpinionStatus, ...] = (
    "open",
    "answered",
    "referred_to_mediation",
    "referred_to_governance",
)


async def station_opinions(
    conn: asyncpg.Connection, scope: Scope, search: OpinionFilter, *, limit: int, offset: int
) -> StationOpinions:
    p = Params()
    where = [scope.where(p, "o.community_id", "o.grid_id")]
    if search.community_id is not None:
        where.append(f"o.community_id = {p(search.community_id)}")
    if search.status is not None:
        where.append(f"({_STATUS}) = {p(search.status)}")
    if search.from_date is not None:
        where.append(f"o.raised_on >= {p(search.from_date)}")
    if search.to_date is not None:
        where.append(f"o.raised_on <= {p(search.to_date)}")
    condition = " AND ".join(where)
    counts = await conn.fetch(
        f"SELECT {_STATUS} AS status, count(*) AS n FROM station.opinions o WHERE {condition}"
        " GROUP BY 1",
        *p.values,
    )
    gathering_seen = scope.where(p, "g.community_id", "g.grid_id")
    signal_seen = (
        scope.where(p, "x.community_id", "x.grid_id")
        if PERMISSIONS.allows(scope.principal, READ_SIGNALS)
        else "false"
    )
    rows = await conn.fetch(
        f"""
        SELECT o.*, {_STATUS} AS status_now, g.kind AS gathering_kind, g.topic AS gathering_topic,
               g.held_on AS gathering_held_on, s.signal_id, s.status AS signal_status,
               s.dispute_id
        FROM station.opinions o
        LEFT JOIN station.gatherings g ON g.gathering_id = o.gathering_id AND {gathering_seen}
        LEFT JOIN LATERAL (
            SELECT x.signal_id, x.status, x.dispute_id FROM disputes.signals x
            WHERE o.status = 'referred' AND o.referred_to = 'mediation'
              AND x.origin_id = o.opinion_id AND x.origin_record = 'opinion'
              AND x.origin_source = 'station' AND {signal_seen}
            ORDER BY x.reported_at, x.signal_id LIMIT 1
        ) s ON true
        WHERE {condition}
        ORDER BY o.raised_at DESC, o.opinion_id
        LIMIT {p(limit)} OFFSET {p(offset)}
        """,
        *p.values,
    )
    by_status: dict[OpinionStatus, int] = dict.fromkeys(STATUSES, 0)
    for c in counts:
        by_status[c["status"]] = c["n"]
    return StationOpinions(
        items=[_opinion(r) for r in rows],
        total=sum(by_status.values()),
        limit=limit,
        offset=offset,
        by_status=by_status,
    )


def _opinion(r: Mapping[str, Any]) -> OpinionItem:
    return OpinionItem(
        id=r["opinion_id"],
        gathering=OpinionGathering(
            id=r["gathering_id"],
            kind=r["gathering_kind"],
            topic=r["gathering_topic"],
            held_on=r["gathering_held_on"],
        ),
        text=r["text"],
        resident_id=r["resident_id"],
        community_id=r["community_id"],
        grid_id=r["grid_id"],
        recorded_by=r["recorded_by"],
        raised_at=r["raised_at"],
        status=r["status_now"],
        reply=r["reply"],
        answered_by=r["answered_by"],
        answered_at=r["answered_at"],
        referred_to=r["referred_to"],
        referred_by=r["referred_by"],
        referred_at=r["referred_at"],
        signal=None
        if r["signal_id"] is None
        else OpinionSignal(
            id=r["signal_id"], status=r["signal_status"], dispute_id=r["dispute_id"]
        ),
    )
