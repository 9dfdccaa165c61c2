"""The dispute board, a dispute's timeline, and mediation statistics.

Who sees what: the caller's area scope (as for residents), and for a *sensitive* dispute only
its assigned mediators and the director (admins too). An assigned mediator sees their disputes
wherever they are.

SLA state of an open dispute: *breached* once its SLA ended (or mediation said so), *at risk*
once a quarter of the time is left, *on track* before; a dispute at ``external`` or no longer
open has none. A resolved dispute says instead whether it was resolved on time
(``resolved_on_time``: by its tier's SLA end, judged from business times).

A dispute opened for a 12345 work order (it, or the signal it came from; the ``hotline`` read
model) names the order and its deadline; its reply is *at risk* while the order is unanswered
and its deadline is less than the configured window away, or passed. An order still parked (no
area known, so no dispute yet) is listed beside the board (:func:`parked_orders`), at risk by
the same rule. The order is read through
the dispute, so who sees the dispute sees its order, and nobody else.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg
from pydantic import Field

from anju_contracts.mediation import Category, MediatorRole, PartyRole, Tier
from anju_query.application.models import (
    DisputeItem,
    DisputeStatus,
    Page,
    ReadModel,
    SlaState,
)
from anju_query.application.paging import page_total
from anju_query.application.scope import Params, Scope
from eventkit.access import visible_sql
from eventkit.auth import Principal, Role


@dataclass(frozen=True)
class Audience:
    """The caller as the dispute read models see them: the kernel's policy with a dispute's
    sensitivity and its active mediators."""

    scope: Scope

    @classmethod
    def of(cls, principal: Principal) -> Audience:
        return cls(Scope.of(principal))

    def where(self, p: Params, t: str = "d") -> str:
        # The kernel's rule with ``assigned``, its "or one of its active mediators" written as
        # the caller's disputes, looked up once (an array the disputes' key index takes, beside
        # the area indexes) rather than a subquery per dispute.
        principal = self.scope.principal
        covered = visible_sql(
            principal,
            p,
            community=f"{t}.community_id",
            grid=f"{t}.grid_id",
            sensitive=f"({t}.sensitivity <> 'standard')",
        )
        if principal.has(Role.ADMIN):
            return covered
        return (
            f"({covered} OR {t}.dispute_id = ANY(ARRAY(SELECT m.dispute_id"
            " FROM disputes.dispute_mediators m"
            f" WHERE m.mediator_id = {p(principal.sub)} AND m.active)))"
        )


def sla_state_sql(p: Params, now: datetime, t: str = "d") -> str:
    at = f"{p(now)}::timestamptz"
    return f"""
        CASE WHEN {t}.status <> 'open' OR {t}.sla_due_by IS NULL THEN NULL
             WHEN {t}.breached OR {t}.sla_due_by <= {at} THEN 'breached'
             WHEN {t}.at_risk
                  OR {at} >= {t}.sla_due_by - ({t}.sla_due_by - {t}.tier_entered_at) / 4
                  THEN 'at_risk'
             ELSE 'on_track' END
    """


class DisputeParty(ReadModel):
    party_id: UUID
    role: PartyRole
    resident_id: UUID | None
    name: str | None


class DisputeMediator(ReadModel):
    mediator_id: str
    role: MediatorRole
    name: str | None
    active: bool


class TimelineEntry(ReadModel):
    sequence: int
    type: str
    occurred_at: datetime
    actor_id: str
    data: dict[str, Any]


class DisputeDetail(ReadModel):
    dispute: DisputeItem
    parties: list[DisputeParty]
    mediators: list[DisputeMediator]
    agreement: bool
    carried_out: bool | None
    satisfaction: float | None
    timeline: list[TimelineEntry]


@dataclass(frozen=True)
class DisputeFilter:
    tier: Tier | None = None
    status: DisputeStatus | None = None
    category: Category | None = None
    area_id: UUID | None = None
    mediator: str | None = None
    sla_state: SlaState | None = None
    resident_id: UUID | None = None
    reply_at_risk: bool | None = None


DEFAULT_REPLY_WINDOW = timedelta(hours=24)

# the 12345 order a dispute answers: opened for it, or from a signal opened for it
_ORDER = """
    LEFT JOIN LATERAL (
        SELECT o.order_id, o.deadline, o.answered_at FROM hotline.orders o
        WHERE o.record_id IN (d.dispute_id, d.signal_id)
        ORDER BY o.record_id = d.dispute_id DESC, o.order_id LIMIT 1
    ) o ON true
"""


def reply_at_risk_sql(p: Params, now: datetime, window: timedelta) -> str:
    return (
        f"(o.order_id IS NOT NULL AND o.answered_at IS NULL"
        f" AND o.deadline <= {p(now + window)}::timestamptz)"
    )


_ITEM = """
    SELECT d.*, {sla} AS sla_state, o.order_id AS hotline_order_id,
        o.deadline AS hotline_deadline, {at_risk} AS reply_at_risk,
        coalesce((SELECT array_agg(m.mediator_id ORDER BY m.mediator_id)
                  FROM disputes.dispute_mediators m
                  WHERE m.dispute_id = d.dispute_id AND m.active), '{{}}') AS mediator_ids
    FROM disputes.disputes d {order}
"""


def _item(r: Any) -> DisputeItem:
    return DisputeItem(
        id=r["dispute_id"],
        category=r["category"],
        channel=r["channel"],
        description=r["description"],
        tier=r["tier"],
        status=r["status"],
        sensitivity=r["sensitivity"],
        area_id=r["area_id"],
        community_id=r["community_id"],
        grid_id=r["grid_id"],
        building_id=r["building_id"],
        registered_at=r["registered_at"],
        sla_due_by=r["sla_due_by"],
        sla_state=r["sla_state"],
        escalations=r["escalations"],
        mediators=list(r["mediator_ids"]),
        resolved_at=r["resolved_at"],
        resolved_on_time=r["resolved_on_time"],
        hotline_order_id=r["hotline_order_id"],
        hotline_deadline=r["hotline_deadline"],
        reply_at_risk=r["reply_at_risk"],
    )


async def dispute_board(
    conn: asyncpg.Connection,
    audience: Audience,
    board: DisputeFilter,
    *,
    limit: int,
    offset: int,
    now: datetime,
    reply_window: timedelta = DEFAULT_REPLY_WINDOW,
) -> Page[DisputeItem]:
    p = Params()
    sla = sla_state_sql(p, now)
    at_risk = reply_at_risk_sql(p, now, reply_window)
    where = [audience.where(p)]
    if board.tier is not None:
        where.append(f"d.tier = {p(board.tier.value)}")
    if board.status is not None:
        where.append(f"d.status = {p(board.status)}")
    if board.category is not None:
        where.append(f"d.category = {p(board.category.value)}")
    if board.area_id is not None:
        area = p(board.area_id)
        where.append(f"{area} IN (d.area_id, d.community_id, d.grid_id, d.building_id)")
    if board.mediator is not None:
        where.append(
            "EXISTS (SELECT 1 FROM disputes.dispute_mediators m WHERE m.dispute_id = "
            f"d.dispute_id AND m.active AND m.mediator_id = {p(board.mediator)})"
        )
    if board.sla_state is not None:
        where.append(f"({sla}) = {p(board.sla_state)}")
    if board.resident_id is not None:
        where.append(
            "EXISTS (SELECT 1 FROM disputes.dispute_parties x WHERE x.dispute_id = "
            f"d.dispute_id AND x.resident_id = {p(board.resident_id)})"
        )
    if board.reply_at_risk is not None:
        where.append(f"{at_risk} = {p(board.reply_at_risk)}")
    condition = " AND ".join(where)
    # the count names every parameter so far too (PostgreSQL must type each one)
    counting = [*p.values]
    rows = await conn.fetch(
        f"""{_ITEM.format(sla=sla, at_risk=at_risk, order=_ORDER)} WHERE {condition}
        ORDER BY d.status = 'open' DESC, d.sla_due_by NULLS LAST, d.registered_at DESC,
                 d.dispute_id
        LIMIT {p(limit)} OFFSET {p(offset)}""",
        *p.values,
    )
    total = await page_total(
        conn,
        len(rows),
        limit,
        offset,
        f"""SELECT count(*) FROM (SELECT {sla}, {at_risk} FROM disputes.disputes d {_ORDER}
            WHERE {condition}) x""",
        counting,
    )
    return Page(items=[_item(r) for r in rows], total=total, limit=limit, offset=offset)


class ParkedOrderItem(ReadModel):
    """A 12345 work order that waits for a place: no dispute yet, its deadline running."""

    order_id: str
    category: str
    community_id: UUID | None = Field(description="Null while it has no place at all")
    grid_id: UUID | None
    received_at: datetime
    deadline: datetime
    reply_at_risk: bool


async def parked_orders(
    conn: asyncpg.Connection,
    audience: Audience,
    *,
    limit: int,
    offset: int,
    now: datetime,
    reply_window: timedelta = DEFAULT_REPLY_WINDOW,
) -> Page[ParkedOrderItem]:
    """The parked 12345 orders the caller may see (where they were placed, or, without a place,
    from the communities they were parked for), the nearest deadline first."""
    p = Params()
    visible = visible_sql(
        audience.scope.principal,
        p,
        community="o.community_id",
        grid="o.grid_id",
        communities="o.parked_communities",
    )
    at_risk = f"(o.deadline <= {p(now + reply_window)}::timestamptz)"
    condition = f"o.parked AND o.answered_at IS NULL AND {visible}"
    # the count names every parameter so far too (PostgreSQL must type each one)
    counting = [*p.values]
    rows = await conn.fetch(
        f"""SELECT o.*, {at_risk} AS reply_at_risk FROM hotline.orders o WHERE {condition}
        ORDER BY o.deadline, o.order_id LIMIT {p(limit)} OFFSET {p(offset)}""",
        *p.values,
    )
    total = await page_total(
        conn,
        len(rows),
        limit,
        offset,
        f"SELECT count(*) FROM hotline.orders o WHERE {condition} AND {at_risk} IS NOT NULL",
        counting,
    )
    items = [
        ParkedOrderItem(
            order_id=r["order_id"],
            category=r["category"],
            community_id=r["community_id"],
            grid_id=r["grid_id"],
            received_at=r["received_at"],
            deadline=r["deadline"],
            reply_at_risk=r["reply_at_risk"],
        )
        for r in rows
    ]
    return Page(items=items, total=total, limit=limit, offset=offset)


async def dispute_detail(
    conn: asyncpg.Connection,
    audience: Audience,
    dispute_id: UUID,
    *,
    now: datetime,
    reply_window: timedelta = DEFAULT_REPLY_WINDOW,
) -> DisputeDetail | None:
    """The dispute with its parties, mediators and timeline; None when the caller may not see it."""
    p = Params()
    sla = sla_state_sql(p, now)
    item = _ITEM.format(sla=sla, at_risk=reply_at_risk_sql(p, now, reply_window), order=_ORDER)
    row = await conn.fetchrow(
        f"{item} WHERE d.dispute_id = {p(dispute_id)} AND {audience.where(p)}",
        *p.values,
    )
    if row is None:
        return None
    parties = await conn.fetch(
        "SELECT * FROM disputes.dispute_parties WHERE dispute_id = $1 ORDER BY role, party_id",
        dispute_id,
    )
    mediators = await conn.fetch(
        "SELECT * FROM disputes.dispute_mediators WHERE dispute_id = $1 ORDER BY mediator_id",
        dispute_id,
    )
    timeline = await conn.fetch(
        """
        SELECT sequence, type, occurred_at, actor_id, data::text FROM disputes.dispute_timeline
        WHERE dispute_id = $1 ORDER BY sequence
        """,
        dispute_id,
    )
    return DisputeDetail(
        dispute=_item(row),
        parties=[
            DisputeParty(
                party_id=r["party_id"], role=r["role"], resident_id=r["resident_id"], name=r["name"]
            )
            for r in parties
        ],
        mediators=[
            DisputeMediator(
                mediator_id=r["mediator_id"], role=r["role"], name=r["name"], active=r["active"]
            )
            for r in mediators
        ],
        agreement=row["agreement"],
        carried_out=row["carried_out"],
        satisfaction=None if row["satisfaction"] is None else float(row["satisfaction"]),
        timeline=[
            TimelineEntry(
                sequence=r["sequence"],
                type=r["type"],
                occurred_at=r["occurred_at"],
                actor_id=r["actor_id"],
                data=json.loads(r["data"]),
            )
            for r in timeline
        ],
    )


# -- statistics ---------------------------------------------------------------------------------


class TierShare(ReadModel):
    tier: Tier
    resolved: int
    share: float


class Hotspot(ReadModel):
    building_id: UUID | None
    category: Category
    signals: int
    disputes: int


class PetitionStats(ReadModel):
    handled: int
    accepted_on_time: int
    accepted_late: int
    answered_on_time: int
    answered_late: int


class DisputeStatistics(ReadModel):
    """Per period and area: what came in, what was settled where, how well and how fast."""

    period_from: date
    period_to: date
    registered: int
    resolved: int
    resolved_by_tier: list[TierShare]
    median_days_to_resolution: float | None
    agreements: int
    agreements_carried_out: int
    mean_satisfaction: float | None
    petitions: PetitionStats
    hotspots: list[Hotspot]


async def dispute_statistics(
    conn: asyncpg.Connection,
    audience: Audience,
    *,
    since: datetime,
    until: datetime,
    area_id: UUID | None,
) -> DisputeStatistics:
    p = Params()
    where = [audience.where(p)]
    if area_id is not None:
        where.append(f"{p(area_id)} IN (d.area_id, d.community_id, d.grid_id, d.building_id)")
    seen = " AND ".join(where)
    lo, hi = p(since), p(until)
    row = await conn.fetchrow(
        f"""
        SELECT
          count(*) FILTER (WHERE d.registered_at >= {lo} AND d.registered_at < {hi}) AS registered,
          count(*) FILTER (WHERE d.resolved_at >= {lo} AND d.resolved_at < {hi}) AS resolved,
          percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM d.resolved_at - d.registered_at) / 86400)
            FILTER (WHERE d.resolved_at >= {lo} AND d.resolved_at < {hi}) AS median_days,
          count(*) FILTER (WHERE d.agreement AND d.registered_at >= {lo} AND d.registered_at < {hi}) AS agreements,
          count(*) FILTER (WHERE d.carried_out AND d.registered_at >= {lo} AND d.registered_at < {hi}) AS carried_out,
          avg(d.satisfaction) FILTER (WHERE d.resolved_at >= {lo} AND d.resolved_at < {hi}) AS satisfaction
        FROM disputes.disputes d WHERE {seen}
        """,
        *p.values,
    )
    tiers = await conn.fetch(
        f"""
        SELECT d.resolved_tier AS tier, count(*) AS n FROM disputes.disputes d
        WHERE {seen} AND d.resolved_at >= {lo} AND d.resolved_at < {hi}
        GROUP BY d.resolved_tier
        """,
        *p.values,
    )
    resolved = row["resolved"]
    by_tier = {r["tier"]: r["n"] for r in tiers}
    shares = [
        TierShare(
            tier=t,
            resolved=by_tier.get(t.value, 0),
            share=by_tier.get(t.value, 0) / resolved if resolved else 0.0,
        )
        for t in Tier
    ]
    q = Params()
    pwhere = audience.scope.where(q, "x.community_id", "x.grid_id")
    if area_id is not None:
        pwhere += f" AND {q(area_id)} IN (x.community_id, x.grid_id)"
    plo, phi = q(since), q(until)
    petitions = await conn.fetchrow(
        f"""
        SELECT count(*) FILTER (WHERE x.closed_at >= {plo} AND x.closed_at < {phi}) AS handled,
               count(*) FILTER (WHERE x.accepted_on_time AND x.registered_at >= {plo} AND x.registered_at < {phi}) AS acc_ok,
               count(*) FILTER (WHERE NOT x.accepted_on_time AND x.registered_at >= {plo} AND x.registered_at < {phi}) AS acc_late,
               count(*) FILTER (WHERE x.answered_on_time AND x.registered_at >= {plo} AND x.registered_at < {phi}) AS ans_ok,
               count(*) FILTER (WHERE NOT x.answered_on_time AND x.registered_at >= {plo} AND x.registered_at < {phi}) AS ans_late
        FROM disputes.petitions x WHERE {pwhere}
        """,
        *q.values,
    )
    h = Params()
    hscope = audience.scope.where(h, "x.community_id", "x.grid_id")
    dscope = audience.where(h)
    if area_id is not None:
        # the same area as the totals: a director filtering one community sees its hotspots only
        area = h(area_id)
        hscope += f" AND {area} IN (x.community_id, x.grid_id, x.building_id)"
        dscope += f" AND {area} IN (d.area_id, d.community_id, d.grid_id, d.building_id)"
    hlo, hhi = h(since), h(until)
    hotspots = await conn.fetch(
        f"""
        WITH facts AS (
            SELECT x.building_id, x.category, 1 AS s, 0 AS d FROM disputes.signals x
            WHERE {hscope} AND x.reported_at >= {hlo} AND x.reported_at < {hhi}
            UNION ALL
            SELECT d.building_id, d.category, 0, 1 FROM disputes.disputes d
            WHERE {dscope} AND d.registered_at >= {hlo} AND d.registered_at < {hhi}
              AND d.signal_id IS NULL
        )
        SELECT building_id, category, sum(s) AS signals, sum(d) AS disputes FROM facts
        GROUP BY building_id, category HAVING count(*) >= 2
        ORDER BY count(*) DESC, building_id NULLS LAST, category LIMIT 20
        """,
        *h.values,
    )
    return DisputeStatistics(
        period_from=since.date(),
        period_to=until.date(),
        registered=row["registered"],
        resolved=resolved,
        resolved_by_tier=shares,
        median_days_to_resolution=None if row["median_days"] is None else float(row["median_days"]),
        agreements=row["agreements"],
        agreements_carried_out=row["carried_out"],
        mean_satisfaction=None if row["satisfaction"] is None else float(row["satisfaction"]),
        petitions=PetitionStats(
            handled=petitions["handled"],
            accepted_on_time=petitions["acc_ok"],
            accepted_late=petitions["acc_late"],
            answered_on_time=petitions["ans_ok"],
            answered_late=petitions["ans_late"],
        ),
        hotspots=[
            Hotspot(
                building_id=r["building_id"],
                category=r["category"],
                signals=r["signals"],
                disputes=r["disputes"],
            )
            for r in hotspots
        ],
    )
