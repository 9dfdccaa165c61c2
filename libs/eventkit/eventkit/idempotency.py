"""Idempotency keys: a command sent again with the same key is answered, not done again.

A client that cannot tell whether its command went through (a timeout, a crash, a ledger import
run twice) sends it with an ``Idempotency-Key`` header. The first time, the command runs and its
answer is kept under the key, in the command's own transaction (:meth:`~eventkit.store
.StoreSession.remember`): the effect and the memory of it commit together or not at all. Sent
again, the kept answer comes back (with ``Idempotent-Replayed: true``) and nothing is appended.

- A key belongs to the caller (the token's subject): two callers never share one — except a
  ledger's (``ledger:…``, :mod:`eventkit.ledger`), which belongs to the service, so that a paper
  ledger imported by one member of staff and again by another is recorded once.
- The same key with a different request (another route or body) is refused: 422
  ``idempotency_key_reused``.
- Two requests with one key at the same moment: one commits, the other is refused with 409
  ``idempotency_key_in_use`` and nothing of it is written; sent again, it is answered.
- A command refused (4xx) keeps nothing: sent again, it is decided again.

Every command on the one command path (:mod:`eventkit.aggregate`) honours a key.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Any

from eventkit.errors import Conflict, Invalid, Rejected

HEADER = "Idempotency-Key"
REPLAYED_HEADER = "Idempotent-Replayed"
_KEY = re.compile(r"^[\x21-\x7e]{1,200}$")


class BadIdempotencyKey(Invalid):
    code = "bad_idempotency_key"


class IdempotencyKeyReused(Rejected):
    code = "idempotency_key_reused"


class IdempotencyKeyInUse(Conflict):
    code = "idempotency_key_in_use"


@dataclass(frozen=True)
class CommandKey:
    """A command's idempotency key, whose it is, and what request it was first sent with."""

    sub: str
    key: str
    fingerprint: str


@dataclass(frozen=True)
class Remembered:
    """What a key's first command answered."""

    fingerprint: str
    answer: dict[str, Any]


LEDGER_PREFIX = "ledger:"


def owner_of(key: str, sub: str) -> str:
    """Whose the key is: the caller's, or the service's for a ledger row's."""
    return LEDGER_PREFIX if key.startswith(LEDGER_PREFIX) else sub


def command_key(sub: str, key: str, method: str, path: str, body: bytes) -> CommandKey:
    """The key as a command carries it; 400 ``bad_idempotency_key`` unless it is 1–200 visible
    ASCII characters."""
    if not _KEY.match(key):
        raise BadIdempotencyKey(
            f"{HEADER} must be 1 to 200 visible ASCII characters", header=HEADER
        )
    digest = hashlib.sha256(f"{method} {path}\n".encode())
    digest.update(body)
    return CommandKey(sub, key, digest.hexdigest())


def check_reuse(key: CommandKey, remembered: Remembered) -> dict[str, Any]:
    """The kept answer, if the key is sent again with the request it was first sent with."""
    if remembered.fingerprint != key.fingerprint:
        raise IdempotencyKeyReused("this idempotency key was used for another request", key=key.key)
    return remembered.answer


class Replayed(Exception):
    """Raised before a route runs when its key was answered already; the edge answers it."""

    def __init__(self, answer: dict[str, Any]) -> None:
        super().__init__("replayed")
        self.answer = answer
