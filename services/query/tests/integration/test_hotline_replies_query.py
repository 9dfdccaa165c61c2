"""A 12345 reply at risk of missing its deadline shows on the dispute board: mediation and
integration events through the real relays and broker into the query API. A dispute names the
work order it answers (opened for it, or from a signal opened for it) and its deadline;
``reply_at_risk`` while the order is unanswered and its deadline is within the window or passed;
the filter ``reply_at_risk`` and the dispute read keep the board's scoping."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from anju_contracts import Actor, Event
from anju_contracts.hotline12345 import CallerContact, OrderCategory
from anju_contracts.integration import (
    CATALOG as INTEGRATION_CATALOG,
    AnjuRecord,
    ReplyOutcome,
    WorkOrderAnswered,
    WorkOrderForwarded,
    WorkOrderParked,
    WorkOrderPlaced,
    WorkOrderReceived,
)
from anju_contracts.mediation import (
    CATALOG as MEDIATION_CATALOG,
    Category,
    Channel,
    DisputeRegistered,
    Location,
    Party,
    PartyRole,
    Sensitivity,
    Tier,
)
from anju_contracts.registry import AreaKind, AreaPath
from anju_query.testing import Source, caught_up, read_side, write_side
from eventkit.auth import Role, issue_token
from eventkit.settings import KafkaSettings
from eventkit.testing.infra import databases

SECRET = "query-tests-secret-0123456789abcdef"
MEDIATOR = Actor(id="mediator-1", roles=("mediator",))
INTEGRATION = Actor(id="integration", roles=("service",))
NOW = datetime.now(UTC)


def token(role: Role, *areas: uuid.UUID) -> dict[str, str]:
    return {
        "Authorization": f"Bearer {issue_token(SECRET, 'staff-1', [role], [str(a) for a in areas])}"
    }


async def dispute(m: Source, path: AreaPath, *, signal_id: uuid.UUID | None = None) -> uuid.UUID:
    dispute_id = uuid.uuid4()
    area = path.grid_id or path.community_id
    registered = DisputeRegistered(
        dispute_id=dispute_id,
        signal_id=signal_id,
        channel=Channel.HOTLINE_12345,
        category=Category.NOISE,
        description="12345: 噪音",
        location=Location(area_id=area, kind=AreaKind.GRID, path=path),
        parties=[Party(party_id=uuid.uuid4(), role=PartyRole.APPLICANT, name="王", contact="1")],
        sensitivity=Sensitivity.STANDARD,
        tier=Tier.GRID,
        registered_at=NOW - timedelta(days=1),
        sla_due_by=NOW + timedelta(days=6),
    )
    await m.emit(f"dispute-{dispute_id}", registered, area=area)
    return dispute_id


async def order(
    i: Source,
    order_id: str,
    path: AreaPath,
    record_id: uuid.UUID,
    *,
    deadline: datetime,
    record: AnjuRecord = AnjuRecord.DISPUTE,
    answered: bool = False,
) -> None:
    events: list[Event] = [
        WorkOrderReceived(
            order_id=order_id,
            message_id=f"m-{order_id}",
            category=OrderCategory.NOISE,
            path=path,
            caller=CallerContact(name="王女士"),
            text="噪音",
            dispatched_at=NOW - timedelta(days=1),
            deadline=deadline,
            received_at=NOW - timedelta(days=1),
        ),
        WorkOrderForwarded(
            order_id=order_id,
            record=record,
            record_id=record_id,
            path=path,
            forwarded_at=NOW - timedelta(days=1),
        ),
    ]
    if answered:
        events.append(
            WorkOrderAnswered(
                order_id=order_id,
                outcome=ReplyOutcome.RESOLVED,
                text="已调解",
                handled_at=NOW - timedelta(hours=5),
                deadline=deadline,
                on_time=False,
                record=record,
                record_id=record_id,
            )
        )
    await i.emit(f"order-{order_id}", *events, area=path.grid_id or path.community_id)


async def test_replies_at_risk_show_on_the_dispute_board(
    pg_server_url: str, kafka_bootstrap: str
) -> None:
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"h{uuid.uuid4().hex[:10]}.")
    c, g1, g2 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    at_g1 = AreaPath(community_id=c, grid_id=g1)
    at_g2 = AreaPath(community_id=c, grid_id=g2)
    async with (
        databases(pg_server_url, "mediation", "integration", "read") as urls,
        write_side(
            "mediation", urls[0], kafka, MEDIATION_CATALOG, secret=SECRET, actor=MEDIATOR
        ) as m,
        write_side(
            "integration", urls[1], kafka, INTEGRATION_CATALOG, secret=SECRET, actor=INTEGRATION
        ) as i,
    ):
        near = await dispute(m, at_g1)  # its order is due in 12 hours, unanswered: at risk
        signal = uuid.uuid4()
        from_signal = await dispute(m, at_g1, signal_id=signal)  # order due in 3 days
        answered = await dispute(m, at_g2)  # its order's deadline passed, but it was answered
        late = await dispute(m, at_g2)  # its order's deadline passed, unanswered: at risk
        plain = await dispute(m, at_g2)  # no order
        await order(i, "Q-1", at_g1, near, deadline=NOW + timedelta(hours=12))
        await order(
            i, "Q-2", at_g1, signal, deadline=NOW + timedelta(days=3), record=AnjuRecord.SIGNAL
        )
        await order(i, "Q-3", at_g2, answered, deadline=NOW - timedelta(hours=2), answered=True)
        await order(i, "Q-4", at_g2, late, deadline=NOW - timedelta(hours=1))
        await m.publish()
        await i.publish()
        async with read_side(urls[2], kafka, SECRET) as query:
            await caught_up(query.pool, m, "disputes")
            await caught_up(query.pool, i, "hotline")
            client = query.client
            director = token(Role.DIRECTOR, c)
            board = await client.get("/disputes", headers=director)
            assert board.status_code == 200, board.text
            rows = {uuid.UUID(d["id"]): d for d in board.json()["items"]}
            assert {k: (d["hotline_order_id"], d["reply_at_risk"]) for k, d in rows.items()} == {
                near: ("Q-1", True),
                from_signal: ("Q-2", False),
                answered: ("Q-3", False),
                late: ("Q-4", True),
                plain: (None, False),
            }
            deadline = datetime.fromisoformat(rows[near]["hotline_deadline"])
            assert deadline == NOW + timedelta(hours=12)

            at_risk = await client.get("/disputes?reply_at_risk=true", headers=director)
            assert {d["id"] for d in at_risk.json()["items"]} == {str(near), str(late)}
            assert at_risk.json()["total"] == 2
            calm = await client.get("/disputes?reply_at_risk=false", headers=director)
            assert calm.json()["total"] == 3

            # a grid worker of grid 1 sees grid 1's reply at risk only, and no other dispute
            worker = token(Role.GRID_WORKER, g1)
            mine = await client.get("/disputes?reply_at_risk=true", headers=worker)
            assert mine.status_code == 200, mine.text
            assert [d["id"] for d in mine.json()["items"]] == [str(near)]
            assert (await client.get(f"/disputes/{late}", headers=worker)).status_code == 404

            detail = await client.get(f"/disputes/{late}", headers=director)
            assert detail.status_code == 200, detail.text
            item = detail.json()["dispute"]
            assert (item["hotline_order_id"], item["reply_at_risk"]) == ("Q-4", True)


def received(order_id: str, *, deadline: datetime) -> WorkOrderReceived:
    return WorkOrderReceived(
        order_id=order_id,
        message_id=f"m-{order_id}",
        category=OrderCategory.NOISE,
        path=None,
        caller=CallerContact(name="李先生"),
        text="噪音",
        dispatched_at=NOW - timedelta(hours=2),
        deadline=deadline,
        received_at=NOW - timedelta(hours=2),
    )


async def test_parked_orders_show_beside_the_board_at_risk_like_the_others(
    pg_server_url: str, kafka_bootstrap: str
) -> None:
    kafka = KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"h{uuid.uuid4().hex[:10]}.")
    c, other, g1 = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    at_g1 = AreaPath(community_id=c, grid_id=g1)
    async with (
        databases(pg_server_url, "integration", "read") as urls,
        write_side(
            "integration", urls[0], kafka, INTEGRATION_CATALOG, secret=SECRET, actor=INTEGRATION
        ) as i,
    ):
        parked_at = NOW - timedelta(hours=2)
        near, far, placed = (
            received("P-1", deadline=NOW + timedelta(hours=6)),
            received("P-2", deadline=NOW + timedelta(days=3)),
            received("P-3", deadline=NOW + timedelta(hours=1)),
        )
        for order in (near, far, placed):
            parked = WorkOrderParked(
                order_id=order.order_id,
                reason="unknown_area",
                parked_at=parked_at,
                community_ids=[c] if order is not far else [other],
            )
            await i.emit(f"order-{order.order_id}", order, parked, area=c)
        placement = WorkOrderPlaced(
            order_id="P-3", area_id=g1, path=at_g1, placed_at=NOW - timedelta(hours=1)
        )
        await i.emit("order-P-3", placement, area=g1)
        await i.publish()
        async with read_side(urls[1], kafka, SECRET) as query:
            await caught_up(query.pool, i, "hotline")
            client = query.client
            listed = await client.get("/disputes/hotline-parked", headers=token(Role.DIRECTOR, c))
            assert listed.status_code == 200, listed.text
            assert [(o["order_id"], o["reply_at_risk"]) for o in listed.json()["items"]] == [
                ("P-1", True)
            ]
            assert listed.json()["total"] == 1
            theirs = await client.get(
                "/disputes/hotline-parked", headers=token(Role.DIRECTOR, other)
            )
            assert [(o["order_id"], o["reply_at_risk"]) for o in theirs.json()["items"]] == [
                ("P-2", False)
            ]
            nobody = await client.get("/disputes/hotline-parked", headers=token(Role.GRID_WORKER))
            assert nobody.json()["items"] == []
