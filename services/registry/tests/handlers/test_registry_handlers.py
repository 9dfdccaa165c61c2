"""Registry handlers on the in-memory store: the command path, access and deadlines, no
PostgreSQL and no broker (the middle tier between deciders and the HTTP tests)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID, uuid4

import pytest

from anju_contracts import Actor
from anju_contracts.registry import CATALOG, AreaKind, FlagType, RiskTier, Sex
from anju_registry.application import areas, care, residents
from anju_registry.application.aggregates import FOLLOWUP_DUE, RETENTION_DUE
from anju_registry.application.commands import (
    CorrectResident,
    CreateArea,
    RaiseFlag,
    RecordDeath,
    RegisterResident,
)
from anju_registry.application.lookups import MemoryIdNumbers
from anju_registry.domain.errors import (
    AreaNotFound,
    DuplicateIdNumber,
    ResidentInactive,
    ResidentNotFound,
)
from anju_registry.domain.retention import Retention, Rule
from anju_registry.testing import id_number_for
from eventkit.auth import Principal, Role
from eventkit.commands import Caller
from eventkit.errors import Forbidden
from eventkit.memory import MemoryEventStore
from eventkit.store import ConcurrencyError, Context

NOW = datetime(2026, 6, 1, 9, 0, tzinfo=UTC)
INTERVALS = {RiskTier.RED: 7, RiskTier.YELLOW: 14, RiskTier.BLUE: 30}
RETENTION = Retention(days={Rule.MOVED_OUT: 365, Rule.DECEASED: 40})


def caller(*roles: Role, areas: tuple[UUID, ...] = (), sub: str = "staff-1") -> Caller:
    principal = Principal(sub=sub, roles=roles, areas=tuple(str(a) for a in areas))
    return Caller(principal, Context(actor=Actor(id=sub, roles=tuple(map(str, roles)))))


ADMIN = caller(Role.ADMIN, sub="admin")


class Estate:
    """A community with two grids, a unit in each, on a fresh in-memory store."""

    def __init__(self) -> None:
        self.store = MemoryEventStore(CATALOG)
        self.ids = MemoryIdNumbers()
        self.seq = 0

    async def area(self, kind: AreaKind, parent: UUID | None) -> UUID:
        cmd = CreateArea(kind=kind, name=str(kind), parent_id=parent)
        return UUID((await areas.create_area(self.store, cmd, ADMIN)).id)

    async def build(self) -> Estate:
        self.community = await self.area(AreaKind.COMMUNITY, None)
        self.grid1 = await self.area(AreaKind.GRID, self.community)
        self.grid2 = await self.area(AreaKind.GRID, self.community)
        building1 = await self.area(AreaKind.BUILDING, self.grid1)
        building2 = await self.area(AreaKind.BUILDING, self.grid2)
        self.unit1 = await self.area(AreaKind.UNIT, building1)
        self.unit2 = await self.area(AreaKind.UNIT, building2)
        return self

    def body(self, unit: UUID, id_number: str | None = None) -> RegisterResident:
        self.seq += 1
        dob = date(1950, 3, 14)
        return RegisterResident(
            name="张敏",
            sex=Sex.FEMALE,
            date_of_birth=dob,
            id_number=id_number or id_number_for(dob, self.seq),
            unit_id=unit,
        )

    async def register(self, unit: UUID, who: Caller = ADMIN) -> UUID:
        answer = await residents.register_resident(
            self.store, self.body(unit), who, id_numbers=self.ids, today=NOW.date()
        )
        return UUID(answer.id)


@pytest.fixture
async def estate() -> Estate:
    return await Estate().build()


async def test_a_grid_worker_registers_in_their_grid_and_nowhere_else(estate: Estate) -> None:
    worker = caller(Role.GRID_WORKER, areas=(estate.grid1,))
    resident = await estate.register(estate.unit1, worker)
    stream = await estate.store.load(f"resident-{resident}")
    assert stream.version == 1
    assert stream.events[0].area == str(estate.grid1)
    with pytest.raises(AreaNotFound):
        await estate.register(estate.unit2, worker)


async def test_a_resident_outside_the_callers_areas_does_not_exist_for_them(
    estate: Estate,
) -> None:
    resident = await estate.register(estate.unit2)
    worker = caller(Role.GRID_WORKER, areas=(estate.grid1,))
    with pytest.raises(ResidentNotFound) as hidden:
        await residents.correct_resident(
            estate.store,
            resident,
            CorrectResident(phone="1", reason="typo"),
            worker,
            id_numbers=estate.ids,
            today=NOW.date(),
        )
    assert hidden.value.details == {"resident_id": str(resident)}
    with pytest.raises(ResidentNotFound):
        await residents.view_resident(estate.store, resident, worker)


async def test_a_role_without_the_action_is_forbidden_before_anything_is_read(
    estate: Estate,
) -> None:
    doctor = caller(Role.DOCTOR, areas=(estate.community,))
    with pytest.raises(Forbidden):
        await residents.register_resident(
            estate.store, estate.body(estate.unit1), doctor, id_numbers=estate.ids, today=NOW.date()
        )
    desk = caller(Role.DESK_STAFF, areas=(estate.community,))
    resident = await estate.register(estate.unit1)
    with pytest.raises(Forbidden):
        await care.raise_flag(
            estate.store,
            resident,
            RaiseFlag(flag=FlagType.ELDERLY_ALONE, tier=RiskTier.RED),
            desk,
            now=NOW,
            intervals=INTERVALS,
        )


async def test_a_duplicate_names_the_holder_only_to_those_who_see_them(estate: Estate) -> None:
    taken = estate.body(estate.unit2)
    holder = await residents.register_resident(
        estate.store, taken, ADMIN, id_numbers=estate.ids, today=NOW.date()
    )
    worker = caller(Role.GRID_WORKER, areas=(estate.grid1,))
    again = estate.body(estate.unit1, id_number=taken.id_number)
    with pytest.raises(DuplicateIdNumber) as hidden:
        await residents.register_resident(
            estate.store, again, worker, id_numbers=estate.ids, today=NOW.date()
        )
    assert hidden.value.details == {}
    director = caller(Role.DIRECTOR, areas=(estate.community,))
    with pytest.raises(DuplicateIdNumber) as shown:
        await residents.register_resident(
            estate.store, again, director, id_numbers=estate.ids, today=NOW.date()
        )
    assert shown.value.details == {"resident_id": holder.id}


async def test_a_flag_plans_the_follow_up_and_a_death_cancels_it(estate: Estate) -> None:
    resident = await estate.register(estate.unit1)
    worker = caller(Role.GRID_WORKER, areas=(estate.grid1,))
    answer = await care.raise_flag(
        estate.store,
        resident,
        RaiseFlag(flag=FlagType.ELDERLY_ALONE, tier=RiskTier.RED),
        worker,
        now=NOW,
        intervals=INTERVALS,
    )
    assert answer.consistency_token == f"registry:care-{resident}:{answer.version}"
    assert (FOLLOWUP_DUE, str(resident)) in estate.store.deadlines

    await residents.record_death(
        estate.store,
        resident,
        RecordDeath(died_on=date(2026, 5, 30)),
        worker,
        today=NOW.date(),
        retention=RETENTION,
    )
    assert (FOLLOWUP_DUE, str(resident)) not in estate.store.deadlines
    # the record is kept for its period from the day of death, then erased
    erase_at = estate.store.deadlines[(RETENTION_DUE, str(resident))]
    assert erase_at.due_at == datetime(2026, 7, 9, tzinfo=UTC)
    with pytest.raises(ResidentInactive):
        await care.raise_flag(
            estate.store,
            resident,
            RaiseFlag(flag=FlagType.DISABILITY, tier=RiskTier.YELLOW),
            worker,
            now=NOW,
            intervals=INTERVALS,
        )


async def test_a_stale_expected_version_is_a_conflict_and_writes_nothing(estate: Estate) -> None:
    resident = await estate.register(estate.unit1)
    stale = CorrectResident(phone="2", reason="r", expected_version=7)
    with pytest.raises(ConcurrencyError):
        await residents.correct_resident(
            estate.store, resident, stale, ADMIN, id_numbers=estate.ids, today=NOW.date()
        )
    assert (await estate.store.load(f"resident-{resident}")).version == 1


async def test_only_an_admin_starts_a_community() -> None:
    store = MemoryEventStore(CATALOG)
    director = caller(Role.DIRECTOR, areas=(uuid4(),))
    with pytest.raises(Forbidden):
        await areas.create_area(store, CreateArea(kind=AreaKind.COMMUNITY, name="新社区"), director)
