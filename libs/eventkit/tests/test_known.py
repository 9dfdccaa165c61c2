"""What a service knows of the registry (``eventkit.known``): the mirror :func:`learn` keeps in
real PostgreSQL, the policy around it, the tables mediation kept before, and the in-memory twin
that handler tests use in its place."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from datetime import date
from uuid import UUID

import asyncpg
import pytest
import pytest_asyncio

from anju_contracts import Actor, Event
from anju_contracts.registry import (
    CATALOG as REGISTRY,
    AreaCreated,
    AreaKind,
    AreaPath,
    ErasureBasis,
    Liaison,
    Location,
    OrganisationChanged,
    OrganisationKind,
    OrganisationRegistered,
    OrganisationRetired,
    PersonErased,
    ResidentDetailsCorrected,
    ResidentDied,
    ResidentMoved,
    ResidentMovedOut,
    ResidentRegistered,
    Sex,
)
from eventkit.auth import Principal, Role
from eventkit.commands import Caller
from eventkit.errors import AreaNotFound, OrganisationNotFound, UnknownResident
from eventkit.http import status_of
from eventkit.known import (
    DDL,
    KnownOrganisation,
    KnownResident,
    MemoryKnown,
    PostgresKnown,
    learn,
    registry_policy,
    require_known,
    visible_location,
    visible_organisation,
    visible_residents,
)
from eventkit.memory import MemoryEventStore
from eventkit.messages import Delivered
from eventkit.policy import handle_once
from eventkit.schema import migrate
from eventkit.store import Context, EventStore, Session
from eventkit.testing.delivery import delivered as delivered_as
from eventkit.testing.registry import RegistryFeed

COMMUNITY, GRID, OTHER_GRID, BUILDING = uuid.uuid4(), uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
AT_GRID = AreaPath(community_id=COMMUNITY, grid_id=GRID)
AT_OTHER_GRID = AreaPath(community_id=COMMUNITY, grid_id=OTHER_GRID)
BORN = date(1948, 3, 2)


def delivered(event: Event, *, sequence: int = 1) -> Delivered:
    subject = f"area-{event.area_id}" if isinstance(event, AreaCreated) else "resident-x"
    return delivered_as(
        event,
        source="registry",
        subject=subject,
        sequence=sequence,
        correlation_id="c",
        actor=Actor(id="registry-tests", roles=("admin",)),
    )


def registered(resident_id: UUID, path: AreaPath = AT_GRID, born: date = BORN) -> Event:
    return ResidentRegistered(
        resident_id=resident_id,
        name="王秀英",
        sex=Sex.FEMALE,
        date_of_birth=born,
        id_number="11010519480302002X",
        path=path,
    )


def area(area_id: UUID, kind: AreaKind, path: AreaPath, parent: UUID | None) -> Event:
    return AreaCreated(area_id=area_id, kind=kind, name=str(kind), parent_id=parent, path=path)


@pytest_asyncio.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
    await migrate(pool, DDL)
    yield EventStore(pool, REGISTRY)
    await pool.close()


async def apply(store: EventStore, *events: Event) -> None:
    """``learn`` each event on its own transaction, as the policy does (without its inbox)."""
    for event in events:
        async with store.session() as session:
            await learn(session, delivered(event))


async def resident(store: EventStore, resident_id: UUID) -> KnownResident | None:
    async with store.session() as session:
        return await PostgresKnown().resident(session, resident_id)


# -- learning, in PostgreSQL ---------------------------------------------------------------------


async def test_a_redelivered_event_changes_nothing(store: EventStore) -> None:
    policy = registry_policy("known_tests")
    rid = uuid.uuid4()
    again = delivered(registered(rid))
    assert await handle_once(store, policy, again)
    await apply(store, ResidentDied(resident_id=rid, died_on=date(2026, 1, 5)))
    # the inbox keeps the registration from running again and bringing the dead back
    assert not await handle_once(store, policy, again)
    dead = await resident(store, rid)
    assert dead is not None
    assert (dead.active, dead.died_on) == (False, date(2026, 1, 5))

    # and each statement sets what the event says, so applying it twice is applying it once
    grid = area(GRID, AreaKind.GRID, AreaPath(community_id=COMMUNITY), COMMUNITY)
    moved = ResidentMoved(resident_id=rid, from_path=AT_GRID, to_path=AT_OTHER_GRID)
    await apply(store, grid, grid, moved, moved)
    async with store.session() as session:
        assert await PostgresKnown().location(session, GRID) == Location(
            area_id=GRID, kind=AreaKind.GRID, path=AT_GRID
        )
        assert await PostgresKnown().residents(session, [rid]) == {rid: AT_OTHER_GRID}
        count = await session.conn.fetchval("SELECT count(*) FROM known_residents")
    assert count == 1


async def test_a_corrected_date_of_birth_is_learnt(store: EventStore) -> None:
    rid = uuid.uuid4()
    await apply(
        store,
        registered(rid),
        ResidentDetailsCorrected(resident_id=rid, date_of_birth=date(1949, 3, 2), reason="证件"),
    )
    corrected = await resident(store, rid)
    assert corrected is not None
    assert corrected.date_of_birth == date(1949, 3, 2)

    # a correction of other details leaves the date of birth alone
    await apply(
        store, ResidentDetailsCorrected(resident_id=rid, phone="13800000000", reason="换号")
    )
    assert await resident(store, rid) == corrected


async def test_an_erased_persons_date_of_birth_is_forgotten_and_where_they_lived_kept(
    store: EventStore,
) -> None:
    erased, kept = uuid.uuid4(), uuid.uuid4()
    await apply(store, registered(erased), registered(kept))
    await apply(store, PersonErased(resident_id=erased, basis=ErasureBasis.SUBJECT_REQUEST))
    forgotten = await resident(store, erased)
    assert forgotten is not None
    assert forgotten.date_of_birth is None
    assert (forgotten.path, forgotten.active) == (AT_GRID, True)
    other = await resident(store, kept)
    assert other is not None
    assert other.date_of_birth == BORN


async def test_death_and_moving_out_make_a_resident_inactive(store: EventStore) -> None:
    died, left = uuid.uuid4(), uuid.uuid4()
    await apply(
        store,
        registered(died),
        registered(left),
        ResidentDied(resident_id=died, died_on=date(2026, 2, 1)),
        ResidentMovedOut(resident_id=left, moved_out_on=date(2026, 2, 3)),
    )
    assert await resident(store, died) == KnownResident(
        died, AT_GRID, BORN, active=False, died_on=date(2026, 2, 1)
    )
    assert await resident(store, left) == KnownResident(
        left, AT_GRID, BORN, active=False, died_on=None
    )


async def test_a_resident_registered_again_is_active_again(store: EventStore) -> None:
    rid = uuid.uuid4()
    await apply(
        store,
        registered(rid),
        ResidentDied(resident_id=rid, died_on=date(2026, 2, 1)),
        registered(rid, AT_OTHER_GRID, date(1950, 1, 1)),
    )
    assert await resident(store, rid) == KnownResident(
        rid, AT_OTHER_GRID, date(1950, 1, 1), active=True, died_on=None
    )


async def test_the_services_reaction_reads_the_mirror_in_the_same_transaction(
    store: EventStore,
) -> None:
    seen: list[KnownResident | None] = []

    async def enrol(session: Session, d: Delivered) -> None:
        if isinstance(d.event, ResidentRegistered):
            seen.append(await PostgresKnown().resident(session, d.event.resident_id))
        if isinstance(d.event, ResidentDied):
            raise RuntimeError("the reaction failed")

    policy = registry_policy("known_tests", then=enrol)
    rid = uuid.uuid4()
    assert await handle_once(store, policy, delivered(registered(rid)))
    assert seen == [KnownResident(rid, AT_GRID, BORN, active=True, died_on=None)]

    # a failing reaction takes the mirror's change (and the inbox row) down with it
    death = delivered(ResidentDied(resident_id=rid, died_on=date(2026, 2, 1)))
    with pytest.raises(RuntimeError):
        await handle_once(store, policy, death)
    alive = await resident(store, rid)
    assert alive is not None
    assert alive.active
    assert await handle_once(store, registry_policy("known_tests"), death)


# -- the tables mediation kept before the kernel took them over ----------------------------------

MEDIATIONS_TABLES = """
CREATE TABLE mediation_areas (
    area_id uuid PRIMARY KEY, kind text NOT NULL, community_id uuid NOT NULL,
    grid_id uuid, building_id uuid, unit_id uuid
);
CREATE TABLE mediation_residents (
    resident_id uuid PRIMARY KEY, community_id uuid NOT NULL,
    grid_id uuid, building_id uuid, unit_id uuid, active boolean NOT NULL
);
"""


async def test_the_ddl_takes_over_mediations_tables_with_their_rows(database_url: str) -> None:
    rid = uuid.uuid4()
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await pool.execute(MEDIATIONS_TABLES)
        await pool.execute(
            "INSERT INTO mediation_areas VALUES ($1, 'grid', $2, $1, NULL, NULL)", GRID, COMMUNITY
        )
        await pool.execute(
            "INSERT INTO mediation_residents VALUES ($1, $2, $3, NULL, NULL, false)",
            rid,
            COMMUNITY,
            GRID,
        )
        await migrate(pool, DDL)
        await migrate(pool, DDL)  # a restart runs it again
        store = EventStore(pool, REGISTRY)
        async with store.session() as session:
            known = PostgresKnown()
            assert await known.location(session, GRID) == Location(
                area_id=GRID, kind=AreaKind.GRID, path=AT_GRID
            )
            assert await known.resident(session, rid) == KnownResident(
                rid, AT_GRID, None, active=False, died_on=None
            )
        left = await pool.fetchval("SELECT count(*) FROM pg_class WHERE relname LIKE 'mediation_%'")
        assert left == 0
    finally:
        await pool.close()


async def test_the_ddl_leaves_old_tables_alone_when_the_new_ones_exist(database_url: str) -> None:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=2)
    try:
        await migrate(pool, DDL)
        await pool.execute(MEDIATIONS_TABLES)
        await migrate(pool, DDL)
        tables = await pool.fetch(
            "SELECT relname FROM pg_class WHERE relkind = 'r' AND relname ~ '_(areas|residents)$'"
        )
        assert {r["relname"] for r in tables} == {
            "known_areas",
            "known_residents",
            "mediation_areas",
            "mediation_residents",
        }
    finally:
        await pool.close()


# -- the in-memory twin ----------------------------------------------------------------------------


def history() -> tuple[list[Event], list[UUID], list[UUID]]:
    """A small estate's registry history, with every event the mirror reads and one it does
    not, and residents it hears of only by a move or only by a death."""
    stays, corrected, died, left, back, moved_in, unheard = (uuid.uuid4() for _ in range(7))
    at_building = AreaPath(community_id=COMMUNITY, grid_id=GRID, building_id=BUILDING)
    events: list[Event] = [
        area(COMMUNITY, AreaKind.COMMUNITY, AreaPath(community_id=uuid.uuid4()), None),
        area(GRID, AreaKind.GRID, AreaPath(community_id=COMMUNITY), COMMUNITY),
        area(OTHER_GRID, AreaKind.GRID, AT_OTHER_GRID, COMMUNITY),
        area(BUILDING, AreaKind.BUILDING, AT_GRID, GRID),
        registered(stays, at_building),
        registered(corrected),
        ResidentDetailsCorrected(resident_id=corrected, date_of_birth=date(1960, 5, 4), reason="r"),
        ResidentDetailsCorrected(resident_id=corrected, name="王秀兰", reason="r"),
        registered(died),
        ResidentMoved(resident_id=died, from_path=AT_GRID, to_path=AT_OTHER_GRID),
        ResidentDied(resident_id=died, died_on=date(2026, 3, 1)),
        registered(left),
        ResidentMovedOut(resident_id=left, moved_out_on=date(2026, 3, 2)),
        registered(back),
        ResidentMovedOut(resident_id=back, moved_out_on=date(2026, 3, 3)),
        registered(back, at_building, date(1970, 7, 7)),
        ResidentMoved(resident_id=moved_in, from_path=AT_OTHER_GRID, to_path=AT_GRID),
        ResidentDied(resident_id=unheard, died_on=date(2026, 3, 4)),
    ]
    areas = [COMMUNITY, GRID, OTHER_GRID, BUILDING, uuid.uuid4()]
    residents = [stays, corrected, died, left, back, moved_in, unheard]
    return events, areas, residents


async def test_memory_known_answers_as_postgres_does(store: EventStore) -> None:
    events, areas, residents = history()
    await apply(store, *events)
    memory = MemoryKnown()
    for event in events:
        memory.learn(event)

    postgres = PostgresKnown()
    async with store.session() as session:
        for area_id in areas:
            assert await memory.location(session, area_id) == await postgres.location(
                session, area_id
            )
        for rid in residents:
            assert await memory.resident(session, rid) == await postgres.resident(session, rid)
        assert await memory.residents(session, residents) == await postgres.residents(
            session, residents
        )
        assert await memory.residents(session, []) == await postgres.residents(session, [])
        # the history reaches every state the mirror can hold, so the comparison means something
        people = [await postgres.resident(session, rid) for rid in residents]
    assert {(p.active, p.died_on is not None, p.date_of_birth is None) for p in people if p} == {
        (True, False, False),
        (False, True, False),
        (False, False, False),
        (True, False, True),
    }
    assert people[-1] is None


# -- the access rule ---------------------------------------------------------------------------------


def caller(*areas: UUID) -> Caller:
    principal = Principal(sub="gw-1", roles=(Role.GRID_WORKER,), areas=tuple(map(str, areas)))
    return Caller(principal, Context(actor=Actor(id="gw-1", roles=("grid_worker",))))


async def test_what_the_caller_may_not_see_is_not_known() -> None:
    known = MemoryKnown()
    for event in history()[0][:4]:
        known.learn(event)
    near, far = uuid.uuid4(), uuid.uuid4()
    known.place(near, AT_GRID)
    known.place(far, AT_OTHER_GRID)
    worker = caller(GRID)

    async with MemoryEventStore(REGISTRY).session() as session:
        location = await visible_location(known, session, GRID, worker)
        assert location.path == AT_GRID
        for hidden in (OTHER_GRID, uuid.uuid4()):
            with pytest.raises(AreaNotFound) as refused:
                await visible_location(known, session, hidden, worker)
            assert (refused.value.code, status_of(refused.value)) == ("area_not_found", 404)

        found = await visible_residents(known, session, [near, far], worker)
    assert found == {near: AT_GRID}
    require_known([near], found)
    with pytest.raises(UnknownResident) as unknown:
        require_known([near, far], found)
    assert (unknown.value.code, status_of(unknown.value)) == ("unknown_resident", 422)
    assert unknown.value.details == {"resident_id": str(far)}


# -- partner organisations -----------------------------------------------------------------------

OTHER_COMMUNITY = uuid.uuid4()


def organisation(
    organisation_id: UUID, *communities: UUID, kind: OrganisationKind = OrganisationKind.EMPLOYER
) -> Event:
    return OrganisationRegistered(
        organisation_id=organisation_id,
        kind=kind,
        name="市第一人民医院",
        community_ids=list(communities or (COMMUNITY,)),
        liaisons=[Liaison(name="李明", role="党委办公室", phone="13800000000")],
    )


async def known_organisation(store: EventStore, organisation_id: UUID) -> KnownOrganisation | None:
    async with store.session() as session:
        return await PostgresKnown().organisation(session, organisation_id)


async def test_organisations_are_learnt_changed_and_retired(store: EventStore) -> None:
    oid = uuid.uuid4()
    await apply(store, organisation(oid, COMMUNITY, OTHER_COMMUNITY))
    assert await known_organisation(store, oid) == KnownOrganisation(
        oid, OrganisationKind.EMPLOYER, "市第一人民医院", (COMMUNITY, OTHER_COMMUNITY), active=True
    )

    # a change sets what it names and leaves the rest
    renamed = OrganisationChanged(organisation_id=oid, name="市一医院")
    await apply(store, renamed, renamed)
    moved = OrganisationChanged(organisation_id=oid, community_ids=[OTHER_COMMUNITY])
    await apply(store, moved)
    assert await known_organisation(store, oid) == KnownOrganisation(
        oid, OrganisationKind.EMPLOYER, "市一医院", (OTHER_COMMUNITY,), active=True
    )

    await apply(store, OrganisationRetired(organisation_id=oid, reason="结对期满"))
    retired = await known_organisation(store, oid)
    assert retired is not None
    assert (retired.active, retired.name) == (False, "市一医院")

    # registered again, it is active again, as the registration says
    await apply(store, organisation(oid, COMMUNITY, kind=OrganisationKind.PAIRED_UNIT))
    assert await known_organisation(store, oid) == KnownOrganisation(
        oid, OrganisationKind.PAIRED_UNIT, "市第一人民医院", (COMMUNITY,), active=True
    )
    assert await known_organisation(store, uuid.uuid4()) is None


def organisation_history() -> tuple[list[Event], list[UUID]]:
    """Organisations in every state the mirror can hold, and one it hears of only by a change."""
    stays, renamed, moved, retired, back, unheard = (uuid.uuid4() for _ in range(6))
    events: list[Event] = [
        organisation(stays),
        organisation(renamed, COMMUNITY, OTHER_COMMUNITY),
        OrganisationChanged(organisation_id=renamed, name="新名称"),
        organisation(moved),
        OrganisationChanged(
            organisation_id=moved, community_ids=[OTHER_COMMUNITY, COMMUNITY], liaisons=[]
        ),
        organisation(retired),
        OrganisationRetired(organisation_id=retired, reason="r"),
        organisation(back),
        OrganisationRetired(organisation_id=back, reason="r"),
        organisation(back, OTHER_COMMUNITY, kind=OrganisationKind.POLICE_STATION),
        OrganisationChanged(organisation_id=unheard, name="x"),
        OrganisationRetired(organisation_id=unheard, reason="r"),
    ]
    return events, [stays, renamed, moved, retired, back, unheard, uuid.uuid4()]


async def test_memory_known_knows_organisations_as_postgres_does(store: EventStore) -> None:
    events, ids = organisation_history()
    await apply(store, *events)
    memory = MemoryKnown()
    for event in events:
        memory.learn(event)
    async with store.session() as session:
        found = [await PostgresKnown().organisation(session, oid) for oid in ids]
        assert [await memory.organisation(session, oid) for oid in ids] == found
    # the history reaches every state, so the comparison means something
    assert {(o.active, len(o.community_ids)) for o in found if o} == {
        (True, 1),
        (True, 2),
        (False, 1),
    }
    assert found[-2:] == [None, None]
    assert set(memory.organisations) == set(ids[:5])


async def test_an_organisation_is_known_to_callers_covering_any_community_it_serves() -> None:
    known = MemoryKnown()
    serving_both, elsewhere, retired = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    for event in (
        organisation(serving_both, OTHER_COMMUNITY, COMMUNITY),
        organisation(elsewhere, OTHER_COMMUNITY),
        organisation(retired, COMMUNITY),
        OrganisationRetired(organisation_id=retired, reason="r"),
    ):
        known.learn(event)
    here = Caller(
        Principal(sub="vc-1", roles=(Role.VOLUNTEER_COORDINATOR,), areas=(str(COMMUNITY),)),
        Context(actor=Actor(id="vc-1", roles=("volunteer_coordinator",))),
    )
    async with MemoryEventStore(REGISTRY).session() as session:
        found = await visible_organisation(known, session, serving_both, here)
        assert found.community_ids == (OTHER_COMMUNITY, COMMUNITY)
        # a grid worker whose token names a grid of the community does not cover the community
        with pytest.raises(OrganisationNotFound):
            await visible_organisation(known, session, serving_both, caller(GRID))
        for hidden in (elsewhere, retired, uuid.uuid4()):
            with pytest.raises(OrganisationNotFound) as refused:
                await visible_organisation(known, session, hidden, here)
            assert (refused.value.code, status_of(refused.value)) == ("organisation_not_found", 404)
            assert refused.value.details == {"organisation_id": str(hidden)}


async def test_the_registry_feed_announces_an_organisation_to_a_policy(store: EventStore) -> None:
    feed = RegistryFeed(store, registry_policy("known_tests"))
    await feed.build_tree(residents=0)
    organisation_id = await feed.organisation(
        OrganisationKind.HEALTH_CENTRE,
        "社区卫生服务中心",
        [feed.other_community_id, feed.community_id],
    )
    found = await known_organisation(store, UUID(organisation_id))
    assert found == KnownOrganisation(
        UUID(organisation_id),
        OrganisationKind.HEALTH_CENTRE,
        "社区卫生服务中心",
        (UUID(feed.other_community_id), UUID(feed.community_id)),
        active=True,
    )
    default = await known_organisation(
        store, UUID(await feed.organisation(OrganisationKind.PROPERTY_COMPANY))
    )
    assert default is not None
    assert default.community_ids == (UUID(feed.community_id),)
