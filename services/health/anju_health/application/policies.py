"""Health's reactions to other services' events: it learns the registry's areas and residents
(``eventkit.known``), then enrols the over-65s, follows moves and closes records
(:mod:`anju_health.application.reactions`)."""

from __future__ import annotations

from anju_health.application.reactions import registry_reaction
from anju_health.application.records import HealthConfig
from eventkit.known import registry_policy as mirror
from eventkit.policy import Policy

REGISTRY_POLICY_NAME = "health_registry"
"""Keys the policy's inbox rows, dead letters and consumer group offsets: never rename it."""


def registry_policy(config: HealthConfig) -> Policy:
    return mirror(REGISTRY_POLICY_NAME, then=registry_reaction(config))
