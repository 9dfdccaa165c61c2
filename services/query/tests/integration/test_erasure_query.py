"""A person's erasure in the read models (issue 16, "no readable personal field remains ... in
any read model"): the query blanks its clear copies when ``registry.PersonErased`` arrives, and a
rebuild afterwards reads the same — while every row, id, date, status and count stays.

The world: 王芳 (erased) and 李强 (kept) live in grid G1. Every write side seals its personal
fields with the session's key store, as the services do. About 王芳 there are a special-group flag
and a follow-up visit (registry); a dispute she is a party to with 李强 and an ad-hoc party 赵大,
a signal naming her and a petition for her (mediation); a residence certificate and an opinion
she raised (station); and she volunteers, with hours rejected (volunteering; the rejection's
reason is under her ledger's key, which volunteering's erasure reaches through her volunteer). Beside them stand
records that do not name her: 李强's opinion, a dispute between 李强 and an ad-hoc 赵二.

The erasure is what the registry and every service's ``erasure_policy`` do: destroy her key and
the keys of each service's records that name her (``Session.streams_naming``), then announce
``PersonErased``.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import asyncpg
import httpx
import pytest
import pytest_asyncio

from anju_contracts import Actor
from anju_contracts.mediation import (
    Category,
    Channel,
    ConflictSignalReported,
    DisputeRegistered,
    Location,
    MediationSessionHeld,
    MediatorAssigned,
    MediatorRole,
    Party,
    PartyRole,
    PetitionProxied,
    ReporterRole,
    Sensitivity,
    SessionPlace,
    Tier,
)
from anju_contracts.registry import (
    AreaKind,
    ErasureBasis,
    FlagType,
    FollowUpVisitRecorded,
    PersonErased,
    ResidentRegistered,
    RiskTier,
    Sex,
    SpecialGroupFlagRaised,
)
from anju_contracts.station import (
    GatheringHeld,
    GatheringKind,
    OpinionAnswered,
    OpinionRaised,
    ResidenceCertificateIssued,
)
from anju_contracts.volunteering import (
    HoursRecorded,
    HoursRejected,
    HoursSource,
    VolunteerJoined,
    VolunteerKind,
)
from anju_query.projections import projections
from anju_query.testing import WriteSides, area_tree, caught_up, every_write_side
from eventkit.auth import Role, issue_token
from eventkit.keys import KeySettings, PostgresKeyStore
from eventkit.personal import ERASED_TEXT, FieldCipher, record_subject, resident_subject
from eventkit.projection import rebuild, wait_for_stream

pytestmark = pytest.mark.asyncio(loop_scope="session")

SECRET = "query-tests-secret-0123456789abcdef"
ACTOR = Actor(id="staff-1", roles=("admin",))
ADMIN = {"Authorization": f"Bearer {issue_token(SECRET, 'admin-1', (Role.ADMIN,), [])}"}
NOW = datetime(2025, 5, 6, 9, 0, tzinfo=UTC)

ERASED_NAMES = ("王芳", "赵大", "孙调解", "那天请假")
"""Her name, the names only a record naming her holds (an ad-hoc party, its mediator), and why
her hours were rejected (her ledger's)."""
KEPT_NAMES = ("李强", "赵二", "周调解")
"""Names the erasure does not reach: another resident, a dispute that does not name her."""

# the read models an erasure reaches, and those with nothing of hers
FOLLOWING = ("residents", "disputes", "station", "volunteering")
EVERY = (*FOLLOWING, "health", "governance", "hotline")


@dataclass
class World:
    sides: WriteSides
    keys: PostgresKeyStore
    client: httpx.AsyncClient
    pool: asyncpg.Pool
    ids: dict[str, uuid.UUID]


async def _seed(sides: WriteSides) -> dict[str, uuid.UUID]:
    reg, med, sta, vol = sides.registry, sides.mediation, sides.station, sides.volunteering
    areas, paths = await area_tree(reg)
    g1, path = areas["g1"], paths["g1"]
    ids = {"g1": g1}
    for n, (key, name) in enumerate([("wang", "王芳"), ("li", "李强")]):
        rid = ids[key] = uuid.uuid4()
        await reg.emit(
            f"resident-{rid}",
            ResidentRegistered(
                resident_id=rid,
                name=name,
                sex=Sex.FEMALE,
                date_of_birth=date(1950, 1, 1),
                id_number=f"11010119500101{n:03d}X",
                phone=f"1380000000{n}",
                path=path,
            ),
            SpecialGroupFlagRaised(
                resident_id=rid,
                flag=FlagType.ELDERLY_ALONE,
                tier=RiskTier.YELLOW,
                note=f"{name}独居，需要照看",
            ),
            area=g1,
        )
        await reg.emit(
            f"care-{rid}",
            FollowUpVisitRecorded(
                resident_id=rid,
                visit_id=uuid.uuid4(),
                visited_at=NOW,
                grid_worker_id="gw-1",
                findings=f"{name}身体尚可",
                actions=f"为{name}联系社区医生",
                errands=[f"给{name}买药"],
            ),
            area=g1,
        )
    wang, li = ids["wang"], ids["li"]
    where = Location(area_id=g1, kind=AreaKind.GRID, path=path)

    async def dispute(key: str, description: str, mediator: str, parties: list[Party]) -> None:
        did = ids[key] = uuid.uuid4()
        await med.emit(
            f"dispute-{did}",
            DisputeRegistered(
                dispute_id=did,
                channel=Channel.WALK_IN,
                category=Category.NOISE,
                description=description,
                location=where,
                parties=parties,
                sensitivity=Sensitivity.STANDARD,
                tier=Tier.GRID,
                registered_at=NOW,
                sla_due_by=NOW + timedelta(days=7),
            ),
            MediatorAssigned(
                dispute_id=did, mediator_id="m-1", role=MediatorRole.GRID_WORKER, name=mediator
            ),
            MediationSessionHeld(
                dispute_id=did,
                session_id=uuid.uuid4(),
                held_at=NOW,
                place=SessionPlace.STATION,
                attendees=[p.name or "李强" for p in parties],
                minutes=f"{description}，双方同意再谈",
            ),
            area=g1,
        )

    def party(role: PartyRole, *, resident: uuid.UUID | None = None, name: str) -> Party:
        return Party(party_id=uuid.uuid4(), role=role, resident_id=resident, name=name)

    await dispute(
        "noise",
        "王芳与赵大因噪音争吵",
        "孙调解",
        [
            party(PartyRole.APPLICANT, resident=wang, name="王芳"),
            party(PartyRole.RESPONDENT, name="赵大"),
            party(PartyRole.AFFECTED, resident=li, name="李强"),
        ],
    )
    await dispute(
        "other",
        "李强与赵二因停车争吵",
        "周调解",
        [
            party(PartyRole.APPLICANT, resident=li, name="李强"),
            party(PartyRole.RESPONDENT, name="赵二"),
        ],
    )
    signal = ids["signal"] = uuid.uuid4()
    await med.emit(
        f"signal-{signal}",
        ConflictSignalReported(
            signal_id=signal,
            reporter_id="gw-1",
            reporter_role=ReporterRole.GRID_WORKER,
            location=where,
            category=Category.WATER_LEAK,
            description="王芳家漏水到楼下",
            involved_resident_ids=[wang],
            reported_at=NOW,
        ),
        area=g1,
    )
    petition = ids["petition"] = uuid.uuid4()
    await med.emit(
        f"petition-{petition}",
        PetitionProxied(
            petition_id=petition,
            agent_id="agent-1",
            resident_id=wang,
            path=path,
            subject="王芳申请低保",
            department="民政",
            registered_at=NOW,
        ),
        area=g1,
    )
    certificate = ids["certificate"] = uuid.uuid4()
    await sta.emit(
        f"certificate-{certificate}",
        ResidenceCertificateIssued(
            certificate_id=certificate,
            number="ANJU-R-2025-0000ABCD",
            resident_id=wang,
            holder_name="王芳",
            address="王芳家：安居路1号",
            community_name="安居社区",
            living_since=date(2000, 1, 1),
            path=path,
            issued_by="desk-1",
            issued_on=NOW.date(),
        ),
        area=g1,
    )
    gathering = ids["gathering"] = uuid.uuid4()
    await sta.emit(
        f"gathering-{gathering}",
        GatheringHeld(
            gathering_id=gathering,
            kind=GatheringKind.OPINION_GATHERING,
            topic="楼道整治",
            held_on=NOW.date(),
            attendance=12,
            path=path,
            recorded_by="desk-1",
            recorded_at=NOW,
        ),
        area=g1,
    )
    for key, who, text in [
        ("her_opinion", wang, "王芳：楼道太暗"),
        ("his_opinion", li, "李强：加装路灯"),
    ]:
        oid = ids[key] = uuid.uuid4()
        await sta.emit(
            f"opinion-{oid}",
            OpinionRaised(
                opinion_id=oid,
                gathering_id=gathering,
                text=text,
                resident_id=who,
                path=path,
                recorded_by="desk-1",
                raised_at=NOW,
            ),
            OpinionAnswered(
                opinion_id=oid, reply=f"已回复：{text}", answered_by="desk-1", answered_at=NOW
            ),
            area=g1,
        )
    volunteer = ids["volunteer"] = uuid.uuid4()
    await vol.emit(
        f"volunteer-{volunteer}",
        VolunteerJoined(
            volunteer_id=volunteer,
            kind=VolunteerKind.RESIDENT_VOLUNTEER,
            name="王芳",
            resident_id=wang,
            path=path,
            joined_on=NOW.date(),
        ),
        area=g1,
    )
    entry = uuid.uuid4()
    await vol.emit(
        f"ledger-{volunteer}",
        HoursRecorded(
            entry_id=entry,
            volunteer_id=volunteer,
            source=HoursSource.SHIFT,
            source_id=uuid.uuid4(),
            hours=2.0,
            served_on=NOW.date(),
        ),
        HoursRejected(
            entry_id=entry, volunteer_id=volunteer, rejected_by="coord-1", reason="那天请假"
        ),
        area=g1,
    )
    return ids


@pytest_asyncio.fixture(loop_scope="session", scope="module")
async def world(pg_server_url: str, kafka_bootstrap: str, key_store: str) -> AsyncIterator[World]:
    settings = KeySettings.model_validate({"database_url": key_store, "master_key": _master_key()})
    keys_pool = await asyncpg.create_pool(settings.database_url, min_size=1, max_size=3)
    try:
        keys = PostgresKeyStore(keys_pool, settings.master_key_bytes())
        await keys.migrate()
        async with every_write_side(
            pg_server_url, kafka_bootstrap, secret=SECRET, actor=ACTOR, cipher=FieldCipher(keys)
        ) as sides:
            ids = await _seed(sides)
            async with sides.caught_up_query() as query:
                yield World(sides, keys, query.client, query.pool, ids)
    finally:
        await keys_pool.close()


def _master_key() -> str:
    return os.environ["KEYS__MASTER_KEY"]  # the session's, as every service reads it


async def _rows(pool: asyncpg.Pool, names: tuple[str, ...] = EVERY) -> dict[str, list[str]]:
    """Every row of every table of the read models ``names``, as text, by ``model.table``
    (but the consumers' bookkeeping: offsets, versions, who was erased)."""
    rows: dict[str, list[str]] = {}
    async with pool.acquire() as conn:
        for name in names:
            views = await conn.fetch(
                "SELECT table_name FROM information_schema.views WHERE table_schema = $1", name
            )
            for view in views:
                table = f"{name}.{view['table_name']}"
                if view["table_name"] in ("partition_offsets", "stream_versions", "erased_people"):
                    continue
                rows[table] = [r[0] for r in await conn.fetch(f"SELECT x::text FROM {table} x")]
    return rows


def _naming(rows: dict[str, list[str]], name: str) -> dict[str, list[str]]:
    return {t: [r for r in rs if name in r] for t, rs in rows.items() if any(name in r for r in rs)}


async def _erase(world: World, person: uuid.UUID) -> None:
    """What the registry and every service's erasure policy do, then the announcement."""
    await world.keys.destroy(resident_subject(person))
    sides = world.sides
    for side in (sides.registry, sides.mediation, sides.station, sides.volunteering, sides.health):
        async with side.store.session() as session:
            streams = await session.streams_naming(person)
        if side is sides.volunteering:  # its reach: each volunteer's hours ledger
            streams += [
                f"ledger-{s.removeprefix('volunteer-')}"
                for s in streams
                if s.startswith("volunteer-")
            ]
        for stream in streams:
            await world.keys.destroy(record_subject(side.name, stream))
    await sides.registry.emit(
        f"resident-{person}",
        PersonErased(resident_id=person, basis=ErasureBasis.SUBJECT_REQUEST, birth_year=1950),
        area=world.ids["g1"],
    )
    await sides.registry.publish()
    version = sides.registry.versions[f"resident-{person}"]
    for projection in FOLLOWING:
        reached = await wait_for_stream(
            world.pool, projection, "registry", f"resident-{person}", version, timeout_s=30
        )
        assert reached, projection


def _counts(rows: dict[str, list[str]]) -> dict[str, int]:
    return {table: len(r) for table, r in rows.items()}


async def test_an_erased_person_reads_as_erased_in_every_read_model_and_after_a_rebuild(
    world: World,
) -> None:
    before = await _rows(world.pool)
    for name in (*ERASED_NAMES, *KEPT_NAMES):
        assert _naming(before, name), f"{name} is in some read model before the erasure"
    wang = world.ids["wang"]

    await _erase(world, wang)

    after = await _rows(world.pool)
    for name in ERASED_NAMES:
        assert _naming(after, name) == {}, name
    for phone_or_id in ("13800000000", "11010119500101000X"):
        assert _naming(after, phone_or_id) == {}
    for name in KEPT_NAMES:  # what does not name her stays
        assert _naming(after, name).keys() == _naming(before, name).keys(), name
    assert _counts(after) == _counts(before)  # every row is still there: figures unchanged

    async with world.pool.acquire() as conn:
        her = await conn.fetchrow("SELECT * FROM residents.residents WHERE resident_id = $1", wang)
        assert her is not None
        assert (her["name"], her["date_of_birth"], her["id_number"], her["phone"]) == (
            ERASED_TEXT,
            None,
            None,
            None,
        )
        assert her["status"] == "erased"
        assert (her["residency"], her["birth_year"]) == ("active", 1950)
        assert her["registered_at"] is not None
        assert her["grid_id"] == world.ids["g1"]
        parties = await conn.fetch(
            "SELECT resident_id, name FROM disputes.dispute_parties WHERE dispute_id = $1",
            world.ids["noise"],
        )
        assert sorted(p["name"] for p in parties) == sorted([ERASED_TEXT, ERASED_TEXT, "李强"])
        dispute = await conn.fetchrow(
            "SELECT description, status, tier FROM disputes.disputes WHERE dispute_id = $1",
            world.ids["noise"],
        )
        assert dispute is not None
        assert tuple(dispute) == (ERASED_TEXT, "open", "grid")
        assert (
            await conn.fetchval(
                "SELECT count(*) FROM volunteering.hours WHERE volunteer_id = $1",
                world.ids["volunteer"],
            )
            == 1
        )

    response = await world.client.get(f"/residents/{wang}", headers=ADMIN)
    assert response.status_code == 200, response.text
    shown = response.json()["resident"]
    assert (shown["name"], shown["status"]) == (ERASED_TEXT, "erased")
    assert (shown["id_number"], shown["date_of_birth"], shown["age"]) == (None, None, None)
    listed = await world.client.get("/residents", params={"status": "erased"}, headers=ADMIN)
    assert listed.status_code == 200, listed.text
    assert [r["id"] for r in listed.json()["items"]] == [str(wang)]

    # a rebuild replays the sealed topics: under destroyed keys the same rows read as erased
    cipher = FieldCipher(world.keys)
    for projection in projections():
        await rebuild(world.pool, projection, world.sides.kafka, cipher=cipher)
    rebuilt = await _rows(world.pool)
    for name in ERASED_NAMES:
        assert _naming(rebuilt, name) == {}, name
    for name in KEPT_NAMES:
        assert _naming(rebuilt, name).keys() == _naming(before, name).keys(), name
    assert _counts(rebuilt) == _counts(before)
    async with world.pool.acquire() as conn:
        her = await conn.fetchrow("SELECT * FROM residents.residents WHERE resident_id = $1", wang)
        assert her is not None
        assert (her["name"], her["id_number"], her["date_of_birth"], her["status"]) == (
            ERASED_TEXT,
            None,
            None,
            "erased",
        )
        # what the figures count her by: she still lives here, born in 1950
        assert (her["residency"], her["birth_year"]) == ("active", 1950)


async def test_an_erasure_for_someone_the_read_models_never_saw_changes_nothing(
    world: World,
) -> None:
    before = await _rows(world.pool)
    stranger = uuid.uuid4()
    await world.sides.registry.emit(
        f"resident-{stranger}",
        PersonErased(resident_id=stranger, basis=ErasureBasis.RETENTION),
        area=world.ids["g1"],
    )
    await world.sides.registry.publish()
    for projection in FOLLOWING:
        await caught_up(world.pool, world.sides.registry, projection)
    assert await _rows(world.pool) == before


async def test_a_note_on_her_dispute_written_after_the_erasure_is_blanked_as_it_lands(
    world: World,
) -> None:
    # mediation follows the erasure on its own: a mediator's note written in the moments before
    # it destroyed the dispute's key (or one that arrives late) opens in clear here
    wang, noise = world.ids["wang"], world.ids["noise"]
    async with world.pool.acquire() as conn:
        status = await conn.fetchval(
            "SELECT status FROM residents.residents WHERE resident_id = $1", wang
        )
    if status != "erased":  # this test alone
        await _erase(world, wang)
    before = _counts(await _rows(world.pool))
    mediation = world.sides.mediation
    await mediation.emit(
        f"dispute-{noise}",
        MediationSessionHeld(
            dispute_id=noise,
            session_id=uuid.uuid4(),
            held_at=NOW + timedelta(days=1),
            place=SessionPlace.STATION,
            attendees=["王芳", "赵大"],
            minutes="王芳再次来访，赵大表示歉意",
        ),
        area=world.ids["g1"],
    )
    await mediation.publish()
    await caught_up(world.pool, mediation, "disputes")

    after = await _rows(world.pool)
    for name in ("王芳", "赵大", "再次来访"):
        assert _naming(after, name) == {}, name
    counts = _counts(after)
    assert counts.pop("disputes.dispute_timeline") == before.pop("disputes.dispute_timeline") + 1
    assert counts == before
