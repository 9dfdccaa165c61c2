"""The shared HTTP edge as clients meet it: error bodies that match the documented schema,
``/docs`` served offline, and malformed requests answered in JSON by a real uvicorn server."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from uuid import UUID

import asyncpg
import httpx
import jsonschema
import pytest
import uvicorn
from fastapi import APIRouter, FastAPI
from pydantic import BaseModel

from eventkit.auth import issue_token
from eventkit.errors import NotFound
from eventkit.http import (
    CurrentUser,
    JsonErrorH11Protocol,
    JsonErrorHttpToolsProtocol,
    create_http_app,
)

SECRET = "edge-tests-secret-0123456789abcdef"
THING = UUID("00000000-0000-4000-8000-000000000001")


class Rename(BaseModel):
    name: str


def edge_app() -> FastAPI:
    router = APIRouter()

    @router.get("/things/{thing_id}")
    async def get_thing(thing_id: UUID, _: CurrentUser) -> dict[str, str]:
        if thing_id != THING:
            raise NotFound("no such thing", thing_id=str(thing_id))
        return {"id": str(thing_id)}

    @router.post("/things/{thing_id}/name", status_code=201)
    async def rename(thing_id: UUID, cmd: Rename, _: CurrentUser) -> dict[str, str]:
        return {"id": str(thing_id), "name": cmd.name}

    @router.get("/broken")
    async def broken(_: CurrentUser) -> dict[str, str]:
        raise RuntimeError("a bug")

    @router.get("/database-down")
    async def database_down(_: CurrentUser) -> dict[str, str]:
        raise ConnectionRefusedError("connection refused")

    @router.post("/things/{thing_id}/deadlocked", status_code=201)
    async def deadlocked(thing_id: UUID, _: CurrentUser) -> dict[str, str]:
        raise asyncpg.DeadlockDetectedError("deadlock detected")

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    return create_http_app(service="edge", jwt_secret=SECRET, lifespan=lifespan, routers=[router])


AUTH = {"Authorization": f"Bearer {issue_token(SECRET, 'staff-1', ['admin'], [])}"}


def error_validator(app: FastAPI) -> jsonschema.protocols.Validator:
    """A validator for the documented ``ErrorBody``, resolving refs within the app's document."""
    document = app.openapi()
    schema = {"$ref": "#/components/schemas/ErrorBody", "components": document["components"]}
    return jsonschema.Draft202012Validator(schema)


async def test_error_answers_match_the_documented_error_body() -> None:
    app = edge_app()
    validator = error_validator(app)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        answers = {
            401: await client.get(f"/things/{THING}"),
            404: await client.get("/things/00000000-0000-4000-8000-000000000002", headers=AUTH),
            422: await client.post(f"/things/{THING}/name", json={"nom": "x"}, headers=AUTH),
        }
        not_a_uuid = await client.get("/things/%E4%B8%AD", headers=AUTH)
    for status, response in answers.items():
        assert response.status_code == status, response.text
        validator.validate(response.json())
        assert "detail" not in response.json()
    assert answers[422].json()["error"]["details"]["fields"][0]["field"] == "name"
    assert not_a_uuid.status_code == 422
    validator.validate(not_a_uuid.json())
    with pytest.raises(jsonschema.ValidationError):
        validator.validate({"detail": [{"loc": ["body"], "msg": "x", "type": "y"}]})


async def test_docs_load_their_assets_from_the_app_itself() -> None:
    app = edge_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        page = await client.get("/docs")
        assert page.status_code == 200
        assert "/docs/assets/swagger-ui-bundle.js" in page.text
        assert "/docs/assets/swagger-ui.css" in page.text
        assert "'/openapi.json'" in page.text or '"/openapi.json"' in page.text
        assert "cdn" not in page.text.lower()
        script = await client.get("/docs/assets/swagger-ui-bundle.js")
        style = await client.get("/docs/assets/swagger-ui.css")
        assert (await client.get("/redoc", headers=AUTH)).status_code == 404
    assert script.status_code == 200
    assert "javascript" in script.headers["content-type"]
    assert "SwaggerUIBundle" in script.text
    assert style.status_code == 200
    assert style.headers["content-type"].startswith("text/css")
    assert ".swagger-ui" in style.text


@asynccontextmanager
async def serving(app: FastAPI, protocol: type[asyncio.Protocol]) -> AsyncIterator[int]:
    """A real uvicorn server for ``app`` on a free port, with the given HTTP protocol."""
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, http=protocol, log_config=None, access_log=False
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    try:
        while not server.started:
            assert not task.done(), "the server did not start"
            await asyncio.sleep(0.01)
        yield server.servers[0].sockets[0].getsockname()[1]
    finally:
        server.should_exit = True
        await task


async def raw_request(
    port: int, target: bytes, headers: bytes = b""
) -> tuple[int, dict[str, str], Any]:
    """Send a request line with ``target`` exactly as given; answer status, headers and JSON."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(
            b"GET "
            + target
            + b" HTTP/1.1\r\nHost: edge\r\n"
            + headers
            + b"Connection: close\r\n\r\n"
        )
        raw = await asyncio.wait_for(reader.read(), timeout=10)
    finally:
        writer.close()
    head, _, body = raw.partition(b"\r\n\r\n")
    status_line, *header_lines = head.decode("latin-1").split("\r\n")
    fields = dict(line.split(": ", 1) for line in header_lines)
    return int(status_line.split()[1]), {k.lower(): v for k, v in fields.items()}, json.loads(body)


@pytest.mark.parametrize("protocol", [JsonErrorHttpToolsProtocol, JsonErrorH11Protocol])
async def test_a_raw_non_ascii_request_target_gets_the_json_error_body(
    protocol: type[asyncio.Protocol],
) -> None:
    app = edge_app()
    validator = error_validator(app)
    async with serving(app, protocol) as port:
        status, headers, body = await raw_request(port, b"/things/\xe4\xb8\xad")
        assert status == 400
        assert headers["content-type"] == "application/json"
        validator.validate(body)
        assert body["error"]["code"] == "bad_request"

        status, _, body = await raw_request(port, b"/things/a b")
        assert status == 400
        validator.validate(body)

        auth = b"Authorization: " + AUTH["Authorization"].encode() + b"\r\n"
        status, _, body = await raw_request(port, b"/things/%E4%B8%AD", auth)
        assert status == 422
        validator.validate(body)
        status, _, body = await raw_request(port, f"/things/{THING}".encode(), auth)
        assert (status, body) == (200, {"id": str(THING)})


async def test_a_500_tells_the_client_the_connection_is_closing() -> None:
    transport = httpx.ASGITransport(app=edge_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        response = await client.get("/broken", headers=AUTH)
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "internal_error"
    assert response.headers["connection"] == "close"


async def test_a_database_outage_is_a_503_with_retry_after() -> None:
    transport = httpx.ASGITransport(app=edge_app(), raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        response = await client.get("/database-down", headers=AUTH)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "unavailable"
    assert int(response.headers["retry-after"]) > 0


async def test_a_command_rolled_back_to_break_a_deadlock_is_a_409_to_send_again() -> None:
    transport = httpx.ASGITransport(app=edge_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        response = await client.post(f"/things/{THING}/deadlocked", headers=AUTH)
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "conflict"


async def test_a_body_that_is_not_utf8_is_a_documented_400_with_the_error_body() -> None:
    # Found by the fuzzer (tests/fuzz): FastAPI answers an undecodable JSON body with 400, which
    # commands did not document.
    app = edge_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        response = await client.post(
            f"/things/{THING}/name",
            content=b'{"name": "\xff\xfe"}',
            headers={**AUTH, "Content-Type": "application/json"},
        )
    assert response.status_code == 400
    error_validator(app).validate(response.json())
    documented = app.openapi()["paths"]["/things/{thing_id}/name"]["post"]["responses"]
    assert documented["400"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorBody"
    }
    reads = app.openapi()["paths"]["/things/{thing_id}"]["get"]["responses"]
    assert "400" not in reads


async def test_metrics_are_documented_as_the_plain_text_they_are() -> None:
    # Found by the fuzzer: /metrics was documented as JSON.
    app = edge_app()
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        response = await client.get("/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    documented = app.openapi()["paths"]["/metrics"]["get"]["responses"]["200"]["content"]
    assert set(documented) == {"text/plain"}


async def test_every_answer_names_its_request_and_is_timed_by_route() -> None:
    from prometheus_client import REGISTRY

    def observed(status: str) -> float:
        labels = {"service": "edge", "method": "GET", "route": "/things/{thing_id}"}
        value = REGISTRY.get_sample_value(
            "anju_http_request_seconds_count", {**labels, "status": status}
        )
        return value or 0.0

    before = (observed("200"), observed("404"))
    transport = httpx.ASGITransport(app=edge_app())
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        named = await client.get(f"/things/{THING}", headers={**AUTH, "X-Correlation-Id": "c-7"})
        unnamed = await client.get(f"/things/{UUID(int=7)}", headers=AUTH)
    assert named.status_code == 200
    assert named.headers["x-correlation-id"] == "c-7"
    assert unnamed.status_code == 404
    assert str(UUID(unnamed.headers["x-correlation-id"])) == unnamed.headers["x-correlation-id"]
    assert (observed("200"), observed("404")) == (before[0] + 1, before[1] + 1)
