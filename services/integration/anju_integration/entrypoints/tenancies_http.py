"""The desk's routes for the housing security centre's tenancy notices that wait for a clerk:
the parked list, a match, a dismissal."""

from __future__ import annotations

from typing import Annotated
from uuid import UUID

from fastapi import APIRouter, Query

from anju_integration.application import tenancies
from anju_integration.application.config import IntegrationConfig
from anju_integration.application.tenancies import DismissNotice, MatchNotice, NoticeView
from eventkit.app import CONFIG, CallerDep, CommandRouter, StoreDep

ConfigDep = Annotated[IntegrationConfig, CONFIG]

router = APIRouter(tags=["tenancies"])
"""The reads."""

commands = CommandRouter(tags=["tenancies"])
"""The commands (a registry write's consistency token makes them wait until it is learnt)."""


@router.get("/tenancies/parked")
async def parked(
    store: StoreDep,
    caller: CallerDep,
    config: ConfigDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
) -> list[NoticeView]:
    """The tenancy notices that wait for a desk clerk in the caller's areas, oldest first: what
    did not match, and the tenants (identity numbers masked)."""
    return await tenancies.parked(store, config.tenancies, caller, limit=limit)


@router.get("/tenancies/notices/{notice_id}")
async def notice(
    notice_id: UUID, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> NoticeView:
    """One notice as it stands (parked, applied or dismissed)."""
    return await tenancies.view(store, config.tenancies, notice_id, caller)


@commands.post("/tenancies/parked/{notice_id}/match", status_code=201)
async def match(
    notice_id: UUID, cmd: MatchNotice, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> NoticeView:
    """Name the unit and/or the residents (by tenant ``ref``) a parked notice means; it goes on
    at once, and is parked again if something still does not match."""
    return await tenancies.match(store, config.tenancies, notice_id, cmd, caller)


@commands.post("/tenancies/parked/{notice_id}/dismissal", status_code=201)
async def dismiss(
    notice_id: UUID, cmd: DismissNotice, store: StoreDep, caller: CallerDep, config: ConfigDep
) -> NoticeView:
    """The parked notice asks nothing more of the registry (the clerk saw to it otherwise)."""
    return await tenancies.dismiss(store, config.tenancies, notice_id, cmd, caller)
