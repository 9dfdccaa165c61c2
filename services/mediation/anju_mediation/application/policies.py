"""Mediation's reactions to other services' events: it learns the registry's areas and residents
(``eventkit.known``) and does nothing more with them."""

from __future__ import annotations

from eventkit.known import registry_policy

# The name keys the policy's inbox rows, dead letters and consumer group offsets: never rename it.
REGISTRY_POLICY = registry_policy("mediation_registry")
