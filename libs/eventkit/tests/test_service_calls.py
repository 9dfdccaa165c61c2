"""A service calling another's command API: its token, its key, and how the answer is read."""

from __future__ import annotations

import json
from uuid import uuid4

import httpx
import pytest

from eventkit.auth import Role, verify_token
from eventkit.idempotency import HEADER
from eventkit.service_calls import CommandClient, Refused, Unavailable

SECRET = "a-test-secret-of-thirty-two-bytes!"


def client(answer: httpx.Response | Exception, seen: list[httpx.Request]) -> CommandClient:
    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        if isinstance(answer, Exception):
            raise answer
        return answer

    transport = httpx.MockTransport(handle)
    return CommandClient("http://owner", SECRET, subject="integration", transport=transport)


def error(status: int, code: str) -> httpx.Response:
    return httpx.Response(status, json={"error": {"code": code, "message": f"{code} said"}})


async def test_a_command_carries_a_service_token_for_its_areas_and_its_key() -> None:
    seen: list[httpx.Request] = []
    area = uuid4()
    answer = await client(httpx.Response(201, json={"id": "x"}), seen).post(
        "/disputes", {"a": 1}, key="hotline12345:A-1", areas=[area, area]
    )
    assert answer == {"id": "x"}
    (request,) = seen
    assert request.url.path == "/disputes"
    assert json.loads(request.content) == {"a": 1}
    assert request.headers[HEADER] == "hotline12345:A-1"
    principal = verify_token(request.headers["authorization"].removeprefix("Bearer "), SECRET)
    assert principal.sub == "integration"
    assert principal.roles == (Role.SERVICE,)
    assert principal.areas == (str(area),)


@pytest.mark.parametrize(
    "answer",
    [
        error(503, "unavailable"),
        error(500, "internal_error"),
        error(429, "too_many_requests"),
        error(409, "idempotency_key_in_use"),
        error(409, "conflict"),
        httpx.ConnectError("refused"),
        httpx.Response(502, text="bad gateway"),
    ],
)
async def test_what_may_go_through_later_is_unavailable(
    answer: httpx.Response | Exception,
) -> None:
    with pytest.raises(Unavailable):
        await client(answer, []).post("/x", {}, key="k", areas=[])


async def test_a_refusal_keeps_the_owners_code_and_message() -> None:
    with pytest.raises(Refused) as refused:
        await client(error(422, "area_not_covered"), []).post("/x", {}, key="k", areas=[])
    assert (refused.value.status, refused.value.code) == (422, "area_not_covered")
    assert refused.value.message == "area_not_covered said"
    with pytest.raises(Refused) as refused:
        await client(httpx.Response(404, text="nope"), []).post("/x", {}, key="k", areas=[])
    assert (refused.value.code, refused.value.message) == ("error", "nope")
