"""A minimal OpenID Connect provider for tests, standing in for the organisation's one.

It serves what the services and the staff console use of a real provider: the discovery document,
an authorize endpoint that signs in one configured user at once and sends the browser back with a
code (the authorization-code flow with PKCE), the token endpoint that exchanges the code for an
access token and an ID token, and the JWKS. Keys are made when it is built (RS256, or ES256), so
nothing secret lives in the repository; tests can rotate them, sign tokens of their own, or make
the JWKS unavailable.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import parse_qsl, urlencode

import jwt
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.middleware.cors import CORSMiddleware

from eventkit.testing.infra import free_port
from eventkit.testing.service import listening

Algorithm = Literal["RS256", "ES256"]
PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey


@dataclass
class SigningKey:
    kid: str
    algorithm: Algorithm
    private: PrivateKey

    @classmethod
    def new(cls, algorithm: Algorithm = "RS256") -> SigningKey:
        private: PrivateKey = (
            rsa.generate_private_key(public_exponent=65537, key_size=2048)
            if algorithm == "RS256"
            else ec.generate_private_key(ec.SECP256R1())
        )
        return cls(uuid.uuid4().hex[:12], algorithm, private)

    def jwk(self) -> dict[str, Any]:
        public = self.private.public_key()
        if isinstance(public, rsa.RSAPublicKey):
            key: dict[str, Any] = jwt.algorithms.RSAAlgorithm.to_jwk(public, as_dict=True)
        else:
            key = jwt.algorithms.ECAlgorithm.to_jwk(public, as_dict=True)
        return key | {"kid": self.kid, "alg": self.algorithm, "use": "sig"}


@dataclass
class Pending:
    """An authorization the browser was sent back with a code for, until the code is used."""

    client_id: str
    redirect_uri: str
    challenge: str
    nonce: str
    scope: str


@dataclass
class Provider:
    """The provider. ``user`` is the claims of whoever signs in next (``sub``, roles, areas, in
    whatever claims the test configured the services to read)."""

    client_id: str = "anju-console"
    audience: str = "anju"
    key: SigningKey = field(default_factory=SigningKey.new)
    user: dict[str, Any] = field(default_factory=lambda: {"sub": "staff-1"})
    issuer: str = ""
    retired: list[SigningKey] = field(default_factory=list)
    """Keys still published in the JWKS after a rotation."""
    available: bool = True
    """False: the JWKS answers 503 (the provider is down)."""
    jwks_fetches: int = 0
    issued: list[str] = field(default_factory=list)
    """Every token and code the provider handed out, for tests that look for them in logs."""
    pending: dict[str, Pending] = field(default_factory=dict)

    def rotate(self, algorithm: Algorithm = "RS256", *, keep_old: bool = False) -> SigningKey:
        """Sign with a new key from now on (the old one published still when ``keep_old``)."""
        if keep_old:
            self.retired.append(self.key)
        self.key = SigningKey.new(algorithm)
        return self.key

    def token(
        self, claims: dict[str, Any] | None = None, *, key: SigningKey | None = None, **more: Any
    ) -> str:
        """An access token for ``claims`` (the user's by default), valid for an hour."""
        now = int(time.time())
        body = {
            "iss": self.issuer,
            "aud": self.audience,
            "iat": now,
            "exp": now + 3600,
            **(self.user if claims is None else claims),
            **more,
        }
        key = key or self.key
        token = jwt.encode(body, key.private, algorithm=key.algorithm, headers={"kid": key.kid})
        self.issued.append(token)
        return token

    def app(self) -> FastAPI:
        app = FastAPI()
        # The console's page exchanges the code itself: the token endpoint answers any origin.
        app.add_middleware(
            CORSMiddleware, allow_origins=["*"], allow_methods=["GET", "POST"], allow_headers=["*"]
        )

        @app.get("/.well-known/openid-configuration")
        async def discovery() -> dict[str, Any]:
            return {
                "issuer": self.issuer,
                "authorization_endpoint": f"{self.issuer}/authorize",
                "token_endpoint": f"{self.issuer}/token",
                "jwks_uri": f"{self.issuer}/jwks",
                "end_session_endpoint": f"{self.issuer}/logout",
                "response_types_supported": ["code"],
                "response_modes_supported": ["query", "fragment"],
                "code_challenge_methods_supported": ["S256"],
                "id_token_signing_alg_values_supported": [self.key.algorithm],
                "subject_types_supported": ["public"],
            }

        @app.get("/jwks")
        async def jwks() -> Response:
            self.jwks_fetches += 1
            if not self.available:
                return JSONResponse({"error": "unavailable"}, status_code=503)
            keys = [k.jwk() for k in (self.key, *self.retired)]
            return JSONResponse({"keys": keys})

        @app.get("/authorize")
        async def authorize(request: Request) -> Response:
            asked = request.query_params
            wrong = [
                name
                for name, ok in (
                    ("response_type", asked.get("response_type") == "code"),
                    ("client_id", asked.get("client_id") == self.client_id),
                    ("scope", "openid" in asked.get("scope", "").split()),
                    ("code_challenge_method", asked.get("code_challenge_method") == "S256"),
                    ("code_challenge", bool(asked.get("code_challenge"))),
                    ("state", bool(asked.get("state"))),
                    ("nonce", bool(asked.get("nonce"))),
                    ("redirect_uri", bool(asked.get("redirect_uri"))),
                )
                if not ok
            ]
            if wrong:
                return JSONResponse({"error": "invalid_request", "wrong": wrong}, status_code=400)
            code = secrets.token_urlsafe(24)
            self.issued.append(code)
            self.pending[code] = Pending(
                asked["client_id"],
                asked["redirect_uri"],
                asked["code_challenge"],
                asked["nonce"],
                asked["scope"],
            )
            answer = urlencode({"code": code, "state": asked["state"]})
            mark = "#" if asked.get("response_mode") == "fragment" else "?"
            return RedirectResponse(f"{asked['redirect_uri']}{mark}{answer}", status_code=302)

        @app.post("/token")
        async def exchange(request: Request) -> Response:
            # A form body, read by hand (FastAPI's forms need python-multipart).
            form = dict(parse_qsl((await request.body()).decode()))
            code = form.get("code", "")
            client_id = form.get("client_id", "")
            code_verifier = form.get("code_verifier", "")
            pending = self.pending.pop(code, None)
            challenge = (
                base64.urlsafe_b64encode(hashlib.sha256(code_verifier.encode()).digest())
                .rstrip(b"=")
                .decode()
            )
            if (
                form.get("grant_type") != "authorization_code"
                or pending is None
                or pending.client_id != client_id
                or pending.redirect_uri != form.get("redirect_uri")
                or pending.challenge != challenge
            ):
                return JSONResponse({"error": "invalid_grant"}, status_code=400)
            now = int(time.time())
            id_token = jwt.encode(
                {
                    "iss": self.issuer,
                    "aud": client_id,
                    "sub": self.user["sub"],
                    "nonce": pending.nonce,
                    "iat": now,
                    "exp": now + 3600,
                    "name": self.user.get("name", self.user["sub"]),
                },
                self.key.private,
                algorithm=self.key.algorithm,
                headers={"kid": self.key.kid},
            )
            self.issued.append(id_token)
            return JSONResponse(
                {
                    "access_token": self.token(),
                    "id_token": id_token,
                    "token_type": "Bearer",
                    "expires_in": 3600,
                    "scope": pending.scope,
                },
                headers={"Cache-Control": "no-store"},
            )

        @app.get("/logout")
        async def logout(request: Request) -> Response:
            back = request.query_params.get("post_logout_redirect_uri")
            if back:
                return RedirectResponse(back, status_code=302)
            return JSONResponse({"signed_out": True})

        return app

    @asynccontextmanager
    async def serving(self) -> AsyncIterator[str]:
        """The provider on a real port of 127.0.0.1; its issuer URL."""
        port = free_port()
        self.issuer = f"http://127.0.0.1:{port}"
        async with listening(self.app(), port=port) as url:
            yield url
