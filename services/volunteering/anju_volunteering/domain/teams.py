"""A volunteer team: purpose, leader, members, partner organisations."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from uuid import UUID

from anju_contracts import Event
from anju_contracts.registry import AreaPath
from anju_contracts.volunteering import (
    TeamFormed,
    TeamLeaderChanged,
    TeamMemberJoined,
    TeamMemberLeft,
    TeamPurpose,
)
from anju_volunteering.domain.errors import AlreadyMember, LeaderMustStay, NotMember


@dataclass(frozen=True)
class Team:
    id: UUID
    name: str
    purpose: TeamPurpose
    path: AreaPath
    leader_id: UUID
    members: frozenset[UUID]
    partners: tuple[UUID, ...]


def evolve(state: Team | None, event: Event) -> Team | None:
    if isinstance(event, TeamFormed):
        return Team(
            event.team_id,
            event.name,
            event.purpose,
            event.path,
            event.leader_id,
            frozenset({event.leader_id}),
            tuple(event.partner_organisation_ids),
        )
    if state is None:
        return None
    if isinstance(event, TeamMemberJoined):
        return replace(state, members=state.members | {event.volunteer_id})
    if isinstance(event, TeamMemberLeft):
        return replace(state, members=state.members - {event.volunteer_id})
    if isinstance(event, TeamLeaderChanged):
        return replace(state, leader_id=event.leader_id)
    return state


def fold(events: Iterable[Event]) -> Team | None:
    state: Team | None = None
    for event in events:
        state = evolve(state, event)
    return state


def form(
    team_id: UUID,
    *,
    name: str,
    purpose: TeamPurpose,
    path: AreaPath,
    leader_id: UUID,
    partners: list[UUID],
) -> list[Event]:
    return [
        TeamFormed(
            team_id=team_id,
            name=name,
            purpose=purpose,
            path=path,
            leader_id=leader_id,
            partner_organisation_ids=list(dict.fromkeys(partners)),
        )
    ]


def add_member(state: Team, volunteer_id: UUID) -> list[Event]:
    if volunteer_id in state.members:
        raise AlreadyMember("the volunteer is in the team", volunteer_id=str(volunteer_id))
    return [TeamMemberJoined(team_id=state.id, volunteer_id=volunteer_id)]


def remove_member(state: Team, volunteer_id: UUID) -> list[Event]:
    if volunteer_id not in state.members:
        raise NotMember("the volunteer is not in the team", volunteer_id=str(volunteer_id))
    if volunteer_id == state.leader_id:
        raise LeaderMustStay("name another leader before the leader leaves")
    return [TeamMemberLeft(team_id=state.id, volunteer_id=volunteer_id)]


def change_leader(state: Team, leader_id: UUID) -> list[Event]:
    if leader_id not in state.members:
        raise NotMember("the new leader must be a member", volunteer_id=str(leader_id))
    if leader_id == state.leader_id:
        return []
    return [TeamLeaderChanged(team_id=state.id, leader_id=leader_id)]
