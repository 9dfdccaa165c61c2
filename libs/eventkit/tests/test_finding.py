"""Searching databases and text for values that must not be there in clear."""

from __future__ import annotations

import json
import uuid

import asyncpg

from eventkit.testing.finding import ID_NUMBER, PHONE, find_in_databases, find_in_text


def test_the_patterns_find_numbers_standing_alone_only() -> None:
    text = json.dumps(
        {
            "id": "3f1c2a9e-0b7d-4c1e-9a2b-138123456789",  # a UUID's digits: not a phone
            "seq": 1381234567890,  # a longer number: neither
            "id_number": "11010519500314002X",
            "phone": "13812345678",
        }
    )
    found = {hit.value for hit in find_in_text("t", text, patterns=[ID_NUMBER, PHONE])}
    assert found == {"11010519500314002X", "13812345678"}


async def test_every_table_is_searched_in_the_database(database_url: str) -> None:
    conn = await asyncpg.connect(database_url)
    try:
        await conn.execute("CREATE SCHEMA other")
        await conn.execute("CREATE TABLE events (id uuid, data jsonb)")
        await conn.execute('CREATE TABLE other."Notes" (body text)')
        await conn.execute(
            "INSERT INTO events VALUES ($1, $2::jsonb)",
            uuid.uuid4(),
            json.dumps({"name": "王秀英", "note": "50% off"}),
        )
        await conn.execute("INSERT INTO other.\"Notes\" VALUES ('来电 13912345678 王秀英')")
    finally:
        await conn.close()

    found = await find_in_databases([database_url], ["王秀英", "李建国", "%_"], patterns=[PHONE])
    assert sorted((hit.place.rsplit(".", 1)[-1], hit.value) for hit in found) == [
        ("Notes", "13912345678"),
        ("Notes", "王秀英"),
        ("events", "王秀英"),
    ]
    assert await find_in_databases([database_url], ["王秀英"], tables=["Notes"]) != []
    assert (
        await find_in_databases([database_url], ["李建国"], patterns=[PHONE], tables=["events"])
        == []
    )


def test_a_name_is_found_in_json_escapes_too() -> None:
    escaped = json.dumps({"caller": {"name": "钱桂兰"}})  # \u94b1\u6842\u5170
    assert "钱桂兰" not in escaped
    [hit] = find_in_text("inbound", escaped, ["钱桂兰"])
    assert hit.value == "钱桂兰"
    assert find_in_text("inbound", escaped.replace("\\u94b1", "\\u94B1"), ["钱桂兰"]) != []
