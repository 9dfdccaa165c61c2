"""A page's total is counted only when its rows do not tell it."""

from __future__ import annotations

from typing import Any, cast

import asyncpg
import pytest

from anju_query.application.paging import page_total


class Counting:
    """Stands in for a connection: answers the count with ``total`` and notes each call."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.calls: list[tuple[str, tuple[Any, ...]]] = []

    async def fetchval(self, sql: str, *args: Any) -> int:
        self.calls.append((sql, args))
        return self.total


@pytest.mark.parametrize(
    ("shown", "limit", "offset", "told"),
    [
        (0, 50, 0, 0),  # nothing at all
        (7, 50, 0, 7),  # the first page is the last
        (7, 50, 100, 107),  # a later page is the last
    ],
)
async def test_the_last_page_tells_the_total(
    shown: int, limit: int, offset: int, told: int
) -> None:
    conn = Counting(total=-1)
    total = await page_total(cast(asyncpg.Connection, conn), shown, limit, offset, "count", [])
    assert (total, conn.calls) == (told, [])


@pytest.mark.parametrize(
    ("shown", "limit", "offset"),
    [
        (50, 50, 0),  # a full page: there may be more
        (0, 50, 100),  # past the end: how far it goes is not known
    ],
)
async def test_otherwise_it_is_counted(shown: int, limit: int, offset: int) -> None:
    conn = Counting(total=123)
    total = await page_total(cast(asyncpg.Connection, conn), shown, limit, offset, "count", [1])
    assert (total, conn.calls) == (123, [("count", (1,))])
