"""Every service's event catalogue, in one place for generators and integrators."""

from __future__ import annotations

from anju_contracts import (
    governance,
    health,
    hotline12345,
    housing,
    integration,
    mediation,
    registry,
    station,
    volunteering,
)
from anju_contracts.base import EventCatalog

CATALOGS: tuple[EventCatalog, ...] = (
    registry.CATALOG,
    mediation.CATALOG,
    health.CATALOG,
    volunteering.CATALOG,
    station.CATALOG,
    governance.CATALOG,
    integration.CATALOG,
    hotline12345.CATALOG,
    housing.CATALOG,
)

INBOUND: dict[str, str] = {
    hotline12345.SOURCE: hotline12345.TOPIC,
    housing.SOURCE: housing.TOPIC,
}
"""The catalogues of other systems' events, each with the topic they publish them on for Anju
(every other catalogue is a service's, on ``<source>.events``)."""


def topic_of(source: str) -> str:
    """The topic a catalogue's events are published on (without a stack's prefix)."""
    return INBOUND.get(source, f"{source}.events")
