"""Data-subject access (:mod:`eventkit.subject_access`) on the in-memory and PostgreSQL stores:
the person's own streams and every event naming them at any depth, nothing about anyone else;
restricted events withheld by the service's rules and counted; directors and admins only, and a
resident outside the caller's areas does not exist."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from uuid import UUID

import asyncpg
import pytest
import pytest_asyncio
from pydantic import BaseModel

from anju_contracts import Actor, Event, EventCatalog
from anju_contracts.registry import AreaPath
from eventkit.access import Permissions
from eventkit.auth import Principal, Role
from eventkit.commands import Caller
from eventkit.errors import Forbidden
from eventkit.memory import MemoryEventStore
from eventkit.schema import migrate
from eventkit.store import Context, EventStore, RecordedEvent, Store, StoreSession
from eventkit.subject_access import (
    OUTSIDE_AREAS,
    ResidentNotFound,
    SubjectAccess,
    SubjectAccessRequest,
    Withhold,
    gather,
)


class Registered(Event):
    """A person was registered."""

    event_type = "sar.Registered"
    resident_id: UUID
    name: str


class Party(BaseModel):
    resident_id: UUID | None = None
    name: str


class Quarrelled(Event):
    """A dispute between parties, some of them residents."""

    event_type = "sar.Quarrelled"
    parties: list[Party]


class Signalled(Event):
    """A conflict signal naming the residents involved."""

    event_type = "sar.Signalled"
    involved_resident_ids: list[UUID]
    note: str


class Charted(Event):
    """A clinical fact, in a stream keyed by the resident only."""

    event_type = "sar.Charted"
    icd10: str


CATALOG = EventCatalog("sar", [Registered, Quarrelled, Signalled, Charted])
CONTEXT = Context(actor=Actor(id="tester", roles=("admin",)))
COMMUNITY = uuid.uuid4()
ELSEWHERE = uuid.uuid4()
PERMISSIONS = Permissions.of("sar", {})


def caller(*roles: Role, areas: tuple[UUID, ...] = (COMMUNITY,), sub: str = "staff") -> Caller:
    principal = Principal(sub=sub, roles=roles, areas=tuple(str(a) for a in areas))
    return Caller(principal=principal, context=CONTEXT)


async def _withhold(session: StoreSession, who: Caller, resident_id: UUID) -> Withhold:
    may = who.principal.has(Role.ADMIN)

    def why(recorded: RecordedEvent) -> str | None:
        if recorded.stream_id.startswith("chart-") and not may:
            return "clinical"
        return None

    return why


def access(places: dict[UUID, AreaPath]) -> SubjectAccess:
    async def locate(session: StoreSession, resident_id: UUID) -> AreaPath | None:
        return places.get(resident_id)

    return SubjectAccess(prefixes=("person-", "chart-"), locate=locate, withhold=_withhold)


class Held:
    def __init__(self, store: Store) -> None:
        self.store = store
        self.ann, self.bo = uuid.uuid4(), uuid.uuid4()
        here = AreaPath(community_id=COMMUNITY)
        self.access = access({self.ann: here, self.bo: AreaPath(community_id=ELSEWHERE)})

    async def fill(self) -> None:
        ann, bo = self.ann, self.bo
        append = self.store.append
        await append(f"person-{ann}", 0, [Registered(resident_id=ann, name="安")], context=CONTEXT)
        await append(f"person-{bo}", 0, [Registered(resident_id=bo, name="博")], context=CONTEXT)
        await append(
            f"chart-{ann}", 0, [Charted(icd10="F20"), Charted(icd10="I10")], context=CONTEXT
        )
        await append(f"chart-{bo}", 0, [Charted(icd10="E11")], context=CONTEXT)
        parties = [Party(resident_id=bo, name="博"), Party(resident_id=ann, name="安")]
        await append("dispute-1", 0, [Quarrelled(parties=parties)], context=CONTEXT)
        await append("dispute-2", 0, [Quarrelled(parties=[Party(name="路人")])], context=CONTEXT)
        noise = Signalled(involved_resident_ids=[bo, ann], note="楼道噪音")
        await append("signal-1", 0, [noise], context=CONTEXT)
        mention = Signalled(involved_resident_ids=[bo], note=f"see {ann}")  # text, not a name
        await append("signal-2", 0, [mention], context=CONTEXT)
        # a dispute recorded in another community that names ann as a party
        far = Quarrelled(parties=[Party(resident_id=ann, name="安")])
        await append("dispute-3", 0, [far], context=CONTEXT, area=str(ELSEWHERE))

    async def report(self, who: Caller, resident_id: UUID | None = None) -> list[str]:
        request = SubjectAccessRequest(resident_id=resident_id or self.ann, reason="本人申请")
        found = await gather(self.store, self.access, who, request, permissions=PERMISSIONS)
        self.withheld = [(w.type, w.count, w.why) for w in found.withheld]
        self.data = [e.data for e in found.events]
        return [f"{e.stream_id}:{e.type}" for e in found.events]


class SubjectAccessContract:
    @pytest_asyncio.fixture
    async def held(self, store: Store) -> Held:
        held = Held(store)
        await held.fill()
        return held

    async def test_an_admin_reads_every_event_about_the_person_and_nothing_else(
        self, held: Held
    ) -> None:
        assert await held.report(caller(Role.ADMIN, areas=())) == [
            f"person-{held.ann}:sar.Registered",
            f"chart-{held.ann}:sar.Charted",
            f"chart-{held.ann}:sar.Charted",
            "dispute-1:sar.Quarrelled",
            "signal-1:sar.Signalled",
            "dispute-3:sar.Quarrelled",
        ]
        assert held.withheld == []
        assert {"icd10": "F20"} in held.data

    async def test_a_director_gets_restricted_events_withheld_and_counted(self, held: Held) -> None:
        assert await held.report(caller(Role.DIRECTOR)) == [
            f"person-{held.ann}:sar.Registered",
            "dispute-1:sar.Quarrelled",
            "signal-1:sar.Signalled",
        ]
        assert held.withheld == [
            ("sar.Charted", 2, "clinical"),
            ("sar.Quarrelled", 1, OUTSIDE_AREAS),  # dispute-3: a 404 to this director
        ]
        assert all("icd10" not in data for data in held.data)

    async def test_a_resident_outside_the_callers_areas_does_not_exist(self, held: Held) -> None:
        with pytest.raises(ResidentNotFound):
            await held.report(caller(Role.DIRECTOR), held.bo)
        with pytest.raises(ResidentNotFound):
            await held.report(caller(Role.DIRECTOR), uuid.uuid4())
        with pytest.raises(ResidentNotFound):
            await held.report(caller(Role.DIRECTOR, areas=()))

    async def test_other_roles_may_not_ask(self, held: Held) -> None:
        for role in (Role.GRID_WORKER, Role.DOCTOR, Role.MEDIATOR, Role.DESK_STAFF):
            with pytest.raises(Forbidden):
                await held.report(caller(role))

    def test_a_reason_is_required(self) -> None:
        with pytest.raises(ValueError, match="reason"):
            SubjectAccessRequest(resident_id=uuid.uuid4(), reason="  ")

    def test_a_reason_with_control_characters_or_unknown_fields_is_refused(self) -> None:
        with pytest.raises(ValueError, match="control characters"):
            SubjectAccessRequest(resident_id=uuid.uuid4(), reason="asked\x00in person")
        with pytest.raises(ValueError, match="extra"):
            SubjectAccessRequest.model_validate(
                {"resident_id": str(uuid.uuid4()), "reason": "asked in person", "x": 1}
            )


class TestMemoryStore(SubjectAccessContract):
    @pytest.fixture
    def store(self) -> Store:
        return MemoryEventStore(CATALOG)


class TestPostgresStore(SubjectAccessContract):
    @pytest_asyncio.fixture
    async def store(self, database_url: str) -> AsyncIterator[Store]:
        pool = await asyncpg.create_pool(database_url, min_size=1, max_size=4)
        try:
            await migrate(pool)
            yield EventStore(pool, CATALOG)
        finally:
            await pool.close()
