"""The integration service's reactions to other services' events: it learns the registry's areas,
residents and organisations (``eventkit.known``); add its own reaction with ``then=``."""

from __future__ import annotations

from eventkit.known import registry_policy

REGISTRY_POLICY = registry_policy("integration_registry")
"""Keys the policy's inbox rows, dead letters and consumer group offsets: never rename it."""
