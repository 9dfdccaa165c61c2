"""Sending :mod:`anju_devtools.demo_volunteering`'s plan to the registry and volunteering, then
reading the figures back from the query service.

Commands on one stream go one after another (the kernel refuses a second concurrent write to a
stream); different streams go side by side. A check-out writes the ledger of every volunteer who
came, so the check-outs go one at a time, as do the decisions on one volunteer's hours.
"""

from __future__ import annotations

import asyncio
import uuid
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

from anju_devtools.demo import Loader, Sign
from anju_devtools.demo_volunteering import (
    EMPLOYERS,
    ISSUER,
    ORGANISATIONS,
    Activity,
    Organisation,
    Team,
    Volunteer,
    VolunteeringPlan,
    Work,
    visit_of,
)

# -- sending the plan ------------------------------------------------------------------------


def _headers(plan: VolunteeringPlan, sign: Sign | None) -> dict[str, dict[str, str]]:
    """Each sender's bearer token; without ``sign``, the loader's own (an admin's)."""
    if sign is None:
        return {name: {} for name in plan.senders}
    return {
        name: {"Authorization": f"Bearer {sign(s.sub, [s.role], [s.area])}"}
        for name, s in plan.senders.items()
    }


@dataclass
class VolunteeringDone:
    """What the volunteering part wrote, and the figures the query should then show."""

    organisations: dict[str, str] = field(default_factory=dict)
    """key → the registry's id"""
    organisation_tokens: dict[str, str] = field(default_factory=dict)
    """key → the consistency token of its registration (the station hands services off to
    some of them)"""
    volunteers: dict[str, str] = field(default_factory=dict)
    teams: dict[str, str] = field(default_factory=dict)
    requests: dict[int, str] = field(default_factory=dict)
    """the plan's work item → the request's id"""
    sign_ups: int = 0
    entries: dict[str, str] = field(default_factory=dict)
    """hours entry → what the coordinator decided (``approved``, ``rejected``, ``pending``)"""
    hours: dict[str, float] = field(default_factory=dict)
    """hours entry → its hours"""
    served: dict[str, list[str]] = field(default_factory=dict)
    """volunteer key → their hours entries"""
    certificates: list[str] = field(default_factory=list)
    """the numbers of the certificates issued, each checked by its number"""
    tokens: dict[str, tuple[int, str]] = field(default_factory=dict)
    """stream → (version, consistency token) of the last write to it"""

    def note(self, answer: dict[str, Any]) -> dict[str, Any]:
        token = str(answer["consistency_token"])
        stream, version = token.split(":", 1)[1].rsplit(":", 1)
        if int(version) > self.tokens.get(stream, (0, ""))[0]:
            self.tokens[stream] = (int(version), token)
        return answer

    def total(self, decision: str) -> float:
        return round(sum(self.hours[e] for e, d in self.entries.items() if d == decision), 2)

    def count(self, decision: str) -> int:
        return sum(d == decision for d in self.entries.values())


async def _get(
    api: Loader, path: str, *, headers: dict[str, str], params: dict[str, Any] | None = None
) -> dict[str, Any]:
    async with api.gate:
        response = await api.client.get(path, params=params, headers=headers)
    if response.status_code >= 300:
        raise RuntimeError(f"GET {path} → {response.status_code}: {response.text}")
    answer: dict[str, Any] = response.json()
    return answer


async def load_volunteering(
    registry: Loader,
    api: Loader,
    plan: VolunteeringPlan,
    sign: Sign | None,
) -> VolunteeringDone:
    """Send the plan: the organisations to the registry (``registry``), the rest to volunteering
    (``api``)."""
    headers = _headers(plan, sign)
    coordinator = headers["coordinator"]
    done = VolunteeringDone()
    now = datetime.now(UTC)
    org_tokens = done.organisation_tokens

    async def organisation(o: Organisation) -> None:
        name, role = o.liaison
        answer = await registry.post(
            "/organisations",
            {
                "kind": o.kind,
                "name": o.name,
                "community_ids": [plan.community],
                "liaisons": [{"name": name, "role": role}],
            },
            headers=headers["director"],
        )
        done.organisations[o.key] = answer["id"]
        org_tokens[o.key] = answer["consistency_token"]

    await asyncio.gather(*[organisation(o) for o in ORGANISATIONS])

    async def volunteer(v: Volunteer) -> None:
        body: dict[str, Any] = {
            "kind": v.kind,
            "name": v.name,
            "area_id": v.grid,
            "skills": list(v.skills),
            "availability": v.availability,
        }
        after = [plan.grid_tokens[v.grid]]
        if v.resident is not None:
            body["resident_id"] = v.resident.id
            after.append(v.resident.token)
        if v.organisation is not None:
            body["organisation_id"] = done.organisations[v.organisation]
            after.append(org_tokens[v.organisation])
        answer = await api.post_after(
            "/volunteers", body, after=",".join(t for t in after if t), headers=coordinator
        )
        done.volunteers[v.key] = done.note(answer)["id"]

    await asyncio.gather(*[volunteer(v) for v in plan.volunteers])
    ids = done.volunteers

    async def team(t: Team) -> None:
        answer = await api.post_after(
            "/teams",
            {
                "name": t.name,
                "purpose": t.purpose,
                "area_id": plan.community,
                "leader_id": ids[t.leader],
                "partner_organisation_ids": [done.organisations[p] for p in t.partners],
            },
            after=",".join(org_tokens[p] for p in t.partners),
            headers=coordinator,
        )
        team_id = done.note(answer)["id"]
        done.teams[t.key] = team_id
        for member in t.members:
            done.note(
                await api.post(
                    f"/teams/{team_id}/members", {"volunteer_id": ids[member]}, headers=coordinator
                )
            )

    await asyncio.gather(*[team(t) for t in plan.teams])

    worker = {s.area: name for name, s in plan.senders.items() if s.role == "grid_worker"}
    checked_in: dict[int, datetime] = {}

    async def begin(i: int, w: Work) -> None:
        """Raise (unless volunteering did), give, accept and check in, as far as its fate."""
        field_worker = headers[worker[w.resident.grid]]
        after = w.after
        if w.raiser is not None:
            answer = await api.post_after(
                "/requests",
                {"resident_id": w.resident.id, "kind": w.kind, "description": w.description},
                after=w.after,
                headers=headers[w.raiser],
            )
            done.requests[i] = done.note(answer)["id"]
            after = ""
        elif w.fate != "open":
            assert w.request_id is not None
            done.requests[i] = w.request_id
        else:
            return
        base = f"/requests/{done.requests[i]}"

        async def send(path: str, body: dict[str, Any], sender: dict[str, str]) -> None:
            nonlocal after
            if after:
                # volunteering raised it; it may do so a moment after learning the flag
                answer = await api.post_after(
                    base + path, body, after=after, headers=sender, until_found=True
                )
                done.note(answer)
                after = ""
            else:
                done.note(await api.post(base + path, body, headers=sender))

        if w.fate == "open":
            return
        if w.fate == "cancelled":
            await send("/cancellation", {"reason": "no_longer_needed"}, coordinator)
            return
        assert w.volunteer is not None
        if w.declined_by is not None:
            await send("/assignment", {"volunteer_id": ids[w.declined_by]}, coordinator)
            await send("/decline", {"reason": "unavailable"}, field_worker)
        given = {"team_id": done.teams[w.team]} if w.team else {"volunteer_id": ids[w.volunteer]}
        await send("/assignment", given, coordinator)
        if w.fate == "assigned":
            return
        await send("/acceptance", {"volunteer_id": ids[w.volunteer]}, field_worker)
        if w.fate == "accepted":
            return
        arrived, _ = visit_of(i, now)
        await send(
            "/check-in",
            {"volunteer_ids": [ids[h] for h in w.helpers], "at": arrived.isoformat()},
            field_worker,
        )
        checked_in[i] = arrived

    await asyncio.gather(*[begin(i, w) for i, w in enumerate(plan.work)])

    async def activity(a: Activity) -> None:
        shifts = [
            {
                "shift_id": str(uuid.uuid4()),
                "starts_at": starts.isoformat(),
                "ends_at": ends.isoformat(),
                "capacity": capacity,
            }
            for starts, ends, capacity, _ in a.shifts
        ]
        answer = await api.post(
            "/activities",
            {
                "kind": a.kind,
                "title": a.title,
                "area_id": a.grid or plan.community,
                "team_id": done.teams[a.team],
                "shifts": shifts,
            },
            headers=coordinator,
        )
        activity_id = done.note(answer)["id"]
        for shift, (_, _, _, who) in zip(shifts, a.shifts, strict=True):
            for key in who:
                done.note(
                    await api.post(
                        f"/activities/{activity_id}/shifts/{shift['shift_id']}/sign-ups",
                        {"volunteer_id": ids[key]},
                        headers=headers[a.sender],
                    )
                )
                done.sign_ups += 1

    await asyncio.gather(*[activity(a) for a in plan.activities])

    # the visits, written down afterwards: each ends an hour or three after its check-in
    for i in sorted(checked_in):
        _, left = visit_of(i, now)
        # one after another: a check-out writes the ledger of every volunteer who came
        done.note(
            await api.post(
                f"/requests/{done.requests[i]}/check-out",
                {"at": left.isoformat()},
                headers=headers[worker[plan.work[i].resident.grid]],
            )
        )

    async def deliver(i: int) -> None:
        w = plan.work[i]
        done.note(
            await api.post(
                f"/requests/{done.requests[i]}/delivery",
                {"satisfaction": w.satisfaction, "feedback": w.feedback},
                headers=headers[worker[w.resident.grid]],
            )
        )

    await asyncio.gather(*[deliver(i) for i in checked_in])
    await _decide_hours(api, plan, done, checked_in, coordinator)
    await _certify(api, done, coordinator)

    cleanings = sum(w.raiser is None for w in plan.work)
    print(
        f"demo volunteering loaded: {len(done.organisations)} partner organisations,"
        f" {len(done.volunteers)} volunteers, {len(done.teams)} teams, {len(plan.work)} requests"
        f" ({cleanings} monthly cleanings of elders living alone; {plan.fates('delivered')}"
        f" delivered, {plan.fates('open', 'assigned', 'accepted')} open,"
        f" {plan.fates('cancelled')} cancelled), {len(plan.activities)} upcoming activities"
        f" with {done.sign_ups} sign-ups; hours entries: {done.count('approved')} approved"
        f" ({done.total('approved')} h), {done.count('rejected')} rejected,"
        f" {done.count('pending')} pending; certificates {', '.join(done.certificates)}"
        f" ({api.sent + registry.sent} commands)"
    )
    return done


REJECTIONS = (
    "服务对象反馈该志愿者未到场，请核实后重新登记",
    "签到签退记录与现场照片不符，请补充材料",
)
PENDING = 2
"""Entries the coordinator has not looked at yet."""


async def _decide_hours(
    api: Loader,
    plan: VolunteeringPlan,
    done: VolunteeringDone,
    checked_in: dict[int, datetime],
    coordinator: dict[str, str],
) -> None:
    """Approve the hours the check-outs recorded, but for two entries, helpers' first
    (rejected), and the last :data:`PENDING` (not yet looked at)."""
    came = list(
        dict.fromkeys(
            key
            for i in sorted(checked_in)
            for key in (plan.work[i].volunteer, *plan.work[i].helpers)
            if key is not None
        )
    )
    helpers = {h for i in checked_in for h in plan.work[i].helpers}
    books = await asyncio.gather(
        *[_get(api, f"/volunteers/{done.volunteers[k]}/hours", headers=coordinator) for k in came]
    )
    entries = [(key, e) for key, book in zip(came, books, strict=True) for e in book["entries"]]
    # helpers' entries first: whether someone who only came along was there is what is doubted
    doubted = sorted(entries, key=lambda ke: ke[0] not in helpers)
    rejected = [e["entry_id"] for _, e in doubted][: len(REJECTIONS)]
    rest = [e["entry_id"] for _, e in entries if e["entry_id"] not in rejected]
    pending = set(rest[-PENDING:]) if len(rest) > PENDING else set()
    for key, e in entries:
        done.served.setdefault(key, []).append(e["entry_id"])
        done.hours[e["entry_id"]] = e["hours"]
        done.entries[e["entry_id"]] = (
            "rejected"
            if e["entry_id"] in rejected
            else "pending"
            if e["entry_id"] in pending
            else "approved"
        )

    async def decide(key: str, book: dict[str, Any]) -> None:
        base = f"/volunteers/{done.volunteers[key]}/hours"
        for e in book["entries"]:  # one after another: they share the volunteer's ledger
            entry = e["entry_id"]
            if done.entries[entry] == "approved":
                answer = await api.post(f"{base}/{entry}/approval", {}, headers=coordinator)
            elif done.entries[entry] == "rejected":
                reason = REJECTIONS[rejected.index(entry)]
                answer = await api.post(
                    f"{base}/{entry}/rejection", {"reason": reason}, headers=coordinator
                )
            else:
                continue
            done.note(answer)

    await asyncio.gather(*[decide(key, book) for key, book in zip(came, books, strict=True)])


async def _certify(api: Loader, done: VolunteeringDone, coordinator: dict[str, str]) -> None:
    """Certificates of this year's approved hours for the two volunteers with the most, each
    then checked by its number, as an employer would."""
    today = datetime.now(UTC).date()

    def approved(key: str) -> float:
        return sum(done.hours[e] for e in done.served[key] if done.entries[e] == "approved")

    most = sorted(done.served, key=lambda key: (-approved(key), key))
    for key in [k for k in most if approved(k) > 0][:2]:
        answer = done.note(
            await api.post(
                f"/volunteers/{done.volunteers[key]}/certificates",
                {
                    "period_from": date(today.year, 1, 1).isoformat(),
                    "period_to": today.isoformat(),
                    "content": "入户清扫、代购代办、政策讲解等社区志愿服务",
                    "issuer": ISSUER,
                },
                headers=coordinator,
            )
        )
        certificate = await _get(api, f"/certificates/{answer['id']}", headers=coordinator)
        checked = await _get(api, f"/public/certificates/{certificate['number']}", headers={})
        if not checked["valid"]:
            raise RuntimeError(f"certificate {certificate['number']} does not check out")
        done.certificates.append(certificate["number"])


# -- reading the figures back ------------------------------------------------------------------


@dataclass(frozen=True)
class HostUnit:
    name: str
    members: int
    hours: float
    services: int


@dataclass(frozen=True)
class VolunteeringFigures:
    """What the query service shows for the community."""

    delivered: int
    open: int
    """Raised and not yet begun: open, assigned or accepted."""
    cancelled: int
    mean_satisfaction: float | None
    approved_hours: float
    entries: int
    """Approved hours entries."""
    volunteers: int
    active_volunteers: int
    monthly_hours: float
    """The rule's hours a month an active volunteer averages."""
    host_units: list[HostUnit]


async def read_back(
    api: Loader,
    plan: VolunteeringPlan,
    done: VolunteeringDone,
    sign: Sign | None,
    *,
    wait_s: float = 120.0,
) -> VolunteeringFigures:
    """The community's volunteering figures from the query service, once it has caught up with
    every volunteering write the demo made; read as the coordinator."""
    headers = _headers(plan, sign)["coordinator"]
    await api.caught_up(
        "/volunteering/requests",
        [token for _, token in done.tokens.values()],
        headers=headers,
        wait_s=wait_s,
    )
    community = {"area_id": plan.community}

    async def get(path: str, **params: Any) -> dict[str, Any]:
        return await _get(api, path, headers=headers, params={**community, **params})

    async def requests(*statuses: str) -> int:
        pages = [await get("/volunteering/requests", status=s, limit=1) for s in statuses]
        return sum(int(p["total"]) for p in pages)

    statistics = await get("/volunteering/requests/statistics")
    hours = await get("/volunteering/hours", limit=1)
    volunteers = await get("/volunteering/volunteers", limit=1)
    names = {o.key: o.name for o in ORGANISATIONS}
    host_units = []
    for key in EMPLOYERS:
        unit = await _get(
            api,
            f"/volunteering/host-units/{done.organisations[key]}/summary",
            headers=headers,
        )
        host_units.append(
            HostUnit(names[key], len(unit["members"]), unit["hours"], unit["services"])
        )
    return VolunteeringFigures(
        delivered=await requests("delivered"),
        open=await requests("open", "assigned", "accepted"),
        cancelled=await requests("cancelled"),
        mean_satisfaction=statistics["mean_satisfaction"],
        approved_hours=hours["hours"],
        entries=hours["entries"],
        volunteers=volunteers["total"],
        active_volunteers=volunteers["active_volunteers"],
        monthly_hours=volunteers["monthly_hours"],
        host_units=host_units,
    )


def summary(figures: VolunteeringFigures) -> str:
    satisfaction = "—" if figures.mean_satisfaction is None else f"{figures.mean_satisfaction:.2f}"
    units = "; ".join(
        f"{u.name} {u.members} members, {u.hours} h, {u.services} services"
        for u in figures.host_units
    )
    return (
        f"demo volunteering in the query API: requests {figures.delivered} delivered"
        f" (mean satisfaction {satisfaction}), {figures.open} open, {figures.cancelled}"
        f" cancelled; {figures.approved_hours} approved hours in {figures.entries} entries;"
        f" {figures.volunteers} volunteers, {figures.active_volunteers} active (averaging"
        f" {figures.monthly_hours:g} h a month over the last 12 months); host units this"
        f" quarter: {units}"
    )
