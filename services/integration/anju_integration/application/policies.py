"""The integration service's reactions to other services' events: it learns the registry's areas,
residents and organisations (``eventkit.known``), and keeps a keyed hash of each resident's
identity number for the tenancy flow (never the number)."""

from __future__ import annotations

from anju_integration.application.tenancy_tables import IdHasher, learner
from eventkit.known import registry_policy
from eventkit.policy import Policy

REGISTRY_POLICY_NAME = "integration_registry"
"""Keys the policy's inbox rows, dead letters and consumer group offsets: never rename it."""


def registry(hasher: IdHasher) -> Policy:
    """The policy on ``registry.events``: the kernel's mirror, then the identity-number hashes."""
    return registry_policy(REGISTRY_POLICY_NAME, then=learner(hasher))
