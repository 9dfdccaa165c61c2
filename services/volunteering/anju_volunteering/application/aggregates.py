"""Volunteering's records as the kernel's command path sees them, and their deadlines."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

from anju_contracts import Actor, Event
from anju_contracts.volunteering import (
    SOURCE,
    CertificateIssued,
    ServiceRequestCancelled,
    ServiceRequestRaised,
    ServiceRequestStarted,
    VolunteerConsentPurpose,
)
from anju_volunteering.application.permissions import PERMISSIONS
from anju_volunteering.domain import activities, plans, requests, teams, volunteers
from anju_volunteering.domain.errors import (
    ActivityNotFound,
    CertificateNotFound,
    RequestNotFound,
    TeamNotFound,
    VolunteerNotFound,
)
from eventkit import consent
from eventkit.access import Guarded
from eventkit.aggregate import Aggregate
from eventkit.errors import NotFound
from eventkit.store import StoreSession

RESPONSE_DUE = "volunteering.response_due"
"""Deadline kind: the request named by the key must have been taken up by now."""
MONTHLY_CLEANING = "volunteering.monthly_cleaning"
"""Deadline kind: the month of the elderly-alone resident named by the key begins."""

SERVICE_ACTOR = Actor(id=SOURCE, roles=("service",))


class PlanNotFound(NotFound):
    code = "plan_not_found"


async def follow_request(session: StoreSession, request_id: UUID, events: Sequence[Event]) -> None:
    """One response deadline per request, until work on it begins: a request declined before
    its response time is still watched."""
    for event in events:
        if isinstance(event, ServiceRequestRaised):
            payload = {"respond_by": event.respond_by.isoformat()}
            await session.schedule(RESPONSE_DUE, str(request_id), event.respond_by, payload)
        elif isinstance(event, ServiceRequestStarted | ServiceRequestCancelled):
            await session.cancel(RESPONSE_DUE, str(request_id))


VOLUNTEERS: Aggregate[volunteers.Volunteer] = Aggregate(
    name="volunteer",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: volunteers.fold(events),
    guard=lambda v: Guarded.at(v.path),
    not_found=VolunteerNotFound,
)

TEAMS: Aggregate[teams.Team] = Aggregate(
    name="team",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: teams.fold(events),
    guard=lambda t: Guarded.at(t.path),
    not_found=TeamNotFound,
)

REQUESTS: Aggregate[requests.Request] = Aggregate(
    name="request",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: requests.fold(events),
    guard=lambda r: Guarded.at(r.path),
    not_found=RequestNotFound,
    follow=follow_request,
)

PLANS: Aggregate[plans.Plan] = Aggregate(
    name="plan",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: plans.fold(events),
    guard=lambda p: Guarded.at(p.path),
    not_found=PlanNotFound,
)

ACTIVITIES: Aggregate[activities.Activity] = Aggregate(
    name="activity",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: activities.fold(events),
    guard=lambda a: Guarded.at(a.path),
    not_found=ActivityNotFound,
)


def ledger_stream(volunteer_id: UUID) -> str:
    """A volunteer's hours: written beside the volunteer, in the area where they serve."""
    return f"ledger-{volunteer_id}"


def ledgers_of(streams: Sequence[str]) -> list[str]:
    """The hours ledgers of the volunteers among ``streams`` (an erasure's reach: a ledger's
    events name the volunteer, not the resident, and a rejection's reason is under its key)."""
    prefix = f"{VOLUNTEERS.name}-"
    return [f"ledger-{s.removeprefix(prefix)}" for s in streams if s.startswith(prefix)]


CERTIFICATES: Aggregate[CertificateIssued] = Aggregate(
    name="certificate",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: next((e for e in events if isinstance(e, CertificateIssued)), None),
    guard=lambda c: Guarded.at(c.path),
    not_found=CertificateNotFound,
)


CONSENTS: Aggregate[consent.Consent] = Aggregate(
    name="consent",
    source=SOURCE,
    permissions=PERMISSIONS,
    fold=lambda _, events: consent.fold(events, person="volunteer_id"),
    guard=lambda c: Guarded.at(c.path),
    not_found=VolunteerNotFound,
)
"""A volunteer's consent for one purpose (``eventkit.consent``)."""


async def consented(
    session: StoreSession, volunteer_id: UUID, purpose: VolunteerConsentPurpose
) -> bool:
    """Whether the volunteer's consent for ``purpose`` stands: the profile's from joining until
    it is withdrawn, photos' only once given."""
    stream = await session.load(CONSENTS.stream(consent.consent_id(volunteer_id, purpose)))
    state = consent.fold(stream.payloads, person="volunteer_id")
    if state is None:
        return purpose is VolunteerConsentPurpose.PROFILE
    return consent.stands(state)
