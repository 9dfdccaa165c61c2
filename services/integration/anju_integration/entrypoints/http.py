"""The integration service's HTTP routes: thin — parse, pick the caller's context, call a
handler."""

from __future__ import annotations

from fastapi import APIRouter

from eventkit.app import CommandRouter

router = APIRouter()
"""The reads: a record as it stands in the service's own store."""

commands = CommandRouter()
"""The commands."""
