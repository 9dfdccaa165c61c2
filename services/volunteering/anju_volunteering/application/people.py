"""Handlers for volunteers and teams, and the config every volunteering handler decides with."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, timedelta
from uuid import UUID

from pydantic import BaseModel

from anju_contracts.registry import AreaPath
from anju_contracts.volunteering import TeamPurpose, VolunteerConsentPurpose, VolunteerKind
from anju_volunteering.application.aggregates import TEAMS, VOLUNTEERS, consented
from anju_volunteering.application.commands import (
    ChangeVolunteer,
    FormTeam,
    RegisterVolunteer,
    TeamMember,
    VolunteerStep,
)
from anju_volunteering.application.permissions import PERMISSIONS
from anju_volunteering.domain import teams, volunteers
from anju_volunteering.domain.volunteers import Status, Volunteer
from eventkit.commands import Accepted, Caller, Clock
from eventkit.known import (
    Known,
    require_known,
    visible_location,
    visible_organisation,
    visible_residents,
)
from eventkit.store import Store, StoreSession


@dataclass(frozen=True)
class VolunteeringConfig:
    """What the handlers need besides the store."""

    clock: Clock
    """Now, for what the service does by itself; a person's command decides on the business
    time it names (``caller.now(clock)``)."""
    known: Known
    response: timedelta
    """How long a request may wait to be taken up before the coordinator is told."""


def _area(path: AreaPath) -> AreaPath:
    """A place of service: the community and grid (not a building or unit)."""
    return AreaPath(community_id=path.community_id, grid_id=path.grid_id)


async def active_volunteer(
    session: StoreSession, volunteer_id: UUID, caller: Caller | None
) -> Volunteer:
    """A volunteer the caller may see (else not found) who is active (else refused)."""
    volunteer, _ = await VOLUNTEERS.load(session, volunteer_id, caller)
    return volunteers.require_active(volunteer)


# -- volunteers --------------------------------------------------------------------------------


async def register(
    store: Store, cmd: RegisterVolunteer, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    async with VOLUNTEERS.create(store, caller, "register_volunteer") as w:
        location = await visible_location(cfg.known, w.session, cmd.area_id, caller)
        if cmd.resident_id is not None:
            found = await visible_residents(cfg.known, w.session, [cmd.resident_id], caller)
            require_known([cmd.resident_id], found)
        if cmd.organisation_id is not None:
            await visible_organisation(cfg.known, w.session, cmd.organisation_id, caller)
        w.emit(
            volunteers.join(
                w.id,
                kind=cmd.kind,
                name=cmd.name,
                resident_id=cmd.resident_id,
                organisation_id=cmd.organisation_id,
                path=_area(location.path),
                skills=cmd.skills,
                availability=cmd.availability,
                today=caller.now(cfg.clock).date(),
            )
        )
    return w.accepted


async def change(
    store: Store,
    volunteer_id: UUID,
    cmd: ChangeVolunteer,
    caller: Caller,
    cfg: VolunteeringConfig,
) -> Accepted:
    async with VOLUNTEERS.update(
        store, volunteer_id, caller, "change_volunteer", cmd.expected_version
    ) as w:
        path = None
        if cmd.area_id is not None:
            location = await visible_location(cfg.known, w.session, cmd.area_id, caller)
            path = _area(location.path)
        w.emit(
            volunteers.change(w.state, skills=cmd.skills, availability=cmd.availability, path=path)
        )
    return w.accepted


async def pause(
    store: Store, volunteer_id: UUID, cmd: VolunteerStep, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    return await VOLUNTEERS.act(
        store,
        volunteer_id,
        caller,
        "pause_volunteer",
        cmd.expected_version,
        lambda v: volunteers.pause(v, today=caller.now(cfg.clock).date()),
    )


async def resume(
    store: Store, volunteer_id: UUID, cmd: VolunteerStep, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    return await VOLUNTEERS.act(
        store,
        volunteer_id,
        caller,
        "pause_volunteer",
        cmd.expected_version,
        lambda v: volunteers.resume(v, today=caller.now(cfg.clock).date()),
    )


async def leave(
    store: Store, volunteer_id: UUID, cmd: VolunteerStep, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    return await VOLUNTEERS.act(
        store,
        volunteer_id,
        caller,
        "pause_volunteer",
        cmd.expected_version,
        lambda v: volunteers.leave(v, today=caller.now(cfg.clock).date()),
    )


class VolunteerView(BaseModel):
    id: UUID
    kind: VolunteerKind
    name: str | None
    """Null when the volunteer withdrew consent to their profile, except to coordinators."""
    resident_id: UUID | None
    organisation_id: UUID | None
    community_id: UUID
    grid_id: UUID | None
    skills: list[str]
    availability: str | None
    joined_on: date
    status: Status
    profile_shown: bool
    """Whether the volunteer consents to their profile being shown to others."""
    version: int


async def view_volunteer(store: Store, volunteer_id: UUID, caller: Caller) -> VolunteerView:
    """A volunteer. Whoever may read volunteers sees one; their profile (name, skills,
    availability) only while they consent to it, or to those who coordinate them."""
    v, stream = await VOLUNTEERS.read(store, volunteer_id, caller, "read_volunteer")
    async with store.session() as session:
        shown = await consented(session, volunteer_id, VolunteerConsentPurpose.PROFILE)
    if not shown and not PERMISSIONS.allows(caller.principal, "record_consent"):
        v = replace(v, name="", skills=(), availability=None)
    return VolunteerView(
        id=v.id,
        kind=v.kind,
        name=v.name or None,
        resident_id=v.resident_id,
        organisation_id=v.organisation_id,
        community_id=v.path.community_id,
        grid_id=v.path.grid_id,
        skills=list(v.skills),
        availability=v.availability,
        joined_on=v.joined_on,
        status=v.status,
        profile_shown=shown,
        version=stream.version,
    )


# -- teams ---------------------------------------------------------------------------------------


async def form_team(
    store: Store, cmd: FormTeam, caller: Caller, cfg: VolunteeringConfig
) -> Accepted:
    async with TEAMS.create(store, caller, "form_team") as w:
        location = await visible_location(cfg.known, w.session, cmd.area_id, caller)
        await active_volunteer(w.session, cmd.leader_id, caller)
        for organisation_id in cmd.partner_organisation_ids:
            await visible_organisation(cfg.known, w.session, organisation_id, caller)
        w.emit(
            teams.form(
                w.id,
                name=cmd.name,
                purpose=cmd.purpose,
                path=_area(location.path),
                leader_id=cmd.leader_id,
                partners=cmd.partner_organisation_ids,
            )
        )
    return w.accepted


async def add_member(store: Store, team_id: UUID, cmd: TeamMember, caller: Caller) -> Accepted:
    async with TEAMS.update(store, team_id, caller, "manage_team", cmd.expected_version) as w:
        await active_volunteer(w.session, cmd.volunteer_id, caller)
        w.emit(teams.add_member(w.state, cmd.volunteer_id))
    return w.accepted


async def remove_member(store: Store, team_id: UUID, cmd: TeamMember, caller: Caller) -> Accepted:
    return await TEAMS.act(
        store,
        team_id,
        caller,
        "manage_team",
        cmd.expected_version,
        lambda t: teams.remove_member(t, cmd.volunteer_id),
    )


async def change_leader(store: Store, team_id: UUID, cmd: TeamMember, caller: Caller) -> Accepted:
    return await TEAMS.act(
        store,
        team_id,
        caller,
        "manage_team",
        cmd.expected_version,
        lambda t: teams.change_leader(t, cmd.volunteer_id),
    )


class TeamView(BaseModel):
    id: UUID
    name: str
    purpose: TeamPurpose
    community_id: UUID
    grid_id: UUID | None
    leader_id: UUID
    members: list[UUID]
    partner_organisation_ids: list[UUID]
    version: int


async def view_team(store: Store, team_id: UUID, caller: Caller) -> TeamView:
    t, stream = await TEAMS.read(store, team_id, caller, "read_team")
    return TeamView(
        id=t.id,
        name=t.name,
        purpose=t.purpose,
        community_id=t.path.community_id,
        grid_id=t.path.grid_id,
        leader_id=t.leader_id,
        members=sorted(t.members),
        partner_organisation_ids=list(t.partners),
        version=stream.version,
    )
