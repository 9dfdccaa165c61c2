"""Test helpers for mediation (as ``anju_registry.testing`` is for the registry).

A hand-moved clock and :func:`running_mediation`: the app with its lifespan running, an HTTP
client over ASGI, and a small area tree with residents that mediation has learned as if from the
registry's events (fed straight to its policy, which is what the broker would deliver); the
station's events are fed to the station policy the same way (:meth:`MediationClient.station`).
Used by this service's integration tests and by system-level tests; nothing here runs in
production.
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import timedelta
from typing import Any, ClassVar

import httpx
from pydantic import SecretStr

from anju_contracts import Actor, Event
from anju_contracts.station import SOURCE as STATION
from anju_mediation.application.aggregates import PETITION_DUE, SLA_AT_RISK, SLA_DUE
from anju_mediation.application.disputes import sla_handlers
from anju_mediation.application.petitions import petition_due
from anju_mediation.application.policies import REGISTRY_POLICY, STATION_POLICY
from anju_mediation.entrypoints.app import create_app
from anju_mediation.settings import MediationSettings
from eventkit.policy import handle_once
from eventkit.scheduler import Scheduler
from eventkit.settings import KafkaSettings
from eventkit.testing.clocks import ManualClock
from eventkit.testing.delivery import delivered
from eventkit.testing.registry import RegistryFeed
from eventkit.testing.service import ServiceClient

SECRET = "mediation-tests-secret-0123456789"


Clock = ManualClock


@dataclass
class MediationClient(ServiceClient):
    settings: MediationSettings
    feed: RegistryFeed
    _station_offset: int = 0

    secret: ClassVar[str] = SECRET

    @property
    def director(self) -> dict[str, str]:
        return self.auth("director", sub="director-1", areas=[self.community_id])

    async def ok(
        self, url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> str:
        """POST a command that must be accepted; return the id it answers with."""
        accepted_id: str = (await self.accepted(url, body, headers))["id"]
        return accepted_id

    # the registry's news and the area tree it built (see eventkit.testing.registry)

    async def learn(self, event: Event, *, subject: str, area: uuid.UUID | None = None) -> None:
        await self.feed.learn(event, subject=subject, area=area)

    async def resident(self, grid_id: str | None = None) -> str:
        return await self.feed.resident(grid_id)

    @property
    def community_id(self) -> str:
        return self.feed.community_id

    @property
    def grid_id(self) -> str:
        return self.feed.grid_id

    @property
    def other_grid_id(self) -> str:
        return self.feed.other_grid_id

    @property
    def building_id(self) -> str:
        return self.feed.building_id

    @property
    def other_community_id(self) -> str:
        return self.feed.other_community_id

    @property
    def residents(self) -> list[str]:
        return self.feed.residents

    async def station(
        self, event: Event, *, subject: str, envelope_id: uuid.UUID | None = None
    ) -> bool:
        """Deliver a station event to mediation's station policy, as the broker would; return
        whether the policy ran (not when the same envelope id came before). A new
        ``envelope_id`` for an event already delivered is what a replay after a reset brings."""
        self._station_offset += 1
        sent = delivered(
            event,
            source=STATION,
            subject=subject,
            envelope_id=envelope_id,
            offset=self._station_offset,
            actor=Actor(id="station-tests", roles=("desk_staff",)),
        )
        return await handle_once(self.runtime.store, STATION_POLICY, sent)

    def dispute_body(self, **overrides: Any) -> dict[str, Any]:
        body: dict[str, Any] = {
            "channel": "walk_in",
            "category": "noise",
            "description": "楼上夜间噪音",
            "area_id": self.building_id,
            "parties": [
                {"role": "applicant", "resident_id": self.residents[0]},
                {"role": "respondent", "resident_id": self.residents[1]},
            ],
        }
        body.update(overrides)
        return body

    async def register(self, headers: dict[str, str] | None = None, **overrides: Any) -> str:
        return await self.ok("/disputes", self.dispute_body(**overrides), headers)

    async def dispute(self, dispute_id: str, headers: dict[str, str] | None = None) -> Any:
        response = await self.client.get(f"/disputes/{dispute_id}", headers=headers or self.admin)
        assert response.status_code == 200, response.text
        return response.json()

    def scheduler(self, *, days_ahead: float) -> Scheduler:
        """A scheduler that sees the clock ``days_ahead`` days on."""
        at_risk, breached = sla_handlers(self.settings.slas)
        handlers = {SLA_AT_RISK: at_risk, SLA_DUE: breached, PETITION_DUE: petition_due}
        when = self.clock.now + timedelta(days=days_ahead)
        return Scheduler(self.runtime.store, handlers, clock=lambda: when)


@asynccontextmanager
async def running_mediation(
    database_url: str,
    kafka_bootstrap: str,
    *,
    topic_prefix: str | None = None,
    consistency_wait_s: float = 5.0,
    clock: Clock | None = None,
) -> AsyncIterator[MediationClient]:
    """Mediation on ``database_url``, on a fresh topic prefix unless one is given (the
    registry's, to follow a registry running beside it), on ``clock`` (a new one unless
    given: share one with services running beside it)."""
    prefix = topic_prefix or f"m{uuid.uuid4().hex[:10]}."
    settings = MediationSettings(
        database_url=database_url,
        jwt_secret=SecretStr(SECRET),
        kafka=KafkaSettings(bootstrap=kafka_bootstrap, topic_prefix=prefix),
        relay_idle_poll_s=0.02,
        scheduler_poll_s=3600,
        consistency_wait_s=consistency_wait_s,
    )
    clock = clock or Clock()
    app = create_app(settings, clock=clock)
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mediation") as client:
            feed = RegistryFeed(app.state.runtime.store, REGISTRY_POLICY)
            await feed.build_tree()
            mediation = MediationClient(app, client, clock, settings, feed)
            yield mediation
