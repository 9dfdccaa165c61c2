"""A service's erasure reaches its records of the person that no event names by the resident id
(:data:`eventkit.erasure.Reach`): volunteering's hours ledger, whose events name the volunteer.
On real PostgreSQL, with the service's own policy handler."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Sequence

import asyncpg
import pytest_asyncio

from anju_contracts import Actor
from anju_contracts.registry import ErasureBasis, PersonErased
from anju_contracts.volunteering import (
    CATALOG,
    HoursRecorded,
    HoursRejected,
    VolunteerJoined,
)
from eventkit.erasure import erasure_policy
from eventkit.keys import CachedKeyStore, PostgresKeyStore
from eventkit.messages import Delivered
from eventkit.personal import ERASED_TEXT, FieldCipher
from eventkit.schema import migrate
from eventkit.store import Context, EventStore
from eventkit.testing.delivery import delivered
from eventkit.testing.examples import example_payload

MASTER = bytes(range(32))
CONTEXT = Context(actor=Actor(id="coord-1", roles=("volunteer_coordinator",)))
REASON = "那天请假"


@pytest_asyncio.fixture
async def store(database_url: str) -> AsyncIterator[EventStore]:
    pool = await asyncpg.create_pool(database_url, min_size=1, max_size=5)
    await migrate(pool)
    keys = PostgresKeyStore(pool, MASTER)
    await keys.migrate()
    try:
        yield EventStore(pool, CATALOG, cipher=FieldCipher(CachedKeyStore(keys)))
    finally:
        await pool.close()


def ledgers(streams: Sequence[str]) -> list[str]:
    return [f"ledger-{s.removeprefix('volunteer-')}" for s in streams if s.startswith("volunteer-")]


def erased(resident: uuid.UUID) -> Delivered:
    event = PersonErased(resident_id=resident, basis=ErasureBasis.SUBJECT_REQUEST)
    return delivered(
        event,
        source="registry",
        subject=f"resident-{resident}",
        sequence=2,
        offset=1,
        actor=Actor(id="director-1", roles=("director",)),
    )


async def reason_of(store: EventStore, volunteer: uuid.UUID) -> str:
    ledger = await store.load(f"ledger-{volunteer}")
    [rejected] = [r.event for r in ledger.events if isinstance(r.event, HoursRejected)]
    return rejected.reason


async def a_volunteer_with_hours_rejected(store: EventStore) -> tuple[uuid.UUID, uuid.UUID]:
    resident, volunteer, entry = uuid.uuid4(), uuid.uuid4(), uuid.uuid4()
    joined = VolunteerJoined.model_validate(
        {
            **example_payload(VolunteerJoined),
            "volunteer_id": str(volunteer),
            "resident_id": str(resident),
            "name": "王芳",
        }
    )
    recorded = HoursRecorded.model_validate(
        {**example_payload(HoursRecorded), "entry_id": str(entry), "volunteer_id": str(volunteer)}
    )
    rejected = HoursRejected.model_validate(
        {
            **example_payload(HoursRejected),
            "entry_id": str(entry),
            "volunteer_id": str(volunteer),
            "reason": REASON,
        }
    )
    await store.append(f"volunteer-{volunteer}", 0, [joined], context=CONTEXT)
    await store.append(f"ledger-{volunteer}", 0, [recorded, rejected], context=CONTEXT)
    return resident, volunteer


async def test_the_reach_takes_the_ledger_with_the_volunteer(store: EventStore) -> None:
    resident, volunteer = await a_volunteer_with_hours_rejected(store)
    assert await reason_of(store, volunteer) == REASON
    assert store.cipher is not None
    policy = erasure_policy("volunteering", store.cipher.keys, reach=ledgers)
    async with store.session() as session:
        await policy.handle(session, erased(resident))
    assert await reason_of(store, volunteer) == ERASED_TEXT


async def test_without_the_reach_the_ledger_stays_readable(store: EventStore) -> None:
    resident, volunteer = await a_volunteer_with_hours_rejected(store)
    assert store.cipher is not None
    policy = erasure_policy("volunteering", store.cipher.keys)
    async with store.session() as session:
        await policy.handle(session, erased(resident))
    assert await reason_of(store, volunteer) == REASON
