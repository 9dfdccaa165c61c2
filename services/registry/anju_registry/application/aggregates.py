"""The registry's aggregates as the kernel's command path sees them, and their deadlines."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from uuid import UUID

from anju_contracts import Actor, Event
from anju_contracts.registry import SOURCE, AreaPath, FollowUpStopped, FollowUpVisitPlanned
from anju_registry.application.permissions import PERMISSIONS
from anju_registry.domain import areas, care, households, organisations, residents
from anju_registry.domain.errors import (
    AreaNotFound,
    HouseholdNotFound,
    OrganisationNotFound,
    ResidentNotFound,
)
from anju_registry.domain.residents import Resident
from anju_registry.domain.retention import Retention, Rule
from eventkit.access import Guarded
from eventkit.aggregate import Aggregate
from eventkit.store import StoreSession
from eventkit.subject_access import SubjectAccess

FOLLOWUP_DUE = "registry.followup_due"
"""Deadline kind: the planned follow-up visit of the resident named by the key is due."""

RETENTION_DUE = "registry.retention_due"
"""Deadline kind: the retention period of the closed record of the resident named by the key
ends, and the person is erased (:mod:`anju_registry.application.retention`)."""

SERVICE_ACTOR = Actor(id=SOURCE, roles=("service",))


async def follow_plan(session: StoreSession, resident_id: UUID, events: Sequence[Event]) -> None:
    """Keep the follow-up deadline in step with the plan the events leave behind."""
    for event in reversed(events):
        if isinstance(event, FollowUpVisitPlanned):
            await session.schedule(FOLLOWUP_DUE, str(resident_id), event.due_by)
            return
        if isinstance(event, FollowUpStopped):
            await session.cancel(FOLLOWUP_DUE, str(resident_id))
            return


async def arm_retention(
    session: StoreSession, resident: Resident, rule: Rule, since: date, retention: Retention
) -> None:
    """Arm the resident's retention deadline for a record closed on ``since`` by ``rule``."""
    community_id = resident.path.community_id
    await session.schedule(
        RETENTION_DUE,
        str(resident.id),
        retention.erase_at(rule, community_id, since),
        {
            "rule": rule.value,
            "since": since.isoformat(),
            "reason": retention.reason(rule, community_id, since),
        },
    )


def _care_guard(state: care.Care) -> Guarded:
    raise AssertionError("a care stream is reached through its resident, never on its own")


AREAS: Aggregate[areas.Area] = Aggregate(
    name="area",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: areas.fold(events),
    guard=lambda area: Guarded.at(area.path),
    not_found=AreaNotFound,
)

RESIDENTS: Aggregate[residents.Resident] = Aggregate(
    name="resident",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: residents.fold(events),
    guard=lambda resident: Guarded.at(resident.path),
    not_found=ResidentNotFound,
    # Commands on one resident take turns, so a flag cannot slip in beside a death.
    locked=True,
)

HOUSEHOLDS: Aggregate[households.Household] = Aggregate(
    name="household",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: households.fold(events),
    guard=lambda household: Guarded.at(household.path),
    not_found=HouseholdNotFound,
)

CARE: Aggregate[care.Care] = Aggregate(
    name="care",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=care.fold,
    guard=_care_guard,
    not_found=ResidentNotFound,
    follow=follow_plan,
)

ORGANISATIONS: Aggregate[organisations.Organisation] = Aggregate(
    name="organisation",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: organisations.fold(events),
    # seen by callers covering any community it serves; its facts are scoped to the first
    guard=lambda organisation: Guarded.serving(organisation.community_ids),
    not_found=OrganisationNotFound,
)


async def resident_place(session: StoreSession, resident_id: UUID) -> AreaPath | None:
    """Where the resident lives, from their own stream (None if never registered)."""
    resident = residents.fold((await session.load(RESIDENTS.stream(resident_id))).payloads)
    return None if resident is None else resident.path


SUBJECT_ACCESS = SubjectAccess(prefixes=("resident-", "care-"), locate=resident_place)
"""A resident's own streams in the registry: their record and their care (flags, follow-ups);
households and anything else naming them are found by their payloads."""
