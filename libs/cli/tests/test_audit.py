"""``anju audit``: the audited reads of sensitive records, as an operator reviews them."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import asyncpg
import pytest
import pytest_asyncio

from anju_cli.main import main
from eventkit import audit
from eventkit.auth import Principal, Role
from eventkit.testing.infra import create_database, database_url_for


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def audited(pg_server_url: str) -> AsyncIterator[str]:
    url = await create_database(pg_server_url, f"cli_audit_{uuid.uuid4().hex[:10]}")
    conn = await asyncpg.connect(url)
    try:
        await conn.execute(audit.DDL)
        director = Principal(sub="dir-1", roles=(Role.DIRECTOR,), areas=())
        mediator = Principal(sub="m-9", roles=(Role.MEDIATOR,), areas=())
        await audit.record_reads(conn, director, "dispute", ["d-1", "d-2"], "GET /disputes")
        await audit.record_read(
            conn, mediator, "dispute", "d-1", "GET /disputes/{dispute_id}", correlation_id="c-7"
        )
        await audit.record_read(conn, director, "resident", "r-1", "GET /residents/{id}")
    finally:
        await conn.close()
    yield url
    await _drop(pg_server_url, url)


async def _drop(server_url: str, url: str) -> None:
    admin = await asyncpg.connect(database_url_for(server_url, "postgres"))
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')
    finally:
        await admin.close()


async def anju(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, list[str], str]:
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(argv))
    out = capsys.readouterr()
    return code, out.out.splitlines(), out.err


async def test_audit_lists_reads_newest_first_and_filters(
    audited: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("ANJU_QUERY_DATABASE_URL", audited)

    code, lines, err = await anju(capsys, "audit")
    assert code == 0, err
    assert len(lines) == 4
    assert "resident  r-1  dir-1 (director)  GET /residents/{id}  -" in lines[0]
    assert "dispute   d-1  m-9 (mediator)  GET /disputes/{dispute_id}  c-7" in lines[1]

    code, lines, _ = await anju(capsys, "audit", "--subject", "d-1")
    assert code == 0
    assert [line.split()[4] for line in lines] == ["m-9", "dir-1"]

    code, lines, _ = await anju(capsys, "audit", "--kind", "dispute", "--limit", "2")
    assert code == 0
    assert [line.split()[3] for line in lines] == ["d-1", "d-2"]

    code, lines, _ = await anju(capsys, "audit", "--kind", "resident", "--subject", "d-1")
    assert (code, lines) == (0, ["no audited reads"])


async def test_audit_of_a_service_that_keeps_none(
    pg_server_url: str, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = await create_database(pg_server_url, f"cli_noaudit_{uuid.uuid4().hex[:10]}")
    try:
        monkeypatch.setenv("ANJU_MEDIATION_DATABASE_URL", url)
        code, _, err = await anju(capsys, "audit", "--service", "mediation")
        assert code == 2
        assert "mediation keeps no read audit" in err
        with pytest.raises(SystemExit):  # argparse refuses before anything runs
            main(["audit", "--limit", "0"])
    finally:
        await _drop(pg_server_url, url)
