"""Mediation's reactions to other services' events.

- On ``registry.events`` it learns the registry's areas and residents (``eventkit.known``) and
  does nothing more with them.
- On ``station.events`` it reports a conflict signal for each opinion the station's desk
  referred to mediation (:func:`anju_mediation.application.signals.report_referred_opinion`).
"""

from __future__ import annotations

from anju_contracts.station import CATALOG as STATION
from anju_mediation.application.signals import report_referred_opinion
from eventkit.known import PostgresKnown, registry_policy
from eventkit.messages import Delivered
from eventkit.policy import Policy
from eventkit.store import Session

# The names key the policies' inbox rows, dead letters and consumer group offsets: never rename.
REGISTRY_POLICY = registry_policy("mediation_registry")

_KNOWN = PostgresKnown()


async def _on_station(session: Session, delivered: Delivered) -> None:
    await report_referred_opinion(session, delivered, known=_KNOWN)


STATION_POLICY = Policy(name="mediation_station", catalogs=[STATION], handle=_on_station)
