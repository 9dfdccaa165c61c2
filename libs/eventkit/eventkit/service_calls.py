"""Calling another service's public command API as a service (``Role.SERVICE``).

A service that turns another system's facts into Anju's records (the 12345 hotline's orders into
mediation's disputes, the housing centre's tenancies into the registry's moves) goes through the
owning service's command API, never around it: the owner checks permissions and areas,
validates, dates and audits, as for any caller. Each call carries

- a token of its own, short-lived, naming only the areas the command touches (a token that names
  no area covers nothing), signed with the stack's secret; and
- an ``Idempotency-Key`` (:mod:`eventkit.idempotency`), so a call sent again after a crash or a
  lost answer is done once and answers what it answered the first time.

The answer is read once, here: accepted (the JSON body), :class:`Refused` (a 4xx the same call
will meet again: the record needs a person's look), or :class:`Unavailable` (no answer, a 5xx,
a 429, or a 409 that says "not now": send it again later).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from uuid import UUID

import httpx

from eventkit.auth import Role, issue_token
from eventkit.idempotency import HEADER

RETRY_LATER = frozenset({"idempotency_key_in_use", "conflict", "consistency_timeout"})
"""Error codes that say "not now": the same command may go through when sent again."""

TOKEN_TTL_S = 300


class Unavailable(ConnectionError):
    """The service did not answer, or answered that it cannot now: try again later."""


class Refused(Exception):
    """The service refused the command (4xx): it is not done, and sending it again as it is will
    not change that."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status = status
        self.code = code
        self.message = message


class CommandClient:
    """Sends commands to the service at ``base_url`` as ``subject`` (a service principal)."""

    def __init__(
        self,
        base_url: str,
        secret: str,
        *,
        subject: str,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout_s: float = 10.0,
    ) -> None:
        self.base_url = base_url
        self.secret = secret
        self.subject = subject
        self.transport = transport
        self.timeout_s = timeout_s

    async def post(
        self, path: str, body: dict[str, Any], *, key: str, areas: Iterable[UUID | str]
    ) -> dict[str, Any]:
        """The answer of the command accepted now or before (the same ``key``)."""
        token = issue_token(
            self.secret,
            self.subject,
            [Role.SERVICE],
            sorted({str(a) for a in areas}),
            ttl_s=TOKEN_TTL_S,
        )
        headers = {"Authorization": f"Bearer {token}", HEADER: key}
        try:
            async with httpx.AsyncClient(
                base_url=self.base_url, transport=self.transport, timeout=self.timeout_s
            ) as client:
                response = await client.post(path, json=body, headers=headers)
        except httpx.HTTPError as error:
            raise Unavailable(f"{self.base_url}{path}: {error!r}") from error
        if response.status_code < 400:
            answer: dict[str, Any] = response.json()
            return answer
        code, message = _error(response)
        if response.status_code >= 500 or response.status_code == 429 or code in RETRY_LATER:
            raise Unavailable(f"{self.base_url}{path} answered {response.status_code} {code}")
        raise Refused(response.status_code, code, message)


def _error(response: httpx.Response) -> tuple[str, str]:
    """The stable code and message of the kernel's error body (or what stands in for it)."""
    try:
        error = response.json()["error"]
        return str(error["code"]), str(error["message"])[:300]
    except (ValueError, KeyError, TypeError):
        return "error", response.text[:300]
