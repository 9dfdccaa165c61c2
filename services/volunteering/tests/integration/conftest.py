"""The volunteering app against real PostgreSQL and a real Kafka-protocol broker."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Callable

import httpx
import pytest
import pytest_asyncio
from pydantic import SecretStr

from anju_volunteering.entrypoints.app import create_app
from anju_volunteering.settings import VolunteeringSettings
from eventkit.auth import issue_token
from eventkit.settings import KafkaSettings

SECRET = "tests-secret-0123456789-0123456789"

Auth = Callable[..., dict[str, str]]


@pytest.fixture
def auth() -> Auth:
    """Headers with a bearer token for ``roles``, covering ``areas``."""

    def headers(*roles: str, areas: tuple[str, ...] = ()) -> dict[str, str]:
        return {"Authorization": f"Bearer {issue_token(SECRET, 'staff-1', roles, areas)}"}

    return headers


@pytest_asyncio.fixture
async def client(database_url: str, kafka_bootstrap: str) -> AsyncIterator[httpx.AsyncClient]:
    settings = VolunteeringSettings(
        database_url=database_url,
        jwt_secret=SecretStr(SECRET),
        kafka=KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:10]}."),
    )
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://volunteering") as client:
            yield client
