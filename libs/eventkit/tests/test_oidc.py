"""Tokens from the organisation's identity provider (OIDC) at a service's edge: keys made in the
test, the JWKS served by a local provider on a real port, the service's app in process. The dev
stack's HS256 tokens still work beside them; a token that fails is the edge's stable 401, and is
never logged."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from fastapi import FastAPI
from pydantic import ValidationError

from eventkit.auth import issue_token
from eventkit.http import create_http_app
from eventkit.settings import AuthSettings
from eventkit.testing.oidc import Provider, SigningKey

SECRET = "oidc-tests-secret-0123456789abcdef"
UNAUTHORIZED = {"error": {"code": "unauthorized", "message": "invalid bearer token", "details": {}}}
GRID = "7b0c7f4e-0000-4000-8000-000000000001"


def service(provider: Provider, **auth: Any) -> FastAPI:
    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield

    settings = AuthSettings.model_validate(
        {
            "oidc_issuer": provider.issuer,
            "oidc_audience": provider.audience,
            "oidc_jwks_min_refresh_s": 0,
        }
        | auth
    )
    return create_http_app(
        service="edge", jwt_secret=SECRET, lifespan=lifespan, routers=[], auth=settings
    )


async def me(app: FastAPI, token: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://edge") as client:
        return await client.get("/me", headers={"Authorization": f"Bearer {token}"})


@pytest.fixture
async def provider() -> AsyncIterator[Provider]:
    provider = Provider(user={"sub": "wang", "roles": ["grid_worker"], "areas": [GRID]})
    async with provider.serving():
        yield provider


async def test_a_providers_token_is_the_caller_its_claims_describe(provider: Provider) -> None:
    # Keycloak's shape: roles inside realm_access, under the organisation's own names.
    app = service(
        provider,
        oidc_roles_claim="realm_access.roles",
        oidc_areas_claim="anju_areas",
        oidc_role_map={"anju-grid": "grid_worker", "anju-doctor": "doctor"},
    )
    token = provider.token(
        {
            "sub": "wang",
            "realm_access": {"roles": ["offline_access", "anju-grid", "grid_worker", "nobody"]},
            "anju_areas": [GRID],
        }
    )
    answer = await me(app, token)
    assert answer.status_code == 200, answer.text
    # Only the mapped names count: "grid_worker" itself is not one of the provider's names.
    assert answer.json() == {
        "sub": "wang",
        "roles": ["grid_worker"],
        "areas": [GRID],
        "organisations": [],
    }


async def test_without_a_role_map_anjus_own_role_names_count(provider: Provider) -> None:
    app = service(provider)
    answer = await me(app, provider.token(roles="director admin superuser", areas=[GRID]))
    assert answer.status_code == 200, answer.text
    assert answer.json()["roles"] == ["director", "admin"]


async def test_the_secrets_tokens_still_work_beside_the_providers(provider: Provider) -> None:
    answer = await me(service(provider), issue_token(SECRET, "desk-1", ["desk_staff"], [GRID]))
    assert answer.status_code == 200, answer.text
    assert answer.json()["roles"] == ["desk_staff"]


async def test_es256_keys_found_through_the_discovery_document() -> None:
    provider = Provider(key=SigningKey.new("ES256"), user={"sub": "li", "roles": ["doctor"]})
    async with provider.serving():
        app = service(provider, oidc_algorithms=("ES256",))
        answer = await me(app, provider.token())
        assert answer.status_code == 200, answer.text
        assert answer.json()["roles"] == ["doctor"]


async def test_tokens_that_fail_are_the_edges_stable_401_and_never_logged(
    provider: Provider, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    app = service(provider)
    now = int(time.time())
    claims = {"iss": provider.issuer, "aud": provider.audience, "sub": "x", "roles": ["admin"]}
    stranger = SigningKey.new()
    public_pem = provider.key.private.public_key().public_bytes(
        Encoding.PEM, PublicFormat.SubjectPublicKeyInfo
    )
    bad = {
        "expired": provider.token(exp=now - 3600, iat=now - 7200),
        "other issuer": provider.token(iss="https://sso.example.org/realms/other"),
        "other audience": provider.token(aud="another-api"),
        "no subject": provider.token({"roles": ["admin"]}),
        "no Anju role": provider.token(roles=["offline_access"]),
        "not yet valid": provider.token(nbf=now + 3600),
        "a key not the provider's": provider.token(key=stranger),
        "alg none": _forged({"alg": "none", "kid": provider.key.kid}, claims),
        # The provider's public key (published in its JWKS) used as an HMAC secret.
        "HS256 with the public key": _hs256(public_pem, claims | {"exp": now + 60}),
        "HS512": _forged({"alg": "HS512"}, claims | {"exp": now + 60}),
        "not a JWT": "not-a-token",
    }
    for why, token in bad.items():
        answer = await me(app, token)
        assert answer.status_code == 401, (why, answer.text)
        assert answer.json() == UNAUTHORIZED, why
        assert answer.headers["www-authenticate"] == "Bearer"
        assert token not in caplog.text, why


def _part(value: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(value).encode()).rstrip(b"=").decode()


def _forged(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{_part(header)}.{_part(claims)}."


def _hs256(secret: bytes, claims: dict[str, Any]) -> str:
    """An HS256 token signed with ``secret`` whatever it is (PyJWT refuses a PEM as HMAC key)."""
    signing = f"{_part({'alg': 'HS256', 'typ': 'JWT'})}.{_part(claims)}"
    mac = hmac.new(secret, signing.encode(), hashlib.sha256).digest()
    return f"{signing}.{base64.urlsafe_b64encode(mac).rstrip(b'=').decode()}"


async def test_a_rotated_key_is_fetched_when_a_token_names_it(provider: Provider) -> None:
    app = service(provider)
    assert (await me(app, provider.token())).status_code == 200
    assert provider.jwks_fetches == 1
    assert (await me(app, provider.token())).status_code == 200
    assert provider.jwks_fetches == 1  # cached

    provider.rotate("ES256")
    answer = await me(app, provider.token())
    assert answer.status_code == 200, answer.text
    assert provider.jwks_fetches == 2


async def test_made_up_key_ids_do_not_make_the_service_hammer_the_provider(
    provider: Provider,
) -> None:
    app = service(provider, oidc_jwks_min_refresh_s=3600)
    assert (await me(app, provider.token())).status_code == 200
    for _ in range(5):
        answer = await me(app, provider.token(key=SigningKey.new()))
        assert answer.status_code == 401
    assert provider.jwks_fetches == 1


async def test_a_provider_that_cannot_be_reached_is_a_503_not_a_401(provider: Provider) -> None:
    provider.available = False
    app = service(provider)
    answer = await me(app, provider.token())
    assert answer.status_code == 503, answer.text
    assert answer.json()["error"]["code"] == "unavailable"
    # Once it is back (a second later at most) its tokens verify.
    provider.available = True
    for _ in range(30):
        answer = await me(app, provider.token())
        if answer.status_code == 200:
            break
        await asyncio.sleep(0.1)
    assert answer.status_code == 200, answer.text


async def test_keys_already_fetched_outlive_an_outage(provider: Provider) -> None:
    app = service(provider, oidc_jwks_ttl_s=0.01)
    assert (await me(app, provider.token())).status_code == 200
    provider.available = False
    await asyncio.sleep(0.05)
    answer = await me(app, provider.token())
    assert answer.status_code == 200, answer.text


def test_settings_refuse_what_would_accept_anyones_tokens() -> None:
    with pytest.raises(ValidationError, match="AUTH__OIDC_AUDIENCE"):
        AuthSettings(oidc_issuer="https://sso.example.org/realms/anju")
    with pytest.raises(ValidationError, match="https"):
        AuthSettings(oidc_issuer="http://sso.example.org/realms/anju", oidc_audience="anju")
    with pytest.raises(ValidationError, match="without AUTH__OIDC_ISSUER"):
        AuthSettings(oidc_audience="anju")
    with pytest.raises(ValidationError):
        AuthSettings.model_validate(
            {
                "oidc_issuer": "https://sso.example.org",
                "oidc_audience": "a",
                "oidc_algorithms": ["HS256"],
            }
        )
    assert AuthSettings(oidc_issuer="http://127.0.0.1:9000/x", oidc_audience="anju").oidc
