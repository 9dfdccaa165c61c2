"""Searching what services keep and publish for values that must not be there in clear: the
tests of docs/personal-data.md (nothing personal in clear after a demo load; nothing readable
left of a person after their erasure) look for names, identity and phone numbers in every table
of every service database and in every message of every topic.

A *needle* is a literal value (a name, one resident's identity number); a *pattern* a regular
expression that both PostgreSQL and Python read the same (:data:`ID_NUMBER`, :data:`PHONE`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import asyncpg

ID_NUMBER = r"(^|[^0-9A-Za-z])[0-9]{17}[0-9X]($|[^0-9A-Za-z])"
"""A resident identity number (18 characters, the last a digit or X) standing alone: not a run
of digits inside a longer one, a UUID or a sealed value's base64."""
PHONE = r"(^|[^0-9A-Za-z])1[3-9][0-9]{9}($|[^0-9A-Za-z])"
"""A mainland mobile number standing alone (a UUID's last group of 12 digits is not one)."""

EXCERPT = 60
"""How many characters either side of a finding its excerpt shows."""


@dataclass(frozen=True)
class Found:
    """One value found in clear: where (``place``: a database's table, a topic), what matched
    (the needle, or the pattern's match) and the text around it."""

    place: str
    value: str
    excerpt: str


def find_in_text(
    place: str, text: str, needles: Iterable[str] = (), patterns: Iterable[str] = ()
) -> list[Found]:
    """Every needle and every match of a pattern in ``text``, each value once per text."""
    found: dict[str, Found] = {}
    for needle in needles:
        for form in spellings(needle):
            at = text.find(form)
            if at >= 0 and needle not in found:
                found[needle] = Found(place, needle, _excerpt(text, at, len(form)))
    for pattern in patterns:
        for match in re.finditer(pattern, text):
            value = re.sub(r"^[^0-9A-Za-z]|[^0-9A-Za-z]$", "", match.group(0))
            if value not in found:
                found[value] = Found(place, value, _excerpt(text, match.start(), len(match[0])))
    return list(found.values())


def spellings(needle: str) -> set[str]:
    """The ways ``needle`` may be written in text: as it is, and JSON's ``\\u`` escapes of
    anything outside ASCII (as ``json.dumps`` writes by default), in either case."""
    escaped = json.dumps(needle)[1:-1]
    upper = re.sub(r"\\u([0-9a-f]{4})", lambda m: "\\u" + m[1].upper(), escaped)
    return {needle, escaped, upper}


async def database_tables(url: str) -> list[str]:
    """Every ordinary table of the database at ``url``, qualified and quoted (``"public"."events"``),
    outside PostgreSQL's own schemas."""
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(
            "SELECT quote_ident(table_schema) || '.' || quote_ident(table_name) AS name"
            " FROM information_schema.tables WHERE table_type = 'BASE TABLE'"
            " AND table_schema NOT IN ('pg_catalog', 'information_schema')"
            " ORDER BY table_schema, table_name"
        )
    finally:
        await conn.close()
    return [str(row["name"]) for row in rows]


async def find_in_databases(
    urls: Sequence[str],
    needles: Iterable[str] = (),
    *,
    patterns: Iterable[str] = (),
    tables: Iterable[str] | None = None,
) -> list[Found]:
    """Every needle and every pattern's match in the text of any row of any table of the
    databases at ``urls`` (each row as ``row::text``: every column, JSON included), or only of
    the named ``tables`` (unqualified names, e.g. ``["events"]``) where a database has them.

    The rows are filtered in the database (``LIKE`` / ``~``), so large stores are searched where
    they are; a finding's place is ``<database>.<table>``."""
    needles = sorted({n for n in needles if n})
    patterns = list(patterns)
    if not needles and not patterns:
        return []
    likes = [f"%{_like_escape(form)}%" for n in needles for form in spellings(n)]
    wanted = None if tables is None else set(tables)
    found: list[Found] = []
    for url in urls:
        database = urlsplit(url).path.lstrip("/")
        names = await database_tables(url)
        conn = await asyncpg.connect(url)
        try:
            for table in names:
                bare = table.rsplit(".", 1)[-1].strip('"')
                if wanted is not None and bare not in wanted:
                    continue
                # the table's name comes from the database's own catalogue, quoted there
                rows = await conn.fetch(
                    f"SELECT t::text AS row FROM {table} t"
                    " WHERE t::text LIKE ANY($1::text[]) OR t::text ~ ANY($2::text[])",
                    likes,
                    patterns,
                )
                for row in rows:
                    found.extend(find_in_text(f"{database}.{bare}", row["row"], needles, patterns))
        finally:
            await conn.close()
    return found


def _like_escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _excerpt(text: str, at: int, length: int) -> str:
    return text[max(0, at - EXCERPT) : at + length + EXCERPT]
