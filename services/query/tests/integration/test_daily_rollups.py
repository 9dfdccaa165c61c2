"""A daily roll-up is its source's rows counted, whatever wrote them: inserts, upserts that
move a row, updates, deletes; and what the dashboard reads from the read models' roll-ups is
what their records add up to, as volunteers and residents move."""

from __future__ import annotations

import random
import uuid
from datetime import UTC, date, datetime, timedelta

import asyncpg

from anju_contracts import Event
from anju_contracts.registry import (
    SOURCE as REGISTRY,
    AreaPath,
    FollowUpVisitPlanned,
    FollowUpVisitRecorded,
    ResidentMoved,
    ResidentRegistered,
    Sex,
)
from anju_contracts.volunteering import (
    SOURCE as VOLUNTEERING,
    HoursApproved,
    HoursRecorded,
    HoursRejected,
    HoursSource,
    VolunteerChanged,
    VolunteerJoined,
    VolunteerKind,
)
from anju_query.application.dashboard import Period, dashboard, figure_records
from anju_query.application.scope import Scope
from anju_query.projections import projections
from anju_query.projections.residents import ResidentsProjection
from anju_query.projections.rollups import DailyRollup
from anju_query.projections.volunteering import VolunteeringProjection
from eventkit.auth import Principal, Role
from eventkit.projection import Projection, apply_batch, ensure_projection
from eventkit.testing.delivery import delivered

ROLLUP = DailyRollup(
    "item_days",
    "items",
    {
        "community_id": ("uuid NOT NULL", "x.community_id"),
        "day": ("date NOT NULL", "x.day"),
        "grid_id": ("uuid", "x.grid_id"),
        "kind": ("text NOT NULL", "x.kind"),
    },
    where="x.state = 'counted' AND x.community_id IS NOT NULL",
    amount="x.amount",
)

ROLLED = """
SELECT community_id, day, grid_id, kind, n, amount FROM item_days WHERE n <> 0 OR amount <> 0
ORDER BY 1, 2, 3, 4
"""
COUNTED = """
SELECT community_id, day, grid_id, kind, count(*) AS n, sum(amount) AS amount FROM items
WHERE state = 'counted' AND community_id IS NOT NULL
GROUP BY 1, 2, 3, 4 ORDER BY 1, 2, 3, 4
"""


async def test_a_rollup_counts_its_rows_after_every_kind_of_write(
    read_model_pool: asyncpg.Pool,
) -> None:
    rng = random.Random(7)
    communities = [uuid.uuid4() for _ in range(2)]
    grids = [uuid.uuid4(), uuid.uuid4(), None]
    days = [date(2026, 3, d) for d in range(1, 5)]

    def row(item: int) -> tuple[object, ...]:
        return (
            item,
            rng.choice([*communities, None]),
            rng.choice(grids),
            rng.choice(days),
            rng.choice(["a", "b"]),
            rng.choice(["counted", "counted", "pending"]),
            rng.randint(1, 8) / 4,
        )

    async with read_model_pool.acquire() as conn:
        schema = f"rollup_{uuid.uuid4().hex[:8]}"
        await conn.execute(f"CREATE SCHEMA {schema}; SET search_path TO {schema}")
        await conn.execute(
            """
            CREATE TABLE items (item integer PRIMARY KEY, community_id uuid, grid_id uuid,
                                day date NOT NULL, kind text NOT NULL, state text NOT NULL,
                                amount numeric NOT NULL);
            """
            + ROLLUP.ddl()
        )
        upsert = """
            INSERT INTO items SELECT * FROM unnest($1::int[], $2::uuid[], $3::uuid[],
                $4::date[], $5::text[], $6::text[], $7::numeric[])
            ON CONFLICT (item) DO UPDATE SET community_id = EXCLUDED.community_id,
                grid_id = EXCLUDED.grid_id, day = EXCLUDED.day, kind = EXCLUDED.kind,
                state = EXCLUDED.state, amount = EXCLUDED.amount
        """
        for step in range(60):
            choice = step % 4 if step < 8 else rng.randrange(4)
            if choice in (0, 1):  # a batch: new rows and rows written again, changed
                rows = [row(rng.randrange(40)) for _ in range(rng.randint(1, 12))]
                rows = list({r[0]: r for r in rows}.values())
                await conn.execute(upsert, *map(list, zip(*rows, strict=True)))
            elif choice == 2:  # a move, or a change of state, of some rows
                await conn.execute(
                    "UPDATE items SET grid_id = $1, state = $2 WHERE item % 5 = $3",
                    rng.choice(grids),
                    rng.choice(["counted", "pending"]),
                    rng.randrange(5),
                )
            else:
                await conn.execute("DELETE FROM items WHERE item % 7 = $1", rng.randrange(7))
            assert await conn.fetch(ROLLED) == await conn.fetch(COUNTED), f"after step {step}"
        assert await conn.fetchval("SELECT count(*) FROM items") > 0
        await conn.execute(f"DROP SCHEMA {schema} CASCADE")


A, B = uuid.uuid4(), uuid.uuid4()
GRID_A, GRID_B = uuid.uuid4(), uuid.uuid4()
TODAY = date(2026, 6, 1)
PERIOD_DAYS = 30


class ReadModel:
    def __init__(self, pool: asyncpg.Pool, projection: Projection, source: str) -> None:
        self.pool, self.projection, self.source = pool, projection, source
        self.sequences: dict[str, int] = {}

    async def apply(self, subject: str, event: Event, at: datetime | None = None) -> None:
        schema = await ensure_projection(self.pool, self.projection)
        sequence = self.sequences[subject] = self.sequences.get(subject, 0) + 1
        sent = delivered(
            event, source=self.source, subject=subject, sequence=sequence, occurred_at=at
        )
        async with self.pool.acquire() as conn, conn.transaction():
            await apply_batch(conn, self.projection, schema, [sent])

    async def figure(self, name: str, community: uuid.UUID) -> tuple[float | None, float]:
        """The figure on a director's dashboard of ``community``, and its drill-down's total."""
        director = Scope(Principal(sub="d", roles=(Role.DIRECTOR,), areas=(str(community),)))
        period = Period(community, TODAY - timedelta(days=PERIOD_DAYS), TODAY)
        for projection in projections():  # the dashboard reads them all
            await ensure_projection(self.pool, projection)
        async with self.pool.acquire() as conn:
            board = await dashboard(conn, director, period, threshold=1)
            _, records = await figure_records(conn, director, name, period, limit=100, offset=0)
        return board.figures[name].value, records.value


async def test_hours_are_summed_where_their_volunteer_serves_now(
    read_model_pool: asyncpg.Pool,
) -> None:
    model = ReadModel(read_model_pool, VolunteeringProjection(), VOLUNTEERING)
    volunteer = uuid.uuid4()
    ledger = f"ledger-{volunteer}"
    entries = [uuid.uuid4() for _ in range(3)]
    for entry, hours in zip(entries, (2.0, 1.5, 4.0), strict=True):
        # recorded before the volunteer is known here: counted nowhere yet
        await model.apply(
            ledger,
            HoursRecorded(
                entry_id=entry,
                volunteer_id=volunteer,
                source=HoursSource.SHIFT,
                source_id=uuid.uuid4(),
                hours=hours,
                served_on=TODAY - timedelta(days=3),
            ),
        )
    for entry in entries[:2]:
        await model.apply(
            ledger,
            HoursApproved(
                entry_id=entry, volunteer_id=volunteer, approved_by="s", approved_on=TODAY
            ),
        )
    await model.apply(
        ledger,
        HoursRejected(entry_id=entries[2], volunteer_id=volunteer, rejected_by="s", reason="no"),
    )
    assert await model.figure("volunteer_hours_approved", A) == (0, 0)

    await model.apply(
        f"volunteer-{volunteer}",
        VolunteerJoined(
            volunteer_id=volunteer,
            kind=VolunteerKind.RESIDENT_VOLUNTEER,
            name="李红",
            path=AreaPath(community_id=A, grid_id=GRID_A),
            joined_on=TODAY - timedelta(days=10),
        ),
    )
    assert await model.figure("volunteer_hours_approved", A) == (3.5, 3.5)

    await model.apply(
        f"volunteer-{volunteer}",
        VolunteerChanged(volunteer_id=volunteer, path=AreaPath(community_id=B, grid_id=GRID_B)),
    )
    assert await model.figure("volunteer_hours_approved", A) == (0, 0)
    assert await model.figure("volunteer_hours_approved", B) == (3.5, 3.5)


async def test_visits_are_counted_where_their_resident_lives_now(
    read_model_pool: asyncpg.Pool,
) -> None:
    model = ReadModel(read_model_pool, ResidentsProjection(), REGISTRY)
    resident = uuid.uuid4()
    at_a = AreaPath(community_id=A, grid_id=GRID_A)
    planned_at = datetime.combine(TODAY - timedelta(days=9), datetime.min.time(), UTC)
    await model.apply(
        f"resident-{resident}",
        ResidentRegistered(
            resident_id=resident,
            name="周桂兰",
            sex=Sex.FEMALE,
            date_of_birth=date(1944, 5, 6),
            id_number="110101194405060025",
            path=at_a,
        ),
    )
    await model.apply(
        f"care-{resident}",
        FollowUpVisitPlanned(
            resident_id=resident,
            due_by=planned_at + timedelta(days=7),
            interval_days=7,
            grid_id=GRID_A,
        ),
        at=planned_at,
    )
    visit = FollowUpVisitRecorded(
        resident_id=resident,
        visit_id=uuid.uuid4(),
        visited_at=planned_at + timedelta(days=2),
        grid_worker_id="gw",
        findings="well",
    )
    await model.apply(f"care-{resident}", visit)
    await model.apply(f"care-{resident}", visit)  # delivered again: still one visit
    assert await model.figure("follow_up_visits_on_time", A) == (1, 1)

    await model.apply(
        f"resident-{resident}",
        ResidentMoved(
            resident_id=resident,
            from_path=at_a,
            to_path=AreaPath(community_id=B, grid_id=GRID_B),
        ),
    )
    assert await model.figure("follow_up_visits_on_time", A) == (0, 0)
    assert await model.figure("follow_up_visits_on_time", B) == (1, 1)
