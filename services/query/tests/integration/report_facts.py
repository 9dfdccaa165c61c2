"""The facts the dashboard and the community's report count, recorded as each service records
them: a reception, a gathering, a convenience service, a dispute, a petition, a health activity,
a volunteer's hours, a work item. Each helper takes what the figures look at (when, where, of
which kind) and fills in the rest, so that a test's world reads as the table of its facts."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from anju_contracts import Event
from anju_contracts.governance import (
    SourceLink,
    SourceRecord,
    WorkItemClosed,
    WorkItemOpened,
    WorkItemSource,
)
from anju_contracts.health import ActivityKind, HealthActivityHeld
from anju_contracts.mediation import (
    Category,
    Channel,
    DisputeRegistered,
    DisputeResolved,
    Location,
    Party,
    PartyRole,
    PetitionAnswered,
    PetitionClosed,
    PetitionForwarded,
    PetitionProxied,
    Sensitivity,
    Tier,
)
from anju_contracts.registry import AreaKind, AreaPath
from anju_contracts.station import (
    GatheringHeld,
    GatheringKind,
    Outcome,
    Purpose,
    ReceptionLogged,
    Referral,
    ServiceReceived,
)
from anju_contracts.volunteering import (
    HoursApproved,
    HoursRecorded,
    HoursSource,
    VolunteerJoined,
    VolunteerKind,
)
from anju_query.testing import Source


def at(day: str, hour: int = 9, minute: int = 0) -> datetime:
    """``day`` (ISO) at ``hour``:``minute`` UTC."""
    return datetime.fromisoformat(day).replace(hour=hour, minute=minute, tzinfo=UTC)


# -- the station ----------------------------------------------------------------------------------


async def reception(station: Source, path: AreaPath, logged_at: datetime) -> None:
    """A resident received at the desk for a consultation, answered."""
    rid = uuid.uuid4()
    await station.emit(
        f"reception-{rid}",
        ReceptionLogged(
            reception_id=rid,
            purposes=[Purpose.CONSULTATION],
            referred_by=Referral.SELF,
            outcome=Outcome.ANSWERED,
            path=path,
            staff_id="desk-1",
            logged_at=logged_at,
        ),
        area=path.community_id,
    )


async def gathering(
    station: Source, kind: GatheringKind, held: str, path: AreaPath, *, topic: str = "主题"
) -> None:
    """A gathering of 30 held on the day ``held`` (ISO), recorded that day."""
    gid = uuid.uuid4()
    await station.emit(
        f"gathering-{gid}",
        GatheringHeld(
            gathering_id=gid,
            kind=kind,
            topic=topic,
            held_on=date.fromisoformat(held),
            attendance=30,
            path=path,
            recorded_by="desk-1",
            recorded_at=at(held),
        ),
        area=path.community_id,
    )


async def convenience_service(
    station: Source,
    service_id: uuid.UUID,
    service_type: str,
    path: AreaPath,
    received_at: datetime,
    *then: Event,
) -> None:
    """A convenience service received at the desk, and ``then`` what became of it."""
    received = ServiceReceived(
        service_id=service_id,
        service_type=service_type,
        path=path,
        staff_id="desk-1",
        received_at=received_at,
    )
    await station.emit(f"service-{service_id}", received, *then, area=path.community_id)


# -- mediation ------------------------------------------------------------------------------------


def dispute_registered(
    dispute_id: uuid.UUID,
    tier: Tier,
    registered_at: datetime,
    path: AreaPath,
    sensitivity: Sensitivity = Sensitivity.STANDARD,
) -> DisputeRegistered:
    """A neighbours' noise dispute walked in to the community, its SLA 30 days."""
    return DisputeRegistered(
        dispute_id=dispute_id,
        channel=Channel.WALK_IN,
        category=Category.NOISE,
        description="楼上噪音",
        location=Location(area_id=path.community_id, kind=AreaKind.COMMUNITY, path=path),
        parties=[Party(party_id=uuid.uuid4(), role=PartyRole.APPLICANT, name="王", contact="1")],
        sensitivity=sensitivity,
        tier=tier,
        registered_at=registered_at,
        sla_due_by=registered_at + timedelta(days=30),
    )


def dispute_resolved(dispute_id: uuid.UUID, tier: Tier, resolved_at: datetime) -> DisputeResolved:
    """The dispute settled by agreement at ``tier``, open to reopening for 30 days."""
    return DisputeResolved(
        dispute_id=dispute_id,
        tier=tier,
        outcome="和解",
        resolved_at=resolved_at,
        reopen_until=resolved_at + timedelta(days=30),
    )


async def petition(
    mediation: Source,
    path: AreaPath,
    proxied: datetime,
    *,
    answered: datetime | None = None,
    closed: datetime | None = None,
) -> None:
    """A petition about heating, taken up by an agent and forwarded on ``proxied``; answered by
    the department and closed by the agent when those are given."""
    pid = uuid.uuid4()
    events: list[Event] = [
        PetitionProxied(
            petition_id=pid,
            agent_id="agent-1",
            resident_id=uuid.uuid4(),
            path=path,
            subject="供暖",
            department="住建",
            registered_at=proxied,
        ),
        PetitionForwarded(
            petition_id=pid, forwarded_at=proxied, acceptance_due_by=proxied + timedelta(days=15)
        ),
    ]
    if answered is not None:
        events.append(
            PetitionAnswered(petition_id=pid, answered_at=answered, answer="已答复", on_time=True)
        )
    if closed is not None:
        events.append(PetitionClosed(petition_id=pid, outcome="办结", closed_at=closed))
    await mediation.emit(f"petition-{pid}", *events, area=path.community_id)


# -- health, volunteering, governance -------------------------------------------------------------


async def health_activity(
    health: Source, kind: ActivityKind, held: str, served: int, path: AreaPath
) -> None:
    """An activity at the health station on the day ``held`` (ISO), ``served`` people served."""
    aid = uuid.uuid4()
    await health.emit(
        f"activity-{aid}",
        HealthActivityHeld(
            activity_id=aid,
            kind=kind,
            held_on=date.fromisoformat(held),
            path=path,
            place="社区卫生站",
            at_station=True,
            served=served,
        ),
        area=path.community_id,
    )


async def volunteer_hours(
    volunteering: Source, path: AreaPath, entries: Iterable[tuple[float, str, bool]]
) -> None:
    """A resident volunteer (joined in 2024) and their shifts: each entry's hours, the day
    served (ISO), and whether the coordinator approved them that day."""
    vid = uuid.uuid4()
    events: list[Event] = [
        VolunteerJoined(
            volunteer_id=vid,
            kind=VolunteerKind.RESIDENT_VOLUNTEER,
            name="志愿者",
            path=path,
            joined_on=date(2024, 1, 1),
        )
    ]
    for hours, served, approved in entries:
        eid = uuid.uuid4()
        events.append(
            HoursRecorded(
                entry_id=eid,
                volunteer_id=vid,
                source=HoursSource.SHIFT,
                source_id=uuid.uuid4(),
                hours=hours,
                served_on=date.fromisoformat(served),
            )
        )
        if approved:
            events.append(
                HoursApproved(
                    entry_id=eid,
                    volunteer_id=vid,
                    approved_by="coordinator-1",
                    approved_on=date.fromisoformat(served),
                )
            )
    await volunteering.emit(f"volunteer-{vid}", *events, area=path.community_id)


async def work_item(
    governance: Source,
    path: AreaPath,
    closed_at: datetime,
    *,
    on_time: bool,
    sensitive: bool = False,
) -> None:
    """A work item from a decision, opened on 1 March 2025 with a deadline of 14 March, closed
    at ``closed_at`` (``on_time`` as the governance service judged it)."""
    iid = uuid.uuid4()
    await governance.emit(
        f"item-{iid}",
        WorkItemOpened(
            item_id=iid,
            title="楼道堆物清理",
            source=SourceLink(
                source=WorkItemSource.GOVERNANCE, record=SourceRecord.DECISION, id=uuid.uuid4()
            ),
            path=path,
            sensitive=sensitive,
            deadline=at("2025-03-14"),
            opened_by="director-1",
            opened_at=at("2025-03-01"),
        ),
        WorkItemClosed(item_id=iid, closed_by="director-1", closed_at=closed_at, on_time=on_time),
        area=path.community_id,
    )
