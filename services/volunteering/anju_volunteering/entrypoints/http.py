"""The volunteering service's HTTP routes: thin — parse, pick the caller's context, call a handler."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter()
