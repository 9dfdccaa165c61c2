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
