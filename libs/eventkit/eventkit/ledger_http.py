"""The upload route of the ledger import (:mod:`eventkit.ledger`): ``POST /imports/{kind}``.

The file is the request body (CSV or XLSX). The rows' commands are sent to this same service
in process, through its own routes and with the uploader's own token, so an upload does exactly
what ``anju import`` does over the network: every command checked, authorised and audited as if
typed by hand, each with its idempotency key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any
from uuid import UUID

import httpx
from fastapi import APIRouter, Query, Request

from eventkit.http import CurrentUser
from eventkit.idempotency import HEADER, REPLAYED_HEADER
from eventkit.ledger import (
    DEFAULT_ZONE,
    Answer,
    Ledgers,
    Options,
    Report,
    Send,
    plan,
    read,
    run,
    zone,
)


def http_send(client: httpx.AsyncClient, headers: Mapping[str, str] | None = None) -> Send:
    """A :data:`Send` over ``client``: each command with its idempotency key (and ``headers``,
    e.g. a token), answered with its status, body and whether it was replayed."""
    given = dict(headers or {})

    async def send(method: str, path: str, body: dict[str, Any], key: str) -> Answer:
        response = await client.request(method, path, json=body, headers={**given, HEADER: key})
        return Answer(
            response.status_code,
            response.json() if response.content else None,
            response.headers.get(REPLAYED_HEADER) == "true",
        )

    return send


def in_process(request: Request) -> httpx.AsyncClient:
    """A client of this very app, carrying the caller's token."""
    return httpx.AsyncClient(
        transport=httpx.ASGITransport(app=request.app),
        base_url="http://ledger.invalid",
        headers={"Authorization": request.headers.get("authorization", "")},
        timeout=60,
    )


def ledger_router(ledgers: Ledgers) -> APIRouter:
    router = APIRouter(tags=["imports"])
    kinds = ", ".join(f"`{ledger.kind}`" for ledger in ledgers.kinds)

    @router.post(
        "/imports/{kind}",
        summary="Import a paper ledger (CSV or XLSX)",
        description=f"The ledgers this service takes: {kinds}. The whole file is checked "
        "first: with any bad row, 422 `ledger_invalid` lists every one (line, column, reason) "
        "and nothing is written, unless `skip_bad`. Then every row is recorded through this "
        "service's own commands, with the caller's permissions (dating in the past needs "
        "`backdate`); a row imported before is not recorded again.",
        openapi_extra={
            "requestBody": {
                "required": True,
                "content": {
                    "text/csv": {"schema": {"type": "string"}},
                    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": {
                        "schema": {"type": "string", "format": "binary"}
                    },
                },
            }
        },
    )
    async def import_ledger(
        kind: str,
        request: Request,
        _: CurrentUser,
        area_id: Annotated[UUID, Query(description="The community (or grid) of the rows")],
        skip_bad: Annotated[
            bool, Query(description="Import the good rows and report the bad ones")
        ] = False,
        time_zone: Annotated[
            str, Query(max_length=64, description="The zone the ledger's days are written in")
        ] = DEFAULT_ZONE,
    ) -> Report:
        ledger = ledgers.get(kind)
        options = Options(area_id=area_id, zone=zone(time_zone))
        the_plan = plan(ledger, read(await request.body()), options)
        async with in_process(request) as client:
            return await run(the_plan, http_send(client), skip_bad=skip_bad)

    return router
