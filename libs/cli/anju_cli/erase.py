"""``anju erase``: erase a resident's personal data across Anju (docs/personal-data.md, "Erasure").

It sends the registry's ``POST /residents/{id}/erasure`` with the basis and the reason (kept in
the registry's audit of erasures, never on a topic): the registry destroys the person's key and
announces ``registry.PersonErased``, which every service follows. Sending it again after a
failure is safe: destroying a key twice destroys nothing more.

The registry's address: ``--url``, else ``ANJU_REGISTRY_URL``, else its manifest's port on this
machine. The token: ``--token``, else ``ANJU_TOKEN``, else (dev stack) one minted with the dev
secret for a director of ``--area``.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any
from uuid import UUID

import httpx

from anju_cli.ledger import service_url
from anju_contracts.registry import ErasureBasis
from eventkit.auth import Role, issue_token


async def erase(url: str, token: str, resident_id: UUID, basis: str, reason: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=url, timeout=60) as client:
        return await client.post(
            f"/residents/{resident_id}/erasure",
            json={"basis": basis, "reason": reason},
            headers={"Authorization": f"Bearer {token}"},
        )


def cmd_erase(args: argparse.Namespace, root: Path, secret: Callable[[], str]) -> int:
    token = args.token or os.environ.get("ANJU_TOKEN")
    if token is None:
        if args.area is None:
            print("give --token (or ANJU_TOKEN), or --area for a dev token", file=sys.stderr)
            return 2
        token = issue_token(secret(), "erasure", [Role.DIRECTOR], [str(args.area)])
    url = service_url(root, "registry", args.url)
    try:
        response = asyncio.run(erase(url, token, args.resident, args.basis, args.reason))
    except httpx.TransportError as error:
        print(f"anju: the registry at {url} does not answer: {error!r}", file=sys.stderr)
        return 2
    if response.status_code == 201:
        answer = response.json()
        print(json.dumps(answer, ensure_ascii=False))
        print(
            f"erased resident {args.resident}: their key is destroyed and every service follows"
            " registry.PersonErased",
            file=sys.stderr,
        )
        return 0
    try:
        body: dict[str, Any] = response.json()
    except ValueError:
        body = {"message": response.text[:200]}
    print(
        f"anju: the registry refused ({response.status_code} {body.get('code', '')}):"
        f" {body.get('message', '')}",
        file=sys.stderr,
    )
    return 1


def _reason(value: str) -> str:
    if len(value.strip()) < 3:
        raise argparse.ArgumentTypeError("say why the person is erased (3 characters or more)")
    if len(value.strip()) > 500:
        raise argparse.ArgumentTypeError("at most 500 characters")
    return value.strip()


def add_commands(sub: Any, root: Path, secret: Callable[[], str]) -> None:
    command = sub.add_parser(
        "erase",
        help="erase a resident's personal data across Anju (a director, with a reason; audited)",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    command.add_argument("--resident", type=UUID, required=True, help="the resident's id")
    command.add_argument("--reason", type=_reason, required=True, help="why (audited)")
    command.add_argument(
        "--basis",
        choices=[b.value for b in ErasureBasis],
        default=ErasureBasis.SUBJECT_REQUEST.value,
        help="the legal basis (default subject_request)",
    )
    command.add_argument("--url", help="the registry's address (default: ANJU_REGISTRY_URL)")
    command.add_argument("--token", help="a bearer token (default: ANJU_TOKEN)")
    command.add_argument("--area", type=UUID, help="dev stack: mint a director token for it")
    command.set_defaults(func=lambda a: cmd_erase(a, root, secret))
