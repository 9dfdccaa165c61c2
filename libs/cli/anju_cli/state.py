"""What a native dev stack (``anju run``) leaves under ``<root>/.data`` for the operator commands.

Kept in the operator CLI, not the dev tools: ``anju token`` and the operator commands read these
files when they run beside ``make run``, and in production simply find nothing.
"""

from __future__ import annotations

import base64
import contextlib
import json
import os
import secrets
from collections.abc import Callable
from pathlib import Path
from typing import Any

__all__ = ["dev_master_key", "dev_secret", "stack_state", "write_stack_state"]


def dev_secret(root: Path) -> str:
    """The dev stack's JWT secret: random, created once in ``<root>/.data/dev-secret`` (0600)."""
    return _kept(root / ".data" / "dev-secret", lambda: secrets.token_urlsafe(48))


def dev_master_key(root: Path) -> str:
    """The dev stack's master key of the key store (32 bytes, base64): random, created once in
    ``<root>/.data/dev-master-key`` (0600). Losing it loses every key: every person erased."""
    return _kept(
        root / ".data" / "dev-master-key",
        lambda: base64.b64encode(secrets.token_bytes(32)).decode(),
    )


def _kept(path: Path, make: Callable[[], str]) -> str:
    with contextlib.suppress(FileNotFoundError):
        existing = path.read_text().strip()
        if existing:
            return existing
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = make()
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as file:
        file.write(secret + "\n")
    return secret


def stack_state(root: Path) -> dict[str, Any] | None:
    """What the last ``anju run`` started: database URLs and the broker (for operator commands)."""
    path = root / ".data" / "stack.json"
    try:
        state: dict[str, Any] = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    return state


def write_stack_state(
    root: Path, pg_url: str, databases: dict[str, str], kafka: str, *, keys_url: str | None = None
) -> None:
    """Record what ``anju run`` started, for :func:`stack_state`."""
    path = root / ".data" / "stack.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {
        "postgres_url": pg_url,
        "databases": databases,
        "kafka_bootstrap": kafka,
        "keys_url": keys_url,
    }
    path.write_text(json.dumps(state, indent=2) + "\n")
