"""Mediation handlers on the in-memory store: the command path, sensitive disputes, parties
the caller may not see, and SLA deadlines — no PostgreSQL and no broker."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID, uuid4

import pytest

from anju_contracts import Actor
from anju_contracts.mediation import (
    CATALOG,
    Category,
    Channel,
    Location,
    MediatorRole,
    PartyRole,
    Sensitivity,
)
from anju_contracts.registry import AreaKind, AreaPath
from anju_mediation.application import disputes, petitions
from anju_mediation.application.aggregates import DISPUTES, SLA_AT_RISK, SLA_DUE
from anju_mediation.application.commands import (
    AssignMediator,
    PartyIn,
    ProxyPetition,
    RegisterDispute,
    Resolve,
)
from anju_mediation.domain.disputes import DEFAULT_SLAS
from anju_mediation.domain.errors import AreaNotFound, DisputeNotFound, UnknownResident
from eventkit.auth import Principal, Role
from eventkit.commands import Caller
from eventkit.errors import Forbidden
from eventkit.known import MemoryKnown
from eventkit.memory import MemoryEventStore
from eventkit.store import Context

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
COMMUNITY, OTHER_COMMUNITY = uuid4(), uuid4()
GRID1, GRID2 = uuid4(), uuid4()


def caller(*roles: Role, areas: tuple[UUID, ...] = (), sub: str = "staff-1") -> Caller:
    principal = Principal(sub=sub, roles=roles, areas=tuple(str(a) for a in areas))
    return Caller(principal, Context(actor=Actor(id=sub, roles=tuple(map(str, roles)))))


WORKER = caller(Role.GRID_WORKER, areas=(GRID1,), sub="gw-1")
DIRECTOR = caller(Role.DIRECTOR, areas=(COMMUNITY,), sub="d-1")


class Estate:
    def __init__(self) -> None:
        self.store = MemoryEventStore(CATALOG)
        self.known = MemoryKnown()
        for grid in (GRID1, GRID2):
            path = AreaPath(community_id=COMMUNITY, grid_id=grid)
            self.known.locations[grid] = Location(area_id=grid, kind=AreaKind.GRID, path=path)
        self.neighbour = self.resident(GRID1)
        self.stranger = self.resident(GRID2)

    def resident(self, grid: UUID) -> UUID:
        resident_id = uuid4()
        self.known.place(resident_id, AreaPath(community_id=COMMUNITY, grid_id=grid))
        return resident_id

    async def register(
        self, who: Caller, *, parties: list[UUID], sensitive: bool = False, area: UUID = GRID1
    ) -> UUID:
        cmd = RegisterDispute(
            channel=Channel.GRID_PATROL,
            category=Category.NOISE,
            description="楼上装修噪音",
            area_id=area,
            parties=[PartyIn(role=PartyRole.APPLICANT, resident_id=p) for p in parties],
            sensitivity=Sensitivity.SENSITIVE if sensitive else Sensitivity.STANDARD,
        )
        answer = await disputes.register_dispute(
            self.store, cmd, who, known=self.known, now=NOW, slas=DEFAULT_SLAS
        )
        return UUID(answer.id)


@pytest.fixture
def estate() -> Estate:
    return Estate()


async def test_registering_arms_the_sla_and_resolving_stops_it(estate: Estate) -> None:
    dispute = await estate.register(WORKER, parties=[estate.neighbour])
    armed = {kind for kind, _ in estate.store.deadlines}
    assert armed == {SLA_AT_RISK, SLA_DUE}
    resolve = disputes.resolve(Resolve(outcome="settled"), now=NOW, slas=DEFAULT_SLAS)
    await DISPUTES.act(
        estate.store,
        dispute,
        WORKER,
        "resolve_dispute",
        Resolve(outcome="s").expected_version,
        resolve,
    )
    assert estate.store.deadlines == {}


async def test_a_party_the_caller_may_not_see_is_unknown(estate: Estate) -> None:
    with pytest.raises(UnknownResident) as refused:
        await estate.register(WORKER, parties=[estate.stranger])
    assert refused.value.details == {"resident_id": str(estate.stranger)}
    with pytest.raises(UnknownResident):
        await estate.register(WORKER, parties=[uuid4()])
    with pytest.raises(AreaNotFound):
        await estate.register(WORKER, parties=[estate.neighbour], area=GRID2)


async def test_a_sensitive_dispute_is_for_its_mediators_and_its_directors(estate: Estate) -> None:
    dispute = await estate.register(WORKER, parties=[estate.neighbour], sensitive=True)
    outsiders = (
        WORKER,
        caller(Role.DIRECTOR, sub="d-0"),
        caller(Role.DIRECTOR, areas=(OTHER_COMMUNITY,), sub="d-2"),
        caller(Role.MEDIATOR, areas=(COMMUNITY,), sub="m-2"),
    )
    assign = AssignMediator(mediator_id="m-9", role=MediatorRole.PEOPLES_MEDIATOR)
    for outsider in outsiders:
        with pytest.raises(DisputeNotFound):
            await disputes.view_dispute(estate.store, dispute, outsider)
        with pytest.raises(DisputeNotFound):
            await DISPUTES.act(
                estate.store,
                dispute,
                outsider,
                "assign_mediator",
                assign.expected_version,
                disputes.assign(assign),
            )
    await DISPUTES.act(
        estate.store,
        dispute,
        DIRECTOR,
        "assign_mediator",
        assign.expected_version,
        disputes.assign(assign),
    )
    mediator = caller(Role.MEDIATOR, sub="m-9")  # no areas: being assigned is enough
    view = await disputes.view_dispute(estate.store, dispute, mediator)
    assert view.mediators == {"m-9": MediatorRole.PEOPLES_MEDIATOR}


async def test_roles_act_only_as_their_permissions_say(estate: Estate) -> None:
    dispute = await estate.register(WORKER, parties=[estate.neighbour])
    police = caller(Role.POLICE, areas=(COMMUNITY,))
    resolve = Resolve(outcome="settled")
    with pytest.raises(Forbidden):
        await DISPUTES.act(
            estate.store,
            dispute,
            police,
            "resolve_dispute",
            resolve.expected_version,
            disputes.resolve(resolve, now=NOW, slas=DEFAULT_SLAS),
        )
    with pytest.raises(Forbidden):
        await petitions.proxy_petition(
            estate.store,
            ProxyPetition(resident_id=estate.neighbour, subject="s", department="住建局"),
            police,
            known=estate.known,
            now=NOW,
        )
