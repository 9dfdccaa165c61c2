"""A page's total, counted only when its rows do not already tell it."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg


async def page_total(
    conn: asyncpg.Connection,
    shown: int,
    limit: int,
    offset: int,
    count: str,
    args: Sequence[Any],
) -> int:
    """The total of a page that showed ``shown`` rows from ``offset``: when the page is the last
    one (fewer rows than ``limit``, and some, or the first page) the rows tell it; otherwise
    ``count`` (a ``SELECT count(*)`` with the page's condition) is run with ``args``.

    A resident's profile lists their disputes and petitions as pages of 200: counting each
    again was two statements of the profile's sixteen, for totals the rows already gave."""
    if shown < limit and (shown > 0 or offset == 0):
        return offset + shown
    total: int = await conn.fetchval(count, *args)
    return total
