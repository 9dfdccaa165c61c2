"""The station's reactions to other services' events: it learns the registry's areas,
residents and organisations (``eventkit.known``), and the name and day of arrival of each
resident, which residence certificates state (``residences``)."""

from __future__ import annotations

from anju_station.application.residences import learn_residence
from eventkit.known import registry_policy

REGISTRY_POLICY = registry_policy("station_registry", then=learn_residence)
"""Keys the policy's inbox rows, dead letters and consumer group offsets: never rename it."""
