"""A verified bearer token is remembered until it expires, and only a verified one."""

from __future__ import annotations

import time

import pytest

from eventkit import auth
from eventkit.auth import InvalidToken, Role, TokenVerifier, issue_token

SECRET = "token-tests-secret-0123456789abcdef"


async def test_a_verified_token_is_remembered_until_its_exp(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    verifier = TokenVerifier(SECRET)
    token = issue_token(SECRET, "staff-1", [Role.DIRECTOR], ["c-1"], ttl_s=60)
    checked: list[str] = []
    real = auth.verify_token

    def counting(token: str, secret: str) -> auth.Principal:
        checked.append(token)
        return real(token, secret)

    monkeypatch.setattr(auth, "verify_token", counting)
    first = await verifier.verify(token)
    assert await verifier.verify(token) == first
    assert first.areas == ("c-1",)
    assert len(checked) == 1

    # Past its exp, the token is not answered from memory but checked again (which refuses it
    # once the signature check's own clock is past the exp too).
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now + 61)
    await verifier.verify(token)
    assert len(checked) == 2


async def test_a_refused_token_is_checked_every_time() -> None:
    verifier = TokenVerifier(SECRET)
    forged = issue_token("another-secret-0123456789abcdefgh", "staff-1", [Role.ADMIN])
    for _ in range(2):
        with pytest.raises(InvalidToken):
            await verifier.verify(forged)
    assert verifier._verified == {}


async def test_at_most_so_many_tokens_are_remembered_the_oldest_forgotten_first() -> None:
    verifier = TokenVerifier(SECRET, remembered=2)
    tokens = [issue_token(SECRET, f"staff-{i}", [Role.DIRECTOR]) for i in range(3)]
    for token in tokens:
        await verifier.verify(token)
    assert list(verifier._verified) == tokens[1:]
