"""The dashboard: events of every service through the real relays and broker into the query
API — each figure against the events appended, the period's boundaries (UTC days, both ends
included), every drill-down listing exactly the figure, scoping, and the suppression of small
counts of sensitive groups.

The world (``anju_query.testing.area_tree``): community C with grids G1 and G2, community C2
with grid G3. The period is March 2025, for C.

- Receptions: 1 March 00:00 UTC (G1), 31 March 23:30 UTC (C), 1 April 01:00 +08:00 — 31 March
  UTC (G2) count; 28 February 23:59 and 1 April 00:00 UTC do not; one in C2 on 10 March.
- Gatherings: a theory lecture (5 March) and a policy explanation (31 March, G1) are the 2
  lectures; a civilisation-practice activity and an opinion-gathering session (1 each); a theory
  lecture on 28 February and one in C2 do not count.
- Convenience services received in March: bill help (accepted, completed, callback 5), a
  residence certificate only received, one refused, with a callback 3 on the first: 3 received,
  2 acted on; one received on 1 April does not count.
- Disputes: resolved in March at the building (registered in February), grid and community
  tiers, and a sensitive one at the grid; one resolved on 1 April; one only registered: 4
  resolved, 5 registered in March (3 and 4 for those who may not see the sensitive one).
- Petitions: answered in March; closed unanswered in March; answered in February and closed in
  March (counted in February); answered in April; only forwarded: 2 handled.
- Health activities: 15 March (20 served), 31 March (12 served, G1); 1 April does not count.
- Volunteer hours: v1 (G1) 2.5 h and 1.5 h approved; v2 (G2) 4 h approved on 31 March, 3 h
  pending, 2 h approved on 28 February: 8 h by 2 volunteers.
- Work items closed in March: one on time, one late, one sensitive on time (directors only); one
  closed on time on 1 April.
- Satisfaction: the bill help's callbacks (5, then 3: the later replaces it), a return visit on
  12 March (4 and 5), a volunteering request delivered on 15 March (4); one delivered on 1 April.
- Special-group flags (raised today — the registry records no earlier date): elderly alone for
  4 residents of G1 and 2 of G2, disability for 2 of G1's. Follow-up visits (today, as the plans
  are recorded today): one by its plan's due time, one after it, one with no plan pending.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import asyncpg
import httpx
import pytest
import pytest_asyncio

from anju_contracts import Actor, Event
from anju_contracts.health import ActivityKind
from anju_contracts.mediation import ReturnVisitRecorded, Satisfaction, Sensitivity, Tier
from anju_contracts.registry import (
    AreaPath,
    FlagType,
    FollowUpVisitPlanned,
    FollowUpVisitRecorded,
    ResidentRegistered,
    RiskTier,
    Sex,
    SpecialGroupFlagRaised,
)
from anju_contracts.station import (
    CallbackRecorded,
    GatheringKind,
    ServiceAccepted,
    ServiceCompleted,
    ServiceRefused,
)
from anju_contracts.volunteering import (
    RaisedBy,
    RequestKind,
    ServiceRequestDelivered,
    ServiceRequestRaised,
)
from anju_query.application.labels import FIGURES as FIGURE_LABELS, RATES as RATE_LABELS
from anju_query.testing import Source, WriteSides, area_tree, every_write_side
from eventkit.audit import reads_of
from eventkit.auth import Role, issue_token

from .report_facts import (
    at,
    convenience_service,
    dispute_registered,
    dispute_resolved,
    gathering,
    health_activity,
    petition,
    reception,
    volunteer_hours,
    work_item,
)

SECRET = "query-tests-secret-0123456789abcdef"
ACTOR = Actor(id="staff-1", roles=("director",))
FROM, TO = "2025-03-01", "2025-03-31"
PLUS_8 = timezone(timedelta(hours=8))


def token(*roles: Role, areas: tuple[uuid.UUID, ...] = ()) -> dict[str, str]:
    return {"Authorization": f"Bearer {issue_token(SECRET, 'u-1', roles, [str(a) for a in areas])}"}


@dataclass
class World:
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    ids: dict[str, uuid.UUID]
    today: date


async def _seed_registry(
    reg: Source, ids: dict[str, uuid.UUID], paths: dict[str, AreaPath]
) -> None:
    soon = datetime.now(UTC) + timedelta(minutes=5)
    for n, grid in enumerate(["g1"] * 4 + ["g2"] * 2):
        rid = uuid.uuid4()
        flags = [FlagType.ELDERLY_ALONE] + ([FlagType.DISABILITY] if n < 2 else [])
        care: list[Event] = []
        if n < 2:  # planned due in a week (visited on time), or due yesterday (visited late)
            due = soon + (timedelta(days=7) if n == 0 else -timedelta(days=1))
            care.append(
                FollowUpVisitPlanned(
                    resident_id=rid, due_by=due, interval_days=7, grid_id=ids[grid]
                )
            )
        if n < 3:  # the third visit fulfils no plan
            care.append(
                FollowUpVisitRecorded(
                    resident_id=rid,
                    visit_id=uuid.uuid4(),
                    visited_at=soon,
                    grid_worker_id="grid-1",
                    findings="安好",
                )
            )
        await reg.emit(
            f"resident-{rid}",
            ResidentRegistered(
                resident_id=rid,
                name=f"居民{n}",
                sex=Sex.FEMALE,
                date_of_birth=date(1940, 1, 1),
                id_number=f"11010119400101{n:04d}",
                path=paths[grid],
            ),
            *(SpecialGroupFlagRaised(resident_id=rid, flag=f, tier=RiskTier.BLUE) for f in flags),
            *care,
            area=ids[grid],
        )


async def _seed_station(s: Source, paths: dict[str, AreaPath]) -> None:
    for where, when in [
        ("g1", at("2025-03-01", 0)),
        ("c", at("2025-03-31", 23, 30)),
        ("g2", datetime(2025, 4, 1, 1, 0, tzinfo=PLUS_8)),
        ("g1", at("2025-02-28", 23, 59)),
        ("c", at("2025-04-01", 0)),
        ("c2", at("2025-03-10")),
    ]:
        await reception(s, paths[where], when)
    for kind, held, where in [
        (GatheringKind.THEORY_LECTURE, "2025-03-05", "c"),
        (GatheringKind.POLICY_EXPLANATION, "2025-03-31", "g1"),
        (GatheringKind.CIVILISATION_PRACTICE, "2025-03-10", "c"),
        (GatheringKind.OPINION_GATHERING, "2025-03-11", "c"),
        (GatheringKind.THEORY_LECTURE, "2025-02-28", "c"),
        (GatheringKind.THEORY_LECTURE, "2025-03-05", "c2"),
    ]:
        await gathering(s, kind, held, paths[where])
    cert, g1 = "residence_certificate", paths["g1"]
    bill, refused = uuid.uuid4(), uuid.uuid4()
    await convenience_service(
        s,
        bill,
        "bill_help",
        g1,
        at("2025-03-02"),
        ServiceAccepted(service_id=bill, accepted_at=at("2025-03-02")),
        ServiceCompleted(service_id=bill, completed_at=at("2025-03-02", 11)),
        CallbackRecorded(service_id=bill, satisfaction=5, called_at=at("2025-03-03")),
        CallbackRecorded(service_id=bill, satisfaction=3, called_at=at("2025-03-25")),
    )
    await convenience_service(s, uuid.uuid4(), cert, g1, at("2025-03-02"))
    await convenience_service(
        s,
        refused,
        cert,
        g1,
        at("2025-03-20"),
        ServiceRefused(service_id=refused, refused_at=at("2025-03-20", 10), reason="不符"),
    )
    await convenience_service(s, uuid.uuid4(), cert, g1, at("2025-04-01", 0))


async def _seed_mediation(m: Source, ids: dict[str, uuid.UUID], paths: dict[str, AreaPath]) -> None:
    disputes = [
        (Tier.BUILDING, "2025-02-20", "2025-03-03"),
        (Tier.GRID, "2025-03-05", "2025-03-10"),
        (Tier.COMMUNITY, "2025-03-08", "2025-03-31"),
        (Tier.COMMUNITY, "2025-03-06", "2025-04-01"),
        (Tier.GRID, "2025-03-09", None),
        (Tier.GRID, "2025-03-10", "2025-03-11"),  # sensitive: directors (and its mediators)
    ]
    for n, (tier, registered, resolved) in enumerate(disputes):
        did = uuid.uuid4()
        sensitivity = Sensitivity.SENSITIVE if n == 5 else Sensitivity.STANDARD
        if n == 5:
            ids["sensitive_dispute"] = did
        events: list[Event] = [
            dispute_registered(did, tier, at(registered), paths["c"], sensitivity)
        ]
        if resolved is not None:
            hour = 0 if resolved == "2025-04-01" else 12
            events.append(dispute_resolved(did, tier, at(resolved, hour)))
        if resolved == "2025-03-10":  # a return visit: the parties' mean, 4.5
            events.append(
                ReturnVisitRecorded(
                    dispute_id=did,
                    visited_at=at("2025-03-12"),
                    satisfaction=[
                        Satisfaction(party_id=uuid.uuid4(), score=4),
                        Satisfaction(party_id=uuid.uuid4(), score=5),
                    ],
                )
            )
        await m.emit(f"dispute-{did}", *events, area=ids["c"])
    petitions: list[tuple[str, str | None, str | None]] = [
        ("2025-03-01", "2025-03-05", None),
        ("2025-02-01", None, "2025-03-10"),
        ("2025-02-01", "2025-02-25", "2025-03-12"),
        ("2025-03-02", "2025-04-02", None),
        ("2025-03-03", None, None),
    ]
    for proxied, answered, closed in petitions:
        await petition(
            m,
            paths["g1"],
            at(proxied),
            answered=at(answered) if answered else None,
            closed=at(closed) if closed else None,
        )


async def _seed_health(h: Source, paths: dict[str, AreaPath]) -> None:
    for kind, held, served, where in [
        (ActivityKind.FREE_CHECK_UP_DAY, "2025-03-15", 20, "c"),
        (ActivityKind.PREVENTION_TALK, "2025-03-31", 12, "g1"),
        (ActivityKind.PREVENTION_TALK, "2025-04-01", 7, "c"),
    ]:
        await health_activity(h, kind, held, served, paths[where])


async def _seed_volunteering(v: Source, paths: dict[str, AreaPath]) -> None:
    await volunteer_hours(v, paths["g1"], [(2.5, "2025-03-03", True), (1.5, "2025-03-20", True)])
    await volunteer_hours(
        v,
        paths["g2"],
        [(4.0, "2025-03-31", True), (3.0, "2025-03-04", False), (2.0, "2025-02-28", True)],
    )
    for delivered, score in [("2025-03-15", 4), ("2025-04-01", 1)]:
        qid = uuid.uuid4()
        await v.emit(
            f"request-{qid}",
            ServiceRequestRaised(
                request_id=qid,
                resident_id=uuid.uuid4(),
                kind=RequestKind.HOME_CLEANING,
                description="清扫",
                path=paths["g2"],
                raised_by=RaisedBy.STAFF,
                raised_at=at("2025-03-01"),
                respond_by=at("2025-03-02"),
            ),
            ServiceRequestDelivered(
                request_id=qid, satisfaction=score, delivered_at=at(delivered, 0)
            ),
            area=paths["g2"].community_id,
        )


async def _seed(sides: WriteSides) -> dict[str, uuid.UUID]:
    ids, paths = await area_tree(sides.registry)
    await _seed_registry(sides.registry, ids, paths)
    await _seed_station(sides.station, paths)
    await _seed_mediation(sides.mediation, ids, paths)
    await _seed_health(sides.health, paths)
    await _seed_volunteering(sides.volunteering, paths)
    for closed, on_time, sensitive in [
        ("2025-03-10", True, False),
        ("2025-03-15", False, False),
        ("2025-03-12", True, True),
        ("2025-04-01", True, False),
    ]:
        await work_item(
            sides.governance, paths["c"], at(closed, 0), on_time=on_time, sensitive=sensitive
        )
    return ids


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def world(pg_server_url: str, kafka_bootstrap: str) -> AsyncIterator[World]:
    async with every_write_side(
        pg_server_url, kafka_bootstrap, secret=SECRET, actor=ACTOR
    ) as sides:
        ids = await _seed(sides)
        async with sides.caught_up_query() as query:
            yield World(query.client, query.pool, ids, datetime.now(UTC).date())


async def _get(world: World, url: str, headers: dict[str, str], **params: Any) -> Any:
    response = await world.client.get(url, params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


async def _march(world: World, headers: dict[str, str], **params: Any) -> dict[str, Any]:
    params.setdefault("community_id", str(world.ids["c"]))
    board: dict[str, Any] = await _get(
        world, "/dashboard", headers, **{"from": FROM, "to": TO}, **params
    )
    return board


def _director(world: World, community: str = "c") -> dict[str, str]:
    return token(Role.DIRECTOR, areas=(world.ids[community],))


pytestmark = pytest.mark.asyncio(loop_scope="session")

WITHOUT_EVENT_IDS = {"disputes_registered", "volunteers_active"}
"""Figures whose records do not keep the event that made them count (a volunteer is counted
from several; a registration is the dispute's first event, its id the dispute's)."""


async def test_each_figure_counts_the_events_of_the_period(world: World) -> None:
    board = await _march(world, _director(world))
    f = board["figures"]

    def value(name: str) -> Any:
        return f[name]["value"]

    assert value("receptions") == 3
    assert value("lectures") == 2
    assert f["lectures"]["by"] == {"theory_lecture": 1, "policy_explanation": 1}
    assert value("civilisation_practice_activities") == 1
    assert value("opinion_gathering_sessions") == 1
    assert value("convenience_services") == 3
    assert f["convenience_services"]["by"] == {"bill_help": 1, "residence_certificate": 2}
    assert value("convenience_services_acted_on") == 2
    assert value("disputes_resolved") == 4
    assert f["disputes_resolved"]["by"] == {"building": 1, "grid": 2, "community": 1}
    assert value("disputes_registered") == 5
    assert value("petitions_handled") == 2
    assert f["petitions_handled"]["by"] == {"answered": 1, "closed": 1}
    assert value("health_activities") == 2
    assert value("health_people_served") == 32
    assert value("volunteer_hours_approved") == 8
    assert value("volunteers_active") == 2
    assert value("work_items_closed_on_time") == 2
    assert value("work_items_closed_late") == 1
    # a second callback replaces the first (3); a return visit (4.5); a delivered request (4)
    assert value("satisfaction_ratings") == 3
    assert f["satisfaction_ratings"]["by"] == {"station": 1, "mediation": 1, "volunteering": 1}
    assert value("special_group_flags") == 0  # raised today, not in March
    # counts are whole numbers on the wire (3, not 3.0); only sums may be fractions
    assert all(type(value(name)) is int for name in ("receptions", "disputes_resolved"))
    assert all(type(n) is int for n in f["convenience_services"]["by"].values())
    assert board["rates"]["response"]["value"] == pytest.approx(2 / 3, abs=1e-4)
    assert board["rates"]["resolution"]["value"] == 0.8
    assert board["rates"]["satisfaction"]["value"] == round((3 + 4.5 + 4) / 3, 2)


async def test_every_drill_down_lists_exactly_its_figure(world: World) -> None:
    director = _director(world)
    board = await _march(world, director)
    for name, figure in board["figures"].items():
        drill = await _get(
            world,
            f"/dashboard/figures/{name}",
            director,
            community_id=str(world.ids["c"]),
            limit=200,
            **{"from": FROM, "to": TO},
        )
        assert drill["value"] == figure["value"], name
        assert len(drill["items"]) == drill["total"], name
        # Named as the report names them, in Chinese, for the console and other UIs.
        assert drill["label"] == figure["label"] == FIGURE_LABELS[name], name
        assert set(figure["group_labels"]) == set(figure["by"]), name
        assert {i["group"] for i in drill["items"] if i["group"]} == set(drill["group_labels"])
        if figure["summed"]:
            assert sum(i["amount"] for i in drill["items"]) == figure["value"], name
        else:
            assert len(drill["items"]) == figure["value"], name
        assert all(FROM <= i["date"] <= TO for i in drill["items"]), name
        if name not in WITHOUT_EVENT_IDS:
            assert all(i["event_id"] for i in drill["items"]), name
    assert {n: r["label"] for n, r in board["rates"].items()} == RATE_LABELS
    receptions = await _get(
        world, "/dashboard/figures/receptions", director, **{"from": FROM, "to": TO}
    )
    event_ids = {i["event_id"] for i in receptions["items"]}
    assert None not in event_ids
    assert len(event_ids) == 3
    read = await reads_of(world.pool, "dispute", world.ids["sensitive_dispute"])
    assert len(read) >= 1  # listing a sensitive dispute is an audited read
    page = await _get(
        world,
        "/dashboard/figures/receptions",
        director,
        limit=2,
        offset=2,
        **{"from": FROM, "to": TO},
    )
    assert (page["total"], len(page["items"]), page["value"]) == (3, 1, 3)


async def test_the_period_includes_both_its_days(world: World) -> None:
    director = _director(world)
    last_day = await _get(
        world, "/dashboard", director, **{"from": "2025-03-31", "to": "2025-03-31"}
    )
    f = last_day["figures"]
    assert f["receptions"]["value"] == 2  # 23:30 UTC and 01:00 +08:00 of 1 April
    assert f["lectures"]["by"]["policy_explanation"] == 1
    assert f["disputes_resolved"]["by"]["community"] == 1
    assert f["health_people_served"]["value"] == 12
    assert f["volunteer_hours_approved"]["value"] == 4
    first_day = await _get(world, "/dashboard", director, **{"from": FROM, "to": FROM})
    assert first_day["figures"]["receptions"]["value"] == 1
    april = await _get(world, "/dashboard", director, **{"from": "2025-04-01", "to": "2025-04-30"})
    assert april["figures"]["receptions"]["value"] == 1
    assert april["figures"]["convenience_services"]["value"] == 1
    assert april["figures"]["disputes_resolved"]["value"] == 1
    assert april["figures"]["petitions_handled"]["value"] == 1  # the one answered in April
    assert april["figures"]["work_items_closed_on_time"]["value"] == 1
    assert april["figures"]["satisfaction_ratings"]["by"]["volunteering"] == 1
    assert april["rates"]["satisfaction"]["value"] == 1
    february = await _get(
        world, "/dashboard", director, **{"from": "2025-02-01", "to": "2025-02-28"}
    )
    assert february["figures"]["petitions_handled"]["value"] == 1
    assert february["figures"]["receptions"]["value"] == 1


async def test_each_caller_sees_their_areas_only(world: World) -> None:
    c2 = world.ids["c2"]
    other = await _march(world, _director(world, "c2"))
    assert other["figures"]["receptions"]["value"] == 0
    own = await _march(world, _director(world, "c2"), community_id=str(c2))
    assert own["figures"]["receptions"]["value"] == 1
    assert own["figures"]["lectures"]["value"] == 1
    everything = await _get(world, "/dashboard", token(Role.ADMIN), **{"from": FROM, "to": TO})
    assert everything["figures"]["receptions"]["value"] == 4
    grid = await _march(world, token(Role.GRID_WORKER, areas=(world.ids["g1"],)))
    assert grid["figures"]["receptions"]["value"] == 1
    assert grid["figures"]["volunteer_hours_approved"]["value"] == 4
    desk = await _march(world, token(Role.DESK_STAFF, areas=(world.ids["c"],)))
    assert desk["figures"]["work_items_closed_on_time"]["value"] == 1  # not the sensitive one
    assert desk["figures"]["disputes_resolved"]["value"] == 3  # nor the sensitive dispute
    for role in (Role.DOCTOR, Role.POLICE):
        response = await world.client.get(
            "/dashboard",
            params={"from": FROM, "to": TO},
            headers=token(role, areas=(world.ids["c"],)),
        )
        assert response.status_code == 403, response.text


async def test_small_counts_of_sensitive_groups_are_suppressed(world: World) -> None:
    today = world.today.isoformat()
    period = {"from": today, "to": today, "community_id": str(world.ids["c"])}
    director = await _get(world, "/dashboard", _director(world), **period)
    flags = director["figures"]["special_group_flags"]
    assert flags["value"] == 8
    assert not flags["suppressed"]
    assert flags["by"] == {
        "elderly_alone": 6,
        "disability": 2,
        "mental_disorder": 0,
        "low_income": 0,
    }
    drill = await _get(world, "/dashboard/figures/special_group_flags", _director(world), **period)
    assert drill["total"] == 8
    desk_token = token(Role.DESK_STAFF, areas=(world.ids["c"],))
    desk = (await _get(world, "/dashboard", desk_token, **period))["figures"]["special_group_flags"]
    # disability (2) is small; elderly alone is hidden too, so it cannot be worked out
    assert desk["suppressed"] is True
    assert desk["by"] == {
        "elderly_alone": None,
        "disability": None,
        "mental_disorder": 0,
        "low_income": 0,
    }
    assert desk["value"] == 8
    grid_token = token(Role.GRID_WORKER, areas=(world.ids["g2"],))
    grid = (await _get(world, "/dashboard", grid_token, **period))["figures"]["special_group_flags"]
    # G2: two elderly-alone flags only; the total would give the group away
    assert grid["value"] is None
    assert grid["by"]["elderly_alone"] is None
    assert grid["by"]["disability"] == 0
    visits = await _get(
        world,
        "/dashboard",
        token(Role.GRID_WORKER, areas=(world.ids["g1"],)),
        **{**period, "to": (world.today + timedelta(days=1)).isoformat()},
    )
    assert visits["figures"]["follow_up_visits_on_time"]["value"] == 1
    assert visits["figures"]["follow_up_visits_late"]["value"] == 1
    late = await _get(
        world,
        "/dashboard/figures/follow_up_visits_late",
        _director(world),
        **{**period, "to": (world.today + timedelta(days=1)).isoformat()},
    )
    assert late["total"] == 1
    assert late["items"][0]["event_id"]
    assert all(i["event_id"] for i in drill["items"])
    hidden = await world.client.get(
        "/dashboard/figures/special_group_flags", params=period, headers=desk_token
    )
    assert hidden.status_code == 403
    assert hidden.json()["error"]["code"] == "figure_records_hidden"


async def test_bad_requests_are_4xx(world: World) -> None:
    director = _director(world)
    unknown = await world.client.get(
        "/dashboard/figures/nothing", params={"from": FROM, "to": TO}, headers=director
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "unknown_figure"
    backwards = await world.client.get(
        "/dashboard", params={"from": TO, "to": FROM}, headers=director
    )
    assert backwards.status_code == 400
    assert backwards.json()["error"]["code"] == "bad_date_range"
    missing = await world.client.get("/dashboard", params={"from": FROM}, headers=director)
    assert missing.status_code in (400, 422)
