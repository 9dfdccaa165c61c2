"""The station's HTTP routes: thin — parse, pick the caller's context, call a handler."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter

from anju_station.application import desk
from anju_station.application.desk import (
    Callback,
    CheckDocuments,
    Complete,
    HandOff,
    LogReception,
    ReceiveService,
    ReceptionView,
    Refuse,
    ServiceType,
    ServiceView,
    StationConfig,
)
from eventkit.app import CONFIG, CallerDep, StoreDep
from eventkit.commands import Accepted

ConfigDep = Annotated[StationConfig, CONFIG]

router = APIRouter()
"""The reads: a record as it stands in the station's own store."""

commands = APIRouter()
"""The commands. They decide on what the station has learnt of the registry, so each may name
the registry's writes it follows by their consistency tokens (``eventkit.app.caught_up``)."""


@commands.post("/receptions", tags=["receptions"], status_code=201)
async def log_reception(
    cmd: LogReception, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Log a visit to the desk in one request: who (a resident, or nobody for an anonymous
    visitor), why, who sent them, what came of it."""
    return await desk.log_reception(store, cmd, caller, config)


@router.get("/receptions/{reception_id}", tags=["receptions"])
async def get_reception(reception_id: UUID, store: StoreDep, caller: CallerDep) -> ReceptionView:
    return await desk.view_reception(store, reception_id, caller)


@router.get("/catalogue", tags=["services"])
async def catalogue(caller: CallerDep, config: ConfigDep) -> dict[str, ServiceType]:
    """The convenience services this desk offers, by code."""
    return config.catalogue


@commands.post("/services", tags=["services"], status_code=201)
async def receive_service(
    cmd: ReceiveService, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """A convenience service of the catalogue begins at the desk."""
    return await desk.receive_service(store, cmd, caller, config)


@router.get("/services/{service_id}", tags=["services"])
async def get_service(service_id: UUID, store: StoreDep, caller: CallerDep) -> ServiceView:
    return await desk.view_service(store, service_id, caller)


@commands.post("/services/{service_id}/documents", tags=["services"], status_code=201)
async def check_documents(
    service_id: UUID, cmd: CheckDocuments, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Documents checked: what is missing goes on one notice (一次性告知), else accepted."""
    return await desk.check_documents(store, service_id, cmd, caller, config)


@commands.post("/services/{service_id}/hand-off", tags=["services"], status_code=201)
async def hand_off(
    service_id: UUID, cmd: HandOff, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """Hand the service to the agency of record; it is overdue after the catalogue's days."""
    return await desk.hand_off(store, service_id, cmd, caller, config)


@commands.post("/services/{service_id}/completion", tags=["services"], status_code=201)
async def complete(
    service_id: UUID, cmd: Complete, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await desk.complete(store, service_id, cmd, caller, config)


@commands.post("/services/{service_id}/refusal", tags=["services"], status_code=201)
async def refuse(
    service_id: UUID, cmd: Refuse, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    return await desk.refuse(store, service_id, cmd, caller, config)


@commands.post("/services/{service_id}/callback", tags=["services"], status_code=201)
async def call_back(
    service_id: UUID, cmd: Callback, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> Accepted:
    """The resident's satisfaction (1–5) when the desk calls back."""
    return await desk.call_back(store, service_id, cmd, caller, config)
