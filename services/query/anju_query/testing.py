"""Test helpers for the query service: it running on a read-model database, following the topics
of services that run beside it (system tests); nothing here runs in production."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from pydantic import SecretStr

from anju_query.entrypoints.app import create_app
from anju_query.settings import QuerySettings
from eventkit.commands import Clock, utcnow
from eventkit.settings import KafkaSettings
from eventkit.testing.service import serving


@asynccontextmanager
async def running_query(
    database_url: str,
    kafka: KafkaSettings,
    secret: str,
    *,
    clock: Clock = utcnow,
    consistency_wait_s: float = 5.0,
) -> AsyncIterator[httpx.AsyncClient]:
    """The query service on ``database_url``, following the topics of ``kafka``'s prefix; an
    HTTP client to it (bring your own token: ``secret`` signs them)."""
    settings = QuerySettings(
        database_url=database_url,
        jwt_secret=SecretStr(secret),
        kafka=kafka,
        consistency_wait_s=consistency_wait_s,
    )
    async with serving(create_app(settings, clock=clock), "query") as client:
        yield client
