"""Volunteering's reactions to other services' events: it learns the registry's areas,
residents and organisations (``eventkit.known``), then plans the monthly cleaning of elders
living alone (:mod:`anju_volunteering.application.reactions`)."""

from __future__ import annotations

from anju_volunteering.application.people import VolunteeringConfig
from anju_volunteering.application.reactions import registry_reaction
from eventkit.known import registry_policy as mirror
from eventkit.policy import Policy

REGISTRY_POLICY_NAME = "volunteering_registry"
"""Keys the policy's inbox rows, dead letters and consumer group offsets: never rename it."""


def registry_policy(config: VolunteeringConfig) -> Policy:
    return mirror(REGISTRY_POLICY_NAME, then=registry_reaction(config))
