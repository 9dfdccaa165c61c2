"""``anju dead-letters`` on a policy's letters and a stopped deadline's, in an event-sourced
service's own database (mediation's), as an operator runs it: environment and argv.

The letters are recorded by the kernel's own functions, as the policy runner and the scheduler
record them; the replay runs the real mediation policy against the real database.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import asyncpg
import pytest
import pytest_asyncio

from anju_cli.main import main
from anju_contracts import Actor, Event
from anju_contracts.cloudevents import to_kafka
from anju_contracts.registry import (
    CATALOG as REGISTRY,
    AreaPath,
    ResidentMovedOut,
    ResidentRegistered,
    Sex,
)
from anju_mediation.application.policies import REGISTRY_POLICY as POLICY
from eventkit.known import DDL
from eventkit.messages import Decoder, Delivered, StoredMessage, dead_letter, failed, stream_heads
from eventkit.schema import migrate
from eventkit.testing.delivery import envelope_of

pytestmark = pytest.mark.timeout(60)


@dataclass
class Ran:
    code: int
    out: str
    err: str


@pytest_asyncio.fixture
async def mediation(database_url: str) -> AsyncIterator[asyncpg.Connection]:
    conn = await asyncpg.connect(database_url)
    await migrate(conn, DDL)
    try:
        yield conn
    finally:
        await conn.close()


async def anju(
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    *argv: str,
) -> Ran:
    monkeypatch.setenv("ANJU_MEDIATION_DATABASE_URL", database_url)
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["dead-letters", "--service", "mediation", *argv])
    captured = capsys.readouterr()
    return Ran(code, captured.out, captured.err)


def delivered(stream: str, sequence: int, event: Event, offset: int) -> Delivered:
    """A registry event as the policy runner decodes it from the topic."""
    envelope = envelope_of(
        event,
        source="registry",
        subject=stream,
        sequence=sequence,
        position=offset + 1,
        occurred_at=datetime(2026, 1, 1, tzinfo=UTC),
        correlation_id="cli-test",
        actor=Actor(id="someone", roles=("admin",)),
    )
    sent = to_kafka(envelope)  # as the registry's relay publishes it
    message = StoredMessage("registry.events", 0, offset, sent.key, sent.value, sent.headers)
    decoded = Decoder([REGISTRY]).decode(message)
    assert isinstance(decoded, Delivered)
    return decoded


async def test_replaying_a_policy_letter_applies_it_then_what_waited_behind_it(
    database_url: str,
    mediation: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    resident = uuid.uuid4()
    stream = f"resident-{resident}"
    registered = delivered(
        stream,
        1,
        ResidentRegistered(
            resident_id=resident,
            name="Zhou Qiang",
            sex=Sex.MALE,
            date_of_birth=date(1960, 3, 3),
            id_number="110101196003030014",
            path=AreaPath(community_id=uuid.uuid4()),
        ),
        offset=40,
    )
    moved_out = delivered(
        stream, 2, ResidentMovedOut(resident_id=resident, moved_out_on=date(2026, 2, 1)), 41
    )
    # What the policy runner records: the handler kept failing on the first event, and the
    # second of the same stream was set aside behind it.
    await dead_letter(
        mediation, POLICY.name, [failed(registered, "handler_failed", "TimeoutError('x')")]
    )
    heads = await stream_heads(mediation, POLICY.name, [registered.stream])
    head = heads[registered.stream].letter_id
    await dead_letter(
        mediation,
        POLICY.name,
        [failed(moved_out, "blocked", f"blocked behind dead letter {head}")],
    )
    behind = await mediation.fetchval("SELECT max(id) FROM dead_letters")

    shown = await anju(database_url, monkeypatch, capsys, "show", str(head))
    assert shown.code == 0, shown.err
    assert f"stream: registry/{stream}@1" in shown.out
    listed = await anju(database_url, monkeypatch, capsys, "list")
    assert f"blocked behind dead letter {head}" in listed.out

    refused = await anju(database_url, monkeypatch, capsys, "replay", str(behind))
    assert refused.code == 2
    assert f"blocked behind dead letter {head}" in refused.out
    assert await mediation.fetchval("SELECT count(*) FROM known_residents") == 0

    replayed = await anju(database_url, monkeypatch, capsys, "replay", "--all")
    assert replayed.code == 0, replayed.out + replayed.err
    assert f"{head}: replayed" in replayed.out
    assert f"{behind}: replayed after {head}" in replayed.out
    # Registered, then moved out: in stream order, so the resident is known and inactive.
    row = await mediation.fetchrow(
        "SELECT active FROM known_residents WHERE resident_id = $1", resident
    )
    assert row is not None
    assert row["active"] is False
    statuses = await mediation.fetch("SELECT status FROM dead_letters ORDER BY id")
    assert [r["status"] for r in statuses] == ["replayed", "replayed"]
    assert await mediation.fetchval("SELECT count(*) FROM inbox") == 2

    again = await anju(database_url, monkeypatch, capsys, "replay", str(head))
    assert again.code == 2
    assert "no pending dead letter" in again.out


async def test_replaying_a_deadline_letter_arms_the_deadline_again(
    database_url: str,
    mediation: asyncpg.Connection,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    # A deadline the scheduler gave up on, and its letter, as the scheduler leaves them.
    deadline = await mediation.fetchval(
        """INSERT INTO deadlines (kind, key, due_at, payload, attempts, last_error, failed_at)
           VALUES ('mediation.sla_due', 'dispute-1', now() - interval '1 day', '{}', 8,
                   'RuntimeError(''boom'')', now())
           RETURNING id"""
    )
    letter = await mediation.fetchval(
        """INSERT INTO dead_letters (consumer, topic, partition, "offset", key, value, reason,
                                     detail)
           VALUES ('deadline:mediation.sla_due', 'deadlines', 0, $1, 'dispute-1', '{}',
                   'deadline_failed', 'gave up after 8 attempts: RuntimeError(''boom'')')
           RETURNING id""",
        deadline,
    )

    ran = await anju(database_url, monkeypatch, capsys, "replay", str(letter))

    assert ran.code == 0, ran.out + ran.err
    row = await mediation.fetchrow(
        "SELECT attempts, failed_at, next_try_at, fired_at FROM deadlines WHERE id = $1", deadline
    )
    assert row["attempts"] == 0
    assert row["failed_at"] is None
    assert row["next_try_at"] is not None
    assert row["fired_at"] is None
    status = await mediation.fetchval("SELECT status FROM dead_letters WHERE id = $1", letter)
    assert status == "replayed"
