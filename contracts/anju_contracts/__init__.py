"""Anju's event contracts: the envelope and every service's events.

This package depends on pydantic alone, so integrators can install it to read and write
Anju events without pulling in any of Anju's services.
"""

from anju_contracts.base import (
    Actor,
    Envelope,
    Event,
    EventCatalog,
    InvalidEvent,
    UnknownEvent,
    Upcaster,
)

__all__ = ["Actor", "Envelope", "Event", "EventCatalog", "InvalidEvent", "UnknownEvent", "Upcaster"]
