"""The query service's read models, each a :class:`eventkit.projection.Projection`."""

from __future__ import annotations

from anju_query.projections.disputes import DisputesProjection
from anju_query.projections.governance import GovernanceProjection
from anju_query.projections.health import HealthProjection
from anju_query.projections.hotline import HotlineProjection
from anju_query.projections.residents import ResidentsProjection
from anju_query.projections.station import StationProjection
from anju_query.projections.volunteering import VolunteeringProjection
from eventkit.projection import Projection


def projections() -> list[Projection]:
    """The projections this service runs (fresh instances: they hold no state)."""
    return [
        ResidentsProjection(),
        DisputesProjection(),
        HealthProjection(),
        VolunteeringProjection(),
        StationProjection(),
        GovernanceProjection(),
        HotlineProjection(),
    ]


FOLLOWS: dict[str, str] = {
    "registry": ResidentsProjection.name,
    "mediation": DisputesProjection.name,
    "health": HealthProjection.name,
    "volunteering": VolunteeringProjection.name,
    "station": StationProjection.name,
    "governance": GovernanceProjection.name,
    "integration": HotlineProjection.name,
}
"""Which projection follows each event source: where a consistency token waits."""

__all__ = [
    "FOLLOWS",
    "DisputesProjection",
    "GovernanceProjection",
    "HealthProjection",
    "HotlineProjection",
    "ResidentsProjection",
    "StationProjection",
    "VolunteeringProjection",
    "projections",
]
