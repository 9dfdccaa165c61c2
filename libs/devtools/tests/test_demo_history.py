"""``anju demo``'s history since May 2023: the plan of every paper ledger from the seed, with the
desk's rhythm and the report's counts, each row one the ledger import takes. (The history imported
into the running services and read back from the dashboard: ``tests/e2e/test_demo_report.py``.)"""

from __future__ import annotations

import random
import uuid
from collections import Counter
from datetime import date, datetime
from decimal import Decimal
from uuid import UUID
from zoneinfo import ZoneInfo

from anju_devtools.demo import Community, Resident
from anju_devtools.demo_history import (
    REPORT_FROM,
    REPORT_TO,
    SERVICES,
    counts,
    open_days,
    plan_history,
)
from anju_devtools.demo_history_care import HEALTH_ACTIVITIES, ROSTER, VOLUNTEER_HOURS
from anju_devtools.demo_history_mediation import (
    PETITIONS_HANDLED,
    REFERRED,
    RESOLVED_AT,
    SLA_DAYS,
    STILL_OPEN,
)
from eventkit.ledger import Line, Options, installed, plan

VOLUNTEERS = [str(UUID(int=n + 1)) for n in range(len(ROSTER))]


def community(residents: int = 5) -> Community:
    """Four grids of three buildings, ``residents`` in each, without a registry."""
    rng = random.Random(1)

    def new_id() -> str:
        return str(UUID(int=rng.getrandbits(128)))

    c = Community(new_id(), [new_id() for _ in range(4)])
    for grid in c.grids:
        c.buildings[grid] = [new_id() for _ in range(3)]
        for building in c.buildings[grid]:
            c.residents[building] = []
            for _ in range(residents):
                rid = new_id()
                c.people.append(
                    Resident(rid, date(1960, 1, 1), grid, f"registry:{rid}:1", "王秀英")
                )
                c.residents[building].append(rid)
    return c


def history(seed: int, c: Community | None = None) -> dict[str, list[dict[str, object]]]:
    return plan_history(
        random.Random(seed), agency_id=str(uuid.uuid4()), community=c or community(),
        volunteers=VOLUNTEERS,
    )  # fmt: skip


def test_the_history_follows_from_the_seed_and_keeps_the_desks_rhythm() -> None:
    c = community()
    first = plan_history(random.Random(5), agency_id="a", community=c, volunteers=VOLUNTEERS)
    assert first == plan_history(
        random.Random(5), agency_id="a", community=c, volunteers=VOLUNTEERS
    )
    assert counts(first) == {
        "receptions": 3186,
        "services": SERVICES,
        "gatherings": 87,
        "disputes": sum(RESOLVED_AT.values()) + REFERRED + STILL_OPEN,
        "petitions": 9,
        "activities": HEALTH_ACTIVITIES,
        "hours": 160,
    }
    days = [str(r["day"]) for r in first["receptions"]]
    assert min(days) >= REPORT_FROM.isoformat()
    assert max(days) <= REPORT_TO.isoformat()
    weekdays = [datetime.fromisoformat(d).weekday() for d in days]
    assert 6 not in weekdays  # closed on Sundays
    assert weekdays.count(0) > 2 * weekdays.count(5)  # Mondays busy, Saturdays half a day
    assert not any("2024-02-09" <= d <= "2024-02-17" for d in days)  # the Spring Festival
    assert len(set(days)) > 400
    assert {d for d, _ in open_days()} >= {datetime.fromisoformat(d).date() for d in days}


def test_every_row_is_one_its_ledger_takes() -> None:
    kinds = installed()
    options = Options(area_id=uuid.uuid4(), zone=ZoneInfo("Asia/Shanghai"))
    for seed in (5, 2026):
        for kind, rows in history(seed).items():
            lines = [Line(n, {k: str(v) for k, v in row.items()}) for n, row in enumerate(rows, 2)]
            checked = plan(kinds[kind].get(kind), lines, options)
            assert (kind, checked.bad) == (kind, ()), seed
            assert len(checked.rows) == len(rows)


def _tier(c: Community, area: str) -> str:
    if area == c.community:
        return "community"
    return "grid" if area in c.grids else "building"


def test_the_disputes_end_mostly_where_they_arose_and_not_all_of_them_well() -> None:
    c = community()
    for seed in (5, 2026, 7):
        rows = history(seed, c)["disputes"]
        resolved = Counter(
            str(r.get("escalated_to") or _tier(c, str(r["area_id"])))
            for r in rows
            if "resolved_on" in r
        )
        assert resolved == RESOLVED_AT
        assert all(REPORT_FROM.isoformat() <= str(r["resolved_on"]) <= REPORT_TO.isoformat()
                   for r in rows if "resolved_on" in r)  # fmt: skip
        assert sum("referred_on" in r for r in rows) == REFERRED
        assert sum("resolved_on" not in r and "referred_on" not in r for r in rows) == STILL_OPEN
        assert sum("escalated_on" in r for r in rows) == 5
        assert len({r["registered_on"] for r in rows}) == len(rows)  # not all on one day
        # each moves on, or ends, within its tier's SLA: mediation's scheduler does not
        # escalate it before the ledger's next step comes in
        for r in rows:
            day = date.fromisoformat(str(r["registered_on"]))
            starts = _tier(c, str(r["area_id"]))
            if "escalated_on" in r:
                escalated = date.fromisoformat(str(r["escalated_on"]))
                assert (escalated - day).days < SLA_DAYS[starts]
                day, starts = escalated, str(r["escalated_to"])
            if "resolved_on" in r:
                assert (date.fromisoformat(str(r["resolved_on"])) - day).days < SLA_DAYS[starts]
        # the parties are the community's residents, or a company with its number
        for r in rows:
            assert "applicant_resident_id" in r
            assert "respondent_resident_id" in r or "respondent_contact" in r


def test_where_too_few_residents_live_the_parties_are_named_with_a_contact() -> None:
    c = community(residents=1)
    rows = history(5, c)["disputes"]
    at_buildings = [r for r in rows if _tier(c, str(r["area_id"])) == "building"]
    assert at_buildings
    assert all("applicant_contact" in r and "respondent_contact" in r for r in at_buildings)


def test_the_petitions_health_activities_and_hours_add_up_to_the_report() -> None:
    ledgers = history(2026)
    period = (REPORT_FROM.isoformat(), REPORT_TO.isoformat())
    handled = [
        r for r in ledgers["petitions"]
        if period[0] <= str(r.get("answered_on") or r.get("closed_on") or "") <= period[1]
    ]  # fmt: skip
    assert len(handled) == PETITIONS_HANDLED
    assert len(ledgers["petitions"]) > PETITIONS_HANDLED  # some still wait on their department

    activities = ledgers["activities"]
    assert len({a["held_on"] for a in activities}) == HEALTH_ACTIVITIES
    assert {a["kind"] for a in activities} == {
        "free_check_up_day",
        "on_site_consultation",
        "medical_advice",
        "prevention_talk",
    }

    hours = ledgers["hours"]
    assert sum(Decimal(str(h["hours"])) for h in hours) == VOLUNTEER_HOURS
    assert {h["volunteer_id"] for h in hours} == set(VOLUNTEERS)  # every one served
    assert all(period[0] <= str(h["served_on"]) <= period[1] for h in hours)
