"""Test helpers for the registry (as ``eventkit.testing`` is for the kernel).

A hand-moved clock, valid identity numbers, and :func:`running_registry`: the app with its
lifespan running, an HTTP client over ASGI, and a small area tree. Used by this service's
integration tests and by system-level tests; nothing here runs in production.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import date
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from anju_registry.domain import id_numbers
from anju_registry.entrypoints.app import create_app
from anju_registry.settings import RegistrySettings
from eventkit.settings import KafkaSettings
from eventkit.testing.clocks import ManualClock
from eventkit.testing.service import ServiceClient

SECRET = "registry-tests-secret-0123456789"


Clock = ManualClock


def id_number_for(dob: date, seq: int) -> str:
    first17 = f"110105{dob:%Y%m%d}{seq % 1000:03d}"
    return first17 + id_numbers.check_char(first17)


@dataclass
class RegistryClient(ServiceClient):
    settings: RegistrySettings
    unit_id: str = ""
    grid_id: str = ""
    community_id: str = ""
    _seq: int = 0

    secret: ClassVar[str] = SECRET

    async def create_area(self, kind: str, parent_id: str | None, name: str = "x") -> str:
        response = await self.post("/areas", {"kind": kind, "name": name, "parent_id": parent_id})
        assert response.status_code == 201, response.text
        area_id: str = response.json()["id"]
        return area_id

    async def build_tree(self) -> None:
        self.community_id = await self.create_area("community", None, "Anju Estate")
        self.grid_id = await self.create_area("grid", self.community_id, "Grid 1")
        building = await self.create_area("building", self.grid_id, "Building 3")
        self.unit_id = await self.create_area("unit", building, "301")

    def resident_body(self, **overrides: Any) -> dict[str, Any]:
        self._seq += 1
        dob = date(1950, 3, 14)
        body: dict[str, Any] = {
            "name": "Zhang Min",
            "sex": "female",
            "date_of_birth": dob.isoformat(),
            "id_number": id_number_for(dob, self._seq),
            "unit_id": self.unit_id,
        }
        body.update(overrides)
        return body

    async def register_born(self, name: str, born: date) -> tuple[str, str]:
        """Register a resident born on ``born`` in the tree's unit: their id and the
        registration's consistency token."""
        body = self.resident_body(
            name=name, date_of_birth=born.isoformat(), id_number=id_number_for(born, len(name))
        )
        response = await self.post("/residents", body)
        assert response.status_code == 201, response.text
        answer = response.json()
        return answer["id"], answer["consistency_token"]

    def organisation_body(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": "paired_unit",
            "name": "市税务局",
            "community_ids": [self.community_id],
            "liaisons": [{"name": "李明", "role": "党委办公室主任", "phone": "13800000000"}],
        }
        body.update(overrides)
        return body

    async def register_organisation(
        self, headers: dict[str, str] | None = None, **overrides: Any
    ) -> str:
        """Register a partner organisation (by default a paired unit of the tree's community)."""
        answer = await self.accepted("/organisations", self.organisation_body(**overrides), headers)
        organisation_id: str = answer["id"]
        return organisation_id

    async def register(self, **overrides: Any) -> str:
        response = await self.post("/residents", self.resident_body(**overrides))
        assert response.status_code == 201, response.text
        resident_id: str = response.json()["id"]
        return resident_id


@asynccontextmanager
async def running_registry(
    database_url: str, kafka_bootstrap: str, *, clock: Clock | None = None
) -> AsyncIterator[RegistryClient]:
    """The registry on ``database_url``, publishing under a fresh topic prefix."""
    settings = RegistrySettings(
        database_url=database_url,
        jwt_secret=SecretStr(SECRET),
        kafka=KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=f"t{uuid.uuid4().hex[:10]}."),
        relay_idle_poll_s=0.02,
    )
    clock = clock or Clock()
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://registry") as client:
            registry = RegistryClient(app, client, clock, settings)
            await registry.build_tree()
            yield registry
