"""The integration service's domain errors: each a specific type with a stable code."""

from __future__ import annotations
